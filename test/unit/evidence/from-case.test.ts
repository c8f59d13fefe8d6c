// Outcome records read off cases driven through the real pathway machine. Every expectation is
// worked out from the events in the scenarios (test/unit/activities/cases.ts), not from the code.
import { describe, expect, it } from 'vitest';
import { outcomeRecordFromCase, OutcomeRecordError } from '../../../evidence/from-case';
import { outcomeRecordSchema, type OutcomeRecord } from '../../../evidence/outcomeRecord';
import {
  DAY,
  day,
  declinedCase,
  earlyDischargeCase,
  fullCase,
  GAD7_RAW_12,
  GAD7_RAW_5,
  handedOffCase,
  HOUR,
  linkWorker,
  PathwayCase,
  person,
  reachedCase,
  supportedCase,
  SWEMWBS_RAW_18,
  SWEMWBS_RAW_21,
  SWEMWBS_RAW_26,
  T0,
  unreachableCase,
} from '../activities/cases';

const ACCEPTED = { snomedCode: '871731000000106', display: 'Referral to social prescribing service (procedure)' };
const DECLINED = { snomedCode: '871711000000103', display: 'Social prescribing declined (situation)' };

function recordOf(c: PathwayCase): OutcomeRecord {
  const record = outcomeRecordFromCase({ caseId: c.caseId, context: c.context, timeline: c.timeline });
  // Whatever it holds, it must be a record the evidence layer accepts as it is.
  expect(outcomeRecordSchema.parse(record)).toEqual(record);
  return record;
}

const swemwbs = (answers: number[], raw: number, score: number, band: string, takenAt: number) =>
  ({ instrument: 'SWEMWBS', answers, raw, score, band, takenAt }) as const;
const gad7 = (answers: number[], raw: number, band: string, takenAt: number) =>
  ({ instrument: 'GAD7', answers, raw, score: raw, band, takenAt }) as const;

