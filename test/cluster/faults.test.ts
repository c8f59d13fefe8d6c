// The engine on the production topology (scripts/cluster.ts: PostgreSQL, two Temporal server
// processes in one ring behind a frontend balancer, two worker processes) while commands flow
// through a cohort of cases at every stage, and four faults strike in turn:
//   1. kill -9 of one server process (then started again, as a supervisor would);
//   2. PostgreSQL restarted (fast shutdown, then started again);
//   3. kill -9 of one of the two workers (started again by its keeper);
//   4. a network-like stall: one server process SIGSTOPped for 30 s, then SIGCONTed.
// Afterwards every case has ended as its scenario says, with exactly the escalations its deadlines
// call for (so every deadline that fell due fired once), every command was applied once (update
// ids made of the command and the sequence it was decided at) or refused with an error the caller
// saw, every notice reached the outbox exactly once (idempotency keys), no workflow task failed,
// and every history replays. Run with `npm run test:cluster` (not part of `npm test`).
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PathwayClient, PersonKey } from '../../client';
import { ensureWorkflowBundle } from '../../worker/bundle';
import { startCluster, type Cluster } from '../../scripts/cluster';
import { quietRuntime } from '../support/temporal';
import { readOutbox } from '../../activities/outbox';
import { mapLimit } from '../../client/pool';
import {
  auditOutbox,
  codecOf,
  isTurnedBackTask,
  cohortPolicy,
  KeptWorker,
  newKeys,
  newStats,
  planCohort,
  progress,
  replayCases,
  ROOT,
  runCohort,
  seededRng,
  sleep,
  workerEnv,
  workflowTaskFailures,
  writeKeyFile,
  type CaseAudit,
  type CohortRig,
} from '../support/faults';

const CASES = Number(process.env.CLUSTER_FAULT_CASES ?? 200);
const REVIEW_MS = 20_000;
const STALL_MS = 30_000;
const schemeId = 'cluster';
const taskQueue = 'cluster-faults';

// Under the project's git-ignored .data: PostgreSQL runs as its own user, which must reach it.
const dir = join(ROOT, '.data', `cluster-test-${process.pid}`);
let cluster: Cluster | undefined;
let rig: CohortRig | undefined;
let workers: KeptWorker[] = [];
let passed = false;
const outboxDirs = [join(dir, 'outbox-1'), join(dir, 'outbox-2')];

beforeAll(async () => {
  quietRuntime();
  cluster = await startCluster({ basePort: Number(process.env.CLUSTER_TEST_PORT ?? 7500), dataDir: join(dir, 'cluster'), workers: 0, ui: false, codecServer: false, http: false });
  const keys = newKeys('k1');
  const keyFile = join(dir, 'keys.json');
  await writeKeyFile(keyFile, 'k1', keys);
  const bundle = await ensureWorkflowBundle();
  // Two worker processes on one task queue, each kept running (restarted if it dies). The file
  // outbox takes one writer process per folder, so each has its own; the audit reads both.
  const env = { TEMPORAL_ADDRESS: cluster.address, TEMPORAL_NAMESPACE: cluster.namespace, PATHWAY_TASK_QUEUE: taskQueue, PATHWAY_CODEC_KEY_FILE: keyFile };
  workers = outboxDirs.map((outbox, i) => new KeptWorker(workerEnv({ ...env, PATHWAY_OUTBOX_DIR: outbox }), join(dir, `worker-${i + 1}.log`)));
  for (const w of workers) await w.start();
  const codec = await codecOf('k1', keys);
  const client = await PathwayClient.connect({ address: cluster.address, namespace: cluster.namespace, taskQueue, codec, personKey: PersonKey.generate() });
  await client.setRoster(schemeId, Array.from({ length: 20 }, (_, i) => ({ id: `lw-${i}`, cap: 200 })));
  rig = {
    dir,
    worker: workers[0]!,
    codec,
    bundle,
    client,
    outboxDir: outboxDirs[0]!,
    async close() {
      for (const w of workers) await w.stop();
      await client.close();
    },
  };
}, 900_000);

afterAll(async () => {
  await rig?.close();
  await cluster?.stop();
  if (passed) await rm(dir, { recursive: true, force: true });
  else console.log(`cluster data and logs kept in ${dir}`);
});

