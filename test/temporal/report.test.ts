// The cohort report through real workflows: a fixed synthetic cohort is referred and driven along
// the pathway on the dev server, then `client.report` is compared, figure by figure, with numbers
// computed here from the cohort's own definition (never from the evidence module's code).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, type CohortReport, type PathwayClient } from '../../client';
import type { ReferralRoute } from '../../machines';
import { clientHarness, hostReferral, lw, poll, quickPolicy, self, sup, swemwbs, uniqueScheme, worker, type ClientHarness } from './client.harness';

type Path = 'redirect' | 'decline' | 'noContact' | 'withdrewAfterVisit' | 'personDeclined' | 'connected' | 'handedOff' | 'extended' | 'openInSupport' | 'openInTriage';
type Tier = 'light' | 'standard' | 'intensive';
interface Session {
  kind: 'groupActivity' | 'homeVisit' | 'accompaniedActivity' | 'phone' | 'video';
  attended: boolean;
  minutes: number;
  withVolunteer?: boolean;
}
interface Spec {
  path: Path;
  route: ReferralRoute;
  month: 'jan' | 'feb';
  tier?: Tier;
  visitMinutes?: number;
  /** SWEMWBS answers at the first visit and at each review (the last one counts). */
  baseline?: number[];
  reviews?: number[][];
  sessions?: Session[];
  checkIns?: number;
  volunteer?: boolean;
  safeguarding?: boolean;
  activity?: 'creative' | 'connecting' | 'active' | 'practical';
}

const s7 = (n: number) => Array(7).fill(n) as number[];
const COHORT: Spec[] = [
  { path: 'redirect', route: 'hospital', month: 'jan' },
  { path: 'decline', route: 'self', month: 'feb' },
  { path: 'noContact', route: 'GP', month: 'jan' },
  { path: 'withdrewAfterVisit', route: 'pharmacist', month: 'feb', visitMinutes: 60, baseline: s7(2) },
  { path: 'personDeclined', route: 'GP', month: 'jan' },
  { path: 'connected', route: 'GP', month: 'jan', tier: 'light', visitMinutes: 120, baseline: s7(2), reviews: [s7(3)], sessions: [{ kind: 'groupActivity', attended: true, minutes: 60 }], checkIns: 1, activity: 'active' },
  {
    path: 'connected', route: 'vcs', month: 'feb', tier: 'standard', visitMinutes: 90, baseline: s7(3), reviews: [s7(2)],
    sessions: [{ kind: 'homeVisit', attended: true, minutes: 45 }, { kind: 'homeVisit', attended: false, minutes: 0 }], activity: 'creative',
  },
  {
    path: 'connected', route: 'communityNurse', month: 'feb', tier: 'intensive', visitMinutes: 120, baseline: [2, 2, 2, 2, 2, 2, 1], reviews: [s7(4)], volunteer: true,
    sessions: [{ kind: 'accompaniedActivity', attended: true, minutes: 90, withVolunteer: true }, { kind: 'accompaniedActivity', attended: true, minutes: 75, withVolunteer: true }], activity: 'connecting',
  },
  { path: 'handedOff', route: 'GP', month: 'jan', tier: 'standard', visitMinutes: 60, baseline: s7(3), reviews: [s7(3)], sessions: [{ kind: 'phone', attended: true, minutes: 30 }], activity: 'connecting' },
  { path: 'connected', route: 'familyOrFriend', month: 'feb', tier: 'light', visitMinutes: 45, baseline: s7(1), reviews: [s7(2)], sessions: [{ kind: 'video', attended: true, minutes: 20 }], safeguarding: true, activity: 'practical' },
  { path: 'extended', route: 'GP', month: 'feb', tier: 'standard', visitMinutes: 100, baseline: s7(2), reviews: [s7(3), s7(4)], sessions: [{ kind: 'phone', attended: true, minutes: 25 }], activity: 'creative' },
  { path: 'openInSupport', route: 'adultSocialCare', month: 'jan', tier: 'intensive', visitMinutes: 30, baseline: s7(2), sessions: [{ kind: 'phone', attended: true, minutes: 30 }], activity: 'active' },
  { path: 'openInTriage', route: 'GP', month: 'feb' },
  { path: 'connected', route: 'localAuthority', month: 'jan', tier: 'standard', visitMinutes: 80, baseline: s7(4), reviews: [s7(4)], sessions: [], activity: 'connecting' },
];

