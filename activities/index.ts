// The pathway's side effects as Temporal activities: each validates what the workflow sent,
// builds one message of ids, kinds, codes and reasons, and hands it to the sink under the
// workflow's idempotency key, so a retry or a replayed call delivers nothing twice.
import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { safeIdSchema } from '../machines/ids';
import { NOTICE_TEXT_MAX } from '../machines/policy';
import { REFERRER_NOTICE_KINDS } from '../machines/notices';
import { STAGES } from '../machines/stage';
import { OutcomeRecordError, outcomeRecordFromCase } from '../evidence/from-case';
import { outcomeRecordSchema, type OutcomeRecord } from '../evidence/outcomeRecord';
import type { ActivityEnvelope, ReferrerNotice, SupervisorNotice } from '../workflows/definitions';
import type { EffectInput } from './contract';
import { ACTIVITY_ERROR_TYPES } from './options';
import { IdempotencyKeyConflictError, type OutboxChannel, type OutboxMessage, type Sink } from './sink';
import { befriendingArgsSchema, startBefriendingConnection } from './befriending';

export interface ActivityDeps {
  sink: Sink;
  /** The clock stamped on each message; tests fix it. */
  now?: () => number;
}

export interface PathwayActivityDeps extends ActivityDeps {
  /** Starts the befriending handoff's connection (activities/befriending.ts); without it only the request is delivered. */
  client?: Client;
}

/** What a notifying activity returns: whether this call delivered, or an earlier one had. */
export interface DeliveryReceipt {
  key: string;
  duplicate: boolean;
}

// Case ids are `case-<referralId>`, a little longer than a safe id may be; keys are built by the
// workflow from the case id, a sequence number and the action, so they get more room still.
const caseIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, { error: 'must be an id (letters, digits, ".", "_", ":", "-")' });
const keySchema = z.string().regex(/^[\x21-\x7e]{1,512}$/, { error: 'must be 1-512 printable characters without spaces' });
const text = z.string().min(1).max(NOTICE_TEXT_MAX);

/** The most next matches a connection's notice names. */
export const MAX_SUGGESTIONS = 5;

// Plain z.object strips unknown fields: whatever else a caller puts in, only these reach the sink.
export const envelopeSchema = z.object({ caseId: caseIdSchema, schemeId: safeIdSchema, idempotencyKey: keySchema });

const referrerNoticeSchema = z.object({
  kind: z.enum(REFERRER_NOTICE_KINDS),
  reason: text.optional(),
  service: text.optional(),
}) satisfies z.ZodType<ReferrerNotice>;

const supervisorNoticeSchema = z.object({
  escalationId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,299}$/, { error: 'must be an id' }),
  // A code such as TRIAGE_OVERDUE (the machine's) or SIDE_EFFECT_FAILED (the workflow's own).
  type: z.string().regex(/^[A-Z][A-Z0-9_]{0,63}$/, { error: 'must be an UPPER_SNAKE code' }),
  level: z.int().min(1).max(1000),
  stage: z.enum([...STAGES, 'capacity', 'connection']),
  audience: safeIdSchema.optional(),
  connection: z
    .object({
      connectionId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,299}$/, { error: 'must be an id' }),
      serviceId: safeIdSchema,
      suggestions: z.array(z.object({ serviceId: safeIdSchema, name: text, explanation: text })).max(MAX_SUGGESTIONS),
    })
    .optional(),
}) satisfies z.ZodType<SupervisorNotice>;

/**
 * A payload that can never succeed. The message lists where and why by field path and rule, not
 * the values (which may be free text about a person); zod's messages name types and limits only.
 */
function invalidPayload(activity: string, problems: readonly string[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: ACTIVITY_ERROR_TYPES.invalidPayload,
    message: `${activity}: payload can never be delivered: ${problems.join('; ')}`,
    nonRetryable: true,
  });
}

function issuesOf(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(payload)'}: ${i.message}`);
}

export function parse<S extends z.ZodType>(activity: string, schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw invalidPayload(activity, issuesOf(result.error));
  return result.data;
}

