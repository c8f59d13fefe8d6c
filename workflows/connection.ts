// One connection of a case to a community service, as its own durable loop: a thin driver of the
// pure connection machine (machines/connection.ts). It sends the provider the referral, wakes for
// each nudge and for the response deadline, takes the provider's and link worker's commands as
// updates, runs the machine's effects as activities, and tells its case of every change.
import { ApplicationFailure, allHandlersFinished, condition, getExternalWorkflowHandle, log, proxyActivities, setHandler } from '@temporalio/workflow';
import { initialTransition, transition, type SnapshotFrom } from 'xstate';
import type { z } from 'zod';
import {
  CONNECTION_ACCEPTS,
  CONNECTION_END_STATUSES,
  connectionCommandSchemas,
  connectionMachine,
  connectionSummary,
  dueEvent,
  nextConnectionDue,
  type ConnectionCommand,
  type ConnectionEffect,
  type ConnectionEvent,
  type ConnectionStatus,
} from '../machines/connection';
import { CONNECTION_NOTICE_TYPES } from '../machines/notices';
import { activityOptions } from '../activities/options';
import { changed, CHANGES } from './changes';
import type { PathwayActivities } from '../activities';
import type { ConnectionActivities, Suggestion } from '../activities/connections';
import { observeConnectionAnswer } from './runtime/engine-observations';
import { isExternalWorkflowGone } from './runtime/external-not-found';
import {
  connectionChangedSignal,
  connectionCommandUpdate,
  connectionViewQuery,
  serviceRemovedSignal,
  type ConnectionView,
  type ConnectionWorkflowInput,
} from './connection-definitions';

type Snapshot = SnapshotFrom<typeof connectionMachine>;

const activities = proxyActivities<Pick<PathwayActivities, 'notifySupervisor'> & ConnectionActivities>(activityOptions);

const statusOf = (snapshot: Snapshot) => snapshot.value as ConnectionStatus;
const ended = (snapshot: Snapshot) => (CONNECTION_END_STATUSES as readonly string[]).includes(statusOf(snapshot));

/** Why a command cannot be applied now, in words a provider can act on; undefined when it can. */
export function connectionRefusal(status: ConnectionStatus, command: ConnectionCommand): string | undefined {
  if (CONNECTION_ACCEPTS[status].includes(command.type)) return undefined;
  if (CONNECTION_ACCEPTS[status].length === 0) return `the connection is ${status}: it takes no more commands`;
  return `a connection that is ${status} takes ${CONNECTION_ACCEPTS[status].join(' or ')}, not ${command.type}`;
}

