// The FHIR R4 gateway: host systems refer, follow and cancel cases over HTTP as the HL7 Gravity
// referral pattern expects. It reaches the engine only through PathwayClient. One Fastify app, so
// the supervisor console (and anything else) registers as a plugin under its own prefix.
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyPluginAsync, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import {
  CaseNotFoundError,
  CommandRefusedError,
  ConflictingReferralError,
  ConsentRequiredError,
  InvalidInputError,
  PathwayClient,
  SchemeNotFoundError,
  COMMAND_TYPES,
  type Caseloads,
  type CaseView,
  type CommandType,
} from '../client';
import { safeIdSchema, caseIdSchema } from '../machines';
import { authenticator, forbidden, maySee, requireRole, requireScheme, requireScope, type AuthOptions, type Caller } from './auth';
import { capabilityStatement, openApiDocument } from './capability';
import { registerSubscriptionRoutes } from './subscriptions';
import { answerFromPatch, answerFromPut, connectionFace, connectionSearchQuery, isConnectionSearch, parseConnectionSearch } from './connections';
import { focusPage, searchTasks, type TaskPage, type TaskSearch } from './task-search';
import { FhirError, invalid, type Issue } from './fhir/outcome';
import { fromBundle, fromTask, referralExpression, schemeOf, toHostReferral } from './fhir/referral';
import { caseIdOfObservation, fhirIdOf, healthcareServiceFor, isConnectionFhirId, lastModifiedOf, operationOutcome, outcomeFor, serviceRequestFor, TASK_STATUSES, taskFor, taskStatus, type TaskStatus } from './fhir/resources';

export const FHIR_JSON = 'application/fhir+json';
const FHIR_CONTENT_TYPE = `${FHIR_JSON}; charset=utf-8`;
/** Referrals are a few KiB; anything near this is not a referral. */
export const DEFAULT_BODY_LIMIT = 256 * 1024;
const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;

export interface GatewayPlugin {
  plugin: FastifyPluginAsync<Record<string, unknown>> | FastifyPluginAsync;
  prefix: string;
  options?: Record<string, unknown>;
}

export interface GatewayOptions {
  client: PathwayClient;
  auth: AuthOptions;
  /** The public base of the FHIR endpoint (for Bundle links and fullUrls); from the request's host if absent. */
  baseUrl?: string;
  bodyLimit?: number;
  /** Fastify's logger: off by default. Its request lines carry method, URL and status, never bodies or headers. */
  logger?: FastifyServerOptions['logger'];
  /** A pino logger of the host's own (with its redaction), instead of `logger`. */
  loggerInstance?: FastifyBaseLogger;
  /** More apps on the same server, each under its prefix (the supervisor console). */
  plugins?: GatewayPlugin[];
  /** How many case reads a search runs at once. */
  searchConcurrency?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Verifies the request's bearer token; plugins use it to authenticate the same way. */
    authenticate(request: FastifyRequest): Promise<Caller>;
    pathway: PathwayClient;
  }
}

const RESOURCE_TYPES_SERVED = new Set(['Task', 'ServiceRequest', 'HealthcareService', 'Observation', 'Subscription', 'metadata']);

