// Replay: how long a worker takes to rebuild a finished 12-week case from its history, which is
// what every cache miss (a case woken after eviction, a query on a closed case, a worker restart)
// costs. The history is made for real: one case through a scaled policy (twelve weeks in seconds)
// with weekly contacts, the review falling due on its own, then discharge.
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import type { History } from '@temporalio/common/lib/proto-utils';
import { parsePolicy, scalePolicy, WEEK } from '../machines';
import { ensureWorkflowBundle } from '../worker/bundle';
import { pathwayDataConverter } from '../worker/create';
import { serverFlags, startStack } from './harness';
import { commands, rosterFor, syntheticReferral, toSupport } from './cohort';
import { flags, fmt, goal, latencyLine, main, num, printGoals, sleep, summarize, writeResults } from './support';

const GOAL_P99_MS = 50;

main(async () => {
  const opts = flags('npm run bench:replay -- [flags]', {
    replays: num(300, 'replays of the history timed one by one'),
    warmup: num(10, 'replays first, untimed'),
    'week-ms': num(1000, 'one policy week in real milliseconds while the history is made'),
    ...serverFlags,
  });
  const run = randomUUID().slice(0, 6);
  const schemeId = `replay-${run}`;
  const policy = scalePolicy(parsePolicy({ schemeId }), WEEK / opts['week-ms']);
  const stack = await startStack('replay', opts, { policies: { [schemeId]: policy }, notes: [`history made with one policy week = ${opts['week-ms']} ms`] });
  const { worker, clients, codec } = stack;

  // ---- A whole case, for real ----------------------------------------------------------------------
  const c = clients.pathway;
  await c.setRoster(schemeId, rosterFor(1));
  const { case: opened } = await c.refer(syntheticReferral(schemeId, run, 0));
  const id = opened.caseId;
  let v = await toSupport(c, id);
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
  const events = history.events?.length ?? 0;
  const bytes = temporal.api.history.v1.History.encode(history).finish().length;
  const byType: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const t = String(temporal.api.enums.v1.EventType[e.eventType ?? 0]).replace(/^EVENT_TYPE_/, '');
    byType[t] = (byType[t] ?? 0) + 1;
  }
  console.log(`  the case: ${sent} host calls, discharged '${v.discharge?.reason}'; history ${events} events, ${fmt(bytes / 1024, 1)} KiB`);
  console.log(`    by type: ${Object.entries(byType).map(([t, n]) => `${t} ${n}`).join(', ')}`);
  await worker.stop();

  // ---- Replays --------------------------------------------------------------------------------------
  Runtime.install({
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
  const times: number[] = [];
  let pushedAt = 0;
  async function* histories() {
    for (let i = 0; i < opts.warmup + opts.replays; i++) {
      pushedAt = performance.now();
      yield { workflowId: `${id}-replay-${i}`, history };
    }
  }
  const started = performance.now();
  let i = 0;
  let failures = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: await ensureWorkflowBundle() }, dataConverter: pathwayDataConverter(codec.codec) }, histories())) {
    if (result.error) {
      failures++;
      if (failures === 1) console.error(`  replay failed: ${result.error.message}`);
    }
    if (i++ >= opts.warmup) times.push(performance.now() - pushedAt);
  }
  const totalMs = performance.now() - started;
  const s = summarize(times);
  console.log(`  replay of the 12-week case (${opts.replays} timed after ${opts.warmup} warm-up): ${latencyLine(s)}`);
  console.log(`    ${fmt(totalMs / 1000, 1)} s for all, ${failures} failed (non-determinism would fail here)`);

  const goals = [goal('replay of a 12-week case, p99', s.p99, '<=', GOAL_P99_MS, 'ms')];
  printGoals(goals);
  writeResults('replay', {
    environment: stack.env,
    params: { ...opts, ...stack.describe },
    figures: { hostCalls: sent, events, bytes, byType, replay: s, failures },
    goals,
  });
  await stack.stop();
  if (failures > 0) process.exitCode = 1;
});
