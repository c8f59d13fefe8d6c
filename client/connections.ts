// The SDK's side of connections (docs/connections.md): a link worker proposes a service for a case,
// the provider answers, attendance is recorded, a connection stops or completes. Each connection is
// its own workflow (workflows/connection.ts); PathwayClient's methods of the same names call these.
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { activityCategorySchema, actorSchema, befriendingServiceId, caseIdSchema, connectionPolicy, safeIdSchema, type SchemePolicy } from '../machines';
import { CONNECTION_END_STATUSES, connectionCommandSchemas, type ConnectionCommand, type ConnectionCommandType, type ConnectionSummary } from '../machines/connection';
import {
  connectionCommandUpdate,
  connectionStartOptions,
  connectionViewQuery,
  connectionWorkflowId,
  serviceRemovedSignal,
  type ConnectionView,
  type ConnectionWorkflowInput,
} from '../workflows/connection-definitions';
import type { CaseView } from '../workflows/definitions';
import type { pathwayConnection } from '../workflows/connection';
import { openConnectionsQuery, providerConnectionsQuery } from './queries';
import { schemeKey } from '../workflows/search-attributes';
import { queryWorkflow } from './reads';
import { executeCommandUpdate } from './updates';
import { applicationFailureOf, ConnectionNotFoundError, ConnectionRefusedError, formatPath, InvalidInputError, isAlreadyStarted, isNotFound } from './errors';

export const proposeConnectionSchema = z
  .object({
    /** The service's id in the scheme's directory. */
    serviceId: safeIdSchema,
    category: activityCategorySchema,
    /** Who runs it (the directory's organisation id); the service itself by default. */
    providerId: safeIdSchema.optional(),
    actor: actorSchema.refine((a) => a.role === 'linkWorker' || a.role === 'supervisor', { error: 'must be a link worker or a supervisor' }),
  })
  .strict();
export type ProposeConnectionInput = z.input<typeof proposeConnectionSchema>;

/** A connection id is its workflow's id: `<case id>:conn:<service id>`. */
const connectionIdSchema = z.string().regex(/^case-[A-Za-z0-9._:-]{1,200}:conn:[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, { error: 'must be a connection id (<case id>:conn:<service id>)' });

/** Services a directory import marked removed (ImportReport.removed's ids). */
const removedServicesSchema = z.array(safeIdSchema).max(100_000);

/** A connection told that its service left the directory. */
export interface RemovedServiceConnection {
  connectionId: string;
  serviceId: string;
}

export type ConnectionCommandInput<K extends ConnectionCommandType> = z.input<(typeof connectionCommandSchemas)[K]>;

function parse<S extends z.ZodType>(what: string, schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input, { reportInput: false });
  if (result.success) return result.data;
  throw new InvalidInputError(what, result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })));
}

/** Services this case already has or had a connection to: never suggested as its next match. */
function triedServices(view: CaseView): string[] {
  return [...new Set((view.connections ?? []).map((c) => c.serviceId))];
}


export class ConnectionsApi {
  constructor(
    private readonly temporal: Client,
    private readonly taskQueue: string,
    private readonly readCase: (caseId: string) => Promise<CaseView>,
    private readonly policyFor: (schemeId: string) => SchemePolicy,
  ) {}

