// Memory: the worker process's RSS with N open cases in its cache, read by the OS at checkpoints
// as cases are opened, and the cost per case (the slope). Cases are opened at triage (cheap to
// make by the thousand); a further sample is brought to support with a dozen commands each, to
// show what a case costs once its context and timeline have grown.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import { ensureWorkflowBundle } from '../worker/bundle';
import { parsePolicy, type ReferralFacts } from '../machines';
import type { CaseInput } from '../workflows/definitions';
import { caseWorkflowId } from '../workflows/definitions';
import { serverFlags, startStack, type BenchWorker } from './harness';
import { AREAS, commands, openCasesInSupport } from './cohort';
import {
  flags,
  fmt,
  goal,
  linearFit,
  main,
  mib,
  num,
  pool,
  root,
  printGoals,
  progress,
  rssOf,
  sleep,
  str,
  writeResults,
} from './support';
import { digitFree } from '../machines/ids';
import type { CaseStateFigures } from './case-state';

const GOAL_BYTES = 4 * 2 ** 30;
const GOAL_CASES = 10_000;

interface Reading {
  cases: number;
  cached: number;
  rss: number;
  heapUsed: number;
}

/** bench/case-state.ts in a child with the collector exposed. */
function caseState(cases: number): CaseStateFigures {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', resolve(root, 'bench/case-state.ts'), '--weigh', String(cases)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`weighing case state failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as CaseStateFigures;
}

async function settle(worker: BenchWorker, atLeast: number, timeoutMs = 600_000): Promise<Reading & { external: number }> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await worker.stats();
    if ((s.cachedWorkflows >= atLeast && s.inFlightActivations === 0 && s.inFlightActivities === 0) || Date.now() > until) {
      await sleep(2000);
      const t = await worker.stats();
      return { cases: atLeast, cached: t.cachedWorkflows, rss: rssOf(worker.pid), heapUsed: t.heapUsed, external: t.external };
    }
    await sleep(500);
  }
}

