import { z } from 'zod';
import { sessionKindSchema, type SessionKind } from './events';
import { safeIdSchema } from './ids';
import { instrumentSchema, INSTRUMENTS, issuePath } from './measures';
import { REFERRAL_ROUTES, referralRouteSchema } from './referral';
import { MAX_COVERING_COLLEAGUES, MAX_LABEL, MAX_POLICY_AREAS, MAX_POLICY_EXCLUSIONS, MAX_POLICY_TARGET_GROUPS, MAX_POLICY_TIERS, MAX_TAG, MAX_TEXT } from './limits';

/** The befriending service a scheme's handoff connects to when its policy names none. */
export const DEFAULT_BEFRIENDING_SERVICE = 'svc-befriending';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const WEEK = 7 * DAY;

const UNITS: Record<string, number> = { ms: 1, s: SECOND, m: MINUTE, h: HOUR, d: DAY, w: WEEK };
const DURATION_TEXT = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/;

/** '90s', '30m', '48h', '10d', '12w' or a number of milliseconds, to whole milliseconds. */
export function parseDuration(input: number | string): number {
  if (typeof input === 'number') return Math.round(input);
  const match = DURATION_TEXT.exec(input.trim());
  if (!match) throw new RangeError(`not a duration: ${JSON.stringify(input)}`);
  return Math.round(Number(match[1]) * UNITS[match[2]!]!);
}

// Policy files are written by people, so a duration may be text; the parsed policy holds only
// milliseconds, which is what the machine adds to event times.
const duration = z
  .union([
    z.number().positive({ error: 'must be a positive number of milliseconds' }),
    z.string().regex(DURATION_TEXT, { error: "must be a duration such as '90s', '30m', '48h', '10d' or '12w'" }),
  ])
  .transform(parseDuration)
  .refine((ms) => ms > 0, { error: 'must be longer than zero' });
const durationOf = (text: string) => duration.prefault(text);

/**
 * The most sessions a tier's budget may hold. Not a rule about people (Brightlife's intensive plan
 * is 16 [002], and a scheme may plan more): a ceiling that catches a typo such as 1600 in a policy
 * file. Contacts are never capped; the budget only decides when a supervisor hears of them.
 */
export const SESSION_CAP_CEILING = 200;

/** The most nudges a provider gets before a connection's response deadline. */
export const MAX_CONNECTION_NUDGES = 5;

const tierSchema = z.object({
  id: safeIdSchema,
  label: z.string().min(1).max(MAX_LABEL),
  /** The tier's session budget: attended sessions of the kinds `sessions.counted` names. */
  sessionCap: z.int().min(1).max(SESSION_CAP_CEILING, { error: `must be at most ${SESSION_CAP_CEILING} sessions` }),
});
export type Tier = z.output<typeof tierSchema>;

/**
 * The most characters a reason or a service name may have in a notice to the referrer. An
 * exclusion's reason and service are sent in one, so a longer one would be a notice that can never
 * be delivered; the policy is refused instead, when it is parsed.
 */
export const NOTICE_TEXT_MAX = MAX_TEXT;
const noticeText = z.string().min(1).max(NOTICE_TEXT_MAX, {
  error: `must be at most ${NOTICE_TEXT_MAX} characters: it is sent to the referrer in a notice capped at that length`,
});

const exclusionSchema = z.object({
  flag: z.string().min(1).max(MAX_TAG),
  service: noticeText,
  reason: noticeText,
});
export type ExclusionRule = z.output<typeof exclusionSchema>;

// Inappropriate referrals named in the brief [003], each with the service a referrer is pointed to.
const DEFAULT_EXCLUSIONS: ExclusionRule[] = [
  {
    flag: 'longTermSpecialistSupport',
    service: 'Specialist or long-term support service',
    reason: 'Needs long-term or specialist support beyond a time-limited link worker',
  },
  {
    flag: 'severeMentalIllness',
    service: 'Community mental health team',
    reason: 'Severe mental illness needs clinical mental health care',
  },
  {
    flag: 'severePhysicalIllness',
    service: 'GP or specialist clinical team',
    reason: 'Severe physical illness needs clinical care',
  },
  { flag: 'respite', service: "Carers' respite service", reason: 'Respite is not provided by social prescribing' },
  {
    flag: 'personalCare',
    service: 'Adult social care needs assessment',
    reason: 'Personal care is not provided by social prescribing',
  },
  {
    flag: 'socialWorkCaseWork',
    service: 'Adult social care social work team',
    reason: 'Social-work case work belongs to statutory social care',
  },
];