const MONTH = { jan: Date.UTC(2025, 0, 10), feb: Date.UTC(2025, 1, 10) };
const FEB = { from: Date.UTC(2025, 1, 1), to: Date.UTC(2025, 2, 1) };

// ---- What the cohort's definition says the report must show -----------------------------------------

const reached = (s: Spec) => !['redirect', 'decline', 'noContact', 'openInTriage'].includes(s.path);
const visited = (s: Spec) => s.visitMinutes !== undefined;
const planned = (s: Spec) => s.tier !== undefined;
const open = (s: Spec) => s.path.startsWith('open');
const reasonOf = (s: Spec): string | undefined =>
  ({ redirect: 'redirected', decline: 'declined', noContact: 'unableToContact', withdrewAfterVisit: 'withdrew', personDeclined: 'declined', connected: 'connected', handedOff: 'handedOff', extended: 'connected' })[
    s.path as Exclude<Path, 'openInSupport' | 'openInTriage'>
  ];
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const count = <T,>(xs: T[], key: (x: T) => string | undefined) => {
  const m: Record<string, number> = {};
  for (const x of xs) {
    const k = key(x);
    if (k !== undefined) m[k] = (m[k] ?? 0) + 1;
  }
  return m;
};
const nonZero = (rows: Array<{ key: string; count: number }>) => Object.fromEntries(rows.filter((r) => r.count > 0).map((r) => [r.key, r.count]));

function expectReportMatches(report: CohortReport, cohort: Spec[]) {
  const discharged = cohort.filter((s) => !open(s));
  expect(report.totals).toEqual({ referrals: cohort.length, open: cohort.length - discharged.length, discharged: discharged.length });
  expect(nonZero(report.system.referralsByRoute)).toEqual(count(cohort, (s) => s.route));
  expect(nonZero(report.person.dischargeReasons)).toEqual(count(discharged, reasonOf));
  expect(nonZero(report.person.tierMix)).toEqual(count(cohort, (s) => s.tier ?? '(none)'));

  const completed = discharged.filter((s) => ['connected', 'handedOff', 'goalsMet'].includes(reasonOf(s)!));
  expect(report.person.funnel.map((f) => [f.step, f.count])).toEqual([
    ['referred', cohort.length],
    ['firstContact', cohort.filter(reached).length],
    ['firstVisit', cohort.filter(visited).length],
    ['planAgreed', cohort.filter(planned).length],
    ['completed', completed.length],
  ]);
  // Conversion: the same counts as shares of the referred, in percent to one decimal.
  const pct = (n: number) => Math.round((n / cohort.length) * 1000) / 10;
  expect(report.conversion).toEqual({ referredToFirstVisit: pct(cohort.filter(visited).length), referredToPlanAgreed: pct(cohort.filter(planned).length) });

  // SWEMWBS: the metric score rises with the raw total, so the direction of change is the raw totals'.
  const both = cohort.filter((s) => s.baseline && s.reviews?.length);
  const delta = (s: Spec) => sum(s.reviews!.at(-1)!) - sum(s.baseline!);
  const sw = report.person.measures.find((m) => m.instrument === 'SWEMWBS')!;
  expect({ withBaseline: sw.withBaseline, withFollowUp: sw.withFollowUp, withBoth: sw.withBoth, improved: sw.improved, unchanged: sw.unchanged, worsened: sw.worsened }).toEqual({
    withBaseline: cohort.filter((s) => s.baseline).length,
    withFollowUp: cohort.filter((s) => s.reviews?.length).length,
    withBoth: both.length,
    improved: both.filter((s) => delta(s) > 0).length,
    unchanged: both.filter((s) => delta(s) === 0).length,
    worsened: both.filter((s) => delta(s) < 0).length,
  });

  const sessions = cohort.flatMap((s) => s.sessions ?? []);
  const byKind: Record<string, { count: number; attended: number; minutes: number }> = {};
  for (const x of sessions) {
    const t = (byKind[x.kind] ??= { count: 0, attended: 0, minutes: 0 });
    t.count++;
    t.attended += x.attended ? 1 : 0;
    t.minutes += x.minutes;
  }
  expect(Object.fromEntries(report.community.sessionsByKind.map(({ kind, ...t }) => [kind, t]))).toEqual(byKind);
  expect(report.system.staffMinutes.total).toBe(sum(cohort.map((s) => s.visitMinutes ?? 0)) + sum(sessions.map((x) => x.minutes)));
  expect(report.community.volunteerMatched.people).toBe(cohort.filter((s) => s.volunteer).length);
  expect(Object.fromEntries(report.community.activities.filter((a) => a.people > 0).map((a) => [a.category, a.people]))).toEqual(count(cohort.filter(planned), (s) => s.activity));

  // Contacts: reaching the person, the visit, each attended session, each check-in, each review.
  const contacts = cohort.map((s) => (reached(s) ? 1 : 0) + (visited(s) ? 1 : 0) + (s.sessions ?? []).filter((x) => x.attended).length + (s.checkIns ?? 0) + (s.reviews?.length ?? 0));
  expect(report.person.contactsPerPerson.n).toBe(cohort.length);
  expect(report.person.contactsPerPerson.mean).toBeCloseTo(sum(contacts) / cohort.length, 10);

  const escalations = [
    ...cohort.filter((s) => s.safeguarding).map(() => 'SAFEGUARDING'),
    ...cohort.filter((s) => s.path === 'extended').map(() => 'EXTENSION_APPROVAL'),
  ];
  expect(report.system.escalations.map(({ type, count, acknowledged, reEscalated }) => ({ type, count, acknowledged, reEscalated }))).toEqual(
    Object.entries(count(escalations, (t) => t))
      .sort()
      .map(([type, n]) => ({ type, count: n, acknowledged: n, reEscalated: 0 })),
  );

  const placed = cohort.filter((s) => reached(s) || s.path === 'noContact');
  const caseload = Object.fromEntries(report.system.caseload.map(({ linkWorkerId, ...t }) => [linkWorkerId, t]));
  expect(caseload).toEqual({
    ...(placed.length && { 'lw-r': { cases: placed.length, open: placed.filter(open).length } }),
    ...(placed.length < cohort.length && { '(unassigned)': { cases: cohort.length - placed.length, open: cohort.filter((s) => open(s) && !placed.includes(s)).length } }),
  });

  const gp = Object.fromEntries(report.system.gpMessages.map((m) => [m.snomedCode, m.count]));
  const personDeclined = cohort.filter((s) => s.path === 'personDeclined').length;
  expect(gp).toEqual({
    ...(cohort.filter(reached).length - personDeclined > 0 && { '871731000000106': cohort.filter(reached).length - personDeclined }),
    ...(personDeclined > 0 && { '871711000000103': personDeclined }),
  });
}

