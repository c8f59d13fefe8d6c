import { z } from 'zod';
import type { ConnectionSummary } from './connection';
import { safeIdSchema } from './ids';
import { INSTRUMENTS, measureSubmissionSchema } from './measures';
import { MAX_ACTIVITIES, MAX_BARRIER_ACTIONS, MAX_GOALS, MAX_TEXT } from './limits';

/** Who sent a command: a staff or system id, never patient data (it lands in history and logs). */
export const actorSchema = z.object({
  role: z.enum(['linkWorker', 'supervisor', 'host', 'person']),
  id: safeIdSchema,
});
export type Actor = z.output<typeof actorSchema>;

const text = z.string().min(1).max(MAX_TEXT);
const minutes = z.int().min(0).max(24 * 60);

export const contactOutcomeSchema = z.enum(['reached', 'noAnswer', 'leftMessage', 'wrongNumber']);
export const contactChannelSchema = z.enum(['phone', 'text', 'email', 'letter', 'visit', 'video']);
export const visitLocationSchema = z.enum(['home', 'cafe', 'communityVenue', 'gpPractice', 'phone', 'video', 'other']);
export const barrierSchema = z.enum([
  'transport',
  'mobility',
  'money',
  'housing',
  'confidence',
  'digital',
  'caring',
  'language',
  'health',
]);
export type Barrier = z.output<typeof barrierSchema>;
export const activityCategorySchema = z.enum(['creative', 'connecting', 'active', 'practical']);
export const barrierActionSchema = z.enum([
  'transportArranged',
  'accompaniedFirstAttendance',
  'equipment',
  'benefitsAdvice',
  'digitalSupport',
  'other',
]);
/** Every kind of contact during support; `message` is a text, email or letter (its `channel` says which). */
export const sessionKindSchema = z.enum(['homeVisit', 'phone', 'video', 'accompaniedActivity', 'groupActivity', 'officeVisit', 'message']);
export type SessionKind = z.output<typeof sessionKindSchema>;
export const dischargeRequestReasonSchema = z.enum([
  'goalsMet',
  'withdrew',
  'movedAway',
  'died',
  'admittedLongTerm',
  'escalatedToStatutory',
  'declined',
  // The person withdrew consent to the scheme holding their referral: the case closes and the
  // scheme's person index forgets them.
  'consentWithdrawn',
]);
/** The person's own account at review: free text about them, so bounded and kept in payloads only. */
export const personAccountSchema = z.string().trim().min(1).max(2000);