// Brightlife's three tiers [002]: simple onward referral up to an intensive plan of 16 sessions.
const DEFAULT_TIERS: Tier[] = [
  { id: 'light', label: 'Onward referral', sessionCap: 2 },
  { id: 'standard', label: 'Standard support', sessionCap: 6 },
  { id: 'intensive', label: 'Intensive support', sessionCap: 16 },
];

/**
 * What a tier's budget counts by default: the structured sessions a plan is made of, where the link
 * worker and the person meet (Brightlife counts visits: "when you get to the 12th visit" [002]).
 * Phone calls, messages and group activities the person attends are contact between sessions: always
 * recorded and counted in staff time, but not against the budget unless a scheme says so.
 */
export const STRUCTURED_SESSION_KINDS: readonly SessionKind[] = ['homeVisit', 'officeVisit', 'video', 'accompaniedActivity'];

/**
 * Past a tier's budget: `warn` records the session and shows the budget as exceeded; `needsApproval`
 * records it and raises a SESSION_BUDGET escalation for a supervisor (once per tier); `refuse`
 * refuses a further counted session. Only `refuse` turns anything away, so it is never the default.
 */
export const OVER_BUDGET_MODES = ['warn', 'needsApproval', 'refuse'] as const;
export type OverBudgetMode = (typeof OVER_BUDGET_MODES)[number];

/** Who hears of an escalation at each level; the last one hears of every level above. */
export const DEFAULT_ESCALATION_AUDIENCES = ['supervisor', 'manager'] as const;

