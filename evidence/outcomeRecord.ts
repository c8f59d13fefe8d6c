import { z } from 'zod';
import { instrumentSchema, scoredMeasureSchema, type ScoredMeasure } from '../machines/measures';
import { REFERRAL_ROUTES, referralRouteSchema, type ReferralRoute } from '../machines/referral';
import { activityCategorySchema, barrierSchema, caseIdSchema, personAccountSchema, personMatchSchema } from '../machines/events';
import { DISCHARGE_REASONS, type DischargeReason } from '../machines/context';
import { CONNECTION_STATUSES } from '../machines/connection';

/**
 * One case's outcome record: what a scheme reports and sends back to the GP. Written by an activity
 * at discharge and readable for open cases. Groups follow the PRSB Social Prescribing Information
 * Standard (referral, needs, support offered, outcomes, message back to GP and referrer).
 *
 * Confidentiality [PATHWAY: keep only what the pathway needs]: the only facts about the person are
 * an age band and an area, besides what staff wrote for the scheme to read back (a redirect's
 * service and reason, the person's own account at review), which the cohort report and its CSV
 * files never carry. Every object is strict, so a name, NHS number or date of birth added by a
 * caller is refused rather than carried into reports and CSV files.
 *
 * Zod and measures only: the workflow bundle may import this file, so it must not pull in echarts.
 */

const epochMs = z.int().nonnegative();
const count = z.int().nonnegative();
const label = z.string().trim().min(1).max(120);

export const AGE_BANDS = ['18-49', '50-64', '65-74', '75-84', '85+'] as const;
export const ageBandSchema = z.enum(AGE_BANDS);
export type AgeBand = z.infer<typeof ageBandSchema>;

/** The caller knows an age; the record keeps only its band. */
export function ageBandOf(age: number): AgeBand {
  if (!Number.isFinite(age) || age < 18) throw new RangeError(`age ${age} is below the youngest band`);
  if (age < 50) return '18-49';
  if (age < 65) return '50-64';
  if (age < 75) return '65-74';
  if (age < 85) return '75-84';
  return '85+';
}

// Referral routes named in the brief [002, 001, 003]: the pathway machine's own list
// (machines/referral.ts), so the discharge activity copies them across as they are and a route
// added there is in every report's breakdown.
export { REFERRAL_ROUTES, referralRouteSchema, type ReferralRoute };

// Activity categories [002] (creative, connecting, active, safety/practical) and discharge reasons
// (the brief's stage 7) are the pathway machine's own (machines/events.ts, machines/context.ts), so
// a category or reason added there is in every record and every report's breakdown.
export { activityCategorySchema, DISCHARGE_REASONS, type DischargeReason };
export const ACTIVITY_CATEGORIES = activityCategorySchema.options;
export const dischargeReasonSchema = z.enum(DISCHARGE_REASONS);

/** Reasons that count as finishing the programme in the funnel (support ran its planned course). */
export const COMPLETED_REASONS: readonly DischargeReason[] = ['connected', 'handedOff', 'goalsMet'];

/**
 * SNOMED CT concepts NHS England asks link workers to record in the GP record. Preferred terms as
 * published: 871731000000106 is "Referral to social prescribing service (procedure)", to be coded
 * when the person accepts the referral; 871711000000103 is "Social prescribing declined
 * (situation)", when they decline it. There is no concept whose term is "...accepted"; the terms
 * below were checked against NHS England's guidance as quoted by Transformation Partners in Health
 * and Care (SPLW FAQs) and socialrx.co.uk, not against a terminology server, which was not to hand.
 */
export const SNOMED_REFERRAL_ACCEPTED = {
  snomedCode: '871731000000106',
  display: 'Referral to social prescribing service (procedure)',
} as const;
export const SNOMED_SOCIAL_PRESCRIBING_DECLINED = {
  snomedCode: '871711000000103',
  display: 'Social prescribing declined (situation)',
} as const;

export const gpMessageSchema = z.discriminatedUnion('snomedCode', [
  z.object({ snomedCode: z.literal(SNOMED_REFERRAL_ACCEPTED.snomedCode), display: z.literal(SNOMED_REFERRAL_ACCEPTED.display) }).strict(),
  z
    .object({
      snomedCode: z.literal(SNOMED_SOCIAL_PRESCRIBING_DECLINED.snomedCode),
      display: z.literal(SNOMED_SOCIAL_PRESCRIBING_DECLINED.display),
    })
    .strict(),
]);
export type GpMessage = z.infer<typeof gpMessageSchema>;

export function gpMessageFor(personAccepted: boolean): GpMessage {
  return personAccepted ? { ...SNOMED_REFERRAL_ACCEPTED } : { ...SNOMED_SOCIAL_PRESCRIBING_DECLINED };
}

