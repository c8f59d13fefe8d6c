// The capacity ledger's answers reach a case as signals, and not always when the case expects
// them: a place request retried after a worker crash is answered twice, and an admission from the
// waitlist can land while a safeguarding hold has the case paused. Both once stopped a case dead
// (its workflow task spun and timed out every ten seconds); here they run on the real dev server,
// with the real ledger, and the case must carry on.
import type { WorkflowHandle } from '@temporalio/client';
import { initialTransition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { pathwayMachine, stageOf, type PathwayEvent } from '../../machines';
import type { pathwayCase } from '../../workflows';
import { capacityDecisionSignal, caseWorkflowId, type CaseInput } from '../../workflows/definitions';
import { pathwayStepper } from '../../workflows/runtime/pathway-stepper';
import {
  linkWorker,
  policy,
  refer,
  referral,
  send,
  startPathwayWorker,
  supervisor,
  until,
  view,
  pathwayWorkerOnDevServer,
  openScheme,
} from '../support/pathway';

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

  it('a grant and a command that reach a run before it starts are taken grant first', async () => {
    // The case's state as it continues as new while allocating: accepted at triage, its place
    // requested and not yet answered.
    const schemeId = `ordered-${taskQueue}`;
    const facts = referral({ schemeId });
    const pol = policy({ schemeId });
    const at = Date.now();
    const step = pathwayStepper({ referral: facts, policy: pol, at });
    const [first] = initialTransition(pathwayMachine, { referral: facts, policy: pol, at });
    const [allocating] = step(first as never, { type: 'TRIAGE.ACCEPT', actor: linkWorker, at } as PathwayEvent);
    expect(stageOf(allocating)).toBe('allocating');
    const input: CaseInput = {
      referral: facts,
      policy: pol,
      carried: { value: allocating.value, context: allocating.context, timeline: [], sequence: 2, pathwayVersion: 2 },
    };

    // No worker polls this queue until the grant and the first contact are both waiting, so the
    // run's first task brings them together, as when they arrive while the case continues as new.
    const lateQueue = `${taskQueue}-late`;
    const handle = await dev.client.workflow.start<typeof pathwayCase>('pathwayCase', {
      taskQueue: lateQueue,
      workflowId: caseWorkflowId(facts.referralId),
      args: [input],
    });
    await handle.signal(capacityDecisionSignal, { kind: 'granted', linkWorkerId: 'lw-1' });
    const contact = send(handle, 'CONTACT.ATTEMPT', { outcome: 'reached', channel: 'phone', actor: linkWorker });
    contact.catch(() => {});
    await new Promise((r) => setTimeout(r, 2_000));

    const { worker, close } = await startPathwayWorker({ ...dev.server, taskQueue: lateQueue });
    try {
      // Taken command first, the contact met a case still allocating and was refused.
      const after = await worker.runUntil(contact);
      expect(after.stage).toBe('firstVisit');
      expect(after.timeline.map((t) => t.event)).toEqual(['CAPACITY.GRANTED', 'CONTACT.ATTEMPT']);

      // The test means something only if both were in the run's first task.
      const { events } = await handle.fetchHistory();
      const accepted = events!.findIndex((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
      const tasksBefore = events!.slice(0, accepted).filter((e) => e.workflowTaskCompletedEventAttributes).length;
      expect(tasksBefore).toBe(1);
      await handle.terminate('test done');
    } finally {
      await close();
    }
  });
});
