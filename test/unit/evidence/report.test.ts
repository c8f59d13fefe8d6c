import { describe, expect, it } from 'vitest';
import { buildCohortReport, type CohortReport, type Summary } from '../../../evidence/report';
import { reportToCsv } from '../../../evidence/csv';
import { outcomeRecordSchema, type OutcomeRecord } from '../../../evidence/outcomeRecord';
import { cohortSpecs, DAY, HOUR, recordOf, T0, type Spec } from './cohort';

// Expectations below come from the specs (what happened to each synthetic person), with the test's
// own arithmetic; the report's helpers are never called.

const specs = cohortSpecs();
const records = specs.map((s) => outcomeRecordSchema.parse(recordOf(s)));

/** Linear interpolation between closest ranks, as the report documents. */
function q(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * p;
  const below = s[Math.floor(pos)]!;
  const above = s[Math.ceil(pos)]!;
  return below + (above - below) * (pos - Math.floor(pos));
}

function expectSummary(actual: Summary, values: number[]) {
  expect(actual.n).toBe(values.length);
  if (values.length === 0) {
    expect(actual.median).toBeNull();
    return;
  }
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  expect(actual.mean).toBeCloseTo(mean, 9);
  expect(actual.min).toBeCloseTo(Math.min(...values), 9);
  expect(actual.max).toBeCloseTo(Math.max(...values), 9);
  expect(actual.median).toBeCloseTo(q(values, 0.5), 9);
  expect(actual.q1).toBeCloseTo(q(values, 0.25), 9);
  expect(actual.q3).toBeCloseTo(q(values, 0.75), 9);
  expect(actual.p90).toBeCloseTo(q(values, 0.9), 9);
}

function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of items) out[key(t)] = (out[key(t)] ?? 0) + 1;
  return out;
}

function nonZero(rows: { key: string; count: number }[]): Record<string, number> {
  return Object.fromEntries(rows.filter((r) => r.count > 0).map((r) => [r.key, r.count]));
}

