// A deadline falls due just after the worker is killed and restarted, while hosts keep reading the
// case and act at once on what they read. Reads sent before the timer fired wait on the dead
// worker's queue and reach the new worker after it fired, with the timer in the history but no task
// having taken it; the case must refuse that view (workflows/runtime/before-commands.ts) rather than let
// the worker cache state a replay would not reach. The case must finish as its scenario says, with
// no failed workflow task, and its history must replay on the same code.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { quietRuntime, uniqueTaskQueue } from '../../support/temporal';
import {
  cohortPolicy,
  cohortRig,
  driveCase,
  newStats,
  nextStep,
  planCohort,
  referPersistently,
  replayCases,
  rng,
  sleep,
  workflowTaskFailures,
  type CohortRig,
} from '../../support/faults';
import { caseViewQuery, commandUpdates, type CaseView } from '../../../workflows/definitions';
import { digitFree } from '../../../machines/ids';

const REVIEW_MS = 8000;

let dir: string;
let passed = false;
let rig: CohortRig;
const taskQueue = uniqueTaskQueue('stale');
const schemeId = `stale-${taskQueue.slice(-8)}`;

beforeAll(async () => {
  quietRuntime();
  dir = await mkdtemp(join(tmpdir(), 'pathway-stale-'));
  rig = await cohortRig(dir, inject('temporalAddress'), inject('temporalNamespace'), taskQueue, schemeId);
});

afterAll(async () => {
  await rig?.close();
  if (dir && passed) await rm(dir, { recursive: true, force: true });
  else if (dir) console.log(`logs kept in ${dir}`);
});

const tally = (reads: string[]) => Object.entries(reads.reduce<Record<string, number>>((acc, r) => ((acc[r] = (acc[r] ?? 0) + 1), acc), {}));
const sessions = (v: CaseView) => v.timeline.filter((t) => t.event === 'SESSION.LOG').length;

it('a read that meets a deadline no task has taken yet is refused, and the case goes on deterministically', { timeout: 180_000 }, async () => {
  const [c] = planCohort(rng(11), 1, schemeId, `s${digitFree(Date.now().toString(16))}`).map((x) => ({ ...x, scenario: 'befriended' as const }));
  const stats = newStats();
  await referPersistently(rig.client, c!, cohortPolicy(schemeId, REVIEW_MS), stats);
  const atSupport = await driveCase(rig.client.temporal, c!.caseId, 'befriended', stats, { until: (v) => v.stage === 'support' && sessions(v) >= 2 });
  const reviewDue = atSupport.deadlines.find((d) => d.key === 'review')!.dueAt;
  const handle = rig.client.temporal.workflow.getHandle(c!.caseId);
  expect(reviewDue).toBeGreaterThan(Date.now() + 1500);

  // Killed shortly before the review timer fires and restarted at once: the case's tasks still go
  // to the dead worker's sticky queue. Hosts keep reading meanwhile; a read sent before the timer
  // fires waits on that queue, and reaches the new worker after the timer has fired.
  await sleep(reviewDue - Date.now() - 2500);
  await rig.worker.crash(300);
  const pending: Array<Promise<string>> = [];
  // The SDK's own reads meanwhile: a read the worker refuses is asked again, never handed to the host.
  const sdkReads: Array<Promise<string>> = [];
  let acted: Promise<string> | undefined;
  while (Date.now() < reviewDue + 12_000) {
    sdkReads.push(rig.client.getCase(c!.caseId).then(
      (v) => `answered at ${v.stage}`,
      (err: Error) => `failed: ${err.name}`,
    ));
    for (let i = 0; i < 3; i++) {
      pending.push(
        handle.query(caseViewQuery).then(
          (v) => {
            // A host acts on what it reads, at once: the review it sees is recorded straight away.
            const step = nextStep('befriended', v);
            if (v.stage === 'review' && !acted && typeof step === 'object') {
              acted = handle
                .executeUpdate(commandUpdates[step.type] as never, { args: [step.payload], updateId: `${step.type}@${v.sequence}` })
                .then(
                  () => 'recorded',
                  (err: Error) => `refused: ${err.message.slice(0, 80)}`,
                );
            }
            return `answered at ${v.stage}`;
          },
          (err: Error) => `failed: ${err.message.slice(0, 80)}`,
        ),
      );
    }
    await sleep(250);
  }
  const reads = await Promise.all(pending);
  const viaSdk = await Promise.all(sdkReads);
  expect(viaSdk.filter((r) => r === 'failed: QueryNotRegisteredError')).toEqual([]);
  expect(viaSdk.some((r) => r.startsWith('answered'))).toBe(true);
  const review = await acted;
  const firstRead = tally(reads);
  const final = await driveCase(rig.client.temporal, c!.caseId, 'befriended', stats);
  expect(final.discharge?.reason).toBe('handedOff');

  console.log(`[stale] reads after the restart: ${JSON.stringify(firstRead)}; through the SDK: ${JSON.stringify(tally(viaSdk))}; the host's review: ${review}`);
  expect(await workflowTaskFailures(rig.client.temporal, c!.caseId)).toEqual([]);
  expect(await replayCases(rig, [c!.caseId])).toEqual([]);
  passed = true;
});
