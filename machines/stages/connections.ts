import type { PathwayContext } from '../context';
import type { PathwayEvent } from '../events';
import { MAX_CASE_CONNECTIONS } from '../limits';
import { connectionPolicy } from '../policy';
import { bySupervisor, payload, update, type Args } from './kit';

/*
 * What the case knows of its connections to community services: each connection's workflow
 * (workflows/connection.ts) tells its case of every change, in any stage, and the case keeps the
 * latest word of each. Under `connections.connectedNeedsAttendance` a `connected` discharge needs a
 * connection the person attended, or a supervisor's override with a reason.
 */

/** Whether the person attended any of the case's connections at least once. */
export function attendedConnection(context: Pick<PathwayContext, 'connections'>): boolean {
  return (context.connections ?? []).some((c) => c.attendances > 0);
}

/** Whether a review may discharge the case as connected, as far as its connections go. */
export function connectedDischargeAllowed(context: PathwayContext, event: PathwayEvent): boolean {
  if (!connectionPolicy(context.policy).connectedNeedsAttendance || attendedConnection(context)) return true;
  return event.type === 'REVIEW.RECORD' && event.connectionOverride !== undefined && bySupervisor(event);
}

export const connectionActions = {
  recordConnection: update({
    connections: ({ context, event }: Args) => {
      const { connection } = payload(event, 'CONNECTION.CHANGED');
      const known = context.connections ?? [];
      const others = known.filter((c) => c.connectionId !== connection.connectionId);
      // In the order they were proposed, whatever order their news arrives in.
      const all = [...others, connection].sort((a, b) => a.proposedAt - b.proposedAt || (a.connectionId < b.connectionId ? -1 : 1));
      // Bounded: past the cap the oldest ended connections give way first.
      while (all.length > MAX_CASE_CONNECTIONS) {
        const i = all.findIndex((c) => c.endedAt !== undefined);
        all.splice(i === -1 ? 0 : i, 1);
      }
      return all;
    },
  }),
};

/** Taken in every state of the case until it is discharged. */
export const connectionHandling = {
  'CONNECTION.CHANGED': { actions: 'recordConnection' },
} as const;
