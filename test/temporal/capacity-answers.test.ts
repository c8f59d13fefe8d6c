// The capacity ledger's answers reach a case as signals, and not always when the case expects
// them: a place request retried after a worker crash is answered twice, and an admission from the
// waitlist can land while a safeguarding hold has the case paused. Both once stopped a case dead
// (its workflow task spun and timed out every ten seconds); here they run on the real dev server,
// with the real ledger, and the case must carry on.
import type { WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { capacityDecisionSignal } from '../../workflows/definitions';
import { linkWorker, refer, referral, send, supervisor, until, view, pathwayWorkerOnDevServer, openScheme } from '../support/pathway';

const dev = pathwayWorkerOnDevServer('capacity');
const { taskQueue } = dev;

/** Workflow tasks that failed or timed out in the case's history: a healthy case has none. */
async function troubledTasks(handle: WorkflowHandle): Promise<string[]> {
  const { events } = await handle.fetchHistory();
  return events!
    .filter((e) => e.workflowTaskFailedEventAttributes || e.workflowTaskTimedOutEventAttributes)
    .map((e) => `event ${e.eventId}: ${e.workflowTaskFailedEventAttributes?.failure?.message ?? 'workflow task timed out'}`);
}

describe('capacity answers', () => {
  it('a repeated grant for a place the case already holds changes nothing, and the case goes on', async () => {
    const schemeId = `repeat-${taskQueue}`;
    const pol = await openScheme(dev.client, taskQueue, schemeId);
    const handle = await refer(dev.client, taskQueue, referral({ schemeId }), pol);
    await send(handle, 'TRIAGE.ACCEPT', { actor: linkWorker });
    const held = await until(handle, (v) => v.stage === 'firstContact');

    // What the ledger sends when the case's place request is retried after a crash.
    await handle.signal(capacityDecisionSignal, { kind: 'granted', linkWorkerId: held.linkWorkerId! });
    const after = await send(handle, 'CONTACT.ATTEMPT', { outcome: 'reached', channel: 'phone', actor: linkWorker });
    expect(after.stage).toBe('firstVisit');
    expect(after.linkWorkerId).toBe(held.linkWorkerId);
    expect(after.timeline.filter((t) => t.event === 'CAPACITY.GRANTED')).toHaveLength(1);
    expect(await troubledTasks(handle)).toEqual([]);
  });

  it('an admission from the waitlist during a safeguarding hold is applied when the hold clears', async () => {
    const schemeId = `hold-${taskQueue}`;
    const pol = await openScheme(dev.client, taskQueue, schemeId, { caseloadCap: 1 });
    const first = await refer(dev.client, taskQueue, referral({ schemeId }), pol);
    await send(first, 'TRIAGE.ACCEPT', { actor: linkWorker });
    await until(first, (v) => v.stage === 'firstContact');
    const second = await refer(dev.client, taskQueue, referral({ schemeId }), pol);
    await send(second, 'TRIAGE.ACCEPT', { actor: linkWorker });
    await until(second, (v) => v.stage === 'waitlisted');

    await send(second, 'SAFEGUARDING.RAISE', { category: 'neglect', actor: linkWorker });
    // Discharging the first case frees the only place; the ledger admits the second at once,
    // while it is on hold.
    await send(first, 'DISCHARGE', { reason: 'withdrew', actor: linkWorker });
    await until(first, (v) => v.stage === 'discharged');
    // The grant has no move while the case is on hold; the case keeps it and still answers.
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await view(second)).stage).toBe('onHold');
    expect(await troubledTasks(second)).toEqual([]);

    const cleared = await send(second, 'SAFEGUARDING.CLEAR', { actor: supervisor });
    const admitted = cleared.stage === 'firstContact' ? cleared : await until(second, (v) => v.stage === 'firstContact');
    expect(admitted.linkWorkerId).toBe('lw-1');
    expect(await troubledTasks(second)).toEqual([]);
  });
});