export function buildApp(options: GatewayOptions): FastifyInstance {
  const { client } = options;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = (
    options.loggerInstance
      ? Fastify({ loggerInstance: options.loggerInstance, bodyLimit, return503OnClosing: true })
      : Fastify({ logger: options.logger ?? false, bodyLimit, return503OnClosing: true })
  ) as FastifyInstance;
  const verify = authenticator(options.auth);
  app.decorate('authenticate', (request: FastifyRequest) => verify(request.headers.authorization));
  app.decorate('pathway', client);

  // FHIR's own media type and JSON Patch, parsed as JSON; any other type is refused (415).
  const json = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser([FHIR_JSON, 'application/json-patch+json'], { parseAs: 'string', bodyLimit }, json);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, issues } = describeError(error);
    if (status >= 500) request.log.error({ err: { type: (error as Error).name, message: (error as Error).message } }, 'gateway error');
    if (error instanceof FhirError) void reply.headers(error.headers);
    return sendFhir(reply, status, operationOutcome(issues));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const m = /^\/fhir\/([^/]+)/.exec(path);
    if (m && RESOURCE_TYPES_SERVED.has(m[1]!)) {
      return sendFhir(reply, 405, operationOutcome([{ code: 'not-supported', expression: m[1]!, diagnostics: `this interaction is not supported (see /fhir/metadata)` }]));
    }
    if (m) return sendFhir(reply, 404, operationOutcome([{ code: 'not-supported', expression: 'resourceType', diagnostics: 'this server does not serve that resource type (see /fhir/metadata)' }]));
    return sendFhir(reply, 404, operationOutcome([{ code: 'not-found', diagnostics: 'no such endpoint' }]));
  });

  const baseOf = (request: FastifyRequest) => options.baseUrl ?? `${request.protocol}://${request.host}/fhir`;
  const caller = (request: FastifyRequest) => app.authenticate(request);

  app.get('/fhir/metadata', async (request, reply) => sendFhir(reply, 200, capabilityStatement(baseOf(request))));
  app.get('/openapi.json', async (request, reply) => reply.type('application/json').send(openApiDocument(baseOf(request))));

  // ---- Refer ------------------------------------------------------------------------------------------
  const refer = async (request: FastifyRequest, reply: FastifyReply, parts: ReturnType<typeof fromTask>, bundle: boolean) => {
    const who = await caller(request);
    requireScope(who, 'Task', 'c');
    requireRole(who, ['host'], 'referring');
    const { schemeId, expression } = schemeOf(parts.task, parts.serviceRequest);
    requireScheme(who, schemeId, expression);
    const referral = toHostReferral(parts);
    let view: CaseView;
    let created: boolean;
    try {
      const result = await client.refer(referral, { referrer: who.actor.id });
      created = result.created;
      view = await fullView(client, result.case, PathwayClient.caseIdFor(referral.referralId));
    } catch (err) {
      throw referralError(err);
    }
    const task = taskFor(view);
    const status = created ? 201 : 200;
    void reply.header('location', `${baseOf(request)}/Task/${task.id}/_history/${view.sequence}`);
    if (!bundle) return sendFhir(reply, status, task);
    const entry = (resource: { resourceType: string; id?: string }) => ({
      fullUrl: `${baseOf(request)}/${resource.resourceType}/${resource.id}`,
      resource,
      response: { status: created ? '201 Created' : '200 OK', location: `${resource.resourceType}/${resource.id}` },
    });
    return sendFhir(reply, 200, { resourceType: 'Bundle', type: 'transaction-response', entry: [entry(task), entry(serviceRequestFor(view))] });
  };

  app.post('/fhir/Task', async (request, reply) => {
    const body = resourceBody(request.body, 'Task');
    return refer(request, reply, fromTask(body), false);
  });
  app.post('/fhir', async (request, reply) => {
    const body = resourceBody(request.body, 'Bundle');
    return refer(request, reply, fromBundle(body), true);
  });

  // ---- Follow -----------------------------------------------------------------------------------------
  const readCase = async (who: Caller, id: string, expression: string): Promise<CaseView> => {
    // A provider sees the onward referrals sent to it, never the case they came from.
    if (who.actor.role === 'provider') throw forbidden(expression, 'a provider token reads only the onward referrals sent to its organisation');
    const parsed = caseIdSchema.safeParse(id, { reportInput: false });
    if (!parsed.success) throw new FhirError(404, { code: 'not-found', expression, diagnostics: 'no such resource' });
    let view: CaseView;
    try {
      view = await client.getCase(parsed.data);
    } catch (err) {
      if (err instanceof CaseNotFoundError || err instanceof InvalidInputError) throw new FhirError(404, { code: 'not-found', expression, diagnostics: 'no such resource' });
      throw err;
    }
    requireScheme(who, view.schemeId, expression);
    return view;
  };

  // ---- Onward referrals (connections to community services: gateway/connections.ts) ------------------
  const connections = connectionFace({ client, concurrency: options.searchConcurrency ?? 8 });
  app.post<{ Params: { id: string } }>('/fhir/Task/:id/$record-attendance', async (request, reply) => {
    const who = await caller(request);
    requireScope(who, 'Task', 'u');
    if (!isConnectionFhirId(request.params.id)) throw new FhirError(404, { code: 'not-found', expression: 'Task.id', diagnostics: 'no such onward referral' });
    return sendFhir(reply, 200, await connections.recordAttendance(who, request.params.id));
  });

  app.get<{ Params: { id: string } }>('/fhir/Task/:id', async (request, reply) => {
    const who = await caller(request);
    requireScope(who, 'Task', 'r');
    if (isConnectionFhirId(request.params.id)) return sendFhir(reply, 200, await connections.read(who, request.params.id));
    const view = await readCase(who, request.params.id, 'Task.id');
    return sendFhir(reply, 200, taskFor(view), view);
  });
  app.get<{ Params: { id: string } }>('/fhir/ServiceRequest/:id', async (request, reply) => {
    const who = await caller(request);
    requireScope(who, 'ServiceRequest', 'r');
    const view = await readCase(who, request.params.id, 'ServiceRequest.id');
    return sendFhir(reply, 200, serviceRequestFor(view));
  });

  // ---- Message back ---------------------------------------------------------------------------------
  // At discharge Task.output references the outcome. Every outcome Observation is `based-on` the
  // case's ServiceRequest, so a referrer reads one by id or fetches them all with FHIR's own search,
  // `GET /fhir/Observation?based-on=ServiceRequest/{id}`. The scheme's `fhir.codesOnly` keeps free text out.
  const outcomeOf = async (view: CaseView) => {
    if (view.stage !== 'discharged') return [];
    const record = await client.outcomeRecord(view.caseId);
    return outcomeFor(view, record, { codesOnly: client.policyFor(view.schemeId).fhir.codesOnly });
  };
  app.get('/fhir/Observation', async (request, reply) => {
    const who = await caller(request);
    if (!scopeOk(who, 'Observation', 'r') && !scopeOk(who, 'Observation', 's')) requireScope(who, 'Observation', 's');
    const query = request.query as Record<string, unknown>;
    for (const key of Object.keys(query)) {
      if (!['based-on', '_format'].includes(key)) throw invalid('Observation?', 'a search parameter is not supported (supported: based-on)', 'not-supported');
    }
    const basedOn = one(query, 'based-on');
    if (basedOn === undefined) throw invalid('based-on', 'name the referral: based-on=ServiceRequest/{id}', 'required');
    const view = await readCase(who, basedOn.replace(/^ServiceRequest\//, ''), 'based-on').catch((err) => {
      if (err instanceof FhirError && err.status === 404) return undefined;
      throw err;
    });
    const observations = view ? await outcomeOf(view) : [];
    const base = baseOf(request);
    return sendFhir(reply, 200, {
      resourceType: 'Bundle',
      type: 'searchset',
      total: observations.length,
      link: [{ relation: 'self', url: `${base}/Observation?${new URLSearchParams({ 'based-on': basedOn }).toString()}` }],
      entry: observations.map((o) => ({ fullUrl: `${base}/Observation/${o.id}`, resource: o, search: { mode: 'match' } })),
    });
  });
  app.get<{ Params: { id: string } }>('/fhir/Observation/:id', async (request, reply) => {
    const who = await caller(request);
    requireScope(who, 'Observation', 'r');
    const caseId = caseIdOfObservation(request.params.id);
    if (caseId === undefined) throw new FhirError(404, { code: 'not-found', expression: 'Observation.id', diagnostics: 'no such resource' });
    const observation = (await outcomeOf(await readCase(who, caseId, 'Observation.id'))).find((o) => o.id === request.params.id);
    if (!observation) throw new FhirError(404, { code: 'not-found', expression: 'Observation.id', diagnostics: 'no such resource' });
    return sendFhir(reply, 200, observation);
  });

  app.get('/fhir/Task', async (request, reply) => {
    const who = await caller(request);
    if (!['r', 's'].some((i) => scopeOk(who, 'Task', i as 'r' | 's'))) requireScope(who, 'Task', 's');
    if (isConnectionSearch(who, request.query as Record<string, unknown>)) {
      const s = parseConnectionSearch(request.query as Record<string, unknown>, { count: DEFAULT_PAGE, max: MAX_PAGE });
      const all = s.partOf !== undefined ? await connections.partOf(who, s.partOf, s.statuses) : await connections.ownOpen(who, s.owner!, s.statuses);
      const base = baseOf(request);
      const link = [{ relation: 'self', url: `${base}/Task?${connectionSearchQuery(s, s.offset)}` }];
      if (s.offset + s.count < all.length) link.push({ relation: 'next', url: `${base}/Task?${connectionSearchQuery(s, s.offset + s.count)}` });
      return sendFhir(reply, 200, {
        resourceType: 'Bundle',
        type: 'searchset',
        total: all.length,
        link,
        entry: all.slice(s.offset, s.offset + s.count).map((task) => ({ fullUrl: `${base}/Task/${task.id}`, resource: task, search: { mode: 'match' } })),
      });
    }
    const search = parseTaskSearch(request.query as Record<string, unknown>);
    const schemes = search.owner !== undefined ? [search.owner] : who.schemes === '*' ? undefined : [...who.schemes];
    if (search.owner !== undefined) requireScheme(who, search.owner, 'owner');
    let found: TaskPage;
    if (search.focus !== undefined) {
      const one = await readCase(who, search.focus, 'focus').catch((err) => {
        if (err instanceof FhirError && err.status === 404) return undefined;
        throw err;
      });
      found = focusPage(one, search, schemes);
    } else {
      found = await searchTasks({ client, who, concurrency: options.searchConcurrency ?? 8 }, search, schemes);
    }
    const page = found.views.map((view) => taskFor(view));
    const base = baseOf(request);
    const link = [{ relation: 'self', url: `${base}/Task?${searchQuery(search, search.offset)}` }];
    if (search.offset + search.count < found.total) link.push({ relation: 'next', url: `${base}/Task?${searchQuery(search, search.offset + search.count)}` });
    return sendFhir(reply, 200, {
      resourceType: 'Bundle',
      type: 'searchset',
      total: found.total,
      link,
      entry: page.map((task) => ({ fullUrl: `${base}/Task/${task.id}`, resource: task, search: { mode: 'match' } })),
    });
  });

  // ---- Capacity ---------------------------------------------------------------------------------------
  const loadsOf = async (schemeId: string): Promise<Caseloads | undefined> => {
    try {
      return await client.caseloads(schemeId);
    } catch (err) {
      if (err instanceof SchemeNotFoundError || err instanceof InvalidInputError) return undefined;
      throw err;
    }
  };
  app.get<{ Params: { id: string } }>('/fhir/HealthcareService/:id', async (request, reply) => {
    const who = await caller(request);
    requireScope(who, 'HealthcareService', 'r');
    const id = safeIdSchema.safeParse(request.params.id, { reportInput: false });
    if (!id.success) throw new FhirError(404, { code: 'not-found', expression: 'HealthcareService.id', diagnostics: 'no such resource' });
    requireScheme(who, id.data, 'HealthcareService.id');
    const loads = await loadsOf(id.data);
    if (!loads) throw new FhirError(404, { code: 'not-found', expression: 'HealthcareService.id', diagnostics: 'no such resource' });
    return sendFhir(reply, 200, healthcareServiceFor(loads.schemeId, loads, { now: Date.now() }));
  });
  app.get('/fhir/HealthcareService', async (request, reply) => {
    const who = await caller(request);
    if (!scopeOk(who, 'HealthcareService', 'r') && !scopeOk(who, 'HealthcareService', 's')) requireScope(who, 'HealthcareService', 's');
    const query = request.query as Record<string, unknown>;
    for (const key of Object.keys(query)) {
      if (!['identifier', '_id', '_format'].includes(key)) throw invalid('HealthcareService?', 'a search parameter is not supported (supported: identifier, _id)', 'not-supported');
    }
    const named = one(query, 'identifier') ?? one(query, '_id');
    let loads: Caseloads[];
    if (named !== undefined) {
      const id = safeIdSchema.safeParse(named.includes('|') ? named.split('|').pop() : named, { reportInput: false });
      if (!id.success) throw invalid(query['identifier'] !== undefined ? 'identifier' : '_id', 'must name a scheme by its id', 'value');
      requireScheme(who, id.data, query['identifier'] !== undefined ? 'identifier' : '_id');
      const l = await loadsOf(id.data);
      loads = l ? [l] : [];
    } else {
      loads = (await client.allCaseloads()).filter((l) => maySee(who, l.schemeId));
    }
    const base = baseOf(request);
    const now = Date.now();
    return sendFhir(reply, 200, {
      resourceType: 'Bundle',
      type: 'searchset',
      total: loads.length,
      link: [{ relation: 'self', url: `${base}/HealthcareService${request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : ''}` }],
      entry: loads.map((l) => ({ fullUrl: `${base}/HealthcareService/${fhirIdOf(l.schemeId)}`, resource: healthcareServiceFor(l.schemeId, l, { now }), search: { mode: 'match' } })),
    });
  });

  // ---- Cancel -----------------------------------------------------------------------------------------
  const cancel = async (request: FastifyRequest, reply: FastifyReply, id: string) => {
    const who = await caller(request);
    requireScope(who, 'Task', 'u');
    requireRole(who, ['host'], 'cancelling a referral');
    const view = await readCase(who, id, 'Task.id');
    // Only the system that made the referral withdraws it; the referrer is recorded at refer time.
    if ((await client.referrerOf(view.caseId)) !== who.actor.id) throw forbidden('Task', 'only the client that made this referral may cancel it');
    const status = taskStatus(view);
    // Already withdrawn: the same request again changes nothing.
    if (status === 'cancelled') return sendFhir(reply, 200, taskFor(view), view);
    if (view.stage === 'discharged') throw new FhirError(409, { code: 'business-rule', expression: 'Task.status', diagnostics: `the referral is already closed (status ${status})` });
    try {
      await client.discharge(view.caseId, { reason: 'withdrew', actor: who.actor });
    } catch (err) {
      throw commandFailure(err, 'Task.status');
    }
    const after = await client.getCase(view.caseId);
    return sendFhir(reply, 200, taskFor(after), after);
  };

  app.patch<{ Params: { id: string } }>('/fhir/Task/:id', async (request, reply) => {
    if (!isJsonPatch(request.headers['content-type'])) throw new FhirError(415, { code: 'not-supported', expression: 'Content-Type', diagnostics: 'a Task is patched with application/json-patch+json' });
    const ops = request.body;
    if (!Array.isArray(ops) || ops.length === 0) throw invalid('(body)', 'must be a JSON Patch: a non-empty array of operations', 'structure');
    if (isConnectionFhirId(request.params.id)) {
      const who = await caller(request);
      requireScope(who, 'Task', 'u');
      return sendFhir(reply, 200, await connections.answer(who, request.params.id, answerFromPatch(ops)));
    }
    ops.forEach((op, i) => {
      const o = op as Record<string, unknown> | null;
      if (typeof o !== 'object' || o === null || Array.isArray(o)) throw invalid(`(body)[${i}]`, 'must be a JSON Patch operation', 'structure');
      if (o['op'] === 'test') return;
      if ((o['op'] !== 'replace' && o['op'] !== 'add') || o['path'] !== '/status') throw new FhirError(422, { code: 'not-supported', expression: 'Task', diagnostics: 'only the status of a Task can be patched, and only to cancelled' });
      if (o['value'] !== 'cancelled') throw new FhirError(422, { code: 'business-rule', expression: 'Task.status', diagnostics: 'a referrer may only set the status to cancelled' });
    });
    return cancel(request, reply, request.params.id);
  });
  app.put<{ Params: { id: string } }>('/fhir/Task/:id', async (request, reply) => {
    const body = resourceBody(request.body, 'Task');
    if (body['id'] !== request.params.id) throw invalid('Task.id', 'must equal the id in the URL', 'value');
    if (isConnectionFhirId(request.params.id)) {
      const who = await caller(request);
      requireScope(who, 'Task', 'u');
      return sendFhir(reply, 200, await connections.answer(who, request.params.id, answerFromPut(body)));
    }
    if (body['status'] !== 'cancelled') throw new FhirError(422, { code: 'business-rule', expression: 'Task.status', diagnostics: 'a referrer may only set the status to cancelled' });
    return cancel(request, reply, request.params.id);
  });

  // ---- Subscriptions (R4 Backport, topic-based) --------------------------------------------------------
  // Subscriptions announce a scheme's case Tasks, which a provider does not see.
  const staffOrHost = async (request: FastifyRequest) => {
    const who = await caller(request);
    if (who.actor.role === 'provider') throw forbidden('Authorization', 'a provider token reads only the onward referrals sent to its organisation');
    return who;
  };
  registerSubscriptionRoutes(app, { client, caller: staffOrHost, baseOf, sendFhir: (reply, status, body) => sendFhir(reply, status, body), resourceBody });

  // ---- Staff moves --------------------------------------------------------------------------------
  // A pathway command on the case, for staff systems: the actor is the token's, never the body's.
  app.post<{ Params: { id: string } }>('/fhir/Task/:id/$pathway-command', async (request, reply) => {
    const who = await caller(request);
    requireScope(who, 'Task', 'u');
    const { command, payload } = commandParameters(request.body);
    const view = await readCase(who, request.params.id, 'Task.id');
    try {
      await client.send(view.caseId, command, { ...payload, actor: who.actor } as never);
    } catch (err) {
      throw commandFailure(err, 'Parameters.parameter');
    }
    const after = await client.getCase(view.caseId);
    return sendFhir(reply, 200, taskFor(after), after);
  });

  for (const p of options.plugins ?? []) void app.register(p.plugin as FastifyPluginAsync, { prefix: p.prefix, ...(p.options ?? {}) });
  return app;
}