export const measureTakenSchema = scoredMeasureSchema.extend({ takenAt: epochMs.optional() }).strict();
export type MeasureTaken = z.infer<typeof measureTakenSchema>;

/**
 * A measure over the case: change is the latest follow-up (discharge, else review) minus baseline,
 * in score units with its natural sign; whether that is better depends on measureDirection.
 */
export const measureSeriesSchema = z
  .object({
    baseline: measureTakenSchema.optional(),
    review: measureTakenSchema.optional(),
    discharge: measureTakenSchema.optional(),
    change: z.number().optional(),
  })
  .strict();
export type MeasureSeries = z.infer<typeof measureSeriesSchema>;

// SWEMWBS metric scores carry two decimals; rounding keeps 28.13 − 19.98 from printing as 8.149999.
function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export function changeOf(series: Pick<MeasureSeries, 'baseline' | 'review' | 'discharge'>): number | undefined {
  const followUp = series.discharge ?? series.review;
  if (!series.baseline || !followUp) return undefined;
  return round2(followUp.score - series.baseline.score);
}

/** Builds a series with its change filled in, so writers never compute it by hand. */
export function measureSeries(parts: {
  baseline?: ScoredMeasure | MeasureTaken;
  review?: ScoredMeasure | MeasureTaken;
  discharge?: ScoredMeasure | MeasureTaken;
}): MeasureSeries {
  const series: MeasureSeries = {};
  if (parts.baseline) series.baseline = parts.baseline;
  if (parts.review) series.review = parts.review;
  if (parts.discharge) series.discharge = parts.discharge;
  const change = changeOf(series);
  if (change !== undefined) series.change = change;
  return series;
}

export const sessionTallySchema = z
  .object({ count, attended: count, minutes: count })
  .strict()
  .refine((s) => s.attended <= s.count, { error: 'attended cannot exceed count', path: ['attended'] });

export const escalationSchema = z
  .object({
    type: label,
    raisedAt: epochMs,
    acknowledgedAt: epochMs.optional(),
    /** 1 when first raised; each unacknowledged re-escalation goes one level up. */
    level: z.int().min(1),
  })
  .strict()
  .refine((e) => e.acknowledgedAt === undefined || e.acknowledgedAt >= e.raisedAt, {
    error: 'acknowledgedAt is before raisedAt',
    path: ['acknowledgedAt'],
  });

/** A need the area could not meet, e.g. `befriending` or `transport` [003]. */
export const serviceGapSchema = z.object({ kind: label, at: epochMs }).strict();

export const deadlineTallySchema = z.object({ met: count, missed: count }).strict();

/** One deadline as it fell due; `met` is false when its timer fired first. */
export const deadlineEventSchema = z.object({ kind: label, dueAt: epochMs, met: z.boolean() }).strict();

export const KEY_DATES = [
  'referredAt',
  'triagedAt',
  'firstContactAt',
  'firstVisitAt',
  'planAgreedAt',
  'reviewAt',
  'dischargedAt',
] as const;
export type KeyDate = (typeof KEY_DATES)[number];

export const keyDatesSchema = z
  .object({
    referredAt: epochMs,
    triagedAt: epochMs.optional(),
    firstContactAt: epochMs.optional(),
    firstVisitAt: epochMs.optional(),
    planAgreedAt: epochMs.optional(),
    reviewAt: epochMs.optional(),
    dischargedAt: epochMs.optional(),
  })
  .strict();

const measuresSchema = z.partialRecord(instrumentSchema, measureSeriesSchema);

/**
 * One connection to a community service: ids, category, status, times and counts. No reasons (free
 * text staff or providers wrote), so the report and its CSV files never carry them.
 */
export const connectionRecordSchema = z
  .object({
    serviceId: label,
    providerId: label,
    category: activityCategorySchema,
    status: z.enum(CONNECTION_STATUSES),
    proposedAt: epochMs,
    sentAt: epochMs.optional(),
    responseDueAt: epochMs.optional(),
    respondedAt: epochMs.optional(),
    /** Declined for the provider at the response deadline: they never answered. */
    autoDeclined: z.boolean(),
    nudgesSent: count,
    attendances: count,
    firstAttendedAt: epochMs.optional(),
  })
  .strict();
export type ConnectionRecord = z.infer<typeof connectionRecordSchema>;