  /**
   * Proposes a service to the case's person: the connection's workflow sends the provider the
   * referral at once and waits for their answer until the deadline of the case's own policy,
   * nudging on the way.
   *
   * @throws InvalidInputError, CaseNotFoundError, ConnectionRefusedError (the case is closed, or an
   *   open connection to this service exists)
   */
  async propose(caseId: string, input: ProposeConnectionInput): Promise<ConnectionView> {
    const id = parse('caseId', caseIdSchema, caseId);
    const body = parse('connection', proposeConnectionSchema, input);
    const connectionId = connectionWorkflowId(id, body.serviceId);
    const view = await this.readCase(id);
    if (view.stage === 'discharged') throw new ConnectionRefusedError(connectionId, 'propose', undefined, 'the case is closed');
    // The case's own policy (the one it was referred under, perhaps scaled or varied); a worker
    // too old to say falls back to this client's policy for the scheme.
    const policy = view.connectionTimes ?? connectionPolicy(this.policyFor(view.schemeId));
    const barriers = view.firstVisit?.barriers ?? [];
    const args: ConnectionWorkflowInput = {
      connectionId,
      caseId: id,
      schemeId: view.schemeId,
      serviceId: body.serviceId,
      providerId: body.providerId ?? body.serviceId,
      category: body.category,
      responseDeadline: policy.responseDeadline,
      nudges: policy.nudges,
      match: {
        // The next match is for the same need as this connection: its category.
        needs: [body.category],
        ...(barriers.includes('mobility') && { needsStepFree: true }),
        ...(barriers.includes('money') && { needsFree: true }),
      },
      tried: triedServices(view),
      proposedBy: { role: body.actor.role as 'linkWorker' | 'supervisor', id: body.actor.id },
    };
    try {
      await this.temporal.workflow.start<typeof pathwayConnection>('pathwayConnection', connectionStartOptions(args, this.taskQueue, 'FAIL'));
    } catch (err) {
      if (isAlreadyStarted(err)) throw new ConnectionRefusedError(connectionId, 'propose', undefined, 'an open connection to this service exists', { cause: err });
      throw err;
    }
    // The referral goes out in the workflow's first task; answer once it has.
    for (let i = 0; ; i++) {
      try {
        const v = await this.get(connectionId);
        if (v.status !== 'proposed' || i >= 100) return v;
      } catch (err) {
        if (i >= 100) throw err;
      }
      await sleep(100);
    }
  }

  /** The provider's answer: `accept`, or not with an optional reason (told to the link worker, with the next match). */
  respond(connectionId: string, payload: ConnectionCommandInput<'RESPOND'>): Promise<ConnectionSummary> {
    return this.#send(connectionId, 'RESPOND', payload);
  }
  /** One attendance: the first moves an accepted connection to `attending`. */
  recordAttendance(connectionId: string, payload: ConnectionCommandInput<'ATTEND'>): Promise<ConnectionSummary> {
    return this.#send(connectionId, 'ATTEND', payload);
  }
  /** The person stopped going (or never started), with the reason. */
  stop(connectionId: string, payload: ConnectionCommandInput<'STOP'>): Promise<ConnectionSummary> {
    return this.#send(connectionId, 'STOP', payload);
  }
  /** The person finished what the service offers (a course, a block of sessions). */
  complete(connectionId: string, payload: ConnectionCommandInput<'COMPLETE'>): Promise<ConnectionSummary> {
    return this.#send(connectionId, 'COMPLETE', payload);
  }

  /**
   * A host settled the case's befriending handoff itself (BEFRIENDING.RESULT): the handoff's
   * connection, still waiting for its provider, is given the same answer, so the provider is not
   * nudged for a person already handed off and the link worker is not told of a lapse that means
   * nothing. Recorded as the case's link worker's (a connection's answer comes from a provider, a
   * link worker or a supervisor). Best effort: the case's own result stands whatever happens here,
   * and a connection that has moved on keeps its own answer.
   */
  async settleBefriending(view: CaseView, result: 'accepted' | 'unavailable', actor: { role: string; id: string }): Promise<void> {
    const serviceId = view.befriendingServiceId ?? befriendingServiceId(this.policyFor(view.schemeId));
    const connectionId = connectionWorkflowId(view.caseId, serviceId);
    if (!(view.connections ?? []).some((c) => c.connectionId === connectionId && c.status === 'sent')) return;
    const by = actor.role === 'linkWorker' || actor.role === 'supervisor' ? actor : view.linkWorkerId !== undefined ? { role: 'linkWorker', id: view.linkWorkerId } : undefined;
    if (by === undefined) return;
    await this.respond(connectionId, {
      accept: result === 'accepted',
      ...(result === 'unavailable' && { reason: 'the case recorded befriending as unavailable' }),
      actor: by as ConnectionCommandInput<'RESPOND'>['actor'],
    }).catch(() => undefined);
  }

  async get(connectionId: string): Promise<ConnectionView> {
    const id = parse('connectionId', connectionIdSchema, connectionId);
    try {
      return await queryWorkflow(this.temporal, id, connectionViewQuery);
    } catch (err) {
      if (isNotFound(err)) throw new ConnectionNotFoundError(id, { cause: err });
      throw err;
    }
  }

  /** The case's connections as the case knows them (each connection tells its case of every change). */
  async list(caseId: string): Promise<ConnectionSummary[]> {
    const view = await this.readCase(parse('caseId', caseIdSchema, caseId));
    return view.connections ?? [];
  }

