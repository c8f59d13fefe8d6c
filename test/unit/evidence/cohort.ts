// A fixed synthetic cohort for the evidence tests. Each case is first written down as a plain spec
// (what happened, in days and answers), then turned into an OutcomeRecord; the tests compute their
// expectations from the specs, never from the report code.
import { scoreMeasure, type MeasureSubmission } from '../../../machines/measures';
import type { OutcomeRecord } from '../../../evidence/outcomeRecord';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const T0 = Date.UTC(2025, 0, 1, 9, 0, 0);

const ACCEPTED = { snomedCode: '871731000000106', display: 'Referral to social prescribing service (procedure)' } as const;
const DECLINED = { snomedCode: '871711000000103', display: 'Social prescribing declined (situation)' } as const;

/** mulberry32: a tiny seeded generator, so the cohort is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Spec {
  i: number;
  scheme: 'north' | 'south';
  referredAt: number;
  route: OutcomeRecord['route'];
  worker: string;
  /** Days after referral; undefined when the step never happened. */
  contactDays?: number;
  visitDays?: number;
  planDays?: number;
  reviewDays?: number;
  dischargeDays?: number;
  reason?: NonNullable<OutcomeRecord['dischargeReason']>;
  tier?: string;
  volunteer: boolean;
  activities: { category: 'creative' | 'connecting' | 'active' | 'practical'; name: string }[];
  homeVisits: { count: number; attended: number; minutes: number };
  phoneCalls: { count: number; attended: number; minutes: number };
  contactsTotal: number;
  swemwbs?: { baseline: number[]; followUp?: number[] };
  gad7?: { baseline: number[]; review?: number[] };
  escalations: { type: string; raisedAfterHours: number; ackAfterHours?: number; level: number }[];
  gaps: { kind: string; afterDays: number }[];
  deadlines: { kind: string; dueAfterDays: number; met: boolean }[];
}

const ROUTES: OutcomeRecord['route'][] = ['GP', 'GP', 'self', 'vcs', 'pharmacist', 'GP', 'hospital'];
const WORKERS = ['lw-ada', 'lw-bea', 'lw-cal'];
const TIERS = ['light', 'standard', 'intensive'];
const ACTIVITY_POOL: Spec['activities'] = [
  { category: 'creative', name: 'Knit and natter' },
  { category: 'connecting', name: 'Lunch club, "Thursdays"' },
  { category: 'active', name: 'Walking football' },
  { category: 'practical', name: 'Debt advice' },
];

function answers(rand: () => number, count: number, min: number, max: number): number[] {
  return Array.from({ length: count }, () => min + Math.floor(rand() * (max - min + 1)));
}

export function cohortSpecs(n = 48, seed = 20250101): Spec[] {
  const rand = prng(seed);
  const specs: Spec[] = [];
  for (let i = 0; i < n; i++) {
    const referredAt = T0 + i * 2.5 * DAY + Math.floor(rand() * 8) * HOUR;
    const spec: Spec = {
      i,
      scheme: i % 4 === 3 ? 'south' : 'north',
      referredAt,
      route: ROUTES[i % ROUTES.length]!,
      worker: WORKERS[i % WORKERS.length]!,
      volunteer: false,
      activities: [],
      homeVisits: { count: 0, attended: 0, minutes: 0 },
      phoneCalls: { count: 1 + (i % 3), attended: 1 + (i % 3), minutes: 10 * (1 + (i % 3)) },
      contactsTotal: 0,
      escalations: [],
      gaps: [],
      deadlines: [{ kind: 'triage', dueAfterDays: 2, met: i % 8 !== 0 }],
    };
    const contacted = rand() < 0.85;
    if (contacted) {
      spec.contactDays = 0.5 + Math.floor(rand() * 24) / 2;
      spec.deadlines.push({ kind: 'firstContact', dueAfterDays: 10, met: spec.contactDays <= 10 });
      if (spec.contactDays > 7) {
        const acknowledged = i % 6 !== 0;
        spec.escalations.push({
          type: 'first-contact-overdue',
          raisedAfterHours: 7 * 24,
          ...(acknowledged ? { ackAfterHours: 7 * 24 + 1 + (i % 5) * 3 } : {}),
          level: 1,
        });
        if (!acknowledged) spec.escalations.push({ type: 'first-contact-overdue', raisedAfterHours: 8 * 24, ackAfterHours: 8 * 24 + 2, level: 2 });
      }
    } else {
      spec.deadlines.push({ kind: 'firstContact', dueAfterDays: 10, met: false });
    }
    const visited = contacted && rand() < 0.85;
    if (contacted && !visited) {
      // Some who were reached turned support down; the rest are still being chased.
      if (i % 2 === 0) {
        spec.reason = 'declined';
        spec.dischargeDays = spec.contactDays! + 3;
      }
    }
    if (!contacted && i % 3 !== 0) {
      spec.reason = 'unableToContact';
      spec.dischargeDays = 14;
    }
    if (visited) {
      spec.visitDays = spec.contactDays! + 1 + Math.floor(rand() * 7);
      spec.homeVisits = { count: 1 + (i % 4), attended: 1 + (i % 4) - (i % 5 === 0 ? 1 : 0), minutes: 60 * (1 + (i % 4)) };
      spec.swemwbs = { baseline: answers(rand, 7, 1, 4) };
      if (i % 2 === 0) spec.gad7 = { baseline: answers(rand, 7, 0, 3) };
      const planned = rand() < 0.9;
      if (planned) {
        spec.planDays = spec.visitDays + 7;
        spec.tier = TIERS[i % TIERS.length]!;
        spec.volunteer = i % 3 === 1;
        spec.activities = ACTIVITY_POOL.filter((_, k) => (i + k) % 3 !== 0);
        const reviewed = rand() < 0.8;
        if (reviewed) {
          spec.reviewDays = spec.planDays + 84;
          spec.deadlines.push({ kind: 'review', dueAfterDays: spec.planDays + 84, met: i % 7 !== 0 });
          if (spec.gad7) spec.gad7.review = answers(rand, 7, 0, 2);
          const outcome = rand();
          if (outcome < 0.6) {
            spec.reason = 'connected';
            spec.dischargeDays = spec.reviewDays + 7;
            spec.swemwbs.followUp = answers(rand, 7, 2, 5);
          } else if (outcome < 0.8) {
            spec.reason = 'handedOff';
            spec.dischargeDays = spec.reviewDays + 14;
            spec.swemwbs.followUp = answers(rand, 7, 1, 5);
            spec.gaps.push({ kind: 'befriending', afterDays: spec.reviewDays + 1 });
          } else if (outcome < 0.9) {
            spec.reason = 'withdrew';
            spec.dischargeDays = spec.reviewDays + 2;
          }
        }
      }
      if (i % 9 === 0) spec.gaps.push({ kind: 'transport', afterDays: spec.visitDays });
      if (i % 9 === 0 && i % 2 === 0) spec.gaps.push({ kind: 'transport', afterDays: spec.visitDays + 5 });
    }
    if (i % 11 === 5) spec.escalations.push({ type: 'safeguarding', raisedAfterHours: 30, ackAfterHours: 30.5, level: 1 });
    spec.contactsTotal = spec.homeVisits.count + spec.phoneCalls.count + (i % 4);
    specs.push(spec);
  }
  return specs;
}