// SWEMWBS raw-to-metric, written out again here so the change figures do not lean on the scorer.
const METRIC: Record<number, number> = {
  7: 7.0, 8: 9.51, 9: 11.25, 10: 12.4, 11: 13.33, 12: 14.08, 13: 14.75, 14: 15.32, 15: 15.84, 16: 16.36,
  17: 16.88, 18: 17.43, 19: 17.98, 20: 18.59, 21: 19.25, 22: 19.98, 23: 20.73, 24: 21.54, 25: 22.35,
  26: 23.21, 27: 24.11, 28: 25.03, 29: 26.02, 30: 27.03, 31: 28.13, 32: 29.31, 33: 30.7, 34: 32.55, 35: 35.0,
};
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('cohort report over the synthetic cohort', () => {
  const north = specs.filter((s) => s.scheme === 'north');
  const report = buildCohortReport(records, { schemeId: 'north' });

  it('has a cohort worth testing: every funnel step, discharge and escalation kind occurs', () => {
    expect(north.length).toBe(36);
    expect(north.some((s) => s.contactDays === undefined)).toBe(true);
    expect(north.some((s) => s.reason === 'connected')).toBe(true);
    expect(north.some((s) => s.reason === 'handedOff')).toBe(true);
    expect(north.some((s) => s.reason === 'declined')).toBe(true);
    expect(north.some((s) => s.escalations.some((e) => e.ackAfterHours === undefined))).toBe(true);
  });

  it('counts totals and the funnel, each step nested in the one before', () => {
    const contacted = north.filter((s) => s.contactDays !== undefined);
    const visited = contacted.filter((s) => s.visitDays !== undefined);
    const planned = visited.filter((s) => s.planDays !== undefined);
    const completed = planned.filter((s) => s.reason === 'connected' || s.reason === 'handedOff' || s.reason === 'goalsMet');
    const discharged = north.filter((s) => s.reason !== undefined).length;
    expect(report.totals).toEqual({ referrals: north.length, open: north.length - discharged, discharged });
    expect(report.person.funnel.map((f) => [f.step, f.count])).toEqual([
      ['referred', north.length],
      ['firstContact', contacted.length],
      ['firstVisit', visited.length],
      ['planAgreed', planned.length],
      ['completed', completed.length],
    ]);
    expect(report.person.funnel[2]!.ofReferred).toBeCloseTo(visited.length / north.length, 12);
    expect(report.person.funnel[4]!.ofPrevious).toBeCloseTo(completed.length / planned.length, 12);
  });

  it('counts referrals by route, listing every known route', () => {
    expect(nonZero(report.system.referralsByRoute)).toEqual(countBy(north, (s) => s.route));
    expect(report.system.referralsByRoute.map((r) => r.key).slice(0, 3)).toEqual(['GP', 'practiceNurse', 'communityNurse']);
    expect(sum(report.system.referralsByRoute.map((r) => r.count))).toBe(north.length);
  });

  it('gives median and 90th percentile days to first contact and first visit', () => {
    expectSummary(
      report.system.timeToFirstContactDays,
      north.flatMap((s) => (s.contactDays === undefined ? [] : [Math.round(s.contactDays * DAY) / DAY])),
    );
    expectSummary(
      report.system.timeToFirstVisitDays,
      north.flatMap((s) => (s.visitDays === undefined ? [] : [Math.round(s.visitDays * DAY) / DAY])),
    );
  });

  it('gives the tier mix, contacts per person and discharge reasons', () => {
    expect(nonZero(report.person.tierMix)).toEqual(countBy(north, (s) => s.tier ?? '(none)'));
    expectSummary(report.person.contactsPerPerson, north.map((s) => s.contactsTotal));
    expect(nonZero(report.person.dischargeReasons)).toEqual(
      countBy(north.filter((s) => s.reason), (s) => s.reason!),
    );
  });

  it('gives SWEMWBS change on the metric scale, with how many have both measurements', () => {
    const m = report.person.measures.find((x) => x.instrument === 'SWEMWBS')!;
    const paired = north.filter((s) => s.swemwbs?.followUp);
    const changes = paired.map((s) => Math.round((METRIC[sum(s.swemwbs!.followUp!)]! - METRIC[sum(s.swemwbs!.baseline)]!) * 100) / 100);
    expect(m.withBaseline).toBe(north.filter((s) => s.swemwbs).length);
    expect(m.withBoth).toBe(paired.length);
    expect(paired.length).toBeGreaterThan(5);
    expectSummary(m.change, changes);
    expect(m.improved).toBe(changes.filter((c) => c > 0).length);
    expect(m.worsened).toBe(changes.filter((c) => c < 0).length);
    expect(m.unchanged).toBe(changes.filter((c) => c === 0).length);
    const bins = countBy(changes, (c) => String(Math.floor(c)));
    expect(Object.fromEntries(m.distribution.map((d) => [String(d.bin), d.count]))).toEqual(bins);
  });

  it('counts GAD-7 falls as improvement, since lower is better', () => {
    const m = report.person.measures.find((x) => x.instrument === 'GAD7')!;
    const paired = north.filter((s) => s.gad7?.review);
    const changes = paired.map((s) => sum(s.gad7!.review!) - sum(s.gad7!.baseline));
    expect(m.direction).toBe('lowerIsBetter');
    expect(m.withBoth).toBe(paired.length);
    expectSummary(m.change, changes);
    expect(m.improved).toBe(changes.filter((c) => c < 0).length);
    expect(m.worsened).toBe(changes.filter((c) => c > 0).length);
  });

  it('reports instruments nobody took as empty rather than leaving them out', () => {
    const m = report.person.measures.find((x) => x.instrument === 'UCLA3')!;
    expect(m).toMatchObject({ withBaseline: 0, withBoth: 0, improved: 0 });
    expect(m.change.mean).toBeNull();
  });

  it('counts escalations by type and the hours to acknowledge them', () => {
    const all = north.flatMap((s) => s.escalations);
    for (const type of ['first-contact-overdue', 'safeguarding']) {
      const of = all.filter((e) => e.type === type);
      const row = report.system.escalations.find((e) => e.type === type)!;
      expect(row.count).toBe(of.length);
      expect(row.acknowledged).toBe(of.filter((e) => e.ackAfterHours !== undefined).length);
      expect(row.reEscalated).toBe(of.filter((e) => e.level > 1).length);
      expectSummary(
        row.hoursToAcknowledge,
        of.flatMap((e) => (e.ackAfterHours === undefined ? [] : [e.ackAfterHours - e.raisedAfterHours])),
      );
    }
  });

  it('counts service gaps by kind, and the people who met them', () => {
    const rows = Object.fromEntries(report.community.serviceGaps.map((g) => [g.kind, { gaps: g.gaps, cases: g.cases }]));
    for (const kind of ['befriending', 'transport']) {
      expect(rows[kind]).toEqual({
        gaps: north.flatMap((s) => s.gaps).filter((g) => g.kind === kind).length,
        cases: north.filter((s) => s.gaps.some((g) => g.kind === kind)).length,
      });
    }
  });

  it('gives the caseload per link worker', () => {
    const expected = ['lw-ada', 'lw-bea', 'lw-cal'].map((w) => ({
      linkWorkerId: w,
      cases: north.filter((s) => s.worker === w).length,
      open: north.filter((s) => s.worker === w && !s.reason).length,
    }));
    expect(report.system.caseload).toEqual(expected);
  });

  it('gives activities, volunteers, sessions and staff time', () => {
    const people = (c: string) => north.filter((s) => s.activities.some((a) => a.category === c)).length;
    expect(report.community.activities.map((a) => [a.category, a.people])).toEqual(
      ['creative', 'connecting', 'active', 'practical'].map((c) => [c, people(c)]),
    );
    const volunteers = north.filter((s) => s.volunteer).length;
    expect(report.community.volunteerMatched.people).toBe(volunteers);
    expect(report.community.volunteerMatched.share).toBeCloseTo(volunteers / north.length, 12);
    const phone = report.community.sessionsByKind.find((s) => s.kind === 'phone')!;
    expect(phone).toEqual({
      kind: 'phone',
      count: sum(north.map((s) => s.phoneCalls.count)),
      attended: sum(north.map((s) => s.phoneCalls.attended)),
      minutes: sum(north.map((s) => s.phoneCalls.minutes)),
    });
    const staff = sum(north.map((s) => s.homeVisits.minutes + s.phoneCalls.minutes + 30));
    expect(report.system.staffMinutes.total).toBe(staff);
    expect(report.system.staffMinutes.perReferral).toBeCloseTo(staff / north.length, 12);
  });

  it('counts deadlines met by kind and by the month they fell due', () => {
    const all = north.flatMap((s) => s.deadlines.map((d) => ({ ...d, dueAt: s.referredAt + Math.round(d.dueAfterDays * DAY) })));
    for (const kind of ['triage', 'firstContact', 'review']) {
      const of = all.filter((d) => d.kind === kind);
      expect(report.system.deadlines.byKind.find((d) => d.kind === kind)).toMatchObject({
        met: of.filter((d) => d.met).length,
        missed: of.filter((d) => !d.met).length,
      });
    }
    const months = [...new Set(all.map((d) => new Date(d.dueAt).toISOString().slice(0, 7)))].sort();
    expect(report.system.deadlines.byMonth.map((m) => m.month)).toEqual(months);
    for (const row of report.system.deadlines.byMonth) {
      const of = all.filter((d) => new Date(d.dueAt).toISOString().slice(0, 7) === row.month);
      expect([row.met, row.missed]).toEqual([of.filter((d) => d.met).length, of.filter((d) => !d.met).length]);
    }
  });

  it('counts what went back to the GP by SNOMED CT code', () => {
    const reached = north.filter((s) => s.contactDays !== undefined);
    const declined = reached.filter((s) => s.reason === 'declined').length;
    expect(report.system.gpMessages).toEqual([
      { snomedCode: '871711000000103', display: 'Social prescribing declined (situation)', count: declined },
      {
        snomedCode: '871731000000106',
        display: 'Referral to social prescribing service (procedure)',
        count: reached.length - declined,
      },
    ]);
  });
});

