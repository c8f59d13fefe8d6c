// Start-up: how long a restarted worker takes before it serves cases again, loading the prebuilt
// workflow bundle. Each run spawns a fresh worker process (TypeScript through tsx, as
// `npx tsx worker/main.ts` runs), with a case already waiting for it; in the same run, the time
// bundling the workflows would add at start-up if the bundle were not prebuilt.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { parsePolicy } from '../machines';
import { WORKFLOW_BUNDLE_OPTIONS, ensureWorkflowBundle } from '../worker/bundle';
import { caseViewQuery, caseWorkflowId, type CaseInput } from '../workflows/definitions';
import { benchClients, benchCodec, serverFlags, startBenchServer, startBenchWorker } from './harness';
import { bool, environment, flags, fmt, goal, latencyLine, main, num, printEnvironment, printGoals, root, sleep, summarize, writeResults } from './support';
import { digitFree } from '../machines/ids';

const GOAL_MS = 3000;

main(async () => {
  const opts = flags('npm run bench:startup -- [flags]', {
    runs: num(7, 'worker processes started one after another'),
    'compare-bundling': bool(true, 'also time bundling the workflows from source once'),
    ...serverFlags,
  });
  const env = environment();
  const codec = await benchCodec(opts.codec);
  const bundlePath = await ensureWorkflowBundle();
  const server = await startBenchServer({ name: 'startup', address: opts.address || undefined, sqlite: opts.sqlite, keepDb: opts['keep-db'] });
  const taskQueue = `bench-startup-${digitFree(randomUUID().slice(0, 6))}`;
  const clients = await benchClients({ address: server.address, namespace: server.namespace, taskQueue, codec: codec.codec });
  printEnvironment('startup', env, [server.description, codec.label, `prebuilt bundle: ${bundlePath.slice(root.length + 1)}`]);

  const policy = parsePolicy({ schemeId: 'startup' });
  const rows: Array<{ spawnToReadyMs: number; sinceProcessStartMs: number; createMs: number; firstServedMs: number }> = [];
  for (let r = 0; r < opts.runs; r++) {
    // A case waiting before the worker exists: served means its first task ran and it answers.
    const referralId = `startup-${digitFree(randomUUID().slice(0, 8))}`;
    const input: CaseInput = {
      referral: { referralId, schemeId: 'startup', route: 'GP', age: 80, area: 'Bogside', targetGroups: [], needs: ['loneliness'], flags: [], consent: true, riskFlags: [], referredAt: Date.now() },
      policy,
    };
    await clients.temporal.workflow.start('pathwayCase', { workflowId: caseWorkflowId(referralId), taskQueue, args: [input] });
    const spawned = performance.now();
    const worker = await startBenchWorker({ address: server.address, namespace: server.namespace, taskQueue, codecEnv: codec.env, workflowBundlePath: bundlePath });
    const handle = clients.temporal.workflow.getHandle(caseWorkflowId(referralId));
    for (;;) {
      try {
        await handle.query(caseViewQuery);
        break;
      } catch {
        await sleep(10);
      }
    }
    const firstServedMs = performance.now() - spawned;
    rows.push({ spawnToReadyMs: worker.spawnToReadyMs, sinceProcessStartMs: worker.sinceProcessStartMs, createMs: worker.createMs, firstServedMs });
    console.log(`  run ${r + 1}: polling ${fmt(worker.spawnToReadyMs, 0)} ms after spawn (Worker.create ${fmt(worker.createMs, 0)} ms of it); first case served at ${fmt(firstServedMs, 0)} ms`);
    await worker.stop();
    await handle.terminate('benchmark over').catch(() => undefined);
  }
  const ready = summarize(rows.map((r) => r.spawnToReadyMs));
  const create = summarize(rows.map((r) => r.createMs));
  const served = summarize(rows.map((r) => r.firstServedMs));
  console.log(`  spawn → polling:          ${latencyLine(ready)}`);
  console.log(`  Worker.create (bundle):   ${latencyLine(create)}`);
  console.log(`  spawn → first case served: ${latencyLine(served)}`);

  let bundlingMs: number | undefined;
  if (opts['compare-bundling']) {
    const t = performance.now();
    await bundleWorkflowCode({
      workflowsPath: join(root, 'workflows', 'index.ts'),
      ...WORKFLOW_BUNDLE_OPTIONS,
      logger: { trace() {}, debug() {}, info() {}, log() {}, warn() {}, error: console.error },
    });
    bundlingMs = performance.now() - t;
    console.log(`  bundling from source instead (once): ${fmt(bundlingMs, 0)} ms, ${fmt(bundlingMs / create.p50, 1)}x the prebuilt Worker.create`);
  }

  const goals = [goal('worker start from the prebuilt bundle (spawn → polling, p50)', ready.p50, '<=', GOAL_MS, 'ms')];
  printGoals(goals);
  writeResults('startup', { environment: env, params: { ...opts, server: server.description, codec: codec.label }, figures: { runs: rows, ready, create, served, bundlingMs }, goals });
  await clients.close();
  await server.stop();
});