// ---- Driving each case along its path ------------------------------------------------------------------

async function drive(client: PathwayClient, scheme: string, spec: Spec, i: number): Promise<string> {
  const referral = hostReferral(scheme, {
    referralId: `${scheme}-${i}`,
    route: spec.route,
    referredAt: MONTH[spec.month] + i * 3_600_000,
    ...(spec.path === 'redirect' && { flags: ['severeMentalIllness'] }),
  });
  const { case: c } = await client.refer(referral);
  const id = c.caseId;
  if (spec.path === 'redirect' || spec.path === 'openInTriage') return id;
  if (spec.path === 'decline') {
    await client.declineReferral(id, { reason: 'outside the area', actor: lw });
    return id;
  }
  await client.acceptReferral(id, { actor: lw });
  // Only the allocated link worker may act on the case from here.
  const w = worker(await poll(() => client.getCase(id), (v) => v.stage === 'firstContact', 'a place'));
  if (spec.path === 'noContact') {
    for (let n = 0; n < 3; n++) await client.recordContactAttempt(id, { outcome: 'noAnswer', channel: 'phone', actor: w });
    return id;
  }
  await client.recordContactAttempt(id, { outcome: 'reached', channel: 'phone', actor: w });
  if (spec.path === 'personDeclined') {
    await client.discharge(id, { reason: 'declined', actor: w });
    return id;
  }
  await client.recordFirstVisit(id, { location: 'home', durationMinutes: spec.visitMinutes!, measures: spec.baseline ? [swemwbs(spec.baseline)] : [], barriers: [], actor: w });
  if (spec.path === 'withdrewAfterVisit') {
    await client.discharge(id, { reason: 'withdrew', actor: w });
    return id;
  }
  await client.draftPlan(id, {
    goals: [{ id: 'g1', text: 'A goal in their words' }],
    activities: [{ id: 'a1', category: spec.activity!, name: `Activity ${i}` }],
    barrierActions: [],
    tier: spec.tier!,
    volunteer: spec.volunteer ?? false,
    actor: w,
  });
  await client.agreePlan(id, { party: 'person', actor: self });
  await client.agreePlan(id, { party: 'linkWorker', actor: w });
  if (spec.volunteer) await client.recordVolunteerMatch(id, { volunteerId: `vol-${i}`, actor: w });
  for (const s of spec.sessions ?? []) {
    await client.logSession(id, { kind: s.kind, attended: s.attended, durationMinutes: s.minutes, withVolunteer: s.withVolunteer ?? false, actor: w });
  }
  for (let n = 0; n < (spec.checkIns ?? 0); n++) await client.recordCheckIn(id, { measures: [], actor: w });
  if (spec.safeguarding) {
    await client.raiseSafeguarding(id, { category: 'selfNeglect', actor: w });
    await client.clearSafeguarding(id, { actor: sup });
  }
  if (spec.path === 'openInSupport') return id;

  const reviews = spec.reviews!;
  for (const [n, answers] of reviews.entries()) {
    await poll(() => client.getCase(id), (v) => v.stage === 'review', 'the review');
    const last = n === reviews.length - 1;
    const outcome = !last ? 'extend' : spec.path === 'handedOff' ? 'befriend' : 'discharge';
    await client.recordReview(id, { measures: [swemwbs(answers)], goalsMet: last ? 'all' : 'some', outcome, ...(outcome === 'extend' && { extensionWeeks: 1 }), actor: w });
    if (outcome === 'extend') await client.approveExtension(id, { actor: sup });
  }
  if (spec.path === 'handedOff') await client.recordBefriendingResult(id, { result: 'accepted', service: 'Befriending service', actor: w });
  return id;
}

