// The typed surface of a scheme's Task subscriptions (FHIR R4 Subscriptions Backport, rest-hook):
// one long-lived workflow per scheme keeps the registry of subscriptions and, for each, a numbered
// queue of Task changes that it delivers in order. Ids, codes and URLs only: nothing about a person.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Stage } from '../machines';

export function subscriptionsWorkflowId(schemeId: string): string {
  return `subscriptions-${schemeId}`;
}

/** A case announces each change of its Task (the stage it carries as businessStatus), in order. */
export interface TaskChange {
  caseId: string;
  schemeId: string;
  /** The case's event sequence at the change: orders a case's changes and names each one. */
  sequence: number;
  stage: Stage;
  at: number;
}

/** A subscription as the client registers it. The owning client and scheme come from its token. */
export interface SubscriptionRecord {
  id: string;
  schemeId: string;
  /** The token's `sub` of the client that made it: only it may read or delete it. */
  clientId: string;
  /** http(s), no credentials in the URL (checked by the client and again by the delivering activity). */
  endpoint: string;
  /** Headers sent with each notification (`Name: value`), e.g. the receiver's own Authorization. */
  headers: string[];
  /** The gateway's public FHIR base, for the Subscription and Task references in notifications. */
  baseUrl: string;
  createdAt: number;
  reason?: string;
  /** When the subscription ends by itself (Subscription.end). */
  end?: number;
}

/** FHIR R4 Subscription.status: `error` while deliveries are failing (they are still retried), `off` once it can never deliver. */
export type SubscriptionStatusCode = 'active' | 'error' | 'off';

export interface SubscriptionState {
  record: SubscriptionRecord;
  status: SubscriptionStatusCode;
  /** Events numbered for this subscription so far (eventsSinceSubscriptionStart). */
  eventsSinceStart: number;
  /** The highest event number the receiver acknowledged with a 2xx. */
  delivered: number;
}

export interface QueuedEvent {
  number: number;
  change: TaskChange;
}

export interface SubscriptionsInput {
  schemeId: string;
  /** Carried across continue-as-new. */
  state?: { subscriptions: Array<SubscriptionState & { queue: QueuedEvent[] }> };
  /** Delivery retry cap and continue-as-new threshold (tests lower them). */
  limits?: SubscriptionLimits;
}

export interface SubscriptionLimits {
  /** The longest wait between two delivery attempts: about a minute in production. */
  retryMaxInterval?: string | number;
  /** Continue as new past this many history events. */
  historyEvents?: number;
}

/** One notification as the delivering activity sends it. */
export interface NotificationDelivery {
  subscription: SubscriptionRecord;
  status: SubscriptionStatusCode;
  event: QueuedEvent;
}

export const taskChangedSignal = defineSignal<[TaskChange]>('taskChanged');
/** Starts the registry if need be (signal-with-start) and changes nothing. */
export const wakeSignal = defineSignal<[]>('wake');
export const subscribeUpdate = defineUpdate<SubscriptionState, [SubscriptionRecord]>('subscribe');
export const unsubscribeUpdate = defineUpdate<SubscriptionState | null, [{ id: string }]>('unsubscribe');
export const subscriptionsQuery = defineQuery<SubscriptionState[]>('subscriptions');
