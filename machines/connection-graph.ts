// The connection machine as a graph, for its graph tests: every simple path from a proposal to each
// end state, with events as the connection workflow would send them (a nudge at its due time, the
// response deadline once no nudge is left, commands at any time).
import { getSimplePaths, type StatePath } from 'xstate/graph';
import type { SnapshotFrom } from 'xstate';
import { CONNECTION_END_STATUSES, connectionMachine, type ConnectionActor, type ConnectionEvent, type ConnectionInput, type ConnectionStatus } from './connection';
import { DAY } from './policy';

export type ConnectionSnapshot = SnapshotFrom<typeof connectionMachine>;
export type ConnectionPath = StatePath<ConnectionSnapshot, ConnectionEvent>;

export const PROVIDER: ConnectionActor = { role: 'provider', id: 'provider-graph' };
export const GRAPH_START = Date.UTC(2025, 0, 6, 9);

export function connectionGraphInput(at = GRAPH_START): ConnectionInput {
  return {
    connectionId: 'case-graph:conn:svc-graph',
    serviceId: 'svc-graph',
    providerId: 'org-graph',
    category: 'connecting',
    proposedAt: at,
    responseDeadline: 14 * DAY,
    nudges: [7 * DAY, 12 * DAY],
  };
}

/** What may happen next to a connection standing at `snapshot`, `now` being the latest event's time. */
export function connectionEvents(snapshot: ConnectionSnapshot, now: number): ConnectionEvent[] {
  const c = snapshot.context;
  switch (snapshot.value as ConnectionStatus) {
    case 'proposed':
      return [{ type: 'SEND', at: now }];
    case 'sent':
      return [
        c.nudgesDue.length > 0 ? { type: 'NUDGE.DUE', at: c.nudgesDue[0]! } : { type: 'DEADLINE.RESPONSE', at: c.responseDueAt! },
        { type: 'RESPOND', accept: true, actor: PROVIDER, at: now },
        { type: 'RESPOND', accept: false, reason: 'Group is full this term', actor: PROVIDER, at: now },
      ];
    case 'accepted':
    case 'attending':
      return [
        { type: 'ATTEND', actor: PROVIDER, at: now },
        { type: 'STOP', reason: 'Moved away', actor: PROVIDER, at: now },
        ...(snapshot.value === 'attending' ? [{ type: 'COMPLETE' as const, actor: PROVIDER, at: now }] : []),
      ];
    default:
      return [];
  }
}

/** States are told apart by status, nudges sent and whether attended once or more (a loop otherwise). */
export function connectionKey(snapshot: ConnectionSnapshot): string {
  const c = snapshot.context;
  return JSON.stringify([snapshot.value, c.nudgesSent, Math.min(c.attendances, 2)]);
}

/** Every simple path from a proposal to an end state. */
export function connectionPaths(): ConnectionPath[] {
  const input = connectionGraphInput();
  const clock = new WeakMap<ConnectionSnapshot, number>();
  const paths = getSimplePaths(connectionMachine, {
    input,
    serializeState: (snapshot, event) => {
      if (!clock.has(snapshot)) clock.set(snapshot, event?.at ?? input.proposedAt);
      return connectionKey(snapshot);
    },
    events: (snapshot) => connectionEvents(snapshot, clock.get(snapshot) ?? input.proposedAt),
  });
  return paths.filter((p) => (CONNECTION_END_STATUSES as readonly string[]).includes(p.state.value as string));
}