main(async () => {
  const opts = flags('npm run bench:memory -- [flags]', {
    cases: num(GOAL_CASES, 'open cases at the last checkpoint'),
    checkpoints: str('1000,2500,5000,7500,10000', 'case counts at which RSS is read (capped at --cases)'),
    workflow: str('pathway', "what the open cases run: pathway, or bare (an empty workflow bundled alone: the SDK's own cost per workflow)"),
    bundle: str('bench/workflows/bare.ts', 'with --workflow bare: the workflows module to bundle (it must export bareCase); lets a slimmer bundle be measured'),
    deep: num(300, 'further cases brought to support with 12 commands each, for the cost of a grown case (0 skips)'),
    concurrency: num(50, 'case starts in flight'),
    'max-old-space': num(8192, "the worker's V8 old-space limit, MiB"),
    'rss-limit': num(Math.floor((totalmem() * 0.35) / 2 ** 20), "stop opening cases once the worker's RSS passes this many MiB and project from there (protects a shared machine)"),
    ...serverFlags,
  });
  // A cache big enough for every case: the SDK's default is sized from the heap limit (about 2,300
  // at 4 GiB) and would evict, which is a different measurement (replay on every wake).
  const maxCached = opts.cases + opts.deep + 200;
  const stack = await startStack('memory', opts, {
    worker: {
      maxCachedWorkflows: maxCached,
      maxOldSpaceMiB: opts['max-old-space'],
      ...(opts.workflow === 'bare' && { workflowBundlePath: await ensureWorkflowBundle(resolve(root, opts.bundle), 'bench-bare') }),
    },
    notes: [`workflow: ${opts.workflow}${opts.workflow === 'bare' ? ` (bundle of ${opts.bundle})` : ''}`],
  });
  const { worker, clients, taskQueue } = stack;

  const run = digitFree(randomUUID().slice(0, 6));
  const schemeId = `memory-${run}`;
  const policy = parsePolicy({ schemeId });
  const facts = (i: number): ReferralFacts => ({
    referralId: `${run}-${i}`,
    schemeId,
    route: 'GP',
    age: 70 + (i % 20),
    area: AREAS[i % AREAS.length]!,
    targetGroups: [],
    needs: ['loneliness', 'isolation'],
    flags: [],
    consent: true,
    riskFlags: [],
    referredAt: Date.now(),
  });

  const readings: Reading[] = [];
  const idle = await settle(worker, 0);
  readings.push({ ...idle, cases: 0 });
  console.log(`  idle worker: RSS ${mib(idle.rss)}, main-thread heap ${mib(idle.heapUsed)}`);

  const checkpoints = [...new Set(opts.checkpoints.split(',').map(Number).filter((n) => n > 0).map((n) => Math.min(n, opts.cases)))].sort((a, b) => a - b);
  let opened = 0;
  let stoppedEarly: string | undefined;
  const ticker = progress('memory', () => `${opened}/${opts.cases} cases opened; RSS ${mib(rssOf(worker.pid))}`);
  for (const target of checkpoints) {
    const from = opened;
    await pool(
      Array.from({ length: target - from }, (_, k) => from + k),
      opts.concurrency,
      async (i) => {
        const input: CaseInput = { referral: facts(i), policy };
        const workflowId = caseWorkflowId(input.referral.referralId);
        if (opts.workflow === 'bare') await clients.temporal.workflow.start('bareCase', { workflowId, taskQueue, args: [] });
        else await clients.temporal.workflow.start('pathwayCase', { workflowId, taskQueue, args: [input] });
        opened++;
      },
    );
    const r = await settle(worker, target);
    readings.push(r);
    console.log(`  ${String(target).padStart(6)} cases: RSS ${mib(r.rss)} (cached ${r.cached}), main-thread heap ${mib(r.heapUsed)}`);
    const next = checkpoints[checkpoints.indexOf(target) + 1];
    const slope = linearFit(readings.map((x) => ({ x: x.cases, y: x.rss }))).slope;
    if (next !== undefined && r.rss + slope * (next - target) > opts['rss-limit'] * 2 ** 20) {
      stoppedEarly = `stopped at ${target} cases: the next checkpoint (${next}) would take the worker past --rss-limit ${opts['rss-limit']} MiB`;
      console.log(`  ${stoppedEarly}`);
      break;
    }
  }
  ticker.stop();

  const fit = linearFit(readings.map((r) => ({ x: r.cases, y: r.rss })));
  const last = readings.at(-1)!;
  const projected = fit.intercept + fit.slope * GOAL_CASES;
  console.log(`  per case at triage: ${fmt(fit.slope / 1024, 1)} KiB (least squares over the checkpoints); ${GOAL_CASES} cases projected: ${mib(projected)}`);

  let deep: { cases: number; commandsEach: number; rssBefore: number; rssAfter: number; perCase: number } | undefined;
  if (opts.deep > 0 && opts.workflow === 'pathway') {
    const before = rssOf(worker.pid);
    const cases = await openCasesInSupport(clients.pathway, `${schemeId}-deep`, `${run}-deep`, opts.deep, 16);
    // Five more commands each after the seven that reach support: a case some weeks in.
    await pool(cases.keys(), 16, async (id) => {
      const v = cases.get(id)!;
      for (let k = 0; k < 5; k++) await (k % 2 ? commands.checkIn : commands.session)(clients.pathway, id, v);
    });
    const after = await settle(worker, opened + opts.deep);
    deep = { cases: opts.deep, commandsEach: 12, rssBefore: before, rssAfter: after.rss, perCase: (after.rss - before) / opts.deep };
    console.log(`  ${opts.deep} cases in support after 12 commands each: +${mib(after.rss - before)}, ${fmt(deep.perCase / 1024, 1)} KiB per case`);
  }

  const state = caseState(2000);
  console.log(
    `  a case's own state at twelve weeks (machine snapshot and its events, ${state.cases} held in a process of their own, garbage collected): ${fmt(state.perCaseBytes / 1024, 1)} KiB per case, its context ${fmt(state.contextJsonBytes / 1024, 1)} KiB as JSON`,
  );

  const atGoal = last.cases >= GOAL_CASES ? last.rss : projected;
  const goals = [goal(`worker RSS with ${GOAL_CASES} cases cached${last.cases >= GOAL_CASES ? '' : ' (projected)'}`, atGoal / 2 ** 30, '<=', GOAL_BYTES / 2 ** 30, 'GiB')];
  if (deep) goals.push(goal(`worker RSS with ${GOAL_CASES} grown cases (projected from the support sample)`, (idle.rss + GOAL_CASES * deep.perCase) / 2 ** 30, '<=', GOAL_BYTES / 2 ** 30, 'GiB'));
  printGoals(goals);
  writeResults('memory', {
    environment: stack.env,
    params: { ...opts, maxCachedWorkflows: maxCached, ...stack.describe },
    figures: { readings, perCaseBytes: fit.slope, interceptBytes: fit.intercept, projectedAtGoal: projected, deep, caseState: state, stoppedEarly },
    goals,
  });
  await stack.stop();
});
