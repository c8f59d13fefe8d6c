// Topic-based subscriptions over HTTP (FHIR R4 Subscriptions Backport): create, read, delete and
// `$status`. A subscription belongs to the client whose token made it and to one of that token's
// schemes; the owner and scheme come from the token (the filter only picks among its schemes), never
// from anything else in the body. Delivery is the engine's: PathwayClient.subscribe hands it to the
// scheme's subscriptions workflow.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InvalidInputError, SubscriptionNotFoundError, type PathwayClient, type SubscriptionState } from '../client';
import { subscriptionIdSchema } from '../client/subscriptions';
import { safeIdSchema } from '../machines';
import { forbidden, requireScheme, requireScope, type Caller } from './auth';
import { FhirError, invalid } from './fhir/outcome';
import { BACKPORT_EXTENSIONS, CHANNEL, TASK_STATUS_TOPIC, subscriptionResource, subscriptionStatus } from './fhir/subscription';

export interface SubscriptionRouteDeps {
  client: PathwayClient;
  caller(request: FastifyRequest): Promise<Caller>;
  baseOf(request: FastifyRequest): string;
  sendFhir(reply: FastifyReply, status: number, body: unknown): unknown;
  resourceBody(body: unknown, type: string): Record<string, unknown>;
}

export function registerSubscriptionRoutes(app: FastifyInstance, deps: SubscriptionRouteDeps): void {
  const { client, caller, baseOf, sendFhir } = deps;

  /** The subscription, if this caller may touch it: its own, in one of its schemes. */
  const owned = async (who: Caller, id: string): Promise<SubscriptionState> => {
    const notFound = () => new FhirError(404, { code: 'not-found', expression: 'Subscription.id', diagnostics: 'no such resource' });
    if (!subscriptionIdSchema.safeParse(id).success) throw notFound();
    let state: SubscriptionState;
    try {
      state = await client.getSubscription(id);
    } catch (err) {
      if (err instanceof SubscriptionNotFoundError || err instanceof InvalidInputError) throw notFound();
      throw err;
    }
    requireScheme(who, state.record.schemeId, 'Subscription.id');
    if (state.record.clientId !== who.actor.id) throw forbidden('Subscription.id', 'the subscription belongs to another client');
    return state;
  };

  app.post('/fhir/Subscription', async (request, reply) => {
    const who = await caller(request);
    requireScope(who, 'Subscription', 'c');
    const body = deps.resourceBody(request.body, 'Subscription');
    const wanted = readSubscription(body);
    const schemeId = wanted.owner ?? onlyScheme(who);
    requireScheme(who, schemeId, 'Subscription.criteria');
    let state: SubscriptionState;
    try {
      state = await client.subscribe({ schemeId, clientId: who.actor.id, endpoint: wanted.endpoint, headers: wanted.headers, baseUrl: baseOf(request), ...(wanted.reason !== undefined && { reason: wanted.reason }) });
    } catch (err) {
      if (err instanceof InvalidInputError) {
        throw new FhirError(
          400,
          err.issues.map((i) => ({ code: 'value' as const, expression: SUBSCRIBE_EXPRESSIONS[i.path.split(/[.[]/)[0]!] ?? 'Subscription', diagnostics: i.message })),
        );
      }
      throw err;
    }
    void reply.header('location', `${baseOf(request)}/Subscription/${state.record.id}`);
    return sendFhir(reply, 201, subscriptionResource(state));
  });

  app.get<{ Params: { id: string } }>('/fhir/Subscription/:id', async (request, reply) => {
    const who = await caller(request);
    requireScope(who, 'Subscription', 'r');
    return sendFhir(reply, 200, subscriptionResource(await owned(who, request.params.id)));
  });

  app.get<{ Params: { id: string } }>('/fhir/Subscription/:id/$status', async (request, reply) => {
    const who = await caller(request);
    requireScope(who, 'Subscription', 'r');
    const state = await owned(who, request.params.id);
    const status = subscriptionStatus(state.record, state.status, state.eventsSinceStart, 'query-status');
    return sendFhir(reply, 200, { resourceType: 'Bundle', type: 'searchset', total: 1, link: [{ relation: 'self', url: `${baseOf(request)}/Subscription/${state.record.id}/$status` }], entry: [{ fullUrl: `urn:uuid:${uuidLike(status.id!)}`, resource: status, search: { mode: 'match' } }] });
  });

  app.delete<{ Params: { id: string } }>('/fhir/Subscription/:id', async (request, reply) => {
    const who = await caller(request);
    requireScope(who, 'Subscription', 'd');
    const state = await owned(who, request.params.id);
    try {
      await client.unsubscribe(state.record.id);
    } catch (err) {
      if (!(err instanceof SubscriptionNotFoundError)) throw err;
    }
    return reply.code(204).send();
  });
}

const SUBSCRIBE_EXPRESSIONS: Record<string, string> = {
  endpoint: 'Subscription.channel.endpoint',
  headers: 'Subscription.channel.header',
  reason: 'Subscription.reason',
  schemeId: 'Subscription.criteria',
  baseUrl: 'Subscription',
};

function onlyScheme(who: Caller): string {
  if (who.schemes !== '*' && who.schemes.length === 1) return who.schemes[0]!;
  throw invalid('Subscription.criteria', `name the scheme with the filter-criteria extension: Task?owner=<scheme> (${BACKPORT_EXTENSIONS.filterCriteria})`, 'required');
}

interface WantedSubscription {
  owner?: string;
  endpoint: string;
  headers: string[];
  reason?: string;
}

/** The parts of a Subscription this gateway acts on, each checked; anything it cannot honour is refused, not ignored. */
function readSubscription(body: Record<string, unknown>): WantedSubscription {
  if (body['criteria'] !== TASK_STATUS_TOPIC) throw invalid('Subscription.criteria', `must be the topic ${TASK_STATUS_TOPIC} (see /fhir/metadata)`, 'value');
  if (body['status'] !== undefined && body['status'] !== 'requested' && body['status'] !== 'active') throw invalid('Subscription.status', 'must be requested or active', 'value');
  if (body['end'] !== undefined) throw invalid('Subscription.end', 'an end time is not supported: delete the subscription instead', 'not-supported');
  const reason = body['reason'];
  if (reason !== undefined && typeof reason !== 'string') throw invalid('Subscription.reason', 'must be a string', 'value');
  const channel = body['channel'] as Record<string, unknown> | undefined;
  if (typeof channel !== 'object' || channel === null || Array.isArray(channel)) throw invalid('Subscription.channel', 'is required', 'required');
  if (channel['type'] !== CHANNEL.type) throw invalid('Subscription.channel.type', `must be ${CHANNEL.type}`, 'not-supported');
  if (typeof channel['endpoint'] !== 'string') throw invalid('Subscription.channel.endpoint', 'is required', 'required');
  if (channel['payload'] !== undefined && channel['payload'] !== CHANNEL.payload) throw invalid('Subscription.channel.payload', `must be ${CHANNEL.payload}`, 'not-supported');
  const content = extensionValue(channel['_payload'], BACKPORT_EXTENSIONS.payloadContent, 'valueCode');
  if (content !== undefined && content !== CHANNEL.content) throw invalid('Subscription.channel.payload', `only ${CHANNEL.content} payloads are sent`, 'not-supported');
  const header = channel['header'];
  if (header !== undefined && (!Array.isArray(header) || !header.every((h) => typeof h === 'string'))) throw invalid('Subscription.channel.header', 'must be a list of strings', 'value');
  const filter = extensionValue(body['_criteria'], BACKPORT_EXTENSIONS.filterCriteria, 'valueString');
  return {
    ...(filter !== undefined && { owner: ownerOf(filter) }),
    endpoint: channel['endpoint'],
    headers: (header as string[] | undefined) ?? [],
    ...(typeof reason === 'string' && { reason }),
  };
}

/** `Task?owner=<scheme>` (or `owner=Organization/<scheme>`, `owner=<system>|<scheme>`): the only filter served. */
function ownerOf(filter: unknown): string {
  const m = typeof filter === 'string' ? /^Task\?owner=([^&]+)$/.exec(filter) : null;
  if (!m) throw invalid('Subscription.criteria', 'the filter must be Task?owner=<scheme>', 'not-supported');
  let raw: string;
  try {
    raw = decodeURIComponent(m[1]!);
  } catch {
    throw invalid('Subscription.criteria', 'the filter is not well encoded', 'value');
  }
  const value = raw.includes('|') ? raw.split('|').pop()! : raw.replace(/^(Organization|HealthcareService)\//, '');
  const id = safeIdSchema.safeParse(value, { reportInput: false });
  if (!id.success) throw invalid('Subscription.criteria', 'the filter must name a scheme by its id', 'value');
  return id.data;
}

function extensionValue(element: unknown, url: string, key: string): unknown {
  const extensions = (element as { extension?: unknown } | undefined)?.extension;
  if (!Array.isArray(extensions)) return undefined;
  const found = extensions.find((e) => typeof e === 'object' && e !== null && (e as { url?: unknown }).url === url) as Record<string, unknown> | undefined;
  return found?.[key];
}

function uuidLike(id: string): string {
  const h = id.replace(/[^0-9a-f]/g, '').padEnd(32, '0');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