function scopeOk(who: Caller, type: string, interaction: 'r' | 's'): boolean {
  try {
    requireScope(who, type, interaction);
    return true;
  } catch {
    return false;
  }
}

function sendFhir(reply: FastifyReply, status: number, body: unknown, view?: CaseView) {
  if (view) void reply.header('etag', `W/"${view.sequence}"`).header('last-modified', new Date(lastModifiedOf(view) ?? 0).toUTCString());
  return reply.code(status).type(FHIR_CONTENT_TYPE).send(body);
}

/** refer() may hand back a whole view or (on newer SDKs) a summary: the Task needs the whole case. */
async function fullView(client: PathwayClient, returned: unknown, caseId: string): Promise<CaseView> {
  if (returned && typeof returned === 'object' && 'timeline' in returned && 'schemeId' in returned) return returned as CaseView;
  return client.getCase(caseId);
}

function resourceBody(body: unknown, type: string): Record<string, unknown> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('(body)', `must be a FHIR ${type} resource in JSON`, 'structure');
  const b = body as Record<string, unknown>;
  if (b['resourceType'] !== type) throw invalid('resourceType', `must be '${type}' here`, 'structure');
  return b;
}

function isJsonPatch(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json-patch+json';
}

const COMMANDS = new Set<string>(COMMAND_TYPES);

