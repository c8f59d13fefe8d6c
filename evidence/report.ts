import { connectionFigures, type ConnectionFigures } from './connections';
import { INSTRUMENTS, measureBands, measureDirection, type Instrument, type MeasureDirection } from '../machines/measures';
import {
  ACTIVITY_CATEGORIES,
  COMPLETED_REASONS,
  DISCHARGE_REASONS,
  REFERRAL_ROUTES,
  type OutcomeRecord,
} from './outcomeRecord';

/**
 * The cohort report: what a scheme tells its commissioners. Figures are grouped as the Common
 * Outcomes Framework (NHS England 2019) groups impact [002]: the person (what happened to the
 * people referred), the community (the groups, volunteers and gaps they met) and the system (how
 * the service ran: routes in, timeliness, escalations, workload, what went back to GPs).
 *
 * The cohort is every record of the scheme referred within [from, to): a referral belongs to the
 * period it arrived in, so a later report never moves a person between periods.
 */

export interface CohortOptions {
  schemeId?: string;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
}

/**
 * Percentiles interpolate linearly between closest ranks (numpy's default, Excel PERCENTILE.INC),
 * so the median of an even count is the mean of the middle two. All null when n is 0.
 */
export interface Summary {
  n: number;
  mean: number | null;
  min: number | null;
  q1: number | null;
  median: number | null;
  q3: number | null;
  p90: number | null;
  max: number | null;
}

export interface CountRow {
  key: string;
  count: number;
}

export type FunnelStepName = 'referred' | 'firstContact' | 'firstVisit' | 'planAgreed' | 'completed';

export interface FunnelStep {
  step: FunnelStepName;
  count: number;
  /** Share of all referrals; null for an empty cohort. */
  ofReferred: number | null;
  /** Share of the step before; null when that step is empty. */
  ofPrevious: number | null;
}

export interface MeasureOutcome {
  instrument: Instrument;
  direction: MeasureDirection;
  withBaseline: number;
  withFollowUp: number;
  /** People with both a baseline and a follow-up: the only ones change is computed for. */
  withBoth: number;
  /** Follow-up score minus baseline score, natural sign. */
  change: Summary;
  improved: number;
  unchanged: number;
  worsened: number;
  /** Change in unit-wide bins: `bin` k holds changes in [k, k + 1). */
  distribution: { bin: number; count: number }[];
  /** Bands of the people counted in withBoth, before and after. */
  bandsAtBaseline: CountRow[];
  bandsAtFollowUp: CountRow[];
}

/**
 * The figure a scheme leads with ("75.6% of referrals reached support", Ways to Wellness): the share
 * of referrals that reached a first visit and an agreed plan, in percent to one decimal; null for an
 * empty cohort. The same counts as the funnel's `firstVisit` and `planAgreed` steps.
 */
export interface Conversion {
  referredToFirstVisit: number | null;
  referredToPlanAgreed: number | null;
}

