// Topic-based subscriptions on FHIR R4, as the Subscriptions R5 Backport IG shapes them: a
// Subscription whose `criteria` is the topic's canonical URL (with the backport's filter-criteria
// extension), `rest-hook` channel, `id-only` payload; each notification a `history` Bundle whose
// first entry is the subscription status (a Parameters) and the next the Task that changed, by id.
// Pure: the gateway builds Subscriptions with it, the delivering activity the notifications.
import { createHash } from 'node:crypto';
import type { Bundle, Parameters, ParametersParameter, Subscription } from '@medplum/fhirtypes';
import type { QueuedEvent, SubscriptionRecord, SubscriptionState, SubscriptionStatusCode } from '../../workflows/subscription-definitions';
import { fhirIdOf } from './resources';
import { FHIR_BASE } from './systems';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
export const BACKPORT_EXTENSIONS = {
  filterCriteria: `${BACKPORT}/backport-filter-criteria`,
  payloadContent: `${BACKPORT}/backport-payload-content`,
  /** On the CapabilityStatement's Subscription resource: a topic the server serves. */
  topicCanonical: `${BACKPORT}/capabilitystatement-subscriptiontopic-canonical`,
} as const;

/** The one topic the gateway serves: a referral Task's status or business status changed. */
export const TASK_STATUS_TOPIC = `${FHIR_BASE}/SubscriptionTopic/task-status`;
/** The only channel and payload the gateway sends. */
export const CHANNEL = { type: 'rest-hook', payload: 'application/fhir+json', content: 'id-only' } as const;

/** The filter a subscription is registered with: its scheme as the Task's owner. */
export function filterCriteria(schemeId: string): string {
  return `Task?owner=${schemeId}`;
}

/**
 * The Subscription as the gateway shows it back. Header values are not shown: they usually hold
 * the receiver's own credentials.
 */
export function subscriptionResource(state: SubscriptionState): Subscription {
  const { record } = state;
  return {
    resourceType: 'Subscription',
    id: record.id,
    status: state.status,
    reason: record.reason ?? `Referral Task status changes for scheme ${record.schemeId}`,
    criteria: TASK_STATUS_TOPIC,
    _criteria: { extension: [{ url: BACKPORT_EXTENSIONS.filterCriteria, valueString: filterCriteria(record.schemeId) }] },
    ...(record.end !== undefined && { end: new Date(record.end).toISOString() }),
    channel: {
      type: CHANNEL.type,
      endpoint: record.endpoint,
      payload: CHANNEL.payload,
      _payload: { extension: [{ url: BACKPORT_EXTENSIONS.payloadContent, valueCode: CHANNEL.content }] },
    },
  } as Subscription;
}

/** The backport's SubscriptionStatus on R4: a Parameters resource. */
export function subscriptionStatus(
  record: SubscriptionRecord,
  status: SubscriptionStatusCode,
  eventsSinceStart: number,
  type: 'event-notification' | 'query-status',
  events: QueuedEvent[] = [],
): Parameters {
  const base = record.baseUrl;
  const parameter: ParametersParameter[] = [
    { name: 'subscription', valueReference: { reference: `${base}/Subscription/${record.id}` } },
    { name: 'topic', valueCanonical: TASK_STATUS_TOPIC },
    { name: 'status', valueCode: status },
    { name: 'type', valueCode: type },
    { name: 'events-since-subscription-start', valueString: String(eventsSinceStart) },
    ...events.map((e) => ({
      name: 'notification-event',
      part: [
        { name: 'event-number', valueString: String(e.number) },
        { name: 'timestamp', valueInstant: new Date(e.change.at).toISOString() },
        { name: 'focus', valueReference: { reference: `${base}/Task/${fhirIdOf(e.change.caseId)}` } },
      ],
    })),
  ];
  return { resourceType: 'Parameters', id: notificationId(record.id, eventsSinceStart, type), parameter };
}

/**
 * One event's notification, id-only: the same bytes for the same event however often it is sent,
 * so a receiver that sees event n twice (a crash between its 2xx and our record of it) can tell.
 */
export function notificationBundle(record: SubscriptionRecord, status: SubscriptionStatusCode, event: QueuedEvent): Bundle {
  const base = record.baseUrl;
  const taskId = fhirIdOf(event.change.caseId);
  const parameters = subscriptionStatus(record, status, event.number, 'event-notification', [event]);
  return {
    resourceType: 'Bundle',
    id: notificationId(record.id, event.number, 'bundle'),
    type: 'history',
    timestamp: new Date(event.change.at).toISOString(),
    entry: [
      {
        fullUrl: `urn:uuid:${uuidOf(`${record.id}:${event.number}`)}`,
        resource: parameters,
        request: { method: 'GET', url: `${base}/Subscription/${record.id}/$status` },
        response: { status: '200' },
      },
      {
        fullUrl: `${base}/Task/${taskId}`,
        request: { method: 'PUT', url: `Task/${taskId}` },
        response: { status: '200' },
      },
    ],
  };
}

function notificationId(subscriptionId: string, n: number, kind: string): string {
  return `n-${createHash('sha256').update(`${subscriptionId}:${n}:${kind}`).digest('hex').slice(0, 40)}`;
}

/** A name-based UUID (version 5 layout over SHA-256) for the status entry's fullUrl. */
function uuidOf(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