export const schemePolicySchema = z
  .object({
    schemeId: safeIdSchema.default('default'),
    /**
     * How many times faster than real time this policy runs (set by `scalePolicy`). Durations are
     * already divided by it; the machine uses it only to turn a review's `extensionWeeks` into time.
     */
    timeScale: z.number().positive().default(1),
    eligibility: z
      .object({
        minAge: z.int().min(0).max(130).default(18),
        maxAge: z.int().min(0).max(130).default(130),
        /** Areas served; empty means every area. */
        areas: z.array(z.string().min(1).max(MAX_TAG)).max(MAX_POLICY_AREAS).default([]),
        /** Target groups served; empty means anyone. */
        targetGroups: z.array(z.string().min(1).max(MAX_TAG)).max(MAX_POLICY_TARGET_GROUPS).default([]),
        routes: z.array(referralRouteSchema).min(1).max(REFERRAL_ROUTES.length).default([...REFERRAL_ROUTES]),
      })
      .prefault({}),
    exclusions: z.array(exclusionSchema).max(MAX_POLICY_EXCLUSIONS).default(DEFAULT_EXCLUSIONS),
    /** Cases one link worker may hold; the workflow's capacity ledger enforces it. */
    caseloadCap: z.int().min(1).default(25),
    contact: z
      .object({
        maxAttempts: z.int().min(1).max(20).default(3),
        /** From the first attempt; when it closes unreached the case is discharged as unable to contact. */
        window: durationOf('10d'),
        /** From allocation to the first attempt; missed, it escalates. */
        firstAttemptWithin: durationOf('2d'),
        /**
         * A self-referral has already spoken to the scheme: once a place is held its first visit is
         * booked directly, with no first-contact call (and no contact window to close unreached).
         */
        selfReferralBooksVisit: z.boolean().default(false),
      })
      .prefault({}),
    deadlines: z
      .object({
        /** From receipt of the referral. */
        triage: durationOf('2d'),
        /** From allocation to reaching the person. */
        firstContact: durationOf('5d'),
        /** From reaching the person to the first visit. */
        firstVisit: durationOf('14d'),
        /** From the first visit to a plan both parties agreed. */
        planAgreement: durationOf('14d'),
        /** Monthly follow-up with re-assessment, from plan agreement or the last check-in. */
        checkIn: durationOf('4w'),
        /** The review is due this long after plan agreement (the national 12-week programme). */
        review: durationOf('12w'),
        /** After the review falls due, how long before an unrecorded review escalates. */
        reviewGrace: durationOf('1w'),
        /** The longest a waitlisted case may wait before it escalates. */
        waitlistMax: durationOf('6w'),
        volunteerWait: durationOf('4w'),
        befriendingWait: durationOf('8w'),
        /** Time a supervisor has to acknowledge an escalation before it escalates a level. */
        escalationAck: durationOf('2d'),
        /** No contact for this long starts a disengagement check. */
        disengagement: durationOf('3w'),
        /** Consecutive missed sessions that start a disengagement check. */
        missedSessions: z.int().min(1).max(16).default(2),
        /** How long a disengagement check runs before it escalates. */
        disengagementCheck: durationOf('1w'),
      })
      .prefault({}),
    /** A full scheme waitlists (the default); off, or past `cap` waiting, the referral is declined as the scheme is full. */
    waitlist: z
      .object({
        enabled: z.boolean().default(true),
        /** The longest the waiting list may be: a case offered a later position is declined. Absent, no cap. */
        cap: z.int().min(1).max(10_000).optional(),
      })
      .prefault({}),
    /** Whether a review may hand the person off to a befriending service (some areas have none). */
    befriending: z
      .object({
        handoff: z.boolean().default(true),
        /**
         * The directory id of the scheme's befriending service: the handoff is a connection to it
         * (docs/connections.md), started when the befriending request goes out.
         */
        serviceId: safeIdSchema.default(DEFAULT_BEFRIENDING_SERVICE),
      })
      .prefault({}),
    extension: z
      .object({
        maxCount: z.int().min(0).max(10).default(2),
        maxLength: durationOf('6w'),
        /**
         * Who grants an extension the review asks for: a supervisor (the brief's rule: the case waits
         * for the decision) or the link worker who records the review (support resumes at once).
         */
        approvedBy: z.enum(['supervisor', 'linkWorker']).default('supervisor'),
      })
      .prefault({}),
    /**
     * Who may act on a case once it is allocated. A link worker acts only on their own cases; under
     * `covering`, the colleagues listed against a link worker's id may act on that link worker's
     * cases too (leave, sickness), e.g. `{ covering: { 'lw-a': ['lw-c'] } }`. Supervisors act on any
     * case of the scheme; before allocation any link worker may act (machines/rules.ts).
     */
    ownership: z
      .object({
        covering: z.record(safeIdSchema, z.array(safeIdSchema).max(MAX_COVERING_COLLEAGUES)).default({}),
      })
      .prefault({}),
    tiers: z.array(tierSchema).min(3, { error: 'a scheme needs at least three tiers' }).max(MAX_POLICY_TIERS).default(DEFAULT_TIERS),
    sessions: z
      .object({
        /** Session kinds a tier's budget counts (attended ones); every kind is recorded whatever this says. */
        counted: z.array(sessionKindSchema).min(1).max(sessionKindSchema.options.length).default([...STRUCTURED_SESSION_KINDS]),
        /** What happens past the budget; the default records the contact and tells a supervisor. */
        overBudget: z.enum(OVER_BUDGET_MODES).default('needsApproval'),
      })
      .prefault({}),
    escalation: z
      .object({
        /** The audience at level 1, 2, ...; the last one repeats for every level above. */
        audiences: z.array(safeIdSchema).min(1).max(10).default([...DEFAULT_ESCALATION_AUDIENCES]),
        /**
         * How long each level has to be acknowledged before the escalation goes up one: level 1, 2,
         * ...; the last repeats. Absent, `deadlines.escalationAck` at every level.
         */
        intervals: z.array(duration).min(1).max(10).optional(),
        /** The top of the ladder: an escalation at this level is not raised further. Absent, no top. */
        levels: z.int().min(1).max(10).optional(),
      })
      .prefault({}),
    measures: z.array(instrumentSchema).max(INSTRUMENTS.length).default([...INSTRUMENTS]),
    /**
     * Each connection to a community service (machines/connection.ts): how long a provider has to
     * answer before the connection is declined for them, when they are nudged on the way (durations
     * from sending, each before the deadline), and whether a `connected` discharge needs a
     * connection the person attended (or a supervisor's override with a reason).
     */
    connections: z
      .object({
        responseDeadline: durationOf('14d'),
        nudges: z.array(duration).max(MAX_CONNECTION_NUDGES).default([7 * DAY, 12 * DAY]),
        connectedNeedsAttendance: z.boolean().default(false),
      })
      .prefault({}),
    /** What the FHIR gateway sends back to the referrer at discharge. */
    fhir: z
      .object({
        /**
         * Codes and scores only, no free text (no person's own account): for schemes whose people
         * did not consent to share details with the referrer.
         */
        codesOnly: z.boolean().default(false),
      })
      .prefault({}),
  })
  .superRefine((policy, ctx) => {
    if (policy.eligibility.minAge > policy.eligibility.maxAge) {
      ctx.addIssue({
        code: 'custom',
        path: ['eligibility', 'minAge'],
        message: `must not be above eligibility.maxAge (${policy.eligibility.maxAge})`,
      });
    }
    if (policy.contact.firstAttemptWithin > policy.deadlines.firstContact) {
      ctx.addIssue({
        code: 'custom',
        path: ['contact', 'firstAttemptWithin'],
        message: 'must not be later than deadlines.firstContact',
      });
    }
    if (policy.waitlist.cap !== undefined && !policy.waitlist.enabled) {
      ctx.addIssue({
        code: 'custom',
        path: ['waitlist', 'cap'],
        message: 'is set but waitlist.enabled is false: a scheme that keeps no waiting list has no cap to apply (remove the cap, or turn the waiting list on)',
      });
    }
    const duplicates = <T>(items: readonly T[], key: (item: T) => string, path: string, field: string) => {
      const seen = new Set<string>();
      items.forEach((item, index) => {
        const k = key(item);
        if (seen.has(k)) ctx.addIssue({ code: 'custom', path: [path, index, field], message: `duplicate ${field} "${k}"` });
        seen.add(k);
      });
    };
    policy.connections.nudges.forEach((nudge, index) => {
      if (nudge >= policy.connections.responseDeadline) {
        ctx.addIssue({ code: 'custom', path: ['connections', 'nudges', index], message: 'must be before connections.responseDeadline' });
      }
    });
    duplicates(policy.tiers, (t) => t.id, 'tiers', 'id');
    duplicates(policy.exclusions, (e) => e.flag, 'exclusions', 'flag');
    duplicates(policy.measures, (m) => m, 'measures', 'instrument');
  });