export interface CohortReport {
  scope: { schemeId: string | null; from: number | null; to: number | null; basis: 'referredAt' };
  totals: { referrals: number; open: number; discharged: number };
  conversion: Conversion;
  person: {
    funnel: FunnelStep[];
    tierMix: CountRow[];
    contactsPerPerson: Summary;
    measures: MeasureOutcome[];
    dischargeReasons: CountRow[];
  };
  community: {
    activities: { category: string; people: number; activities: number }[];
    volunteerMatched: { people: number; share: number | null };
    sessionsByKind: { kind: string; count: number; attended: number; minutes: number }[];
    serviceGaps: { kind: string; gaps: number; cases: number }[];
  };
  system: {
    referralsByRoute: CountRow[];
    timeToFirstContactDays: Summary;
    timeToFirstVisitDays: Summary;
    escalations: { type: string; count: number; acknowledged: number; reEscalated: number; hoursToAcknowledge: Summary }[];
    caseload: { linkWorkerId: string; cases: number; open: number }[];
    /** byKind: where the minutes went, from records that say (staffMinutesByKind); kinds sorted. */
    staffMinutes: { total: number; perReferral: number | null; byKind: { kind: string; minutes: number }[] };
    deadlines: {
      byKind: { kind: string; met: number; missed: number; metShare: number | null }[];
      /** By the month each deadline fell due (UTC); records without a deadline log count in their referral month. */
      byMonth: { month: string; met: number; missed: number; metShare: number | null }[];
    };
    gpMessages: { snomedCode: string; display: string; count: number }[];
  };
  /** Connections to community services (evidence/connections.ts). */
  connections: ConnectionFigures;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
export const UNASSIGNED = '(unassigned)';
export const NO_TIER = '(none)';

function percentile(sorted: readonly number[], p: number): number {
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (h - lo);
}

export function summarise(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { n, mean: null, min: null, q1: null, median: null, q3: null, p90: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n,
    mean: sorted.reduce((a, b) => a + b, 0) / n,
    min: sorted[0]!,
    q1: percentile(sorted, 0.25),
    median: percentile(sorted, 0.5),
    q3: percentile(sorted, 0.75),
    p90: percentile(sorted, 0.9),
    max: sorted[n - 1]!,
  };
}

function share(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

/** Known keys in their natural order (zeros kept, so tables line up across reports), then the rest A–Z. */
function ordered(counts: Map<string, number>, known: readonly string[] = []): CountRow[] {
  const rest = [...counts.keys()].filter((k) => !known.includes(k)).sort();
  return [...known, ...rest].map((key) => ({ key, count: counts.get(key) ?? 0 }));
}

function tally<T>(items: readonly T[], keyOf: (item: T) => string | undefined): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const key = keyOf(item);
    if (key !== undefined) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function monthOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 7);
}

export function selectCohort(records: readonly OutcomeRecord[], options: CohortOptions = {}): OutcomeRecord[] {
  return records.filter(
    (r) =>
      (options.schemeId === undefined || r.schemeId === options.schemeId) &&
      (options.from === undefined || r.dates.referredAt >= options.from) &&
      (options.to === undefined || r.dates.referredAt < options.to),
  );
}

function isCompleted(r: OutcomeRecord): boolean {
  return r.status === 'discharged' && r.dischargeReason !== undefined && COMPLETED_REASONS.includes(r.dischargeReason);
}

// Each step counts the cases that reached it and every step before, so the funnel only narrows.
const FUNNEL: readonly { step: FunnelStepName; reached: (r: OutcomeRecord) => boolean }[] = [
  { step: 'referred', reached: () => true },
  { step: 'firstContact', reached: (r) => r.dates.firstContactAt !== undefined },
  { step: 'firstVisit', reached: (r) => r.dates.firstVisitAt !== undefined },
  { step: 'planAgreed', reached: (r) => r.dates.planAgreedAt !== undefined },
  { step: 'completed', reached: isCompleted },
];

function funnel(cohort: readonly OutcomeRecord[]): FunnelStep[] {
  const steps: FunnelStep[] = [];
  let remaining = cohort;
  let previous = cohort.length;
  for (const { step, reached } of FUNNEL) {
    remaining = remaining.filter(reached);
    steps.push({
      step,
      count: remaining.length,
      ofReferred: share(remaining.length, cohort.length),
      ofPrevious: share(remaining.length, previous),
    });
    previous = remaining.length;
  }
  return steps;
}

function percent(fraction: number | null): number | null {
  return fraction === null ? null : Math.round(fraction * 1000) / 10;
}

function conversion(steps: readonly FunnelStep[]): Conversion {
  const of = (step: FunnelStepName) => percent(steps.find((s) => s.step === step)?.ofReferred ?? null);
  return { referredToFirstVisit: of('firstVisit'), referredToPlanAgreed: of('planAgreed') };
}