it(`${CASES} cases survive a server kill -9, a PostgreSQL restart, a worker kill -9 and a 30 s server stall`, { timeout: 1_800_000 }, async () => {
  const c = cluster!;
  const r = seededRng('cluster-faults');
  const started = Date.now();
  const cases = planCohort(r, CASES, schemeId, `c${r.seed.toString(36)}`);
  const normal = cohortPolicy(schemeId, REVIEW_MS);
  const lateTriage = cohortPolicy(schemeId, REVIEW_MS, '2w');
  const stats = newStats();
  const faults: string[] = [];

  let settled = false;
  const cohort = runCohort(rig!.client, cases, (k) => (k.scenario === 'overdueTriage' ? lateTriage : normal), stats, 40).finally(() => (settled = true));
  cohort.catch(() => undefined);
  const stopProgress = progress('cluster-faults', () => `${stats.finished}/${CASES} cases done, ${stats.commands} commands, ${faults.length} faults, ${stats.transientErrors} retried`);
  const at = async (fraction: number) => {
    // Each fault strikes with commands in flight: part of the cohort finished, the rest at every stage.
    while (stats.finished < Math.floor(CASES * fraction) && !settled) await sleep(250);
    if (settled) throw new Error(`the cohort finished before the fault at ${fraction} could strike`);
  };
  const fault = async (name: string, act: () => Promise<void>) => {
    const t = Date.now();
    const commandsBefore = stats.commands;
    await act();
    faults.push(`${name} at ${stats.finished} finished, ${commandsBefore} commands (${Date.now() - t} ms)`);
    console.log(`[cluster-faults] ${faults.at(-1)}`);
  };
  let audits: CaseAudit[];
  try {
    await at(0.1);
    await fault('kill -9 server-1', async () => {
      await c.servers[0]!.kill9();
      await sleep(5000);
      await c.servers[0]!.start();
    });
    await at(0.3);
    await fault('PostgreSQL restart', () => c.postgres.restart('SIGINT'));
    await at(0.5);
    await fault('kill -9 worker-1', () => workers[0]!.crash(2000));
    await at(0.65);
    await fault(`SIGSTOP server-2 for ${STALL_MS / 1000}s`, async () => {
      c.servers[1]!.signal('SIGSTOP');
      await sleep(STALL_MS);
      c.servers[1]!.signal('SIGCONT');
    });
    audits = await cohort;
  } finally {
    stopProgress();
  }

  // Each worker's outbox stands for a downstream. Within one, a key never repeats. Across the two,
  // a delivery a killed worker made but never reported is made again by the other under the same
  // idempotency key, which a downstream applies once: the audit takes each key once, and then
  // every case must have exactly the notices its scenario calls for, none missing, none extra.
  const perOutbox = await Promise.all(outboxDirs.map((d) => readOutbox(d, {}, { codec: rig!.codec })));
  const duplicatesWithinAnOutbox = perOutbox.flatMap((messages) => auditOutbox(messages, []).duplicateKeys);
  const byKey = new Map(perOutbox.flat().map((m) => [m.key, m]));
  const redelivered = perOutbox.flat().length - byKey.size;
  const audit = auditOutbox([...byKey.values()], audits);
  const failed = (await mapLimit(audits, 16, async ({ caseId }) => (await workflowTaskFailures(rig!.client.temporal, caseId)).map((f) => `${caseId} ${f}`))).flat();
  const replayFailures = await replayCases(rig!, audits.map((a) => a.caseId));
  console.log(
    `[cluster-faults] ${audits.length} cases, ${faults.length} faults in ${((Date.now() - started) / 1000).toFixed(0)}s, ${stats.commands} commands, ` +
      `${stats.transientErrors} calls retried, ${stats.refusals.length} refusals, worker starts ${workers.map((w) => w.starts).join('+')}, ` +
      `${audit.messages} notices (${redelivered} redelivered under their key by the other worker), ${duplicatesWithinAnOutbox.length} keys repeated within an outbox, ${audit.mismatches.length} mismatches, ` +
      `${failed.length} failed workflow tasks, ${audits.length - replayFailures.length}/${audits.length} histories replayed`,
  );
  for (const refusal of stats.refusals.slice(0, 5)) console.log(`[cluster-faults] refused: ${refusal.caseId} ${refusal.message}`);
  expect(faults).toHaveLength(4);
  expect(audits).toHaveLength(CASES);
  expect(duplicatesWithinAnOutbox).toEqual([]);
  expect(audit.mismatches).toEqual([]);
  // A task refused on purpose for unsent commands, or turned back by the server for events that arrived meanwhile, is the protection working.
  expect(failed.filter((f) => !isTurnedBackTask(f))).toEqual([]);
  expect(replayFailures).toEqual([]);
  passed = true;
});