export type SchemePolicyInput = z.input<typeof schemePolicySchema>;
export type SchemePolicy = z.output<typeof schemePolicySchema>;

/** A policy that did not parse; `message` and `issues` name each offending field, e.g. `tiers[2].sessionCap`. */
export class PolicyError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`Invalid scheme policy: ${issues.join('; ')}`);
    this.name = 'PolicyError';
    this.issues = issues;
  }
}

export function parsePolicy(input: unknown): SchemePolicy {
  const result = schemePolicySchema.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new PolicyError(result.error.issues.map((issue) => `${issuePath(issue.path)}: ${issue.message}`));
}

export const defaultPolicy: SchemePolicy = parsePolicy({});

/**
 * The same policy running `factor` times faster: every duration divided (so a demo can run twelve
 * weeks in about a minute), counts untouched.
 */
export function scalePolicy(policy: SchemePolicy, factor: number): SchemePolicy {
  if (!(factor > 0) || !Number.isFinite(factor)) throw new RangeError(`scale factor must be positive, got ${factor}`);
  const scale = (ms: number) => Math.max(1, Math.round(ms / factor));
  const { missedSessions, ...durations } = policy.deadlines;
  const deadlines = Object.fromEntries(Object.entries(durations).map(([k, ms]) => [k, scale(ms)]));
  return {
    ...policy,
    timeScale: policy.timeScale * factor,
    contact: { ...policy.contact, window: scale(policy.contact.window), firstAttemptWithin: scale(policy.contact.firstAttemptWithin) },
    deadlines: { ...(deadlines as typeof durations), missedSessions },
    extension: { ...policy.extension, maxLength: scale(policy.extension.maxLength) },
    ...(policy.escalation.intervals && { escalation: { ...policy.escalation, intervals: policy.escalation.intervals.map(scale) } }),
    connections: { ...policy.connections, responseDeadline: scale(policy.connections.responseDeadline), nudges: policy.connections.nudges.map(scale) },
  };
}

/** One of the review's `extensionWeeks` in this policy's time. */
export function policyWeek(policy: SchemePolicy): number {
  return WEEK / policy.timeScale;
}

/** Whole weeks an extension may last under this policy. */
export function maxExtensionWeeks(policy: SchemePolicy): number {
  return Math.floor(policy.extension.maxLength / policyWeek(policy) + 1e-9);
}

