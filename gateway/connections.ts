// The FHIR face of connections (docs/connections.md): each connection to a community service is an
// onward-referral Task, `partOf` its case's referral Task, owned by the provider's organisation, as
// Gravity's referral management shapes a second-level referral. A provider reads its own, polls its
// open ones and answers through the Task's status; staff of the scheme and the case's referrer read
// a case's. Everything goes through PathwayClient; the actor is the token's, never the body's.
import {
  CaseNotFoundError,
  ConnectionNotFoundError,
  ConnectionRefusedError,
  InvalidInputError,
  PathwayClient,
  type CaseView,
  type ConnectionView,
} from '../client';
import { caseIdSchema, safeIdSchema } from '../machines';
import { CONNECTION_ACCEPTS, type ConnectionCommandType, type ConnectionStatus, type ConnectionSummary } from '../machines/connection';
import { forbidden, maySee, requireRole, requireScheme, type Caller } from './auth';
import { FhirError, invalid } from './fhir/outcome';
import { CONNECTION_TASK_STATUS, connectionFhirIdOf, connectionIdOfFhirId, connectionLastModified, fhirIdOf, IDENTIFIER_SYSTEMS, onwardReferralTaskFor } from './fhir/resources';
import { mapLimit } from './task-search';

/** The statuses a provider (or staff for them) may set on an onward-referral Task. */
export const CONNECTION_MOVES = ['accepted', 'rejected', 'in-progress', 'completed', 'cancelled', 'failed'] as const;
export type ConnectionMove = (typeof CONNECTION_MOVES)[number];

/** The command each move sends; cancelled and failed both stop the connection (it then reads failed). */
const COMMAND_OF: Record<ConnectionMove, ConnectionCommandType> = {
  accepted: 'RESPOND',
  rejected: 'RESPOND',
  'in-progress': 'ATTEND',
  completed: 'COMPLETE',
  cancelled: 'STOP',
  failed: 'STOP',
};

/** Where each move leaves the connection: a retried stop (cancelled, which reads failed) changes nothing. */
const STATUS_AFTER: Record<ConnectionMove, ConnectionStatus> = {
  accepted: 'accepted',
  rejected: 'declined',
  'in-progress': 'attending',
  completed: 'completed',
  cancelled: 'stopped',
  failed: 'stopped',
};

/** What a PATCH or PUT asks of an onward referral: the status to move to, a reason, and what it expects now. */
export interface ConnectionAnswer {
  status: ConnectionMove;
  reason?: string;
  /** A JSON Patch `test` of /status: the move applies only if the Task's status is this. */
  expectStatus?: string;
}

/** A provider's poll covers what it has to act on: open onward referrals. */
export const OPEN_CONNECTION_STATUSES = ['requested', 'accepted', 'in-progress'] as const;

type Task = ReturnType<typeof onwardReferralTaskFor>;

function move(value: unknown, expression: string): ConnectionMove {
  if (typeof value !== 'string' || !(CONNECTION_MOVES as readonly string[]).includes(value)) {
    throw new FhirError(422, { code: 'business-rule', expression, diagnostics: `an onward referral's status may be set to ${CONNECTION_MOVES.join(', ')}` });
  }
  return value as ConnectionMove;
}

function reasonText(value: unknown, expression: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw invalid(expression, 'must be a non-empty string', 'value');
  return value;
}

/** A JSON Patch on an onward-referral Task: `/status`, optionally `/statusReason` (or its text), optionally a `test` of `/status`. */
export function answerFromPatch(ops: unknown[]): ConnectionAnswer {
  let status: ConnectionMove | undefined;
  let reason: string | undefined;
  let expectStatus: string | undefined;
  ops.forEach((op, i) => {
    const o = op as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw invalid(`(body)[${i}]`, 'must be a JSON Patch operation', 'structure');
    const path = o['path'];
    if (o['op'] === 'test' && path === '/status') {
      if (typeof o['value'] !== 'string') throw invalid(`(body)[${i}].value`, 'must be a Task status', 'value');
      expectStatus = o['value'];
      return;
    }
    if (o['op'] !== 'replace' && o['op'] !== 'add') throw new FhirError(422, { code: 'not-supported', expression: 'Task', diagnostics: 'an onward referral takes replace or add of /status and /statusReason, and test of /status' });
    if (path === '/status') status = move(o['value'], 'Task.status');
    else if (path === '/statusReason') reason = reasonText((o['value'] as Record<string, unknown> | null)?.['text'], 'Task.statusReason.text');
    else if (path === '/statusReason/text') reason = reasonText(o['value'], 'Task.statusReason.text');
    else throw new FhirError(422, { code: 'not-supported', expression: 'Task', diagnostics: 'only the status and statusReason of an onward referral can be patched' });
  });
  if (status === undefined) throw invalid('Task.status', 'the patch must set /status', 'required');
  return { status, ...(reason !== undefined && { reason }), ...(expectStatus !== undefined && { expectStatus }) };
}