describe('cohort selection', () => {
  it('takes referrals in [from, to) and of the scheme asked for', () => {
    const from = T0 + 30 * DAY;
    const to = T0 + 60 * DAY;
    const inWindow = (s: Spec) => s.referredAt >= from && s.referredAt < to;
    const report = buildCohortReport(records, { schemeId: 'south', from, to });
    expect(report.totals.referrals).toBe(specs.filter((s) => s.scheme === 'south' && inWindow(s)).length);
    expect(buildCohortReport(records, { from, to }).totals.referrals).toBe(specs.filter(inWindow).length);
    expect(buildCohortReport(records).totals.referrals).toBe(specs.length);
    expect(report.scope).toEqual({ schemeId: 'south', from, to, basis: 'referredAt' });
  });

  it('puts a referral exactly at `to` in the next period, not this one', () => {
    const at = records[4]!.dates.referredAt;
    expect(buildCohortReport([records[4]!], { to: at }).totals.referrals).toBe(0);
    expect(buildCohortReport([records[4]!], { from: at }).totals.referrals).toBe(1);
  });

  it('copes with an empty cohort', () => {
    const report: CohortReport = buildCohortReport([]);
    expect(report.totals).toEqual({ referrals: 0, open: 0, discharged: 0 });
    expect(report.person.funnel.every((f) => f.count === 0 && f.ofReferred === null)).toBe(true);
    expect(report.system.timeToFirstContactDays.median).toBeNull();
    expect(report.system.staffMinutes.perReferral).toBeNull();
  });
});