export function tierOf(policy: SchemePolicy, tierId: string | undefined): Tier | undefined {
  return policy.tiers.find((t) => t.id === tierId);
}

/*
 * Policies started before a setting existed are carried by running cases as they were parsed, so
 * the machine reads newer settings through these, with the same defaults the schema gives.
 */
type Carried = Pick<SchemePolicy, 'tiers'> & { extension?: Partial<SchemePolicy['extension']> } &
  Partial<Pick<SchemePolicy, 'sessions' | 'escalation' | 'waitlist' | 'connections'>> & {
    contact?: Partial<SchemePolicy['contact']>;
    befriending?: Partial<SchemePolicy['befriending']>;
  };

export function countedSessionKinds(policy: Carried): readonly SessionKind[] {
  return policy.sessions?.counted ?? STRUCTURED_SESSION_KINDS;
}

export function overBudgetMode(policy: Carried): OverBudgetMode {
  return policy.sessions?.overBudget ?? 'needsApproval';
}

/** Who an escalation at `level` (1 when raised) goes to. */
export function escalationAudience(policy: Carried, level: number): string {
  const audiences = policy.escalation?.audiences ?? DEFAULT_ESCALATION_AUDIENCES;
  return audiences[Math.min(Math.max(level, 1), audiences.length) - 1]!;
}

/** Whether a referral by `route` goes straight to its first visit once a place is held. */
export function booksVisitDirectly(policy: Carried, route: string): boolean {
  return route === 'self' && (policy.contact?.selfReferralBooksVisit ?? false);
}

/** Whether a case offered waiting-list `position` waits, or is declined as the scheme is full. */
export function waitlistAdmits(policy: Carried, position: number): boolean {
  const { enabled, cap } = policy.waitlist ?? { enabled: true };
  return enabled && (cap === undefined || position <= cap);
}

export function befriendingHandoff(policy: Carried): boolean {
  return policy.befriending?.handoff ?? true;
}

/** The befriending service's directory id; a case carried from before the field reads the default. */
export function befriendingServiceId(policy: Carried): string {
  return policy.befriending?.serviceId ?? DEFAULT_BEFRIENDING_SERVICE;
}

/**
 * The latest a review may fall due: support is time-limited, to avoid dependency (the brief), so a
 * review later than this is a policy mistake `pathway check` reports, not a support period.
 */
export const MAX_REVIEW = 26 * WEEK;

/** How long an escalation at `level` (1 when raised) has to be acknowledged before it goes up one. */
export function escalationInterval(policy: Carried & Pick<SchemePolicy, 'deadlines'>, level: number): number {
  const intervals = policy.escalation?.intervals;
  if (!intervals) return policy.deadlines.escalationAck;
  return intervals[Math.min(Math.max(level, 1), intervals.length) - 1]!;
}

/** Whether an escalation at `level` goes up another level when it is not acknowledged in time. */
export function escalationClimbs(policy: Carried, level: number): boolean {
  const top = policy.escalation?.levels;
  return top === undefined || level < top;
}

/** Whether an extension the review asks for waits for a supervisor's decision (the default). */
export function extensionNeedsApproval(policy: Carried): boolean {
  return (policy.extension?.approvedBy ?? 'supervisor') === 'supervisor';
}

/** A policy's connection settings; a case started before they existed gets the defaults. */
export function connectionPolicy(policy: Partial<Pick<SchemePolicy, 'connections'>>): SchemePolicy['connections'] {
  return policy.connections ?? { responseDeadline: 14 * DAY, nudges: [7 * DAY, 12 * DAY], connectedNeedsAttendance: false };
}

/**
 * The befriending handoff's connection: to the scheme's befriending service, answered within the
 * scheme's befriending wait (the case's own deadline, set first, so it fires first when nobody
 * answers), nudged as any connection is where the nudge comes before that wait.
 */
export function befriendingConnectionTiming(policy: Carried & Pick<SchemePolicy, 'deadlines'>): { serviceId: string; responseDeadline: number; nudges: number[] } {
  const responseDeadline = policy.deadlines.befriendingWait;
  return { serviceId: befriendingServiceId(policy), responseDeadline, nudges: connectionPolicy(policy).nudges.filter((n) => n < responseDeadline) };
}
