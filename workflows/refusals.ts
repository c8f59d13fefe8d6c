// Why a command was refused, in words a host system can show. The machine only says yes or no
// (`snapshot.can`), so the reason is reconstructed from what the current state accepts.
import type { PathwayEvent } from '../machines';
import { stageOf } from '../machines';

interface Issue {
  path: PropertyKey[];
  message: string;
}

/** zod issues as `field: message; field: message`, naming each field by its path. */
export function describeIssues(issues: readonly Issue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
      return `${path || '(payload)'}: ${issue.message}`;
    })
    .join('; ');
}

interface Refusable {
  value: unknown;
  context: unknown;
  can(event: PathwayEvent): boolean;
  _nodes: ReadonlyArray<{ ownEvents: readonly string[] }>;
}

// A plain list: this module is shared by every case in a worker (workflows/shared-modules.ts).
const SUPERVISOR_ONLY: readonly string[] = ['EXTENSION.APPROVE', 'EXTENSION.REFUSE', 'SAFEGUARDING.CLEAR', 'ESCALATION.ACK', 'DUPLICATE.RESOLVE'];
// Sent by the engine or the client on its own account, never by a host: not offered as a move.
const SYSTEM_EVENTS = /^(DEADLINE|CAPACITY|DUPLICATES|xstate)\./;

export function refusalReason(snapshot: Refusable, event: PathwayEvent): string {
  const stage = stageOf(snapshot as unknown as { value: never });
  const accepted = new Set(snapshot._nodes.flatMap((node) => node.ownEvents).filter((t) => !SYSTEM_EVENTS.test(t)));
  if (!accepted.has(event.type)) {
    return `not a move the pathway allows at stage '${stage}' (allowed now: ${[...accepted].sort().join(', ') || 'none'})`;
  }
  if (SUPERVISOR_ONLY.includes(event.type) && 'actor' in event && event.actor.role !== 'supervisor') {
    return `only a supervisor may do this (actor role was '${event.actor.role}')`;
  }
  return `the pathway's rules do not allow it at stage '${stage}' with this case's current details`;
}
