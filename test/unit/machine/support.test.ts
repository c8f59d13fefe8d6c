import { describe, expect, it } from 'vitest';
import { WEEK, parsePolicy, policyWeek, sessionBudgetState } from '../../../machines';
import { sampleMeasures } from '../../../machines/graph';
import { Case, DAY, LINK_WORKER, PERSON, SUPERVISOR, types } from './driver';

describe('tiered support', () => {
  it('starts with the review due twelve weeks after agreement and monthly check-ins', () => {
    const c = new Case().agreePlan();
    expect(c.snapshot.value).toEqual({ active: { support: { engagement: 'engaged', volunteer: 'none' } } });
    expect(c.context.support.reviewDueAt).toBe(c.now + 12 * WEEK);
    expect(c.timer('review').dueAt).toBe(c.now + 12 * WEEK);
    expect(c.timer('checkIn').dueAt).toBe(c.now + 4 * WEEK);
    expect(c.timer('disengagement').dueAt).toBe(c.now + 3 * WEEK);
  });

  it('logs sessions by kind, every kind whatever the tier, counting only structured sessions against its budget', () => {
    const c = new Case().agreePlan({ tier: 'light' });
    c.session(true);
    c.advance(DAY).send({ type: 'SESSION.LOG', kind: 'phone', attended: true, durationMinutes: 20, withVolunteer: false, actor: LINK_WORKER });
    c.advance(DAY).send({
      type: 'SESSION.LOG',
      kind: 'message',
      channel: 'text',
      attended: true,
      durationMinutes: 5,
      withVolunteer: false,
      actor: LINK_WORKER,
    });
    expect(c.context.support.sessions.byKind).toEqual({
      homeVisit: { count: 1, attended: 1, minutes: 60 },
      phone: { count: 1, attended: 1, minutes: 20 },
      message: { count: 1, attended: 1, minutes: 5 },
    });
    // Light's budget is two sessions; the call and the text are contact, not sessions.
    expect(sessionBudgetState(c.context)).toEqual({
      tier: 'light',
      used: 1,
      cap: 2,
      counts: ['homeVisit', 'officeVisit', 'video', 'accompaniedActivity'],
      overBudget: 'needsApproval',
      exceeded: false,
    });
    for (let i = 0; i < 30; i++) {
      expect(types(c.advance(DAY).send({ type: 'SESSION.LOG', kind: 'phone', attended: true, durationMinutes: 10, withVolunteer: false, actor: LINK_WORKER }))).toEqual([]);
    }
    expect(c.context.support.sessions.byKind.phone).toEqual({ count: 31, attended: 31, minutes: 320 });
  });

  it('counts what the policy says counts', () => {
    const policy = parsePolicy({ sessions: { counted: ['homeVisit', 'phone'], overBudget: 'refuse' } });
    const c = new Case({ policy }).agreePlan({ tier: 'light' });
    c.session(true);
    c.send({ type: 'SESSION.LOG', kind: 'phone', attended: true, durationMinutes: 20, withVolunteer: false, actor: LINK_WORKER });
    expect(sessionBudgetState(c.context)).toMatchObject({ used: 2, cap: 2, exceeded: false });
    expect(c.can({ type: 'SESSION.LOG', kind: 'phone', attended: true, durationMinutes: 20, withVolunteer: false, actor: LINK_WORKER })).toBe(false);
    // A video call is not counted by this scheme, so it is recorded past the budget.
    c.send({ type: 'SESSION.LOG', kind: 'video', attended: true, durationMinutes: 30, withVolunteer: false, actor: LINK_WORKER });
    expect(c.context.support.sessions.byKind.video).toEqual({ count: 1, attended: 1, minutes: 30 });
  });

  describe('past the tier’s budget', () => {
    const pastBudget = (overBudget: 'warn' | 'needsApproval' | 'refuse') => {
      const c = new Case({ policy: parsePolicy({ sessions: { overBudget } }) }).agreePlan({ tier: 'light' });
      c.session(true);
      c.advance(DAY).session(true);
      expect(sessionBudgetState(c.context)).toMatchObject({ used: 2, cap: 2, exceeded: false, overBudget });
      return c;
    };

    it('warn: records the session and shows the budget exceeded, telling nobody', () => {
      const c = pastBudget('warn');
      expect(c.advance(DAY).session(true)).toEqual([]);
      expect(c.context.support.sessions.byKind.homeVisit).toEqual({ count: 3, attended: 3, minutes: 180 });
      expect(sessionBudgetState(c.context)).toMatchObject({ used: 3, cap: 2, exceeded: true });
      expect(c.context.escalations).toEqual([]);
    });

    it('needsApproval: records the session and asks a supervisor once per tier', () => {
      const c = pastBudget('needsApproval');
      expect(c.advance(DAY).session(true)).toEqual([
        { type: 'notifySupervisor', params: { escalationId: 'esc-1', type: 'SESSION_BUDGET', level: 1, stage: 'support', audience: 'supervisor' } },
      ]);
      expect(c.context.support.sessions.byKind.homeVisit).toEqual({ count: 3, attended: 3, minutes: 180 });
      expect(sessionBudgetState(c.context)).toMatchObject({ used: 3, exceeded: true });
      // Further sessions are recorded without a second escalation, acknowledged or not.
      expect(c.advance(DAY).session(true)).toEqual([]);
      c.send({ type: 'ESCALATION.ACK', escalationId: 'esc-1', actor: SUPERVISOR });
      expect(c.advance(DAY).session(true)).toEqual([]);
      expect(c.context.support.sessions.byKind.homeVisit?.attended).toBe(5);
      // A new tier is a new budget: going past standard's six asks again.
      c.send({ type: 'TIER.CHANGE', tier: 'standard', reason: 'more needed', actor: LINK_WORKER });
      c.advance(DAY).session(true);
      expect(types(c.advance(DAY).session(true))).toEqual(['notifySupervisor']);
      expect(c.context.escalations.map((e) => e.type)).toEqual(['SESSION_BUDGET', 'SESSION_BUDGET']);
    });

    it('needsApproval: a session that ends a disengagement check past the budget asks too', () => {
      const c = pastBudget('needsApproval');
      c.fire('disengagement');
      expect(c.snapshot.matches({ active: { support: { engagement: 'disengagementCheck' } } })).toBe(true);
      expect(types(c.advance(DAY).session(true))).toEqual(['notifySupervisor']);
      expect(c.snapshot.matches({ active: { support: { engagement: 'engaged' } } })).toBe(true);
      expect(c.context.escalations.map((e) => e.type)).toEqual(['SESSION_BUDGET']);
    });

    it('refuse: refuses a further counted session, still records other contact and missed sessions', () => {
      const c = pastBudget('refuse');
      expect(c.can({ type: 'SESSION.LOG', kind: 'homeVisit', attended: true, durationMinutes: 60, withVolunteer: false, actor: LINK_WORKER })).toBe(false);
      c.send({ type: 'SESSION.LOG', kind: 'phone', attended: true, durationMinutes: 15, withVolunteer: false, actor: LINK_WORKER });
      c.send({ type: 'SESSION.LOG', kind: 'homeVisit', attended: false, durationMinutes: 30, withVolunteer: false, actor: LINK_WORKER });
      expect(c.context.support.sessions.byKind).toMatchObject({ phone: { count: 1 }, homeVisit: { count: 3, attended: 2 } });
      expect(sessionBudgetState(c.context)).toMatchObject({ used: 2, exceeded: false });
    });
  });

  it('steps up to a tier with more sessions, and refuses a change to the same or an unknown tier', () => {
    const c = new Case({ policy: parsePolicy({ sessions: { overBudget: 'refuse' } }) }).agreePlan({ tier: 'light' });
    c.session(true);
    c.session(true);
    expect(c.can({ type: 'TIER.CHANGE', tier: 'light', reason: 'same', actor: LINK_WORKER })).toBe(false);
    expect(c.can({ type: 'TIER.CHANGE', tier: 'gold', reason: 'unknown', actor: LINK_WORKER })).toBe(false);
    c.send({ type: 'TIER.CHANGE', tier: 'intensive', reason: 'more complex than thought', actor: LINK_WORKER });
    c.session(true);
    expect(c.context.support.tierHistory.map((t) => t.tier)).toEqual(['light', 'intensive']);
    c.send({ type: 'TIER.CHANGE', tier: 'light', reason: 'stepping down', actor: LINK_WORKER });
    expect(c.can({ type: 'SESSION.LOG', kind: 'homeVisit', attended: true, durationMinutes: 5, withVolunteer: false, actor: LINK_WORKER })).toBe(false);
  });

  it('treats consecutive missed sessions as disengagement, and an attended one as re-engagement', () => {
    const c = new Case().agreePlan();
    c.session(false);
    c.session(true);
    c.session(false);
    expect(c.snapshot.matches({ active: { support: { engagement: 'engaged' } } })).toBe(true);
    c.session(false);
    expect(c.snapshot.matches({ active: { support: { engagement: 'disengagementCheck' } } })).toBe(true);
    expect(c.timer('disengagementCheck').dueAt).toBe(c.now + c.policy.deadlines.disengagementCheck);
    expect(c.context.timers.some((t) => t.key === 'disengagement')).toBe(false);
    c.advance(DAY).session(true);
    expect(c.snapshot.matches({ active: { support: { engagement: 'engaged' } } })).toBe(true);
    expect(c.timer('disengagement').dueAt).toBe(c.now + c.policy.deadlines.disengagement);
  });

  it('checks on no contact for weeks, then escalates the disengagement', () => {
    const c = new Case().agreePlan();
    c.fire('disengagement');
    expect(c.snapshot.matches({ active: { support: { engagement: 'disengagementCheck' } } })).toBe(true);
    expect(c.fire('disengagementCheck')).toEqual([
      { type: 'notifySupervisor', params: { escalationId: 'esc-1', type: 'DISENGAGEMENT', level: 1, stage: 'support', audience: 'supervisor' } },
    ]);
    c.advance(DAY).send({ type: 'CHECKIN.RECORD', measures: [], actor: LINK_WORKER });
    expect(c.snapshot.matches({ active: { support: { engagement: 'engaged' } } })).toBe(true);
  });

  it('records monthly check-ins with re-assessment, and escalates an overdue one while expecting the next', () => {
    const c = new Case().agreePlan();
    c.advance(3 * WEEK).send({ type: 'CHECKIN.RECORD', measures: sampleMeasures(c.policy), actor: LINK_WORKER });
    expect(c.context.checkIns).toHaveLength(1);
    expect(c.context.checkIns[0]!.measures).toHaveLength(c.policy.measures.length);
    const due = c.timer('checkIn').dueAt;
    expect(due).toBe(c.now + 4 * WEEK);
    expect(c.fire('checkIn')[0]).toMatchObject({ params: { type: 'CHECKIN_OVERDUE' } });
    expect(c.timer('checkIn').dueAt).toBe(due + 4 * WEEK);
  });

  it('requests a volunteer, records the gap when none comes in time, and matches one later', () => {
    const c = new Case().visit().draft({ volunteer: true });
    c.send({ type: 'PLAN.AGREE', party: 'person', actor: PERSON });
    expect(c.send({ type: 'PLAN.AGREE', party: 'linkWorker', actor: LINK_WORKER })).toEqual([{ type: 'requestVolunteerMatch' }]);
    expect(c.snapshot.matches({ active: { support: { volunteer: 'waiting' } } })).toBe(true);
    expect(c.can({ type: 'SESSION.LOG', kind: 'accompaniedActivity', attended: true, durationMinutes: 90, withVolunteer: true, actor: LINK_WORKER })).toBe(false);
    expect(c.fire('volunteer')[0]).toMatchObject({ params: { type: 'VOLUNTEER_WAIT' } });
    expect(c.context.serviceGaps).toEqual([{ kind: 'volunteer', at: c.now }]);
    c.send({ type: 'VOLUNTEER.MATCHED', volunteerId: 'vol-7', actor: LINK_WORKER });
    expect(c.snapshot.matches({ active: { support: { volunteer: 'matched' } } })).toBe(true);
    c.session(true, { withVolunteer: true });
    expect(c.context.support.sessions.withVolunteer).toBe(1);
  });

  it.each(['goalsMet', 'withdrew', 'movedAway', 'died', 'admittedLongTerm', 'escalatedToStatutory'] as const)(
    'discharges early (%s), releasing the place and sending a summary',
    (reason) => {
      const c = new Case().agreePlan();
      expect(c.send({ type: 'DISCHARGE', reason, actor: LINK_WORKER })).toEqual([
        { type: 'releasePlace' },
        { type: 'notifyReferrer', params: { kind: 'dischargeSummary', reason } },
        { type: 'recordOutcome' },
      ]);
      expect(c.dischargedAs).toBe(reason);
      expect(c.context.discharge).toEqual({ reason, at: c.now, by: LINK_WORKER });
      expect(c.context.place.status).toBe('released');
    },
  );
});

