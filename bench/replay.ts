// Replay: how long a worker takes to rebuild a finished 12-week case from its history, which is
// what every cache miss (a case woken after eviction, a query on a closed case, a worker restart)
// costs. The history is made for real: one case through a scaled policy (twelve weeks in seconds)
// with weekly contacts, the review falling due on its own, then discharge.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import type { History } from '@temporalio/common/lib/proto-utils';
import { parsePolicy, scalePolicy, WEEK } from '../machines';
import { SDK_DEFAULT_TARGET, WORKFLOW_TARGET, ensureWorkflowBundle } from '../worker/bundle';
import { pathwayDataConverter } from '../codec/defaults';
import { serverFlags, startStack } from './harness';
import { commandUpdates } from '../workflows/definitions';
import { commands, later, rosterFor, syntheticReferral, toSupport } from './cohort';
import { flags, fmt, goal, latencyLine, main, num, printGoals, resultsDir, root, sleep, summarize, writeResults } from './support';
import { digitFree } from '../machines/ids';

const GOAL_P99_MS = 50;

function describeHistory(history: History) {
  const byType: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const t = String(temporal.api.enums.v1.EventType[e.eventType ?? 0]).replace(/^EVENT_TYPE_/, '');
    byType[t] = (byType[t] ?? 0) + 1;
  }
  return { events: history.events?.length ?? 0, bytes: temporal.api.history.v1.History.encode(history).finish().length, byType };
}

