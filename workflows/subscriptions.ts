// A scheme's Task subscriptions, an entity workflow: the registry of who subscribed, and for each
// subscription a queue of Task changes, numbered as they arrive (eventsSinceSubscriptionStart) and
// delivered one at a time in that order by an activity. One queue per subscription, so a receiver
// that is down holds up only its own notifications; every case's changes arrive here in the order
// the case made them (its announcements are sequential), so each queue keeps every case in order.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { SubscriptionActivities } from '../activities/subscriptions';
import { SUBSCRIPTION_ERROR_TYPES } from '../activities/options';
import {
  subscribeUpdate,
  subscriptionsQuery,
  taskChangedSignal,
  unsubscribeUpdate,
  wakeSignal,
  type QueuedEvent,
  type SubscriptionState,
  type SubscriptionsInput,
  type TaskChange,
} from './subscription-definitions';

type Entry = SubscriptionState & { queue: QueuedEvent[] };

/** Past this many events the registry continues as new (with its queues), far under Temporal's limits. */
const HISTORY_EVENTS = 10_000;
/** Subscriptions a scheme may hold: each is a loop and a queue in this workflow. */
export const MAX_SUBSCRIPTIONS_PER_SCHEME = 100;

export async function schemeSubscriptions(input: SubscriptionsInput): Promise<void> {
  const { schemeId } = input;
  const retryMaxInterval = input.limits?.retryMaxInterval ?? '1 minute';
  const historyEvents = input.limits?.historyEvents ?? HISTORY_EVENTS;
  // One activity call retries with backoff (no attempt count) for up to five minutes; after that
  // the workflow waits and calls again, for as long as the receiver is down. Bounding each call
  // lets the registry continue as new between calls, never while a notification is in flight
  // (whose 2xx would then be lost and the notification sent twice).
  const { deliverNotification } = proxyActivities<Pick<SubscriptionActivities, 'deliverNotification'>>({
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: '5 minutes',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: retryMaxInterval, nonRetryableErrorTypes: [SUBSCRIPTION_ERROR_TYPES.undeliverable] },
  });

  const entries = new Map<string, Entry>();
  const scopes = new Map<string, CancellationScope>();
  let draining = false;
  let inFlight = 0;

  const publicState = ({ queue: _queue, ...state }: Entry): SubscriptionState => state;

  /** Sends one notification; true once the receiver answered 2xx. */
  const send = async (entry: Entry, event: QueuedEvent): Promise<boolean> => {
    inFlight += 1;
    try {
      await deliverNotification({ subscription: entry.record, status: 'active', event });
      return true;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const type = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.type : undefined;
      if (type === SUBSCRIPTION_ERROR_TYPES.undeliverable) {
        // Checked at subscribe, so only a record written by older code: it can never be delivered.
        entry.status = 'off';
        entry.queue.length = 0;
        log.warn(`subscription ${entry.record.id} turned off: its endpoint cannot be delivered to`);
      } else {
        entry.status = 'error';
      }
      return false;
    } finally {
      inFlight -= 1;
    }
  };

  const deliverAll = async (entry: Entry) => {
    while (entry.status !== 'off') {
      await condition(() => entry.queue.length > 0 || draining);
      if (draining) return;
      const event = entry.queue[0]!;
      if (await send(entry, event)) {
        entry.delivered = event.number;
        entry.queue.shift();
        entry.status = 'active';
      } else if (entry.status === 'error') {
        await condition(() => draining, retryMaxInterval);
      }
    }
  };

  const start = (entry: Entry) => {
    entries.set(entry.record.id, entry);
    const scope = new CancellationScope();
    scopes.set(entry.record.id, scope);
    scope.run(() => deliverAll(entry)).catch((err: unknown) => {
      if (!isCancellation(err)) throw err;
    });
  };

  for (const carried of input.state?.subscriptions ?? []) start(carried);

  setHandler(wakeSignal, () => undefined);
  setHandler(taskChangedSignal, (change: TaskChange) => {
    if (change.schemeId !== schemeId) return;
    for (const entry of entries.values()) {
      if (entry.status === 'off') continue;
      entry.eventsSinceStart += 1;
      entry.queue.push({ number: entry.eventsSinceStart, change });
    }
  });
  setHandler(
    subscribeUpdate,
    (record) => {
      const existing = entries.get(record.id);
      if (existing) return publicState(existing);
      const entry: Entry = { record, status: 'active', eventsSinceStart: 0, delivered: 0, queue: [] };
      start(entry);
      return publicState(entry);
    },
    {
      validator: (record) => {
        if (record.schemeId !== schemeId) throw new Error('the subscription is for another scheme');
        if (!entries.has(record.id) && entries.size >= MAX_SUBSCRIPTIONS_PER_SCHEME) {
          throw ApplicationFailure.create({ type: 'TooManySubscriptions', message: `a scheme holds at most ${MAX_SUBSCRIPTIONS_PER_SCHEME} subscriptions`, nonRetryable: true });
        }
      },
    },
  );
  setHandler(unsubscribeUpdate, ({ id }) => {
    const entry = entries.get(id);
    if (!entry) return null;
    entries.delete(id);
    scopes.get(id)?.cancel();
    scopes.delete(id);
    return { ...publicState(entry), status: 'off' };
  });
  setHandler(subscriptionsQuery, () => [...entries.values()].map(publicState));

  await condition(() => workflowInfo().historyLength > historyEvents || workflowInfo().continueAsNewSuggested);
  // Let every notification in flight finish (at most one activity call each), then carry the queues.
  draining = true;
  await condition(() => inFlight === 0 && allHandlersFinished());
  await continueAsNew<typeof schemeSubscriptions>({
    schemeId,
    ...(input.limits && { limits: input.limits }),
    state: { subscriptions: [...entries.values()] },
  });
}