function commandParameters(body: unknown): { command: CommandType; payload: Record<string, unknown> } {
  const params = resourceBody(body, 'Parameters');
  const list = Array.isArray(params['parameter']) ? (params['parameter'] as Array<Record<string, unknown>>) : [];
  const find = (name: string) => list.find((p) => p && typeof p === 'object' && p['name'] === name);
  const command = find('command')?.['valueCode'];
  if (typeof command !== 'string' || !COMMANDS.has(command)) throw invalid('Parameters.parameter[command]', `valueCode must be one of ${COMMAND_TYPES.join(', ')}`, 'value');
  const raw = find('payload')?.['valueString'];
  let payload: unknown = {};
  if (raw !== undefined) {
    try {
      payload = JSON.parse(String(raw));
    } catch {
      throw invalid('Parameters.parameter[payload]', 'valueString must be a JSON object', 'structure');
    }
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw invalid('Parameters.parameter[payload]', 'valueString must be a JSON object', 'structure');
  if ('actor' in payload) throw invalid('Parameters.parameter[payload].actor', 'the actor comes from the access token, not the request', 'value');
  return { command: command as CommandType, payload: payload as Record<string, unknown> };
}

// ---- Search parameters --------------------------------------------------------------------------

const SEARCH_PARAMS = new Set(['owner', 'status', 'focus', '_lastUpdated', '_count', '_offset', '_format']);

function one(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalid(name, 'may be given once', 'value');
  return v;
}

function parseTaskSearch(query: Record<string, unknown>): TaskSearch {
  for (const key of Object.keys(query)) {
    if (!SEARCH_PARAMS.has(key)) throw invalid('Task?', `a search parameter is not supported (supported: ${[...SEARCH_PARAMS].join(', ')})`, 'not-supported');
  }
  const search: TaskSearch = { lastUpdated: [], count: DEFAULT_PAGE, offset: 0 };
  const owner = one(query, 'owner');
  if (owner !== undefined) {
    // `owner=<scheme>`, `owner=<system>|<scheme>` or `owner=Organization/<scheme>`.
    const value = owner.includes('|') ? owner.split('|').pop()! : owner.replace(/^(Organization|HealthcareService)\//, '');
    const id = safeIdSchema.safeParse(value, { reportInput: false });
    if (!id.success) throw invalid('owner', 'must name a scheme by its id', 'value');
    search.owner = id.data;
  }
  const status = one(query, 'status');
  if (status !== undefined) {
    const statuses = status.split(',');
    if (!statuses.every((s) => (TASK_STATUSES as readonly string[]).includes(s))) throw invalid('status', `must be among ${TASK_STATUSES.join(', ')}`, 'value');
    search.statuses = statuses as TaskStatus[];
  }
  const focus = one(query, 'focus');
  if (focus !== undefined) search.focus = focus.replace(/^ServiceRequest\//, '');
  const raw = query['_lastUpdated'];
  for (const v of raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) {
    const m = typeof v === 'string' ? /^(gt|ge|lt|le)(\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)$/.exec(v) : null;
    const at = m ? Date.parse(m[2]!.length === 10 ? `${m[2]}T00:00:00Z` : m[2]!) : NaN;
    if (!m || Number.isNaN(at)) throw invalid('_lastUpdated', 'must be gt, ge, lt or le followed by a FHIR date or dateTime with a zone', 'value');
    search.lastUpdated.push({ prefix: m[1] as 'gt', at, raw: v as string });
  }
  const count = one(query, '_count');
  if (count !== undefined) {
    if (!/^\d{1,4}$/.test(count) || Number(count) < 1 || Number(count) > MAX_PAGE) throw invalid('_count', `must be a whole number from 1 to ${MAX_PAGE}`, 'value');
    search.count = Number(count);
  }
  const offset = one(query, '_offset');
  if (offset !== undefined) {
    if (!/^\d{1,7}$/.test(offset)) throw invalid('_offset', 'must be a whole number', 'value');
    search.offset = Number(offset);
  }
  const format = one(query, '_format');
  if (format !== undefined && !['json', FHIR_JSON, 'application/json'].includes(format)) throw invalid('_format', 'only JSON is served', 'not-supported');
  return search;
}

function searchQuery(s: TaskSearch, offset: number): string {
  const q = new URLSearchParams();
  if (s.owner !== undefined) q.append('owner', s.owner);
  if (s.statuses) q.append('status', s.statuses.join(','));
  if (s.focus !== undefined) q.append('focus', s.focus);
  for (const c of s.lastUpdated) q.append('_lastUpdated', c.raw);
  q.append('_count', String(s.count));
  if (offset > 0) q.append('_offset', String(offset));
  return q.toString();
}

// ---- Errors -----------------------------------------------------------------------------------------

function referralError(err: unknown): unknown {
  if (err instanceof ConsentRequiredError) return new FhirError(422, { code: 'business-rule', expression: 'Consent', diagnostics: "the referral needs the person's consent (an active Consent that does not deny): nothing was stored" });
  if (err instanceof ConflictingReferralError) return new FhirError(409, { code: 'conflict', expression: 'ServiceRequest.identifier', diagnostics: 'this identifier was already used for a referral with different content; a correction needs a new identifier' });
  if (err instanceof InvalidInputError) return new FhirError(400, err.issues.map((i) => ({ code: 'value' as const, expression: referralExpression(i.path), diagnostics: i.message })));
  return err;
}

function commandFailure(err: unknown, expression: string): unknown {
  if (err instanceof CommandRefusedError) {
    const forbiddenRule = err.rule === 'supervisorOnly' || err.rule === 'caseOwnership';
    return new FhirError(forbiddenRule ? 403 : 409, { code: forbiddenRule ? 'forbidden' : 'business-rule', expression, diagnostics: `${err.rule ?? 'refused'}: ${err.reason}` });
  }
  if (err instanceof InvalidInputError) return new FhirError(400, err.issues.map((i) => ({ code: 'value' as const, expression: `${expression}.${i.path}`, diagnostics: i.message })));
  if (err instanceof CaseNotFoundError || err instanceof SchemeNotFoundError) return new FhirError(404, { code: 'not-found', expression: 'Task.id', diagnostics: 'no such resource' });
  return err;
}

/** Fastify's own refusals (parse, size, media type) as outcomes, in fixed words: their messages can quote the body. */
function describeError(error: unknown): { status: number; issues: Issue[] } {
  if (error instanceof FhirError) return { status: error.status, issues: error.issues };
  const e = error as FastifyError;
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, issues: [{ code: 'too-costly', expression: '(body)', diagnostics: 'the body is larger than this server accepts' }] };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, issues: [{ code: 'not-supported', expression: 'Content-Type', diagnostics: `send ${FHIR_JSON}` }] };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, issues: [{ code: 'required', expression: '(body)', diagnostics: 'the body is empty' }] };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, issues: [{ code: 'structure', expression: 'Content-Length', diagnostics: 'does not match the body' }] };
  }
  if (e instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') return { status: 400, issues: [{ code: 'structure', expression: '(body)', diagnostics: 'the body is not valid JSON' }] };
  const status = typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
  if (status < 500) return { status, issues: [{ code: 'invalid', expression: '(request)', diagnostics: 'the request is malformed' }] };
  return { status: 500, issues: [{ code: 'exception', diagnostics: 'the server could not complete the request' }] };
}