describe('12-week review', () => {
  it('falls due at week 12, retakes the measures and discharges as connected', () => {
    const c = new Case().toReview();
    expect(c.stage).toBe('review');
    expect(c.context.timers.map((t) => t.key)).toEqual(['reviewGrace']);
    const effects = c.review('discharge');
    expect(types(effects)).toEqual(['releasePlace', 'notifyReferrer', 'recordOutcome']);
    expect(c.dischargedAs).toBe('connected');
    expect(c.context.review?.measures).toHaveLength(c.policy.measures.length);
  });

  it('escalates an overdue review', () => {
    const c = new Case().toReview();
    expect(c.fire('reviewGrace')[0]).toMatchObject({ params: { type: 'REVIEW_OVERDUE', stage: 'review' } });
    expect(c.stage).toBe('review');
  });
});

describe('extension', () => {
  it('needs a supervisor’s approval, then support runs on to a new review', () => {
    const c = new Case().toReview();
    expect(c.review('extend', 4)).toEqual([
      { type: 'notifySupervisor', params: { escalationId: 'esc-1', type: 'EXTENSION_APPROVAL', level: 1, stage: 'extensionPending', audience: 'supervisor' } },
    ]);
    expect(c.stage).toBe('extensionPending');
    expect(c.can({ type: 'EXTENSION.APPROVE', actor: LINK_WORKER })).toBe(false);
    c.advance(DAY).send({ type: 'EXTENSION.APPROVE', actor: SUPERVISOR });
    expect(c.stage).toBe('support');
    expect(c.timer('review').dueAt).toBe(c.now + 4 * policyWeek(c.policy));
    expect(c.context.extension.count).toBe(1);
    expect(c.context.escalations[0]).toMatchObject({ acknowledgedAt: c.now, acknowledgedBy: SUPERVISOR.id });
    expect(c.context.timers.some((t) => t.key === 'escalation:esc-1')).toBe(false);
  });

  it('is bounded in count and length', () => {
    const c = new Case({ policy: parsePolicy({ extension: { maxCount: 1, maxLength: '4w' } }) }).toReview();
    expect(c.can({ type: 'REVIEW.RECORD', measures: [], goalsMet: 'some', outcome: 'extend', extensionWeeks: 5, actor: LINK_WORKER })).toBe(false);
    c.review('extend', 4);
    c.send({ type: 'EXTENSION.APPROVE', actor: SUPERVISOR });
    c.fire('review');
    expect(c.can({ type: 'REVIEW.RECORD', measures: [], goalsMet: 'some', outcome: 'extend', extensionWeeks: 1, actor: LINK_WORKER })).toBe(false);
    c.review('discharge');
    expect(c.context.priorReviews.map((r) => r.outcome)).toEqual(['extend']);
    expect(c.context.review?.outcome).toBe('discharge');
  });

  it('refused, goes back to the review decision', () => {
    const c = new Case().toReview();
    c.review('extend');
    c.send({ type: 'EXTENSION.REFUSE', reason: 'Risk of dependency', actor: SUPERVISOR });
    expect(c.stage).toBe('review');
    expect(c.context.extension).toMatchObject({ count: 0, history: [{ approved: false, reason: 'Risk of dependency' }] });
    expect(c.timer('reviewGrace').dueAt).toBe(c.now + c.policy.deadlines.reviewGrace);
  });
});