main(async () => {
  const opts = flags('npm run bench:replay -- [flags]', {
    replays: num(300, 'replays of each history, timed one by one'),
    warmup: num(3, 'untimed replays before each chunk'),
    'week-ms': num(1000, 'one policy week in real milliseconds while the history is made'),
    ...serverFlags,
  });
  const run = digitFree(randomUUID().slice(0, 6));
  const schemeId = `replay-${run}`;
  const policy = scalePolicy(parsePolicy({ schemeId }), WEEK / opts['week-ms']);
  // The bench bundle has the bare baseline workflow beside the project's.
  const benchBundle = await ensureWorkflowBundle(join(root, 'bench', 'workflows', 'index.ts'), 'bench-workflows');
  const stack = await startStack('replay', opts, {
    policies: { [schemeId]: policy },
    worker: { workflowBundlePath: benchBundle },
    notes: [`history made with one policy week = ${opts['week-ms']} ms; replays in chunks of up to 50, the four kinds taking turns`],
  });
  const { worker, clients, codec, taskQueue } = stack;

  // ---- A whole case, for real ----------------------------------------------------------------------
  const c = clients.pathway;
  await c.setRoster(schemeId, rosterFor(1));
  const { case: opened } = await c.refer(syntheticReferral(schemeId, run, 0));
  const id = opened.caseId;
  let v: { linkWorkerId?: string | undefined; discharge?: { reason: string } | undefined } = await toSupport(c, id);
  let sent = 8; // the referral and seven commands
  for (let week = 1; week < 12; week++) {
    await sleep(opts['week-ms'] * 0.9);
    v = await (week % 3 === 0 ? commands.checkIn : commands.session)(c, id, v);
    sent++;
  }
  v = await c.waitFor(id, 'review', { timeoutMs: 20 * opts['week-ms'] + 30_000, intervalMs: 100 });
  v = await commands.review(c, id, v);
  sent++;
  const handle = clients.temporal.workflow.getHandle(id);
  await handle.result();
  const history = (await handle.fetchHistory()) as History;
  const shape = describeHistory(history);
  // Kept for profiling a replay alone (History.decode, then Worker.runReplayHistory).
  writeFileSync(join(resultsDir, 'replay-history.bin'), temporal.api.history.v1.History.encode(history).finish());
  console.log(`  the case: ${sent} host calls, discharged '${v.discharge?.reason}'; history ${shape.events} events, ${fmt(shape.bytes / 1024, 1)} KiB`);
  console.log(`    by type: ${Object.entries(shape.byType).map(([t, n]) => `${t} ${n}`).join(', ')}`);

  // The baseline: a workflow that does nothing, given as many updates with the same payloads.
  const updates = shape.byType['WORKFLOW_EXECUTION_UPDATE_COMPLETED'] ?? 0;
  const bare = await clients.temporal.workflow.start('bareCase', { workflowId: `bare-${run}`, taskQueue, args: [] });
  for (let k = 0; k < updates; k++) await bare.executeUpdate(commandUpdates['CHECKIN.RECORD'], { args: [{ measures: later, actor: { role: 'linkWorker', id: 'lw-1' } }] });
  await bare.terminate('baseline made');
  const bareHistory = (await bare.fetchHistory()) as History;
  const bareShape = describeHistory(bareHistory);
  console.log(`  the baseline: a bare workflow with the same ${updates} updates; history ${bareShape.events} events, ${fmt(bareShape.bytes / 1024, 1)} KiB`);
  await worker.stop();

  // ---- Replays, the four kinds taking turns in chunks ------------------------------------------------
  Runtime.install({
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
  const dataConverter = pathwayDataConverter(codec.codec);
  const bareOnly = await ensureWorkflowBundle(join(root, 'bench', 'workflows', 'bare.ts'), 'bench-bare');
  const arms = [
    { name: `the 12-week case, project bundle (${WORKFLOW_TARGET})`, bundle: await ensureWorkflowBundle(), history, times: [] as number[] },
    { name: 'bare, same updates, bundle with the pathway', bundle: benchBundle, history: bareHistory, times: [] as number[] },
    { name: 'bare, same updates, bare bundle (SDK floor)', bundle: bareOnly, history: bareHistory, times: [] as number[] },
    // The same case compiled as the SDK would by default: what the language level is worth here.
    { name: `the 12-week case, project bundle (${SDK_DEFAULT_TARGET})`, bundle: await ensureWorkflowBundle(undefined, 'workflows', SDK_DEFAULT_TARGET), history, times: [] as number[] },
  ];
  let failures = 0;
  const chunk = Math.max(1, Math.min(50, opts.replays));
  for (let done = 0; done < opts.replays; done += chunk) {
    for (const arm of arms) {
      let pushedAt = 0;
      async function* histories() {
        for (let k = 0; k < opts.warmup + chunk; k++) {
          pushedAt = performance.now();
          yield { workflowId: `replay-${done + k}`, history: arm.history };
        }
      }
      let k = 0;
      for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: arm.bundle }, dataConverter }, histories())) {
        if (result.error) {
          failures++;
          if (failures === 1) console.error(`  replay failed: ${result.error.message}`);
        }
        if (k++ >= opts.warmup) arm.times.push(performance.now() - pushedAt);
      }
    }
  }
  const summaries = Object.fromEntries(arms.map((a) => [a.name, summarize(a.times)]));
  for (const [name, sum] of Object.entries(summaries)) console.log(`  replay, ${name.padEnd(44)} ${latencyLine(sum)}`);
  const s = summaries[arms[0]!.name]!;
  const ratios = {
    caseOverBareSameBundle: s.p50 / summaries[arms[1]!.name]!.p50,
    caseOverSdkFloor: s.p50 / summaries[arms[2]!.name]!.p50,
    sdkDefaultTargetOverEngine: summaries[arms[3]!.name]!.p50 / s.p50,
  };
  console.log(`  ratio (p50): case / bare in the same bundle ${fmt(ratios.caseOverBareSameBundle, 2)}, case / SDK floor ${fmt(ratios.caseOverSdkFloor, 2)}, ${SDK_DEFAULT_TARGET} / ${WORKFLOW_TARGET} ${fmt(ratios.sdkDefaultTargetOverEngine, 2)}; ${failures} replays failed (non-determinism would fail here)`);

  const goals = [goal('replay of a 12-week case, p99', s.p99, '<=', GOAL_P99_MS, 'ms')];
  printGoals(goals);
  writeResults('replay', {
    environment: stack.env,
    params: { ...opts, ...stack.describe },
    figures: { hostCalls: sent, history: shape, baseline: bareShape, replay: summaries, ratios, failures },
    goals,
  });
  await stack.stop();
  if (failures > 0) process.exitCode = 1;
});
