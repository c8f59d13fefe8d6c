// The foundation's proof: the provisioned servers run real workflows through a real worker.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeStateQuery, probeWakeSignal, probeWorkflow } from '../fixtures/probe-workflows';
import { connectDevServer, createTestWorker, createTimeSkippingEnv, uniqueTaskQueue, waitForList, type DevServerHarness } from '../support/temporal';

describe('dev server (Temporal CLI, provisioned)', () => {
  let harness: DevServerHarness;
  beforeAll(async () => {
    harness = await connectDevServer();
  });
  afterAll(async () => harness?.close());

  it('runs a workflow to completion through a worker, answers a query, and lists it through visibility', async () => {
    const taskQueue = uniqueTaskQueue('smoke');
    const worker = await createTestWorker({ connection: harness.nativeConnection, namespace: harness.namespace, taskQueue });
    await worker.runUntil(async () => {
      const workflowId = `smoke-${taskQueue}`;
      const handle = await harness.client.workflow.start(probeWorkflow, {
        taskQueue,
        workflowId,
        args: [{ sleepMs: 50, waitForSignal: true }],
      });
      const awake = await waitForList(() => handle.query(probeStateQuery), (s) => s.phase === 'awake');
      expect(awake).toEqual({ phase: 'awake', woke: 0 });
      await handle.signal(probeWakeSignal);
      expect(await handle.result()).toBe('slept 50ms');
      expect(await handle.query(probeStateQuery)).toEqual({ phase: 'done', woke: 1 });

      const listed = await waitForList(
        async () => {
          const found: string[] = [];
          for await (const wf of harness.client.workflow.list({ query: `WorkflowId = '${workflowId}' AND PathwayStage = 'probe'` })) {
            found.push(`${wf.workflowId}:${wf.status.name}`);
          }
          return found;
        },
        (found) => found.length > 0 && found[0]!.endsWith('COMPLETED'),
      );
      expect(listed).toEqual([`${workflowId}:COMPLETED`]);
    });
  });
});

describe('time-skipping test server (Java, from Maven Central)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => env?.teardown());

  it('skips six weeks of durable timer in well under a minute', async () => {
    const taskQueue = uniqueTaskQueue('skip');
    const worker = await createTestWorker({ connection: env.nativeConnection, taskQueue });
    const sixWeeks = 6 * 7 * 24 * 3600 * 1000;
    const started = Date.now();
    const result = await worker.runUntil(
      env.client.workflow.execute(probeWorkflow, { taskQueue, workflowId: `skip-${taskQueue}`, args: [{ sleepMs: sixWeeks, waitForSignal: false }] }),
    );
    const wallMs = Date.now() - started;
    console.log(`time-skipping: ${sixWeeks / 3600_000}h of timer in ${wallMs}ms of wall time`);
    expect(result).toBe(`slept ${sixWeeks}ms`);
    expect(wallMs).toBeLessThan(30_000);
  });
});