describe('befriending handoff', () => {
  it('hands off when a service accepts', () => {
    const c = new Case().toReview();
    expect(c.review('befriend')).toEqual([{ type: 'requestBefriending' }]);
    c.send({ type: 'BEFRIENDING.RESULT', result: 'waiting', service: 'Age UK', actor: LINK_WORKER });
    expect(c.stage).toBe('befriendingHandoff');
    c.send({ type: 'BEFRIENDING.RESULT', result: 'accepted', service: 'Age UK', actor: LINK_WORKER });
    expect(c.dischargedAs).toBe('handedOff');
  });

  it('records no service as a gap, escalates it and returns to the review decision', () => {
    const c = new Case().toReview();
    c.review('befriend');
    expect(c.send({ type: 'BEFRIENDING.RESULT', result: 'unavailable', actor: LINK_WORKER })).toEqual([
      { type: 'notifySupervisor', params: { escalationId: 'esc-1', type: 'SERVICE_GAP', level: 1, stage: 'befriendingHandoff', audience: 'supervisor' } },
    ]);
    expect(c.stage).toBe('review');
    expect(c.context.serviceGaps).toEqual([{ kind: 'befriending', at: c.now }]);
  });

  it('treats a wait longer than the scheme allows as the same gap', () => {
    const c = new Case().toReview();
    c.review('befriend');
    c.send({ type: 'BEFRIENDING.RESULT', result: 'waiting', actor: LINK_WORKER });
    c.fire('befriending');
    expect(c.stage).toBe('review');
    expect(c.context.serviceGaps.map((g) => g.kind)).toEqual(['befriending']);
  });
});
