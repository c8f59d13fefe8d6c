import { z } from 'zod';
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
export const contactChannelSchema = z.enum(['phone', 'text', 'email', 'letter', 'visit']);
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
export const sessionKindSchema = z.enum(['homeVisit', 'phone', 'video', 'accompaniedActivity', 'groupActivity', 'officeVisit']);
export type SessionKind = z.output<typeof sessionKindSchema>;
export const dischargeRequestReasonSchema = z.enum([
  'goalsMet',
  'withdrew',
  'movedAway',
  'died',
  'admittedLongTerm',
  'escalatedToStatutory',
  'declined',
]);
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
  'CONTACT.ATTEMPT': z.object({ outcome: contactOutcomeSchema, channel: contactChannelSchema, actor: actorSchema }),
  'VISIT.RECORD': z.object({
    location: visitLocationSchema,
    durationMinutes: minutes,
    measures,
    barriers: z.array(barrierSchema).max(barrierSchema.options.length, { error: `at most ${barrierSchema.options.length} barriers, each once` }),
    actor: actorSchema,
  }),
  'PLAN.DRAFT': planDraftSchema.extend({ actor: actorSchema }),
  'PLAN.AGREE': z.object({ party: z.enum(['person', 'linkWorker']), actor: actorSchema }),
  'SESSION.LOG': z.object({
    kind: sessionKindSchema,
    attended: z.boolean(),
    durationMinutes: minutes,
    withVolunteer: z.boolean(),
    actor: actorSchema,
  }),
  'TIER.CHANGE': z.object({ tier: safeIdSchema, reason: text, actor: actorSchema }),
  'VOLUNTEER.MATCHED': z.object({ volunteerId: safeIdSchema, actor: actorSchema }),
  'CHECKIN.RECORD': z.object({ measures, actor: actorSchema }),
  'REVIEW.RECORD': z.object({
    measures,
    goalsMet: z.enum(['all', 'some', 'none']),
    outcome: z.enum(['discharge', 'extend', 'befriend']),
    extensionWeeks: z.int().min(1).max(52).optional(),
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
  'ESCALATION.ACK': z.object({ escalationId: safeIdSchema, actor: actorSchema }),
  DISCHARGE: z.object({ reason: dischargeRequestReasonSchema, actor: actorSchema }),
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
} as const;
export type SystemEvent =
  | ({ type: 'CAPACITY.GRANTED'; at: number } & z.output<(typeof systemEventSchemas)['CAPACITY.GRANTED']>)
  | ({ type: 'CAPACITY.WAITLISTED'; at: number } & z.output<(typeof systemEventSchemas)['CAPACITY.WAITLISTED']>)
  | DeadlineEvent;

export type PathwayEvent = CommandEvent | SystemEvent;
export type PathwayEventType = PathwayEvent['type'];

/** An event before the workflow stamps its time on it. */
export type UnstampedEvent = PathwayEvent extends infer E ? (E extends { at: number } ? Omit<E, 'at'> : never) : never;