export const outcomeRecordSchema = z
  .object({
    caseId: label,
    schemeId: label,
    status: z.enum(['open', 'discharged']),
    linkWorkerId: label.optional(),

    // Demographics, no further than the scheme needs.
    ageBand: ageBandSchema,
    area: label,

    // Referral
    route: referralRouteSchema,
    needs: z.array(label),
    /** Where triage sent a redirected referral, and why (as the referrer was told). */
    redirect: z.object({ service: z.string().min(1).max(500).optional(), reason: z.string().min(1).max(500).optional() }).strict().optional(),
    /** Other cases the person index matched at referral (ids and kinds of match), and a supervisor's answer. */
    possibleDuplicates: z
      .object({
        cases: z.array(z.object({ caseId: caseIdSchema, match: personMatchSchema }).strict()),
        resolution: z.enum(['notDuplicate', 'duplicate']).optional(),
      })
      .strict()
      .optional(),

    // Needs assessed: the barriers the person named at the first visit.
    barriers: z.array(barrierSchema).optional(),

    // Support offered
    tier: label.optional(),
    activities: z.array(z.object({ category: activityCategorySchema, name: label }).strict()),
    volunteer: z.boolean(),
    sessions: z.record(label, sessionTallySchema),
    contactsTotal: count,
    contactsByKind: z.record(label, count).optional(),
    staffMinutes: count,
    /**
     * Staff minutes by where they went: `contactAttempts`, `firstVisit`, each session kind,
     * `checkIn`, `review`. Sums to staffMinutes; absent from records written before it existed.
     */
    staffMinutesByKind: z.record(label, count).optional(),

    // Outcomes
    measures: measuresSchema,
    /** The person's own account at their latest review that gave one, in their words. */
    personAccount: personAccountSchema.optional(),

    dates: keyDatesSchema,
    dischargeReason: dischargeReasonSchema.optional(),
    escalations: z.array(escalationSchema),
    serviceGaps: z.array(serviceGapSchema),
    /** The case's connections to community services; absent when it had none. */
    connections: z.array(connectionRecordSchema).optional(),
    deadlines: z.record(label, deadlineTallySchema),
    deadlineLog: z.array(deadlineEventSchema).optional(),

    /** What goes back to the GP record; absent until the person has accepted or declined. */
    gpMessage: gpMessageSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const discharged = r.status === 'discharged';
    if (discharged && r.dischargeReason === undefined) {
      ctx.addIssue({ code: 'custom', path: ['dischargeReason'], message: 'a discharged case needs a discharge reason' });
    }
    if (discharged && r.dates.dischargedAt === undefined) {
      ctx.addIssue({ code: 'custom', path: ['dates', 'dischargedAt'], message: 'a discharged case needs a discharge date' });
    }
    if (!discharged && (r.dischargeReason !== undefined || r.dates.dischargedAt !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['status'], message: 'an open case has no discharge reason or date' });
    }
    for (const key of KEY_DATES) {
      const at = r.dates[key];
      if (at !== undefined && at < r.dates.referredAt) {
        ctx.addIssue({ code: 'custom', path: ['dates', key], message: `${key} is before referredAt` });
      }
    }
    for (const [instrument, series] of Object.entries(r.measures)) {
      if (!series) continue;
      for (const when of ['baseline', 'review', 'discharge'] as const) {
        const taken = series[when];
        if (taken && taken.instrument !== instrument) {
          ctx.addIssue({
            code: 'custom',
            path: ['measures', instrument, when, 'instrument'],
            message: `a ${taken.instrument} result filed under ${instrument}`,
          });
        }
      }
      const expected = changeOf(series);
      const agrees =
        expected === undefined
          ? series.change === undefined
          : series.change !== undefined && Math.abs(series.change - expected) < 0.005;
      if (!agrees) {
        ctx.addIssue({
          code: 'custom',
          path: ['measures', instrument, 'change'],
          message: `change should be ${expected ?? 'absent'} (latest follow-up minus baseline)`,
        });
      }
    }
    if (r.staffMinutesByKind) {
      const sum = Object.values(r.staffMinutesByKind).reduce((a, b) => a + b, 0);
      if (sum !== r.staffMinutes) {
        ctx.addIssue({ code: 'custom', path: ['staffMinutesByKind'], message: `sums to ${sum}, not staffMinutes (${r.staffMinutes})` });
      }
    }
    if (r.deadlineLog) {
      const fromLog: Record<string, { met: number; missed: number }> = {};
      for (const d of r.deadlineLog) {
        const tally = (fromLog[d.kind] ??= { met: 0, missed: 0 });
        if (d.met) tally.met++;
        else tally.missed++;
      }
      const kinds = new Set([...Object.keys(fromLog), ...Object.keys(r.deadlines)]);
      for (const kind of kinds) {
        const a = fromLog[kind] ?? { met: 0, missed: 0 };
        const b = r.deadlines[kind] ?? { met: 0, missed: 0 };
        if (a.met !== b.met || a.missed !== b.missed) {
          ctx.addIssue({ code: 'custom', path: ['deadlines', kind], message: 'deadline counts disagree with deadlineLog' });
        }
      }
    }
  });
export type OutcomeRecord = z.infer<typeof outcomeRecordSchema>;

export function parseOutcomeRecord(input: unknown): OutcomeRecord {
  return outcomeRecordSchema.parse(input);
}