describe('outcomeRecordFromCase', () => {
  it('records a full case from referral to discharge at review', () => {
    expect(recordOf(fullCase())).toEqual({
      caseId: 'case-r-100',
      schemeId: 'default',
      status: 'discharged',
      linkWorkerId: 'lw-7',
      ageBand: '65-74',
      area: 'Bogside',
      route: 'GP',
      needs: ['loneliness'],
      barriers: ['transport'],
      tier: 'standard',
      activities: [
        { category: 'connecting', name: 'Lunch club' },
        { category: 'active', name: 'Walking football' },
      ],
      volunteer: true,
      sessions: {
        homeVisit: { count: 2, attended: 2, minutes: 120 },
        accompaniedActivity: { count: 1, attended: 1, minutes: 90 },
        phone: { count: 2, attended: 1, minutes: 20 },
        groupActivity: { count: 1, attended: 1, minutes: 120 },
      },
      // Reached once, one first visit, five attended sessions, two check-ins, one review.
      contactsTotal: 10,
      contactsByKind: { firstContact: 1, firstVisit: 1, homeVisit: 2, accompaniedActivity: 1, phone: 1, groupActivity: 1, checkIn: 2, review: 1 },
      // 120 at the first visit, then 60 + 90 + 0 + 20 + 120 + 60 in sessions.
      staffMinutes: 470,
      staffMinutesByKind: { firstVisit: 120, homeVisit: 120, accompaniedActivity: 90, phone: 20, groupActivity: 120 },
      measures: {
        SWEMWBS: {
          baseline: swemwbs(SWEMWBS_RAW_18, 18, 17.43, 'low', day(10)),
          review: swemwbs(SWEMWBS_RAW_26, 26, 23.21, 'moderate', day(99)),
          change: 5.78,
        },
        GAD7: {
          baseline: gad7(GAD7_RAW_12, 12, 'moderate', day(10)),
          review: gad7(GAD7_RAW_5, 5, 'mild', day(99)),
          change: -7,
        },
      },
      dates: {
        referredAt: day(-1),
        triagedAt: day(3),
        firstContactAt: day(5),
        firstVisitAt: day(10),
        planAgreedAt: day(13),
        reviewAt: day(99),
        dischargedAt: day(99),
      },
      dischargeReason: 'connected',
      escalations: [
        { type: 'TRIAGE_OVERDUE', raisedAt: day(2), acknowledgedAt: day(2.5), level: 1 },
        { type: 'CHECKIN_OVERDUE', raisedAt: day(66), acknowledgedAt: day(69), level: 2 },
      ],
      serviceGaps: [],
      deadlines: {
        triage: { met: 0, missed: 1 }, // due day 2, decided day 3
        firstAttempt: { met: 1, missed: 0 }, // first call day 4, due 2 days after the place (day 3)
        firstContact: { met: 1, missed: 0 }, // reached day 5, due day 8
        firstVisit: { met: 1, missed: 0 },
        plan: { met: 1, missed: 0 },
        checkIn: { met: 2, missed: 1 }, // day 38 and 84 recorded; the one due day 66 fired
        volunteer: { met: 1, missed: 0 },
        review: { met: 1, missed: 0 }, // fell due day 97, recorded day 99, grace a week
        escalationAck: { met: 2, missed: 1 }, // esc-1 in time; esc-2 re-escalated once, then acknowledged in time
      },
      gpMessage: ACCEPTED,
    });
  });

  it('reads an open case as it stands, with nothing counted that is still running', () => {
    const record = recordOf(supportedCase());
    expect(record.status).toBe('open');
    expect(record.dischargeReason).toBeUndefined();
    expect(record.dates).toEqual({
      referredAt: day(-1),
      triagedAt: day(3),
      firstContactAt: day(5),
      firstVisitAt: day(10),
      planAgreedAt: day(13),
    });
    expect(record.measures).toEqual({
      SWEMWBS: { baseline: swemwbs(SWEMWBS_RAW_18, 18, 17.43, 'low', day(10)) },
      GAD7: { baseline: gad7(GAD7_RAW_12, 12, 'moderate', day(10)) },
    });
    expect(record.deadlines).toEqual({
      triage: { met: 0, missed: 1 },
      firstAttempt: { met: 1, missed: 0 },
      firstContact: { met: 1, missed: 0 },
      firstVisit: { met: 1, missed: 0 },
      plan: { met: 1, missed: 0 },
      volunteer: { met: 1, missed: 0 },
      escalationAck: { met: 1, missed: 0 },
    });
    expect(record.gpMessage).toEqual(ACCEPTED);
  });

  it('keeps an unagreed draft out of the support offered', () => {
    const c = reachedCase()
      .send({ type: 'VISIT.RECORD', location: 'cafe', durationMinutes: 90, measures: [], barriers: [], actor: linkWorker, at: day(9) })
      .send({
        type: 'PLAN.DRAFT',
        goals: [{ id: 'g1', text: 'Sing again' }],
        activities: [{ id: 'a1', category: 'creative', name: 'Community choir' }],
        barrierActions: [],
        tier: 'light',
        volunteer: false,
        actor: linkWorker,
        at: day(11),
      });
    const record = recordOf(c);
    expect(record.activities).toEqual([]);
    expect(record.tier).toBeUndefined();
    expect(record.staffMinutes).toBe(90);
    expect(record.measures).toEqual({});
  });

  it('measures an early discharge by the last check-in before it', () => {
    const record = recordOf(earlyDischargeCase());
    expect(record).toMatchObject({ status: 'discharged', dischargeReason: 'withdrew', gpMessage: ACCEPTED });
    expect(record.dates.reviewAt).toBeUndefined();
    expect(record.dates.dischargedAt).toBe(day(35));
    expect(record.measures).toEqual({
      SWEMWBS: {
        baseline: swemwbs(SWEMWBS_RAW_18, 18, 17.43, 'low', day(10)),
        discharge: swemwbs(SWEMWBS_RAW_21, 21, 19.25, 'low', day(30)),
        change: 1.82,
      },
      GAD7: { baseline: gad7(GAD7_RAW_12, 12, 'moderate', day(10)) },
    });
    // The safeguarding hold (day 31) was cleared the next day, inside the 2-day acknowledgement.
    expect(record.escalations).toEqual([
      { type: 'TRIAGE_OVERDUE', raisedAt: day(2), acknowledgedAt: day(2.5), level: 1 },
      { type: 'SAFEGUARDING', raisedAt: day(31), acknowledgedAt: day(32), level: 1 },
    ]);
    expect(record.deadlines.escalationAck).toEqual({ met: 2, missed: 0 });
    expect(record.deadlines.checkIn).toEqual({ met: 1, missed: 0 });
    expect(record.contactsTotal).toBe(5); // reached, visit, two sessions, one check-in
    expect(record.staffMinutes).toBe(120 + 60 + 90);
  });

  it('records a triage decline without a GP code: the person made no choice', () => {
    expect(recordOf(declinedCase())).toEqual({
      caseId: 'case-r-200',
      schemeId: 'default',
      status: 'discharged',
      ageBand: '50-64',
      area: 'Bogside',
      route: 'pharmacist',
      needs: ['loneliness'],
      activities: [],
      volunteer: false,
      sessions: {},
      contactsTotal: 0,
      contactsByKind: {},
      staffMinutes: 0,
      staffMinutesByKind: {},
      measures: {},
      dates: { referredAt: day(-1), triagedAt: day(1), dischargedAt: day(1) },
      dischargeReason: 'declined',
      escalations: [],
      serviceGaps: [],
      deadlines: { triage: { met: 1, missed: 0 } },
    });
  });

  it('codes the GP message as declined when the person turns support down', () => {
    const record = recordOf(reachedCase().send({ type: 'DISCHARGE', reason: 'declined', actor: linkWorker, at: day(6) }));
    expect(record).toMatchObject({ status: 'discharged', dischargeReason: 'declined', gpMessage: DECLINED });
    expect(record.dates.firstContactAt).toBe(day(5));
  });

  it('counts an unreachable person as neither contacted nor converted', () => {
    const record = recordOf(unreachableCase());
    expect(record).toMatchObject({ status: 'discharged', dischargeReason: 'unableToContact', linkWorkerId: 'lw-9' });
    expect(record.gpMessage).toBeUndefined();
    expect(record.dates).toEqual({ referredAt: day(-1), triagedAt: day(1), dischargedAt: day(7) });
    expect(record.contactsTotal).toBe(0);
    expect(record.deadlines).toEqual({
      triage: { met: 1, missed: 0 },
      firstAttempt: { met: 1, missed: 0 }, // day 2, due day 3
      firstContact: { met: 0, missed: 1 }, // due day 6, never reached
    });
    // Raised when the contact target passed, closed unacknowledged by the discharge a day later.
    expect(record.escalations).toEqual([{ type: 'FIRST_CONTACT_OVERDUE', raisedAt: day(6), level: 1 }]);
  });

  it('counts a review recorded after its grace as missed, and a befriending handoff as met', () => {
    const record = recordOf(handedOffCase());
    expect(record).toMatchObject({ status: 'discharged', dischargeReason: 'handedOff' });
    expect(record.dates).toMatchObject({ reviewAt: day(105), dischargedAt: day(110) });
    expect(record.deadlines).toMatchObject({
      review: { met: 0, missed: 1 }, // fell due day 97, grace to day 104, recorded day 105
      befriending: { met: 1, missed: 0 },
      escalationAck: { met: 3, missed: 2 }, // esc-2 and esc-3 each went up a level once
    });
    expect(record.escalations.at(-1)).toEqual({ type: 'REVIEW_OVERDUE', raisedAt: day(104), acknowledgedAt: day(106.5), level: 2 });
    expect(record.measures.SWEMWBS).toMatchObject({ review: { score: 23.21, takenAt: day(105) }, change: 5.78 });
    expect(record.measures.GAD7).toEqual({ baseline: gad7(GAD7_RAW_12, 12, 'moderate', day(10)) });
  });

  it('records a screened-out referral as declined on the day it arrived', () => {
    const c = new PathwayCase({ referral: { referralId: 'r-400', consent: false } });
    const record = recordOf(c);
    expect(record).toMatchObject({ status: 'discharged', dischargeReason: 'declined', dates: { referredAt: day(-1), triagedAt: T0, dischargedAt: T0 } });
    // Decided by the rules, not a person: no triage deadline was ever running.
    expect(record.deadlines).toEqual({});
    expect(record.gpMessage).toBeUndefined();
  });

  it('never dates the referral after the engine received it', () => {
    const c = new PathwayCase({ referral: { referralId: 'r-500', referredAt: T0 + 3 * HOUR }, at: T0 });
    expect(recordOf(c).dates.referredAt).toBe(T0);
  });

  it('shortens an activity name longer than a report label rather than fail the record', () => {
    const long = `Men's shed ${'and woodwork '.repeat(20)}`.trim();
    const c = reachedCase()
      .send({ type: 'VISIT.RECORD', location: 'home', durationMinutes: 60, measures: [], barriers: [], actor: linkWorker, at: day(9) })
      .send({
        type: 'PLAN.DRAFT',
        goals: [{ id: 'g1', text: 'Make something' }],
        activities: [{ id: 'a1', category: 'creative', name: long }],
        barrierActions: [],
        tier: 'light',
        volunteer: false,
        actor: linkWorker,
        at: day(10),
      })
      .send({ type: 'PLAN.AGREE', party: 'linkWorker', actor: linkWorker, at: day(10) })
      .send({ type: 'PLAN.AGREE', party: 'person', actor: linkWorker, at: day(11) });
    const [activity] = recordOf(c).activities;
    expect(activity!.name).toHaveLength(120);
    expect(long.startsWith(activity!.name.slice(0, -1))).toBe(true);
    expect(activity!.name.endsWith('…')).toBe(true);
  });

  it('counts every contact logged by kind, and every minute logged, attempts, check-ins and review included', () => {
    const at = (d: number) => day(d);
    const c = new PathwayCase()
      .send({ type: 'TRIAGE.ACCEPT', actor: linkWorker, at: at(1) })
      .send({ type: 'CAPACITY.GRANTED', linkWorkerId: 'lw-7', at: at(1) + HOUR })
      .send({ type: 'CONTACT.ATTEMPT', outcome: 'noAnswer', channel: 'phone', durationMinutes: 5, actor: linkWorker, at: at(2) })
      .send({ type: 'CONTACT.ATTEMPT', outcome: 'reached', channel: 'phone', durationMinutes: 25, actor: linkWorker, at: at(3) })
      .send({ type: 'VISIT.RECORD', location: 'home', durationMinutes: 120, measures: [], barriers: [], actor: linkWorker, at: at(5) })
      .send({
        type: 'PLAN.DRAFT',
        goals: [{ id: 'g1', text: 'Lunch club' }],
        activities: [{ id: 'a1', category: 'connecting', name: 'Lunch club' }],
        barrierActions: [],
        tier: 'light',
        volunteer: false,
        actor: linkWorker,
        at: at(6),
      })
      .send({ type: 'PLAN.AGREE', party: 'person', actor: person, at: at(6) + HOUR })
      .send({ type: 'PLAN.AGREE', party: 'linkWorker', actor: linkWorker, at: at(6) + 2 * HOUR });
    // Light's budget is two sessions: three home visits go past it, and every one is recorded.
    for (let i = 0; i < 3; i++) {
      c.send({ type: 'SESSION.LOG', kind: 'homeVisit', attended: true, durationMinutes: 60, withVolunteer: false, actor: linkWorker, at: at(7 + i) });
    }
    for (let i = 0; i < 5; i++) {
      c.send({ type: 'SESSION.LOG', kind: 'phone', attended: true, durationMinutes: 15, withVolunteer: false, actor: linkWorker, at: at(10 + i) });
    }
    c.send({ type: 'SESSION.LOG', kind: 'message', channel: 'letter', attended: true, durationMinutes: 10, withVolunteer: false, actor: linkWorker, at: at(15) })
      .send({ type: 'CHECKIN.RECORD', measures: [], durationMinutes: 30, actor: linkWorker, at: at(20) })
      .send({ type: 'CHECKIN.RECORD', measures: [], actor: linkWorker, at: at(21) })
      .send({ type: 'REVIEW.RECORD', measures: [], goalsMet: 'all', outcome: 'discharge', durationMinutes: 45, actor: linkWorker, at: at(6) + 12 * 7 * DAY + 3 * HOUR });
    const record = recordOf(c);
    expect(record.contactsByKind).toEqual({ firstContact: 1, firstVisit: 1, homeVisit: 3, phone: 5, message: 1, checkIn: 2, review: 1 });
    expect(record.contactsTotal).toBe(14);
    expect(record.staffMinutesByKind).toEqual({ contactAttempts: 30, firstVisit: 120, homeVisit: 180, phone: 75, message: 10, checkIn: 30, review: 45 });
    expect(record.staffMinutes).toBe(30 + 120 + 180 + 75 + 10 + 30 + 45);
    expect(record.escalations.map((e) => e.type)).toContain('SESSION_BUDGET');
  });

  it('refuses staff minutes by kind that disagree with the total', () => {
    const record = recordOf(fullCase());
    expect(outcomeRecordSchema.safeParse({ ...record, staffMinutes: record.staffMinutes + 1 }).success).toBe(false);
  });

  it('refuses a person younger than the youngest band, without saying their age', () => {
    const c = new PathwayCase({ referral: { referralId: 'r-600', age: 16 } });
    expect(() => outcomeRecordFromCase({ caseId: c.caseId, context: c.context, timeline: c.timeline })).toThrow(OutcomeRecordError);
    expect(() => outcomeRecordFromCase({ caseId: c.caseId, context: c.context, timeline: c.timeline })).toThrow(/^(?!.*16).*below 18/);
  });
});
