// Sending a command to a case or a connection, as every command of the client does. Under load the
// server can give up on an update's call before the workflow has answered it (gRPC
// DEADLINE_EXCEEDED, "context deadline exceeded"), though the update may already be held or even
// applied; the SDK then throws WorkflowUpdateRPCTimeoutOrCancelledError and the caller cannot tell
// whether the command counted. So every command carries its own update id, and a call the server
// timed out is sent again under the same id: the server answers a known id with that update's own
// outcome instead of applying it again. Found by the seeds' whole programme on the cluster: at full
// load, calls the server timed out failed their cases though the cases were sound.
//
// Within one run of the workflow the server's record makes this exact. A case that continued as new
// between two attempts no longer holds the first one's id, so only a host's command id (which the
// case remembers across runs) makes that rare repeat harmless; without one it is judged afresh.
import { randomUUID } from 'node:crypto';
import { WorkflowUpdateRPCTimeoutOrCancelledError, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { retrying } from './retry';

/** Waits before each new attempt: about 4 s in all, beyond a stall that outlasted the server's own wait. */
const RETRY_DELAYS_MS = [250, 1000, 3000] as const;

/** gRPC's DEADLINE_EXCEEDED status code. */
const DEADLINE_EXCEEDED = 4;

/** The workflow's answer to the update, sent again under the same id while the server times the call out. */
export function executeCommandUpdate<R, P>(
  temporal: Client,
  workflowId: string,
  update: UpdateDefinition<R, [P]>,
  payload: P,
  updateId: string = randomUUID(),
): Promise<R> {
  return retrying(RETRY_DELAYS_MS, timedOutByServer, () => temporal.workflow.getHandle(workflowId).executeUpdate(update, { args: [payload], updateId }));
}

/** A deadline the call ran out of, not one the caller cancelled (CANCELLED is the caller's own choice). */
function timedOutByServer(err: unknown): boolean {
  return err instanceof WorkflowUpdateRPCTimeoutOrCancelledError && (err.cause as { code?: unknown } | undefined)?.code === DEADLINE_EXCEEDED;
}
