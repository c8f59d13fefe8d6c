// The Temporal dev server (SQLite file) is stopped and started again in the middle of a cohort run:
// once shut down in order (SIGTERM), once killed outright (SIGKILL). The worker process and the
// client ride it out; afterwards every case has ended as its scenario says and every side effect
// is in the outbox exactly once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { quietRuntime } from '../../support/temporal';
import {
  auditRun,
  cohortPolicy,
  cohortRig,
  newStats,
  planCohort,
  progress,
  runCohort,
  seededRng,
  sleep,
  startOwnDevServer,
  type CaseAudit,
  type CohortRig,
  type OwnDevServer,
} from '../../support/faults';

const CASES = Number(process.env.FAULTS_RESTART_CASES ?? 100);
const REVIEW_MS = 6000;
const schemeId = 'restart';

let dir: string;
let passed = false;
let server: OwnDevServer;
let rig: CohortRig;

beforeAll(async () => {
  quietRuntime();
  dir = await mkdtemp(join(tmpdir(), 'pathway-restart-'));
  server = await startOwnDevServer(join(dir, 'server'));
  rig = await cohortRig(dir, server.address, 'default', 'restart', schemeId);
});

afterAll(async () => {
  await rig?.close();
  await server?.stop();
  // Kept when the test failed: the worker and server logs are in it.
  if (dir && passed) await rm(dir, { recursive: true, force: true });
  else if (dir) console.log(`logs kept in ${dir}`);
});

it(`${CASES} cases survive the dev server stopped and restarted mid-run (SIGTERM, then SIGKILL)`, { timeout: 420_000 }, async () => {
  const r = seededRng('server-restart');
  const started = Date.now();
  const cases = planCohort(r, CASES, schemeId, `s${r.seed.toString(36)}`);
  const normal = cohortPolicy(schemeId, REVIEW_MS);
  const lateTriage = cohortPolicy(schemeId, REVIEW_MS, '2w');
  const stats = newStats();
  const restarts: string[] = [];

  let settled = false;
  const cohort = runCohort(rig.client, cases, (c) => (c.scenario === 'overdueTriage' ? lateTriage : normal), stats, 25).finally(() => (settled = true));
  // Awaited below; until then a failure must not count as unhandled.
  cohort.catch(() => undefined);
  let audits: CaseAudit[];
  const stopProgress = progress('server-restart', () => `${stats.finished}/${CASES} cases done, ${restarts.length} restarts, ${stats.transientErrors} retried`);
  try {
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      // Mid-run: some cases referred, some in support, some finished.
      const target = Math.floor(CASES * (signal === 'SIGTERM' ? 0.25 : 0.6) + r.int(0, CASES / 10));
      while (stats.finished < target && !settled) await sleep(250);
      const down = r.int(1000, 4000);
      await server.stop(signal);
      await sleep(down);
      await server.start();
      restarts.push(`${signal} after ${stats.finished} cases, down ${down}ms`);
      console.log(`[server-restart] ${restarts.at(-1)}`);
    }
    audits = await cohort;
  } finally {
    stopProgress();
  }

  const audit = await auditRun('server-restart', rig, audits, stats, `${restarts.length} server restarts, ${((Date.now() - started) / 1000).toFixed(0)}s`);
  expect(restarts).toHaveLength(2);
  expect(audit.duplicateKeys).toEqual([]);
  expect(audit.mismatches).toEqual([]);
  expect(audit.failedTasks).toEqual([]);
  expect(audit.replayFailures).toEqual([]);
  expect(audits).toHaveLength(CASES);
  passed = true;
});