describe('a small cohort checked by hand', () => {
  const base = (i: number, over: Partial<OutcomeRecord> & { dates: OutcomeRecord['dates'] }): OutcomeRecord =>
    outcomeRecordSchema.parse({
      caseId: `hand-${i}`,
      schemeId: 'hand',
      status: 'open',
      linkWorkerId: 'lw-1',
      ageBand: '65-74',
      area: 'Bogside',
      route: 'GP',
      needs: [],
      activities: [],
      volunteer: false,
      sessions: {},
      contactsTotal: 0,
      staffMinutes: 0,
      measures: {},
      escalations: [],
      serviceGaps: [],
      deadlines: {},
      ...over,
    });
  // Four referrals: contacted after 1, 2, 3 and 10 days; three visited; two planned; one completed.
  const hand = [
    base(1, { dates: { referredAt: T0, firstContactAt: T0 + 1 * DAY, firstVisitAt: T0 + 4 * DAY, planAgreedAt: T0 + 11 * DAY, dischargedAt: T0 + 100 * DAY }, status: 'discharged', dischargeReason: 'connected', contactsTotal: 9 }),
    base(2, { dates: { referredAt: T0, firstContactAt: T0 + 2 * DAY, firstVisitAt: T0 + 6 * DAY, planAgreedAt: T0 + 13 * DAY }, contactsTotal: 5 }),
    base(3, { dates: { referredAt: T0, firstContactAt: T0 + 3 * DAY, firstVisitAt: T0 + 5 * DAY }, contactsTotal: 2 }),
    base(4, { dates: { referredAt: T0, firstContactAt: T0 + 10 * DAY, dischargedAt: T0 + 12 * DAY }, status: 'discharged', dischargeReason: 'declined', contactsTotal: 1, route: 'self' }),
  ];
  const report = buildCohortReport(hand);

  it('matches figures worked out on paper', () => {
    expect(report.person.funnel.map((f) => f.count)).toEqual([4, 4, 3, 2, 1]);
    expect(report.person.funnel.map((f) => f.ofReferred)).toEqual([1, 1, 0.75, 0.5, 0.25]);
    // Contact days 1, 2, 3, 10: median (2 + 3) / 2; p90 at rank 2.7 is 3 + 0.7 × 7.
    expect(report.system.timeToFirstContactDays.median).toBe(2.5);
    expect(report.system.timeToFirstContactDays.p90).toBeCloseTo(7.9, 12);
    // Visit days 4, 6, 5 sort to 4, 5, 6.
    expect(report.system.timeToFirstVisitDays.median).toBe(5);
    expect(report.person.contactsPerPerson.mean).toBe(4.25);
    expect(nonZero(report.person.dischargeReasons)).toEqual({ connected: 1, declined: 1 });
    expect(nonZero(report.system.referralsByRoute)).toEqual({ GP: 3, self: 1 });
    expect(report.system.caseload).toEqual([{ linkWorkerId: 'lw-1', cases: 4, open: 2 }]);
    expect(report.person.tierMix).toEqual([{ key: '(none)', count: 4 }]);
  });

  it('keeps the funnel nested when a later date appears without an earlier one', () => {
    const odd = base(5, { dates: { referredAt: T0, planAgreedAt: T0 + 5 * HOUR } });
    expect(buildCohortReport([odd]).person.funnel.map((f) => f.count)).toEqual([1, 0, 0, 0, 0]);
  });

  it('counts deadlines in the referral month when a record has no deadline log', () => {
    const r = base(6, { dates: { referredAt: Date.UTC(2025, 2, 31, 23) }, deadlines: { triage: { met: 1, missed: 0 }, review: { met: 0, missed: 2 } } });
    expect(buildCohortReport([r]).system.deadlines.byMonth).toEqual([{ month: '2025-03', met: 1, missed: 2, metShare: 1 / 3 }]);
  });

  it('adds up staff minutes by kind from the records that say, and the CSV lists them', () => {
    const withKinds = [
      base(7, { dates: { referredAt: T0 }, staffMinutes: 545, staffMinutesByKind: { contactAttempts: 25, homeVisit: 480, review: 40 } }),
      base(8, { dates: { referredAt: T0 }, staffMinutes: 440, staffMinutesByKind: { homeVisit: 60, phone: 380 } }),
      // Written before staff minutes had kinds: in the total, not in any kind.
      base(9, { dates: { referredAt: T0 }, staffMinutes: 100 }),
    ];
    const { staffMinutes } = buildCohortReport(withKinds).system;
    expect(staffMinutes.total).toBe(1085);
    expect(staffMinutes.byKind).toEqual([
      { kind: 'contactAttempts', minutes: 25 },
      { kind: 'homeVisit', minutes: 540 },
      { kind: 'phone', minutes: 380 },
      { kind: 'review', minutes: 40 },
    ]);
    expect(reportToCsv(buildCohortReport(withKinds))).toContain('system,staffMinutes.byKind,homeVisit,minutes,540');
  });
});
