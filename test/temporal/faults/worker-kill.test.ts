// The worker process (worker/main.ts, as deployed) is SIGKILLed at seeded points of the cohort's
// progress while several hundred referrals run through the pathway, and started again each time. Every
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
/**
 * Kills, each when a seeded number of cases has finished: counted by progress, not by wall time,
 * so a fast machine (which once finished the cohort between the second and third timed kill and
 * failed the run) and a slow one kill the same number of times at the same points of the cohort.
 */
const KILLS = Number(process.env.FAULTS_KILLS ?? 5);

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

it(`${CASES} cases survive a worker SIGKILLed at seeded points of their progress, every side effect delivered exactly once`, { timeout: 420_000 }, async () => {
  const r = seededRng('worker-kill');
  const started = Date.now();
  const cases = planCohort(r, CASES, schemeId, `k${r.seed.toString(36)}`);
  const normal = cohortPolicy(schemeId, REVIEW_MS);
  const lateTriage = cohortPolicy(schemeId, REVIEW_MS, '2w');
  const stats = newStats();

  // Spread over the cohort, each somewhere in its own slice, so restarted workers get work done between.
  const killAt = Array.from({ length: KILLS }, (_, i) => Math.floor(((i + r.int(25, 75) / 100) * CASES * 0.9) / KILLS));
  let running = true;
  const killer = (async () => {
    for (const target of killAt) {
      while (running && stats.finished < target) await sleep(100);
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
    stopProgress();
    await killer;
  }

  const audit = await auditRun('worker-kill', rig, audits, stats, `cohort ${((Date.now() - started) / 1000).toFixed(0)}s`);
  expect(rig.worker.kills).toBe(KILLS);
  expect(audit.duplicateKeys).toEqual([]);
  expect(audit.mismatches).toEqual([]);
  expect(audit.failedTasks).toEqual([]);
  expect(audit.replayFailures).toEqual([]);
  expect(audits).toHaveLength(CASES);
  passed = true;
});
