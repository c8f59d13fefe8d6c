// The worker process (worker/main.ts, as deployed) is SIGKILLed at seeded random moments while a
// cohort of several hundred referrals runs through the pathway, and started again each time. Every
// case must still end as its scenario says, and the durable outbox must hold each side effect
// exactly once: no idempotency key twice, none missing, none repeated under another key.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { quietRuntime, uniqueTaskQueue } from '../../support/temporal';
import { auditRun, cohortPolicy, cohortRig, newStats, planCohort, progress, runCohort, seededRng, sleep, type CaseAudit, type CohortRig } from '../../support/faults';

const CASES = Number(process.env.FAULTS_CASES ?? 300);
const REVIEW_MS = 6000;
/** Between kills: long enough for a restarted worker to get work done, short enough for many kills. */
const KILL_EVERY_MS: [number, number] = [Number(process.env.FAULTS_KILL_MIN_MS ?? 15_000), Number(process.env.FAULTS_KILL_MAX_MS ?? 35_000)];

let dir: string;
let passed = false;
let rig: CohortRig;
const taskQueue = uniqueTaskQueue('kill');
const schemeId = `kill-${taskQueue.slice(-8)}`;

beforeAll(async () => {
  quietRuntime();
  dir = await mkdtemp(join(tmpdir(), 'pathway-kill-'));
  rig = await cohortRig(dir, inject('temporalAddress'), inject('temporalNamespace'), taskQueue, schemeId);
});

afterAll(async () => {
  await rig?.close();
  // Kept when the test failed: the worker and server logs are in it.
  if (dir && passed) await rm(dir, { recursive: true, force: true });
  else if (dir) console.log(`logs kept in ${dir}`);
});

it(`${CASES} cases survive a worker SIGKILLed at random moments, every side effect delivered exactly once`, { timeout: 420_000 }, async () => {
  const r = seededRng('worker-kill');
  const started = Date.now();
  const cases = planCohort(r, CASES, schemeId, `k${r.seed.toString(36)}`);
  const normal = cohortPolicy(schemeId, REVIEW_MS);
  const lateTriage = cohortPolicy(schemeId, REVIEW_MS, '2w');
  const stats = newStats();

  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let running = true;
  const killer = (async () => {
    while (running) {
      await Promise.race([sleep(r.int(...KILL_EVERY_MS)), finished]);
      if (!running) break;
      await rig.worker.crash(r.int(0, 1500));
    }
  })();
  let audits: CaseAudit[];
  const stopProgress = progress('worker-kill', () => `${stats.finished}/${CASES} cases done, ${rig.worker.kills} kills, ${stats.commands} commands, ${stats.transientErrors} retried`);
  try {
    audits = await runCohort(rig.client, cases, (c) => (c.scenario === 'overdueTriage' ? lateTriage : normal), stats);
  } finally {
    running = false;
    finish();
    stopProgress();
    await killer;
  }

  const audit = await auditRun('worker-kill', rig, audits, stats, `cohort ${((Date.now() - started) / 1000).toFixed(0)}s`);
  expect(rig.worker.kills).toBeGreaterThanOrEqual(3);
  expect(audit.duplicateKeys).toEqual([]);
  expect(audit.mismatches).toEqual([]);
  expect(audit.failedTasks).toEqual([]);
  expect(audit.replayFailures).toEqual([]);
  expect(audits).toHaveLength(CASES);
  passed = true;
});