describe('cohort report over real workflows', () => {
  let h: ClientHarness;
  let client: PathwayClient;
  const scheme = uniqueScheme('report');

  beforeAll(async () => {
    h = await clientHarness('report');
    // One policy week is a second and the review falls due two seconds after the plan is agreed;
    // every other deadline keeps its real length, so no escalation happens that the cohort did not ask for.
    client = await h.connect({ policies: { [scheme]: quickPolicy(scheme, {}, 2000) } });
    await client.setRoster(scheme, [{ id: 'lw-r' }]);
    const ids = await Promise.all(COHORT.map((spec, i) => drive(client, scheme, spec, i)));
    // Every case that should have closed has (its outcome record is final).
    await Promise.all(ids.filter((_, i) => !open(COHORT[i]!)).map((id) => client.temporal.workflow.getHandle(id).result()));
    await poll(() => client.listCases({ scheme }), (rows) => rows.length === COHORT.length, 'every case in visibility');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('equals the figures computed from the cohort definition, for the whole cohort', async () => {
    const { report, records, unreadable } = await client.report({ schemeId: scheme });
    expect(unreadable).toEqual([]);
    expect(records).toHaveLength(COHORT.length);
    expect(report.scope).toMatchObject({ schemeId: scheme, from: null, to: null });
    expectReportMatches(report, COHORT);
  });

  it('selects the period by referral date', async () => {
    const { report } = await client.report({ schemeId: scheme, from: new Date(FEB.from), to: '2025-03-01' });
    expect(report.scope).toMatchObject({ from: FEB.from, to: FEB.to });
    expectReportMatches(report, COHORT.filter((s) => s.month === 'feb'));
    const january = await client.report({ schemeId: scheme, to: FEB.from });
    expectReportMatches(january.report, COHORT.filter((s) => s.month === 'jan'));
  });

  it('refuses a period date beyond what the report can print, naming the field', async () => {
    for (const bad of [{ from: 9e15 }, { to: new Date(8.64e15) }]) {
      const refused = await client.report({ schemeId: scheme, ...bad }).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(InvalidInputError);
      expect((refused as InvalidInputError).issues[0]?.path).toBe(Object.keys(bad)[0]);
    }
  });

  it('reads nothing into another scheme', async () => {
    const { report } = await client.report({ schemeId: uniqueScheme('empty') });
    expect(report.totals).toEqual({ referrals: 0, open: 0, discharged: 0 });
    expect(report.conversion).toEqual({ referredToFirstVisit: null, referredToPlanAgreed: null });
  });
});
