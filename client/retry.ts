// Asking again after a failure that is over a moment later: one loop for the client's reads
// (client/reads.ts) and commands (client/updates.ts), each with its own waits and its own test
// of which failures pass.
import { setTimeout as sleep } from 'node:timers/promises';

/** `attempt`'s answer, asked again after each of `delaysMs` while `passing` says the failure will pass; then the last error. */
export async function retrying<T>(delaysMs: readonly number[], passing: (err: unknown) => boolean, attempt: () => Promise<T>): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const delay = delaysMs[n];
      if (delay === undefined || !passing(err)) throw err;
      await sleep(delay);
    }
  }
}