/** A case's workflow id: `case-` and the referral id (workflows/definitions.ts caseWorkflowId). */
export const caseIdSchema = z.string().regex(/^case-[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, { error: "must be a case id: 'case-' and the referral id" });

/** How the scheme's person index matched two referrals: keyed fingerprints of these, never the values. */
export const personMatchSchema = z.enum(['nhsNumber', 'nameAndDateOfBirth']);
export const possibleDuplicateSchema = z.object({ caseId: caseIdSchema, match: personMatchSchema });
export type PossibleDuplicateCase = z.output<typeof possibleDuplicateSchema>;
/** How many matched cases one flag carries: enough for any real person, bounded for history's sake. */
export const MAX_FLAGGED_DUPLICATES = 100;

export const safeguardingCategorySchema = z.enum([
  'abuse',
  'neglect',
  'selfHarm',
  'domesticAbuse',
  'financialAbuse',
  'selfNeglect',
  'other',
]);

/** At most one of each instrument per visit, check-in or review. */
const measures = z.array(measureSubmissionSchema).max(INSTRUMENTS.length, { error: `at most ${INSTRUMENTS.length} measures, one per instrument` });

export const planDraftSchema = z.object({
  goals: z
    .array(z.object({ id: safeIdSchema, text }))
    .min(1, { error: 'a plan needs at least one goal' })
    .max(MAX_GOALS, { error: `a plan has at most ${MAX_GOALS} goals` }),
  activities: z
    .array(
      z.object({
        id: safeIdSchema,
        category: activityCategorySchema,
        name: text,
        provider: text.optional(),
      }),
    )
    .min(1, { error: 'a plan needs at least one activity' })
    .max(MAX_ACTIVITIES, { error: `a plan has at most ${MAX_ACTIVITIES} activities` }),
  barrierActions: z
    .array(z.object({ barrier: barrierSchema, action: barrierActionSchema, note: text.optional() }))
    .max(MAX_BARRIER_ACTIONS, { error: `a plan has at most ${MAX_BARRIER_ACTIONS} barrier actions` }),
  /** A tier id from the scheme's policy; the machine refuses an unknown one. */
  tier: safeIdSchema,
  volunteer: z.boolean(),
});
export type PlanDraft = z.output<typeof planDraftSchema>;

/**
 * Payloads of the commands a host or supervisor may send, without `type` and `at`: the workflow
 * validates host input with these, then adds the type and its own clock's time.
 */
export const commandSchemas = {
  'TRIAGE.ACCEPT': z.object({ actor: actorSchema }),
  'TRIAGE.DECLINE': z.object({ reason: text, actor: actorSchema }),
  'TRIAGE.REDIRECT': z.object({ service: text, reason: text, actor: actorSchema }),
  'CONTACT.ATTEMPT': z.object({
    outcome: contactOutcomeSchema,
    channel: contactChannelSchema,
    /** Staff time the attempt took (a call that reached the person, a wasted trip); counts in staff minutes. */
    durationMinutes: minutes.optional(),
    actor: actorSchema,
  }),
  'VISIT.RECORD': z.object({
    location: visitLocationSchema,
    durationMinutes: minutes,
    measures,
    barriers: z.array(barrierSchema).max(barrierSchema.options.length, { error: `at most ${barrierSchema.options.length} barriers, each once` }),
    actor: actorSchema,
  }),
  'PLAN.DRAFT': planDraftSchema.extend({ actor: actorSchema }),
  'PLAN.AGREE': z.object({ party: z.enum(['person', 'linkWorker']), actor: actorSchema }),
  /*
   * Every contact during support, not only the sessions a tier budgets for. SESSION.LOG is extended
   * rather than joined by a second contact command: a phone call and a home visit are logged the
   * same way by the same people, both are contact that restarts the disengagement clock and both
   * can be missed, so one command keeps one tally, one disengagement rule and one path for hosts
   * (`logSession` keeps working unchanged). Which kinds count against a tier's budget is the
   * scheme's policy (`sessions.counted`), not the command's.
   */
  'SESSION.LOG': z.object({
    kind: sessionKindSchema,
    attended: z.boolean(),
    durationMinutes: minutes,
    withVolunteer: z.boolean(),
    /** How the contact happened when the kind leaves it open (a `message` by text, email or letter). */
    channel: contactChannelSchema.optional(),
    actor: actorSchema,
  }),
  'TIER.CHANGE': z.object({ tier: safeIdSchema, reason: text, actor: actorSchema }),
  'VOLUNTEER.MATCHED': z.object({ volunteerId: safeIdSchema, actor: actorSchema }),
  'CHECKIN.RECORD': z.object({ measures, durationMinutes: minutes.optional(), actor: actorSchema }),
  'REVIEW.RECORD': z.object({
    measures,
    goalsMet: z.enum(['all', 'some', 'none']),
    outcome: z.enum(['discharge', 'extend', 'befriend']),
    extensionWeeks: z.int().min(1).max(52).optional(),
    /** Staff time the review took; counts in staff minutes. */
    durationMinutes: minutes.optional(),
    /** The person's own words about what changed ("I go to the café every day"): payload only, never indexed or logged. */
    personAccount: personAccountSchema.optional(),
    /**
     * A supervisor's reason to discharge as connected without an attended connection, where the
     * policy's `connections.connectedNeedsAttendance` asks for one.
     */
    connectionOverride: z.object({ reason: text }).optional(),
    actor: actorSchema,
  }),
  'EXTENSION.APPROVE': z.object({ actor: actorSchema }),
  'EXTENSION.REFUSE': z.object({ reason: text, actor: actorSchema }),
  'BEFRIENDING.RESULT': z.object({
    result: z.enum(['accepted', 'waiting', 'unavailable']),
    service: text.optional(),
    actor: actorSchema,
  }),
  'SAFEGUARDING.RAISE': z.object({ category: safeguardingCategorySchema, actor: actorSchema }),
  'SAFEGUARDING.CLEAR': z.object({ actor: actorSchema }),
  'ESCALATION.ACK': z.object({
    escalationId: safeIdSchema,
    /** What the supervisor did about it: staff text, kept on the escalation in the case, never indexed or logged. */
    note: text.optional(),
    actor: actorSchema,
  }),
  DISCHARGE: z.object({ reason: dischargeRequestReasonSchema, actor: actorSchema }),
  /** Supervisor only: a flagged possible duplicate is another person after all, or the same one (the case closes). */
  'DUPLICATE.RESOLVE': z.object({
    resolution: z.enum(['notDuplicate', 'duplicate']),
    of: caseIdSchema.optional(),
    actor: actorSchema,
  }),
} as const;

export type CommandType = keyof typeof commandSchemas;
export type CommandPayload<K extends CommandType> = z.output<(typeof commandSchemas)[K]>;
export const COMMAND_TYPES = Object.keys(commandSchemas) as CommandType[];

export type CommandEvent = { [K in CommandType]: { type: K; at: number } & CommandPayload<K> }[CommandType];

/** Deadline events the workflow sends when a timer in `context.timers` falls due. */
export const STAGE_DEADLINE_EVENTS = [
  'DEADLINE.TRIAGE',
  'DEADLINE.FIRST_ATTEMPT',
  'DEADLINE.FIRST_CONTACT',
  'DEADLINE.CONTACT_WINDOW',
  'DEADLINE.FIRST_VISIT',
  'DEADLINE.PLAN',
  'DEADLINE.WAITLIST',
  'DEADLINE.CHECKIN',
  'DEADLINE.DISENGAGEMENT',
  'DEADLINE.DISENGAGEMENT_CHECK',
  'DEADLINE.VOLUNTEER',
  'DEADLINE.REVIEW',
  'DEADLINE.REVIEW_GRACE',
  'DEADLINE.BEFRIENDING',
] as const;
export type StageDeadlineType = (typeof STAGE_DEADLINE_EVENTS)[number];
export type DeadlineEvent =
  | { type: StageDeadlineType; at: number }
  | { type: 'DEADLINE.ESCALATION'; escalationId: string; at: number };

/** Answers from the workflow's capacity ledger to `requestPlace`. */
export const systemEventSchemas = {
  'CAPACITY.GRANTED': z.object({ linkWorkerId: safeIdSchema }),
  'CAPACITY.WAITLISTED': z.object({ position: z.int().min(1) }),
  /** The person index's answer at referral: other cases that look like the same person (ids and kinds of match only). */
  'DUPLICATES.FLAGGED': z.object({ duplicates: z.array(possibleDuplicateSchema).min(1).max(MAX_FLAGGED_DUPLICATES) }),
} as const;
export type SystemEvent =
  | ({ type: 'CAPACITY.GRANTED'; at: number } & z.output<(typeof systemEventSchemas)['CAPACITY.GRANTED']>)
  | ({ type: 'CAPACITY.WAITLISTED'; at: number } & z.output<(typeof systemEventSchemas)['CAPACITY.WAITLISTED']>)
  | ({ type: 'DUPLICATES.FLAGGED'; at: number } & z.output<(typeof systemEventSchemas)['DUPLICATES.FLAGGED']>)
  /** A connection's word to its case (validated by the workflow with machines/connection.ts's schema). */
  | { type: 'CONNECTION.CHANGED'; at: number; connection: ConnectionSummary }
  | DeadlineEvent;

export type PathwayEvent = CommandEvent | SystemEvent;
export type PathwayEventType = PathwayEvent['type'];

/** An event before the workflow stamps its time on it. */
export type UnstampedEvent = PathwayEvent extends infer E ? (E extends { at: number } ? Omit<E, 'at'> : never) : never;
