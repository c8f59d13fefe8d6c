// How the case workflow should call the pathway's activities. Types and plain values only: the
// workflow bundle imports this file, and it must not pull in Node modules.
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/common';

/** Failure types the activities throw; the workflow may match on them. */
export const ACTIVITY_ERROR_TYPES = {
  /** The payload can never be delivered as it is (fails validation); retrying cannot help. */
  invalidPayload: 'InvalidActivityPayload',
  /** The idempotency key was used before for a different message: a key-making bug. */
  keyConflict: 'IdempotencyKeyConflict',
  /** The sink could not confirm the delivery; a retry under the same key is safe. */
  sinkUnavailable: 'SinkUnavailable',
} as const;

/*
 * Why these numbers:
 * - startToCloseTimeout 30s: a delivery is one fsynced append (milliseconds) or, with a host's
 *   own sink, one request; 30s covers a slow disk or endpoint, and is also how long it takes to
 *   notice a worker that died mid-attempt and try again elsewhere. Nothing here heartbeats.
 * - Backoff from 1s doubling to at most 1 minute: a blip is retried at once, and once the sink is
 *   back a delivery waits at most a minute, which is short enough for a safeguarding escalation.
 *   Retries add no workflow history, so a long outage costs nothing but the wait.
 * - No maximumAttempts and no scheduleToCloseTimeout: these are the referrer's answer, a
 *   supervisor's escalation, the outcome record. Late is acceptable, lost is not, and every retry
 *   is a no-op once one attempt got through (the idempotency key). Only a payload that can never
 *   succeed fails the call, at once (non-retryable), for the workflow to escalate.
 */
export const activityOptions: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [ACTIVITY_ERROR_TYPES.invalidPayload, ACTIVITY_ERROR_TYPES.keyConflict],
  },
};

/*
 * A side effect's first attempt, made as a local activity: the worker that ran the case's task
 * delivers it inside that task, so a delivery that works (nearly all of them) costs no activity
 * task, no second workflow task and two history events fewer (a marker for three), and the
 * command's answer leaves once its notices are written. Only that attempt runs locally:
 * - startToCloseTimeout 5s: the command that caused the effect is answered only when its task
 *   completes, so a slow sink may hold a command's answer this long, never the 30s of a queued
 *   attempt (and never past the workflow task's own timeout).
 * - One attempt, no retries: a failed or slow local attempt is handed at once to the queued
 *   activity above (activityOptions), whose retries add no history and hold up nothing. The
 *   idempotency key makes the second delivery of an attempt that did get through a no-op.
 */
export const localAttemptOptions: LocalActivityOptions = {
  startToCloseTimeout: '5 seconds',
  retry: { maximumAttempts: 1 },
};

/** Failure types of the subscription activities (activities/subscriptions.ts). */
export const SUBSCRIPTION_ERROR_TYPES = {
  /** The subscription's endpoint can never be delivered to (not http(s), credentials in it): no retry helps. */
  undeliverable: 'UndeliverableSubscription',
  /** The receiver did not acknowledge (no answer, or not 2xx): retried with backoff. */
  receiverUnavailable: 'ReceiverUnavailable',
} as const;