function measureOutcome(cohort: readonly OutcomeRecord[], instrument: Instrument): MeasureOutcome {
  const direction = measureDirection(instrument);
  let withBaseline = 0;
  let withFollowUp = 0;
  const changes: number[] = [];
  const before = new Map<string, number>();
  const after = new Map<string, number>();
  for (const r of cohort) {
    const series = r.measures[instrument];
    if (!series) continue;
    const followUp = series.discharge ?? series.review;
    if (series.baseline) withBaseline++;
    if (followUp) withFollowUp++;
    if (!series.baseline || !followUp) continue;
    // Recomputed rather than read from series.change, which the schema already holds to this rule.
    changes.push(Math.round((followUp.score - series.baseline.score) * 100) / 100);
    before.set(series.baseline.band, (before.get(series.baseline.band) ?? 0) + 1);
    after.set(followUp.band, (after.get(followUp.band) ?? 0) + 1);
  }
  const better = (c: number) => (direction === 'higherIsBetter' ? c > 0 : c < 0);
  const bins = tally(changes, (c) => String(Math.floor(c)));
  const bands = measureBands(instrument);
  return {
    instrument,
    direction,
    withBaseline,
    withFollowUp,
    withBoth: changes.length,
    change: summarise(changes),
    improved: changes.filter(better).length,
    unchanged: changes.filter((c) => c === 0).length,
    worsened: changes.filter((c) => c !== 0 && !better(c)).length,
    distribution: [...bins.entries()].map(([bin, count]) => ({ bin: Number(bin), count })).sort((a, b) => a.bin - b.bin),
    bandsAtBaseline: ordered(before, bands),
    bandsAtFollowUp: ordered(after, bands),
  };
}

function deadlines(cohort: readonly OutcomeRecord[]): CohortReport['system']['deadlines'] {
  const byKind = new Map<string, { met: number; missed: number }>();
  const byMonth = new Map<string, { met: number; missed: number }>();
  const add = (map: Map<string, { met: number; missed: number }>, key: string, met: number, missed: number) => {
    const t = map.get(key) ?? { met: 0, missed: 0 };
    t.met += met;
    t.missed += missed;
    map.set(key, t);
  };
  for (const r of cohort) {
    for (const [kind, t] of Object.entries(r.deadlines)) add(byKind, kind, t.met, t.missed);
    if (r.deadlineLog) {
      for (const d of r.deadlineLog) add(byMonth, monthOf(d.dueAt), d.met ? 1 : 0, d.met ? 0 : 1);
    } else {
      for (const t of Object.values(r.deadlines)) add(byMonth, monthOf(r.dates.referredAt), t.met, t.missed);
    }
  }
  const rows = (map: Map<string, { met: number; missed: number }>) =>
    [...map.keys()].sort().map((key) => {
      const t = map.get(key)!;
      return { key, met: t.met, missed: t.missed, metShare: share(t.met, t.met + t.missed) };
    });
  return {
    byKind: rows(byKind).map(({ key, ...t }) => ({ kind: key, ...t })),
    byMonth: rows(byMonth)
      .filter((t) => t.met + t.missed > 0)
      .map(({ key, ...t }) => ({ month: key, ...t })),
  };
}

