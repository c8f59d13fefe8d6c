// Task subscriptions' side effects. `announceTaskChange`: a case tells its scheme's subscriptions
// workflow that its Task changed, if the scheme has one (its first subscription starts it): a
// scheme nobody subscribes to costs no workflow and no signal per change. `deliverNotification`:
// one id-only notification POSTed to a subscriber's endpoint; anything but a 2xx is retried by
// Temporal with backoff. Logs name the subscription and event number, never the endpoint's answer
// or the request's headers.
import { ApplicationFailure } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { endpointProblem, headerPairs, headersProblem } from '../client/endpoint';
import { isNotFound } from '../client/errors';
import { notificationBundle } from '../gateway/fhir/subscription';
import { caseIdSchema } from '../machines/events';
import { safeIdSchema } from '../machines/ids';
import { STAGES } from '../machines/stage';
import {
  subscriptionsWorkflowId,
  taskChangedSignal,
  type NotificationDelivery,
  type TaskChange,
} from '../workflows/subscription-definitions';
import { SUBSCRIPTION_ERROR_TYPES } from './options';

export interface SubscriptionActivityDeps {
  client: Client;
  /** How long one request may take before it counts as unanswered. */
  requestTimeoutMs?: number;
}

const taskChangeSchema = z.object({
  caseId: caseIdSchema,
  schemeId: safeIdSchema,
  sequence: z.int().min(1),
  stage: z.enum(STAGES as [string, ...string[]]),
  at: z.number().finite(),
});

export function createSubscriptionActivities({ client, requestTimeoutMs = 10_000 }: SubscriptionActivityDeps) {
  return {
    /** Idempotent enough: a repeat after a retry queues the change again, and the case's sequence names it. */
    async announceTaskChange(change: TaskChange): Promise<void> {
      const parsed = taskChangeSchema.safeParse(change, { reportInput: false });
      if (!parsed.success) throw ApplicationFailure.create({ type: 'InvalidActivityPayload', message: 'announceTaskChange: the change is malformed', nonRetryable: true });
      try {
        await client.workflow.getHandle(subscriptionsWorkflowId(change.schemeId)).signal(taskChangedSignal, change);
      } catch (err) {
        // No subscriptions workflow: the scheme has never had a subscriber, so nobody is told.
        if (!isNotFound(err)) throw err;
      }
    },

    async deliverNotification({ subscription, status, event }: NotificationDelivery): Promise<{ status: number }> {
      const problem = endpointProblem(subscription.endpoint) ?? headersProblem(subscription.headers);
      if (problem) throw ApplicationFailure.create({ type: SUBSCRIPTION_ERROR_TYPES.undeliverable, message: `subscription ${subscription.id}: ${problem}`, nonRetryable: true });
      const body = JSON.stringify(notificationBundle(subscription, status, event));
      let answer: number;
      try {
        const response = await fetch(subscription.endpoint, {
          method: 'POST',
          headers: [...headerPairs(subscription.headers), ['content-type', 'application/fhir+json']],
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(requestTimeoutMs),
        });
        answer = response.status;
        await response.body?.cancel();
      } catch (err) {
        const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
        throw ApplicationFailure.create({ type: SUBSCRIPTION_ERROR_TYPES.receiverUnavailable, message: `subscription ${subscription.id} event ${event.number}: no answer (${code})` });
      }
      if (answer < 200 || answer > 299) {
        throw ApplicationFailure.create({ type: SUBSCRIPTION_ERROR_TYPES.receiverUnavailable, message: `subscription ${subscription.id} event ${event.number}: the receiver answered ${answer}` });
      }
      return { status: answer };
    },
  };
}

export type SubscriptionActivities = ReturnType<typeof createSubscriptionActivities>;