export async function pathwayConnection(input: ConnectionWorkflowInput): Promise<ConnectionView> {
  const { connectionId, caseId, schemeId } = input;
  let [snapshot] = initialTransition(connectionMachine, {
    connectionId,
    serviceId: input.serviceId,
    providerId: input.providerId,
    category: input.category,
    proposedAt: Date.now(),
    responseDeadline: input.responseDeadline,
    nudges: input.nudges,
  });
  const effects: ConnectionEffect[] = [];
  let suggestions: Suggestion[] = [];
  let reported = false;

  /** Applies one event; queues its effects and a report to the case when it changed anything. */
  const apply = (event: ConnectionEvent) => {
    const [next] = transition(connectionMachine, snapshot, event);
    if (next.context === snapshot.context && next.value === snapshot.value) return;
    // A service removed from the directory ends a sent connection (stopped) without an answer.
    if (statusOf(snapshot) === 'sent' && statusOf(next) !== 'sent' && statusOf(next) !== 'stopped') observeAnswer(next);
    snapshot = next;
    effects.push(...next.context.effects);
    reported = false;
  };

  /** The provider's answer (or the deadline's, for them) for the engine's metrics: no ids, no reasons. */
  const observeAnswer = (answered: Snapshot) => {
    const { sentAt, respondedAt, endedAt, autoDeclined } = answered.context;
    const outcome = autoDeclined ? 'noResponse' : statusOf(answered) === 'declined' ? 'declined' : 'accepted';
    observeConnectionAnswer(schemeId, outcome, (respondedAt ?? endedAt ?? Date.now()) - (sentAt ?? Date.now()));
  };

  const view = (): ConnectionView => ({
    ...connectionSummary(statusOf(snapshot), snapshot.context),
    caseId,
    schemeId,
    nudgesDue: snapshot.context.nudgesDue,
    attendedAt: snapshot.context.attendedAt,
    ...(snapshot.context.declineReason !== undefined && { declineReason: snapshot.context.declineReason }),
    ...(snapshot.context.serviceRemovedAt !== undefined && { serviceRemovedAt: snapshot.context.serviceRemovedAt }),
    suggestions,
  });

  setHandler(connectionViewQuery, view);
  // Patched: a worker of the code before may have received this signal and, with no handler, done nothing.
  setHandler(serviceRemovedSignal, () => {
    if (changed(CHANGES.connectionServiceRemoved)) apply({ type: 'SERVICE.REMOVED', at: Date.now() });
  });
  setHandler(
    connectionCommandUpdate,
    (command) => {
      apply({ ...command, at: Date.now() } as ConnectionEvent);
      return connectionSummary(statusOf(snapshot), snapshot.context);
    },
    {
      validator: (command) => {
        const schema = command && (connectionCommandSchemas as Record<string, z.ZodType>)[command.type];
        if (!schema) throw ApplicationFailure.nonRetryable(`type: must be one of ${Object.keys(connectionCommandSchemas).join(', ')}`, 'InvalidCommand');
        const { type: _type, ...body } = command;
        const parsed = schema.safeParse(body);
        if (!parsed.success) {
          // Field paths and rules only: a reason is free text and is never repeated back.
          const issues = parsed.error.issues.map((i: z.core.$ZodIssue) => `${i.path.map(String).join('.') || '(command)'}: ${i.message}`);
          throw ApplicationFailure.nonRetryable(issues.join('; '), 'InvalidCommand');
        }
        const refusal = connectionRefusal(statusOf(snapshot), command);
        if (refusal) throw ApplicationFailure.nonRetryable(refusal, 'ConnectionRefused', { status: statusOf(snapshot), command: command.type });
      },
    },
  );

  const key = (what: string) => `${connectionId}:${what}`;
  const envelope = (what: string) => ({ caseId, schemeId, idempotencyKey: key(what) });

  const runEffect = async (effect: ConnectionEffect) => {
    switch (effect.kind) {
      case 'sendToProvider':
        await activities.notifyProvider({
          ...envelope(`${effect.what}-${effect.n}`),
          notice: { kind: effect.what, connectionId, serviceId: input.serviceId, n: effect.n, responseDueAt: snapshot.context.responseDueAt! },
        });
        return;
      case 'suggestNextMatch':
        suggestions = await activities.suggestNextMatch({ schemeId, match: input.match, excludeServiceIds: [...new Set([...input.tried, input.serviceId])] });
        return;
      case 'tellLinkWorker':
        await activities.notifySupervisor({
          ...envelope(`tell-${effect.why}`),
          notice: {
            escalationId: connectionId,
            type: CONNECTION_NOTICE_TYPES[effect.why],
            level: 1,
            stage: 'connection',
            audience: 'linkWorker',
            connection: { connectionId, serviceId: input.serviceId, suggestions },
          },
        });
    }
  };

  /**
   * Tells the case of the connection's change. A case that has closed (or never existed) is an
   * expected end, not a fault: noted once, and not told again (patched: a connection of the code
   * before tried again at every change). Any other failure is a warning, and the next change tries again.
   */
  let caseClosed = false;
  const report = async () => {
    reported = true;
    if (caseClosed && changed(CHANGES.connectionCaseClosed)) return;
    try {
      await getExternalWorkflowHandle(caseId).signal(connectionChangedSignal, connectionSummary(statusOf(snapshot), snapshot.context));
    } catch (err) {
      if (!isExternalWorkflowGone(err)) {
        log.warn('connection could not tell its case', { connectionId, error: (err as Error)?.name ?? 'error' });
      } else if (!caseClosed) {
        caseClosed = true;
        log.info('connection stops telling its case: the case has closed', { connectionId });
      }
    }
  };

  apply({ type: 'SEND', at: Date.now() });
  for (;;) {
    while (effects.length > 0) await runEffect(effects.shift()!);
    if (!reported) await report();
    if (ended(snapshot)) break;
    const due = nextConnectionDue(statusOf(snapshot), snapshot.context);
    const woken = () => effects.length > 0 || !reported;
    const signalled = due === undefined ? await condition(woken).then(() => true) : await condition(woken, Math.max(1, due - Date.now()));
    if (!signalled && due !== undefined && Date.now() >= due) apply(dueEvent(snapshot.context, Date.now()));
  }
  await condition(allHandlersFinished);
  return view();
}