export function buildCohortReport(records: readonly OutcomeRecord[], options: CohortOptions = {}): CohortReport {
  const cohort = selectCohort(records, options);
  const discharged = cohort.filter((r) => r.status === 'discharged');

  const activityPeople = new Map<string, number>();
  const activityCount = new Map<string, number>();
  const sessions = new Map<string, { count: number; attended: number; minutes: number }>();
  const gaps = new Map<string, { gaps: number; cases: number }>();
  const escalations = new Map<string, { count: number; acknowledged: number; reEscalated: number; hours: number[] }>();
  const caseload = new Map<string, { cases: number; open: number }>();
  const gpMessages = new Map<string, { snomedCode: string; display: string; count: number }>();

  for (const r of cohort) {
    for (const category of new Set(r.activities.map((a) => a.category))) {
      activityPeople.set(category, (activityPeople.get(category) ?? 0) + 1);
    }
    for (const a of r.activities) activityCount.set(a.category, (activityCount.get(a.category) ?? 0) + 1);

    for (const [kind, s] of Object.entries(r.sessions)) {
      const t = sessions.get(kind) ?? { count: 0, attended: 0, minutes: 0 };
      t.count += s.count;
      t.attended += s.attended;
      t.minutes += s.minutes;
      sessions.set(kind, t);
    }

    for (const kind of new Set(r.serviceGaps.map((g) => g.kind))) {
      const t = gaps.get(kind) ?? { gaps: 0, cases: 0 };
      t.cases++;
      t.gaps += r.serviceGaps.filter((g) => g.kind === kind).length;
      gaps.set(kind, t);
    }

    for (const e of r.escalations) {
      const t = escalations.get(e.type) ?? { count: 0, acknowledged: 0, reEscalated: 0, hours: [] };
      t.count++;
      if (e.level > 1) t.reEscalated++;
      if (e.acknowledgedAt !== undefined) {
        t.acknowledged++;
        t.hours.push((e.acknowledgedAt - e.raisedAt) / HOUR_MS);
      }
      escalations.set(e.type, t);
    }

    const worker = r.linkWorkerId ?? UNASSIGNED;
    const load = caseload.get(worker) ?? { cases: 0, open: 0 };
    load.cases++;
    if (r.status === 'open') load.open++;
    caseload.set(worker, load);

    if (r.gpMessage) {
      const m = gpMessages.get(r.gpMessage.snomedCode) ?? { ...r.gpMessage, count: 0 };
      m.count++;
      gpMessages.set(r.gpMessage.snomedCode, m);
    }
  }

  const since = (at: number | undefined, r: OutcomeRecord) => (at === undefined ? [] : [(at - r.dates.referredAt) / DAY_MS]);
  const staffTotal = cohort.reduce((sum, r) => sum + r.staffMinutes, 0);
  const staffByKind = new Map<string, number>();
  for (const r of cohort) {
    for (const [kind, minutes] of Object.entries(r.staffMinutesByKind ?? {})) staffByKind.set(kind, (staffByKind.get(kind) ?? 0) + minutes);
  }
  const volunteers = cohort.filter((r) => r.volunteer).length;
  const steps = funnel(cohort);

  return {
    scope: {
      schemeId: options.schemeId ?? null,
      from: options.from ?? null,
      to: options.to ?? null,
      basis: 'referredAt',
    },
    totals: { referrals: cohort.length, open: cohort.length - discharged.length, discharged: discharged.length },
    conversion: conversion(steps),
    person: {
      funnel: steps,
      tierMix: ordered(tally(cohort, (r) => r.tier ?? NO_TIER)),
      contactsPerPerson: summarise(cohort.map((r) => r.contactsTotal)),
      measures: INSTRUMENTS.map((i) => measureOutcome(cohort, i)),
      dischargeReasons: ordered(
        tally(discharged, (r) => r.dischargeReason),
        DISCHARGE_REASONS,
      ),
    },
    community: {
      activities: ordered(activityPeople, ACTIVITY_CATEGORIES).map(({ key, count }) => ({
        category: key,
        people: count,
        activities: activityCount.get(key) ?? 0,
      })),
      volunteerMatched: { people: volunteers, share: share(volunteers, cohort.length) },
      sessionsByKind: [...sessions.keys()].sort().map((kind) => ({ kind, ...sessions.get(kind)! })),
      serviceGaps: [...gaps.keys()].sort().map((kind) => ({ kind, ...gaps.get(kind)! })),
    },
    system: {
      referralsByRoute: ordered(
        tally(cohort, (r) => r.route),
        REFERRAL_ROUTES,
      ),
      timeToFirstContactDays: summarise(cohort.flatMap((r) => since(r.dates.firstContactAt, r))),
      timeToFirstVisitDays: summarise(cohort.flatMap((r) => since(r.dates.firstVisitAt, r))),
      escalations: [...escalations.keys()].sort().map((type) => {
        const { hours, ...t } = escalations.get(type)!;
        return { type, ...t, hoursToAcknowledge: summarise(hours) };
      }),
      caseload: [...caseload.keys()].sort().map((linkWorkerId) => ({ linkWorkerId, ...caseload.get(linkWorkerId)! })),
      staffMinutes: {
        total: staffTotal,
        perReferral: share(staffTotal, cohort.length),
        byKind: [...staffByKind.keys()].sort().map((kind) => ({ kind, minutes: staffByKind.get(kind)! })),
      },
      deadlines: deadlines(cohort),
      gpMessages: [...gpMessages.keys()].sort().map((code) => gpMessages.get(code)!),
    },
    connections: connectionFigures(cohort, summarise),
  };
}
