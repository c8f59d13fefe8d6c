// How the case workflow should call the pathway's activities. Types and plain values only: the
// workflow bundle imports this file, and it must not pull in Node modules.
import type { ActivityOptions } from '@temporalio/common';

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

/** Failure types of the subscription activities (activities/subscriptions.ts). */
export const SUBSCRIPTION_ERROR_TYPES = {
  /** The subscription's endpoint can never be delivered to (not http(s), credentials in it): no retry helps. */
  undeliverable: 'UndeliverableSubscription',
  /** The receiver did not acknowledge (no answer, or not 2xx): retried with backoff. */
  receiverUnavailable: 'ReceiverUnavailable',
} as const;