/** Hands one message to the sink under the envelope's key, mapping its failures to retryable or not. */
export async function deliverMessage(
  { sink, now = Date.now }: ActivityDeps,
  activity: string,
  channel: OutboxChannel,
  envelope: ActivityEnvelope,
  body: unknown,
): Promise<DeliveryReceipt> {
  const message: OutboxMessage = {
    key: envelope.idempotencyKey,
    channel,
    caseId: envelope.caseId,
    schemeId: envelope.schemeId,
    at: now(),
    body,
  };
  try {
    const { duplicate } = await sink.deliver(message);
    return { key: message.key, duplicate };
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    if (err instanceof IdempotencyKeyConflictError) {
      throw ApplicationFailure.create({ type: ACTIVITY_ERROR_TYPES.keyConflict, message: `${activity}: ${err.message}`, nonRetryable: true });
    }
    const code = (err as NodeJS.ErrnoException | undefined)?.code ?? (err as Error | undefined)?.name ?? 'error';
    throw ApplicationFailure.create({
      type: ACTIVITY_ERROR_TYPES.sinkUnavailable,
      message: `${activity}: the ${channel} delivery was not confirmed (${code}); it is retried under the same key`,
      nonRetryable: false,
      ...(err instanceof Error && { cause: err }),
    });
  }
}

export function createActivities({ sink, now = Date.now, client }: PathwayActivityDeps) {
  const deliver = (activity: string, channel: OutboxChannel, envelope: ActivityEnvelope, body: unknown) => deliverMessage({ sink, now }, activity, channel, envelope, body);

  return {
    /** Tells the referrer what became of the referral: accepted, declined, redirected, waitlisted, unable to contact, discharged. */
    async notifyReferrer(input: EffectInput<'notifyReferrer'>): Promise<DeliveryReceipt> {
      const { notice, ...envelope } = parse('notifyReferrer', envelopeSchema.extend({ notice: referrerNoticeSchema }), input);
      return deliver('notifyReferrer', 'referrer', envelope, notice);
    },

    /** Puts an escalation (or a re-escalation, a level up) in front of a supervisor. */
    async notifySupervisor(input: EffectInput<'notifySupervisor'>): Promise<DeliveryReceipt> {
      const { notice, ...envelope } = parse('notifySupervisor', envelopeSchema.extend({ notice: supervisorNoticeSchema }), input);
      return deliver('notifySupervisor', 'supervisor', envelope, notice);
    },

    /** Asks the volunteer coordinator for a match; VOLUNTEER.MATCHED comes back through the host. */
    async requestVolunteerMatch(input: EffectInput<'requestVolunteerMatch'>): Promise<DeliveryReceipt> {
      const envelope = parse('requestVolunteerMatch', envelopeSchema, input);
      return deliver('requestVolunteerMatch', 'volunteer', envelope, { kind: 'volunteerMatchRequested' });
    },

    /**
     * Refers the case on to the befriending service, and starts the handoff's connection to it (the
     * provider's answer there becomes the case's BEFRIENDING.RESULT); a host may still send that itself.
     */
    async requestBefriending(input: EffectInput<'requestBefriending'>): Promise<DeliveryReceipt> {
      const { befriending, ...envelope } = parse('requestBefriending', envelopeSchema.extend({ befriending: befriendingArgsSchema.optional() }), input);
      const receipt = await deliver('requestBefriending', 'befriending', envelope, { kind: 'befriendingRequested' });
      if (client && befriending) await startBefriendingConnection(client, envelope, befriending);
      return receipt;
    },

    /** Writes the case's outcome record (at discharge) and returns it as delivered. */
    async recordOutcome(input: EffectInput<'recordOutcome'>): Promise<OutcomeRecord> {
      const envelope = parse('recordOutcome', envelopeSchema, input);
      let draft: OutcomeRecord;
      try {
        draft = outcomeRecordFromCase({ caseId: envelope.caseId, context: input.context, timeline: input.timeline ?? [], ...(input.timelineDropped && { timelineDropped: input.timelineDropped }) });
      } catch (err) {
        // Only our own errors' messages are safe to repeat; anything else is named by its class.
        const why = err instanceof OutcomeRecordError ? err.message : `the case context is malformed (${(err as Error)?.name ?? 'error'})`;
        throw invalidPayload('recordOutcome', [why]);
      }
      const result = outcomeRecordSchema.safeParse(draft);
      if (!result.success) throw invalidPayload('recordOutcome', issuesOf(result.error));
      await deliver('recordOutcome', 'outcome', envelope, result.data);
      return result.data;
    },
  };
}

export type PathwayActivities = ReturnType<typeof createActivities>;
