// Reading a workflow's own answer (a query), as every read of the client does. A query can fail for
// a reason that is over a moment later: the worker refuses to answer from state a replay would not
// reach (workflows/runtime/before-commands.ts: right after a worker restart, a read can arrive
// with history no workflow task has taken yet), the read fails, and the next one is answered from
// a replay. The client sees every failed query as a QueryNotRegisteredError, its message the
// failure's own (with a codec, "Encoded failure"), so it cannot tell that refusal from a workflow
// with no such query: it asks again a few times, then gives the caller the last error.
import { QueryNotRegisteredError, type Client } from '@temporalio/client';
import type { QueryDefinition } from '@temporalio/common';
import { retrying } from './retry';

/** Waits between attempts: about 1.5 s in all, long enough for a restarted worker to replay a case. */
const RETRY_DELAYS_MS = [50, 100, 200, 400, 800] as const;

/** The workflow's answer to `query`, asking again while the worker refuses a stale read. */
export function queryWorkflow<T>(temporal: Client, workflowId: string, query: QueryDefinition<T>): Promise<T> {
  return retrying(RETRY_DELAYS_MS, (err) => err instanceof QueryNotRegisteredError, () => temporal.workflow.getHandle(workflowId).query(query));
}