  /**
   * Tells every open connection of the scheme to one of `serviceIds` that a directory import no
   * longer lists its service: one waiting for its provider stops, one already accepted stays open,
   * and either way its link worker is told with the next match (docs/connections.md). Found by a
   * visibility query on the scheme, filtered by the service id the connection id ends with.
   * Answers the connections told, in id order.
   */
  async serviceRemoved(schemeId: string, serviceIds: readonly string[]): Promise<RemovedServiceConnection[]> {
    const scheme = parse('schemeId', safeIdSchema, schemeId);
    const removed = new Set(parse('serviceIds', removedServicesSchema, serviceIds));
    if (removed.size === 0) return [];
    const found = new Map<string, RemovedServiceConnection>();
    for await (const info of this.temporal.workflow.list({ query: openConnectionsQuery(scheme, this.taskQueue) })) {
      const marker = info.workflowId.lastIndexOf(':conn:');
      const serviceId = marker < 0 ? '' : info.workflowId.slice(marker + ':conn:'.length);
      if (!removed.has(serviceId) || found.has(info.workflowId)) continue;
      // One started before connections carried their scheme: ask it which scheme it is in.
      if (info.typedSearchAttributes.get(schemeKey) === undefined) {
        const own = await this.get(info.workflowId).then((v) => v.schemeId === scheme, () => false);
        if (!own) continue;
      }
      found.set(info.workflowId, { connectionId: info.workflowId, serviceId });
    }
    const told: RemovedServiceConnection[] = [];
    for (const c of [...found.values()].sort((a, b) => (a.connectionId < b.connectionId ? -1 : 1))) {
      try {
        await this.temporal.workflow.getHandle(c.connectionId).signal(serviceRemovedSignal);
        told.push(c);
      } catch (err) {
        // It ended between the list and the signal: nothing is left to tell.
        if (!isNotFound(err)) throw err;
      }
    }
    return told;
  }

  /**
   * The provider's open connections (sent, accepted, attending), each read from its workflow: one
   * list query and one read per open connection of that provider. Visibility lags a start by a moment.
   */
  async openForProvider(providerId: string, concurrency = 8): Promise<ConnectionView[]> {
    const provider = parse('providerId', safeIdSchema, providerId);
    const ids: string[] = [];
    for await (const info of this.temporal.workflow.list({ query: providerConnectionsQuery(provider, this.taskQueue) })) ids.push(info.workflowId);
    const views: ConnectionView[] = [];
    let next = 0;
    const readNext = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        // A connection that ended between the list and the read is simply no longer open.
        const v = await this.get(id).catch(() => undefined);
        if (v && v.providerId === provider && !(CONNECTION_END_STATUSES as readonly string[]).includes(v.status)) views.push(v);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, readNext));
    return views;
  }

  async #send<K extends ConnectionCommandType>(connectionId: string, type: K, payload: ConnectionCommandInput<K>): Promise<ConnectionSummary> {
    const id = parse('connectionId', connectionIdSchema, connectionId);
    const body = parse(type, connectionCommandSchemas[type] as z.ZodType, payload) as object;
    try {
      return await executeCommandUpdate(this.temporal, id, connectionCommandUpdate, { type, ...body } as ConnectionCommand);
    } catch (err) {
      if (isNotFound(err)) {
        // A finished connection's workflow still exists; it just takes no more commands.
        const closed = await this.temporal.workflow
          .getHandle(id)
          .describe()
          .then((d) => d.status.name !== 'RUNNING')
          .catch(() => false);
        if (closed) throw new ConnectionRefusedError(id, type, undefined, 'the connection has ended: it takes no more commands', { cause: err });
        throw new ConnectionNotFoundError(id, { cause: err });
      }
      const failure = err instanceof WorkflowUpdateFailedError ? applicationFailureOf(err) : undefined;
      if (failure?.type === 'InvalidCommand') throw new InvalidInputError(type, [{ path: '(input)', message: failure.message }], { cause: err });
      if (failure?.type === 'ConnectionRefused') {
        const details = (failure.details?.[0] ?? {}) as { status?: string };
        throw new ConnectionRefusedError(id, type, details.status, failure.message, { cause: err });
      }
      throw err;
    }
  }
}
