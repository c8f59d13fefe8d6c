// A pathway change shipped while cases are running: a case started by a worker running the code
// from before the change finishes on a worker running the code after it, and a new case gets the
// new behaviour. The "before" bundle is the same workflow code with every patch unmade.
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scalePolicy, WEEK } from '../../machines';
import { WORKFLOW_BUNDLE_OPTIONS } from '../../worker/bundle';
import { createPathwayWorker } from '../../worker/create';
import { MemorySink } from '../../activities/outbox';
import { connectDevServer, uniqueTaskQueue, type DevServerHarness } from '../support/temporal';
import { dataConverter, driveTo, linkWorker, policy, refer, referral, send, setRoster, testCodec, until, view } from '../support/pathway';

const root = join(__dirname, '..', '..');
let harness: DevServerHarness;
let client: Client;
let beforeBundle: string;

beforeAll(async () => {
  harness = await connectDevServer();
  client = new Client({ connection: harness.connection, namespace: harness.namespace, dataConverter: await dataConverter() });
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(root, 'workflows', 'index.ts'),
    ...WORKFLOW_BUNDLE_OPTIONS,
    logger: { trace() {}, debug() {}, info() {}, log() {}, warn() {}, error: console.error },
    webpackConfigHook: (config) => {
      config.resolve = config.resolve ?? {};
      // The case's parts (workflows/case/) import it as '../changes'.
      const before = join(root, 'test', 'fixtures', 'versioning', 'changes-before.ts');
      config.resolve.alias = { ...(config.resolve.alias as object), './changes$': before, '../changes$': before };
      return config;
    },
  });
  mkdirSync(join(root, '.cache', 'bundle'), { recursive: true });
  beforeBundle = join(root, '.cache', 'bundle', 'workflows-before-changes.js');
  writeFileSync(beforeBundle, code);
}, 120_000);
afterAll(async () => harness?.close());

async function workerOn(taskQueue: string, workflowBundlePath?: string) {
  const sink = new MemorySink();
  const { worker, close } = await createPathwayWorker({
    address: harness.connection.options.address,
    namespace: harness.namespace,
    taskQueue,
    codec: await testCodec(),
    sink,
    ...(workflowBundlePath && { workflowBundlePath }),
  });
  const running = worker.run();
  return {
    sink,
    async stop() {
      worker.shutdown();
      await running;
      await close();
    },
  };
}

describe('changing the pathway while cases run', () => {
  it('a case started before a change finishes after it; new cases get the change', async () => {
    const taskQueue = uniqueTaskQueue('versions');
    // On the real dev server, with a week lasting a second: the review falls due twelve seconds in.
    const schemeId = `versions-${taskQueue}`;
    const pol = scalePolicy(policy({ schemeId }), WEEK / 1000);
    const old = await workerOn(taskQueue, beforeBundle);
    await setRoster(client, taskQueue, schemeId, pol.caseloadCap, [{ id: 'lw-1' }]);
    const started = await refer(client, taskQueue, referral({ schemeId }), pol);
    await driveTo(started, 'support');
    expect(old.sink.messages.filter((m) => m.caseId === started.workflowId).map((m) => (m.body as { kind?: string }).kind)).not.toContain('received');
    expect((await view(started)).pathwayVersion).toBe(1);
    await old.stop();

    // The new code replays the old case's history from the start: without the patch guard, its
    // extra receipt activity would not match that history and the case would be stuck.
    const current = await workerOn(taskQueue);
    await send(started, 'SESSION.LOG', { kind: 'phone', attended: true, durationMinutes: 30, withVolunteer: false, actor: linkWorker });
    await until(started, (v) => v.stage === 'review', undefined, 30_000);
    const done = await send(started, 'REVIEW.RECORD', { measures: [], goalsMet: 'all', outcome: 'discharge', actor: linkWorker });
    expect(done.stage).toBe('discharged');
    expect((await started.result()).pathwayVersion).toBe(1);

    const fresh = await refer(client, taskQueue, referral({ schemeId }), pol);
    await until(fresh, (v) => v.stage === 'triage');
    expect((await view(fresh)).pathwayVersion).toBe(2);
    await until(fresh, () => current.sink.messages.some((m) => m.caseId === fresh.workflowId && (m.body as { kind?: string }).kind === 'received'));
    await send(fresh, 'DISCHARGE', { reason: 'withdrew', actor: linkWorker });
    await current.stop();
  });
});