function scored(instrument: MeasureSubmission['instrument'], values: number[], takenAt: number) {
  return { ...scoreMeasure({ instrument, answers: values } as MeasureSubmission), takenAt };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export function recordOf(spec: Spec): OutcomeRecord {
  const at = (days: number | undefined) => (days === undefined ? undefined : spec.referredAt + Math.round(days * DAY));
  const measures: OutcomeRecord['measures'] = {};
  if (spec.swemwbs) {
    const baseline = scored('SWEMWBS', spec.swemwbs.baseline, at(spec.visitDays)!);
    const s: NonNullable<OutcomeRecord['measures']['SWEMWBS']> = { baseline };
    if (spec.swemwbs.followUp) {
      s.discharge = scored('SWEMWBS', spec.swemwbs.followUp, at(spec.dischargeDays)!);
      s.change = round2(s.discharge.score - baseline.score);
    }
    measures.SWEMWBS = s;
  }
  if (spec.gad7) {
    const baseline = scored('GAD7', spec.gad7.baseline, at(spec.visitDays)!);
    const s: NonNullable<OutcomeRecord['measures']['GAD7']> = { baseline };
    if (spec.gad7.review) {
      s.review = scored('GAD7', spec.gad7.review, at(spec.reviewDays)!);
      s.change = s.review.score - baseline.score;
    }
    measures.GAD7 = s;
  }
  const deadlines: OutcomeRecord['deadlines'] = {};
  for (const d of spec.deadlines) {
    const t = (deadlines[d.kind] ??= { met: 0, missed: 0 });
    if (d.met) t.met++;
    else t.missed++;
  }
  const dates: OutcomeRecord['dates'] = { referredAt: spec.referredAt, triagedAt: spec.referredAt + 20 * HOUR };
  const optional = {
    firstContactAt: at(spec.contactDays),
    firstVisitAt: at(spec.visitDays),
    planAgreedAt: at(spec.planDays),
    reviewAt: at(spec.reviewDays),
    dischargedAt: at(spec.dischargeDays),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) dates[k as keyof typeof optional] = v;

  const record: OutcomeRecord = {
    caseId: `case-${String(spec.i).padStart(3, '0')}`,
    schemeId: spec.scheme,
    status: spec.reason ? 'discharged' : 'open',
    linkWorkerId: spec.worker,
    ageBand: (['50-64', '65-74', '75-84', '85+', '18-49'] as const)[spec.i % 5]!,
    area: spec.i % 2 ? 'Brandywell' : 'Bogside',
    route: spec.route,
    needs: spec.i % 2 ? ['loneliness'] : ['loneliness', 'low mood'],
    activities: spec.activities,
    volunteer: spec.volunteer,
    sessions: {
      ...(spec.homeVisits.count ? { 'home-visit': spec.homeVisits } : {}),
      phone: spec.phoneCalls,
    },
    contactsTotal: spec.contactsTotal,
    staffMinutes: spec.homeVisits.minutes + spec.phoneCalls.minutes + 30,
    measures,
    dates,
    escalations: spec.escalations.map((e) => ({
      type: e.type,
      raisedAt: spec.referredAt + e.raisedAfterHours * HOUR,
      ...(e.ackAfterHours === undefined ? {} : { acknowledgedAt: spec.referredAt + e.ackAfterHours * HOUR }),
      level: e.level,
    })),
    serviceGaps: spec.gaps.map((g) => ({ kind: g.kind, at: at(g.afterDays)! })),
    deadlines,
    deadlineLog: spec.deadlines.map((d) => ({ kind: d.kind, dueAt: at(d.dueAfterDays)!, met: d.met })),
  };
  if (spec.tier) record.tier = spec.tier;
  if (spec.reason) record.dischargeReason = spec.reason;
  if (spec.contactDays !== undefined) record.gpMessage = spec.reason === 'declined' ? { ...DECLINED } : { ...ACCEPTED };
  return record;
}