/** A PUT of the whole Task: only its status and statusReason.text are read. */
export function answerFromPut(body: Record<string, unknown>): ConnectionAnswer {
  const reason = reasonText((body['statusReason'] as Record<string, unknown> | undefined)?.['text'], 'Task.statusReason.text');
  return { status: move(body['status'], 'Task.status'), ...(reason !== undefined && { reason }) };
}

const notFound = (expression: string) => new FhirError(404, { code: 'not-found', expression, diagnostics: 'no such resource' });

/** Newest change first, then by id, so pages are stable. */
const byLastChange = (a: ConnectionView, b: ConnectionView) => connectionLastModified(b) - connectionLastModified(a) || (a.connectionId < b.connectionId ? -1 : 1);

export interface ConnectionFaceOptions {
  client: PathwayClient;
  /** How many connection reads run at once. */
  concurrency: number;
}

export function connectionFace({ client, concurrency }: ConnectionFaceOptions) {
  /** May this caller see this connection? A provider its own; staff their schemes'; a host the cases it referred. */
  const mayRead = async (who: Caller, view: ConnectionView): Promise<boolean> => {
    switch (who.actor.role) {
      case 'provider':
        // Its organisation's, in a scheme it is bound to: directory ids are each council's own, so
        // the same organisation id in another scheme's directory is another organisation.
        return view.providerId === who.organisation && maySee(who, view.schemeId);
      case 'linkWorker':
      case 'supervisor':
        return maySee(who, view.schemeId);
      case 'host':
        return maySee(who, view.schemeId) && (await client.referrerOf(view.caseId)) === who.actor.id;
      default:
        return false;
    }
  };

  /** The connection behind a FHIR id, if this caller may see it; to anyone else it does not exist (404). */
  const find = async (who: Caller, fhirId: string, expression: string): Promise<ConnectionView> => {
    const connectionId = connectionIdOfFhirId(fhirId);
    // A digest id (a connection id too long to encode) is found among the provider's own open ones.
    if (connectionId === undefined && who.actor.role === 'provider' && who.organisation !== undefined) {
      const own = (await client.openConnectionsOf(who.organisation)).find((v) => connectionFhirIdOf(v.connectionId) === fhirId && maySee(who, v.schemeId));
      if (own) return own;
    }
    if (connectionId === undefined) throw notFound(expression);
    let view: ConnectionView;
    try {
      view = await client.getConnection(connectionId);
    } catch (err) {
      if (err instanceof ConnectionNotFoundError || err instanceof InvalidInputError) throw notFound(expression);
      throw err;
    }
    if (!(await mayRead(who, view))) throw notFound(expression);
    return view;
  };

  const read = async (who: Caller, fhirId: string): Promise<Task> => onwardReferralTaskFor(await find(who, fhirId, 'Task.id'));

  /** A provider's (or staff's) move on the Task: the matching client call, or a refusal naming the status and the move. */
  const answer = async (who: Caller, fhirId: string, wanted: ConnectionAnswer): Promise<Task> => {
    requireRole(who, ['provider', 'linkWorker', 'supervisor'], 'answering an onward referral');
    const view = await find(who, fhirId, 'Task.id');
    const current = CONNECTION_TASK_STATUS[view.status];
    if (wanted.expectStatus !== undefined && wanted.expectStatus !== current) {
      throw new FhirError(409, { code: 'conflict', expression: 'Task.status', diagnostics: `the onward referral's status is ${current}, not ${wanted.expectStatus}: nothing was changed` });
    }
    // Setting the status it already has changes nothing (a retried request); more attendances are `$record-attendance`.
    if (wanted.status === current || view.status === STATUS_AFTER[wanted.status]) return onwardReferralTaskFor(view);
    const command = COMMAND_OF[wanted.status];
    const refused = () =>
      new FhirError(409, {
        code: 'business-rule',
        expression: 'Task.status',
        diagnostics: `an onward referral that is ${current} (${view.status}) cannot move to ${wanted.status}${CONNECTION_ACCEPTS[view.status].length === 0 ? ': it has ended' : ''}`,
      });
    if (!CONNECTION_ACCEPTS[view.status].includes(command)) throw refused();
    if (command === 'STOP' && wanted.reason === undefined) throw invalid('Task.statusReason.text', `moving an onward referral to ${wanted.status} needs a reason`, 'required');
    const actor = { role: who.actor.role, id: who.actor.id };
    try {
      await send(view.connectionId, wanted, actor);
    } catch (err) {
      if (err instanceof ConnectionRefusedError) throw refused();
      if (err instanceof InvalidInputError) throw new FhirError(400, err.issues.map((i) => ({ code: 'value' as const, expression: i.path === 'reason' ? 'Task.statusReason.text' : 'Task', diagnostics: i.message })));
      if (err instanceof ConnectionNotFoundError) throw notFound('Task.id');
      throw err;
    }
    return onwardReferralTaskFor(await client.getConnection(view.connectionId));
  };

  const send = (connectionId: string, wanted: ConnectionAnswer, actor: { role: 'provider' | 'linkWorker' | 'supervisor'; id: string }): Promise<ConnectionSummary> => {
    const reason = wanted.reason !== undefined ? { reason: wanted.reason } : {};
    switch (wanted.status) {
      case 'accepted':
        return client.respondToConnection(connectionId, { accept: true, ...reason, actor });
      case 'rejected':
        return client.respondToConnection(connectionId, { accept: false, ...reason, actor });
      case 'in-progress':
        return client.recordAttendance(connectionId, { actor });
      case 'completed':
        return client.completeConnection(connectionId, { actor });
      case 'cancelled':
      case 'failed':
        return client.stopConnection(connectionId, { reason: wanted.reason!, actor });
    }
  };

  /** One more attendance (the first moves an accepted onward referral to in-progress). Not idempotent: a POST. */
  const recordAttendance = async (who: Caller, fhirId: string): Promise<Task> => {
    requireRole(who, ['provider', 'linkWorker', 'supervisor'], 'recording attendance');
    const view = await find(who, fhirId, 'Task.id');
    const refused = () =>
      new FhirError(409, { code: 'business-rule', expression: 'Task.status', diagnostics: `an onward referral that is ${CONNECTION_TASK_STATUS[view.status]} (${view.status}) takes no attendance` });
    if (!CONNECTION_ACCEPTS[view.status].includes('ATTEND')) throw refused();
    try {
      await client.recordAttendance(view.connectionId, { actor: { role: who.actor.role, id: who.actor.id } });
    } catch (err) {
      if (err instanceof ConnectionRefusedError) throw refused();
      throw err;
    }
    return onwardReferralTaskFor(await client.getConnection(view.connectionId));
  };

  /** `part-of=Task/{case Task id}`: a case's onward referrals, for its referrer and its scheme's staff. */
  const partOf = async (who: Caller, reference: string, statuses: readonly string[] | undefined): Promise<Task[]> => {
    if (who.actor.role === 'provider') throw forbidden('part-of', 'a provider searches its own onward referrals: owner=Organization/{its id}');
    const id = caseIdSchema.safeParse(reference.replace(/^Task\//, ''), { reportInput: false });
    if (!id.success) return [];
    let view: CaseView;
    try {
      view = await client.getCase(id.data);
    } catch (err) {
      if (err instanceof CaseNotFoundError || err instanceof InvalidInputError) return [];
      throw err;
    }
    if (fhirIdOf(view.caseId) !== reference.replace(/^Task\//, '')) return [];
    requireScheme(who, view.schemeId, 'part-of');
    if (who.actor.role === 'host' && (await client.referrerOf(view.caseId)) !== who.actor.id) {
      throw forbidden('part-of', "only the client that made this referral, or staff of its scheme, may read its onward referrals");
    }
    // Each connection read from itself: the case hears of a change one signal later.
    const views = await mapLimit(view.connections ?? [], concurrency, (c) =>
      client.getConnection(c.connectionId).catch((): ConnectionView => ({ ...c, caseId: view.caseId, schemeId: view.schemeId, nudgesDue: [], attendedAt: [], suggestions: [] })),
    );
    return views
      .sort(byLastChange)
      .map(onwardReferralTaskFor)
      .filter((t) => statuses === undefined || statuses.includes(t.status));
  };

  /** `owner=Organization/{id}` from a provider: its own open onward referrals, newest change first. */
  const ownOpen = async (who: Caller, owner: string, statuses: readonly string[] | undefined): Promise<Task[]> => {
    requireRole(who, ['provider'], 'searching onward referrals by owner');
    const value = owner.includes('|') ? owner.split('|').pop()! : owner.replace(/^Organization\//, '');
    if (owner.includes('|') && !['', IDENTIFIER_SYSTEMS.provider].includes(owner.slice(0, owner.lastIndexOf('|')))) throw invalid('owner', `must name the organisation by its id (system ${IDENTIFIER_SYSTEMS.provider})`, 'value');
    const id = safeIdSchema.safeParse(value, { reportInput: false });
    if (!id.success) throw invalid('owner', 'must name an organisation by its id', 'value');
    if (id.data !== who.organisation) throw forbidden('owner', "a provider searches only its own organisation's onward referrals");
    const wanted = statuses ?? OPEN_CONNECTION_STATUSES;
    if (!wanted.every((s) => (OPEN_CONNECTION_STATUSES as readonly string[]).includes(s))) {
      throw invalid('status', `a provider's search covers its open onward referrals: ${OPEN_CONNECTION_STATUSES.join(', ')}`, 'value');
    }
    const views = (await client.openConnectionsOf(id.data)).filter((v) => maySee(who, v.schemeId));
    return views
      .sort(byLastChange)
      .map(onwardReferralTaskFor)
      .filter((t) => wanted.includes(t.status));
  };

  return { read, answer, recordAttendance, partOf, ownOpen };
}

/** A search of onward referrals: by the case they are part of (staff, referrer) or by owner (a provider). */
export interface ConnectionSearch {
  partOf?: string;
  owner?: string;
  statuses?: string[];
  count: number;
  offset: number;
}

const CONNECTION_SEARCH_PARAMS = ['part-of', 'owner', 'status', '_count', '_offset', '_format'];

/** Is this Task search one of onward referrals? It names `part-of`, or a provider is asking. */
export function isConnectionSearch(who: Caller, query: Record<string, unknown>): boolean {
  return query['part-of'] !== undefined || who.actor.role === 'provider';
}

export function parseConnectionSearch(query: Record<string, unknown>, defaults: { count: number; max: number }): ConnectionSearch {
  const one = (name: string): string | undefined => {
    const v = query[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw invalid(name, 'may be given once', 'value');
    return v;
  };
  for (const key of Object.keys(query)) {
    if (!CONNECTION_SEARCH_PARAMS.includes(key)) throw invalid('Task?', `a search parameter is not supported for onward referrals (supported: ${CONNECTION_SEARCH_PARAMS.join(', ')})`, 'not-supported');
  }
  const partOf = one('part-of');
  const owner = one('owner');
  if ((partOf === undefined) === (owner === undefined)) throw invalid('Task?', 'an onward-referral search names either part-of=Task/{id} or owner=Organization/{id}', 'required');
  const status = one('status');
  const count = one('_count');
  if (count !== undefined && (!/^\d{1,4}$/.test(count) || Number(count) < 1 || Number(count) > defaults.max)) throw invalid('_count', `must be a whole number from 1 to ${defaults.max}`, 'value');
  const offset = one('_offset');
  if (offset !== undefined && !/^\d{1,7}$/.test(offset)) throw invalid('_offset', 'must be a whole number', 'value');
  const format = one('_format');
  if (format !== undefined && !['json', 'application/fhir+json', 'application/json'].includes(format)) throw invalid('_format', 'only JSON is served', 'not-supported');
  return {
    ...(partOf !== undefined && { partOf }),
    ...(owner !== undefined && { owner }),
    ...(status !== undefined && { statuses: status.split(',') }),
    count: count === undefined ? defaults.count : Number(count),
    offset: offset === undefined ? 0 : Number(offset),
  };
}

export function connectionSearchQuery(s: ConnectionSearch, offset: number): string {
  const q = new URLSearchParams();
  if (s.partOf !== undefined) q.append('part-of', s.partOf);
  if (s.owner !== undefined) q.append('owner', s.owner);
  if (s.statuses) q.append('status', s.statuses.join(','));
  q.append('_count', String(s.count));
  if (offset > 0) q.append('_offset', String(offset));
  return q.toString();
}
