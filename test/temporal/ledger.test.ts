// The scheme's capacity ledger on its own: caseload caps per link worker, the waitlist in order,
// admission when a place frees, idempotent repeats, and continue-as-new without losing state.
import { describe, expect, it } from 'vitest';
import { ledgerWorkflowId } from '../../workflows/definitions';
import { caseloadsQuery, releasePlaceSignal, requestPlaceSignal, setRosterUpdate, type Caseloads, type LedgerState } from '../../workflows/ledger-definitions';
import type { capacityLedger } from '../../workflows/capacity-ledger';
import { waitForList } from '../support/temporal';
import { pathwayWorkerOnDevServer, startPathwayWorker } from '../support/pathway';

const dev = pathwayWorkerOnDevServer('ledger');
const { taskQueue } = dev;

describe('capacity ledger', () => {
  it('assigns against caps, queues in order, admits when a place frees, and survives continue-as-new', async () => {
    const schemeId = `ledger-${taskQueue}`;
    const handle = await dev.client.workflow.start<typeof capacityLedger>('capacityLedger', {
      taskQueue,
      workflowId: ledgerWorkflowId(schemeId),
      args: [{ schemeId, caseloadCap: 2, limits: { historyEvents: 40 } }],
    });
    const firstRun = handle.firstExecutionRunId;
    await handle.executeUpdate(setRosterUpdate, { args: [[{ id: 'lw-a' }, { id: 'lw-b', cap: 1 }]] });
    await expect(handle.executeUpdate(setRosterUpdate, { args: [[{ id: 'lw-a' }, { id: 'lw-a' }]] })).rejects.toMatchObject({
      cause: { message: expect.stringContaining("roster[1].id: 'lw-a' appears twice") },
    });

    const ask = (caseId: string, at: number) => handle.signal(requestPlaceSignal, { caseId, at });
    for (let i = 1; i <= 5; i++) await ask(`case-${i}`, i);
    await ask('case-1', 1); // a retried request changes nothing
    const settled = (want: (c: Caseloads) => boolean) => waitForList(() => handle.query(caseloadsQuery), want);

    let loads = await settled((c) => c.open + c.waitlist.length === 5);
    expect(loads.linkWorkers.map((w) => [w.id, w.open, w.cap])).toEqual([['lw-a', 2, 2], ['lw-b', 1, 1]]);
    expect(loads.waitlist.map((w) => w.caseId)).toEqual(['case-4', 'case-5']);
    expect(loads.full).toBe(true);

    // Churn enough signals to pass the history limit several times over.
    for (let round = 0; round < 15; round++) {
      const holder = loads.linkWorkers.flatMap((w) => w.cases)[0]!;
      await handle.signal(releasePlaceSignal, { caseId: holder });
      await ask(holder, 100 + round);
      loads = await settled((c) => c.waitlist.at(-1)?.caseId === holder);
    }
    const after = await waitForList(() => handle.describe(), (d) => d.runId !== firstRun);
    expect(after.runId).not.toBe(firstRun);
    loads = await handle.query(caseloadsQuery);
    expect(loads.open).toBe(3);
    expect(loads.waitlist).toHaveLength(2);
    expect(new Set([...loads.linkWorkers.flatMap((w) => w.cases), ...loads.waitlist.map((w) => w.caseId)]).size).toBe(5);
    expect(loads.linkWorkers.find((w) => w.id === 'lw-b')!.open).toBeLessThanOrEqual(1);

    await handle.signal(releasePlaceSignal, { caseId: loads.waitlist[0]!.caseId });
    const next = loads.waitlist[1]!.caseId;
    const holder = loads.linkWorkers.find((w) => w.id === 'lw-a')!.cases[0]!;
    await handle.signal(releasePlaceSignal, { caseId: holder });
    loads = await settled((c) => c.waitlist.length === 0);
    expect(loads.linkWorkers.flatMap((w) => w.cases)).toContain(next);
    expect(loads.full).toBe(false);
    await handle.terminate('test done');
  });

  it('applies signals that reach a run before it starts in the order they arrived', async () => {
    // No worker polls this queue until both signals are in history, so the run's first task brings
    // the start and both signals together, as when they arrive while the ledger continues as new.
    const lateQueue = `${taskQueue}-late`;
    const schemeId = `ordered-${taskQueue}`;
    const state: LedgerState = {
      roster: [{ id: 'lw-a', cap: 1 }],
      holders: { 'case-1': { linkWorkerId: 'lw-a', since: 1 } },
      waitlist: [{ caseId: 'case-2', since: 2 }],
      overloads: 1,
      full: true,
    };
    const handle = await dev.client.workflow.start<typeof capacityLedger>('capacityLedger', {
      taskQueue: lateQueue,
      workflowId: ledgerWorkflowId(schemeId),
      args: [{ schemeId, caseloadCap: 1, state }],
    });
    await handle.signal(releasePlaceSignal, { caseId: 'case-1' });
    await handle.signal(requestPlaceSignal, { caseId: 'case-1', at: 3 });

    const { worker, close } = await startPathwayWorker({ ...dev.server, taskQueue: lateQueue });
    try {
      const loads = await worker.runUntil(
        waitForList(
          () => handle.query(caseloadsQuery).catch(() => undefined),
          (c) => c !== undefined,
        ),
      );
      // Release first: the waiting case-2 takes the place, and case-1 asks again behind it. Taken
      // request first, case-1 was told it still held a place and then released from the ledger.
      expect(loads?.linkWorkers.map((w) => w.cases)).toEqual([['case-2']]);
      expect(loads?.waitlist.map((w) => w.caseId)).toEqual(['case-1']);
      await handle.terminate('test done');
    } finally {
      await close();
    }
  });
});
