// The pure machine: what one XState transition costs (the workflow runs one per event, plus a
// `can()` in each update's validator), a whole case's journey per transition, and how long the
// graph tools take to explore the pathway and enumerate a shortest path to every state. The
// machine is timed as the worker compiles it (bench/compiled-pathway.ts), at the engine's language
// level and at the SDK's default, alternated in one run.
import { spawnSync } from 'node:child_process';
import { initialTransition, transition } from 'xstate';
import { explorePathway, graphInput, journeysToDischarge, shortestPaths } from '../machines/graph';
import { defaultPolicy, type PathwayEvent, type PathwaySnapshot } from '../machines';
import { journey } from './journey';
import { SDK_DEFAULT_TARGET, WORKFLOW_TARGET } from '../worker/bundle';
import { compilePathway, loadCompiledPathway, type CompiledPathway } from './compiled-pathway';
import { environment, flags, fmt, goal, main, num, printEnvironment, printGoals, str, summarize, writeResults, type Summary } from './support';

const GOAL_TRANSITION_US = 20;
const GOAL_PATHS_MS = 2000;

const policy = defaultPolicy;

/** Per-call times in µs of `fn`, after a warm-up, from the high-resolution clock. */
function time(iterations: number, fn: () => unknown): Summary & { batchMeanUs: number } {
  for (let i = 0; i < Math.min(2000, iterations); i++) fn();
  const samples = new Array<number>(iterations);
  for (let i = 0; i < iterations; i++) {
    const t = process.hrtime.bigint();
    fn();
    samples[i] = Number(process.hrtime.bigint() - t) / 1000;
  }
  // A batch with no clock reads inside: the mean without the timer's own cost.
  const t = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  const batchMeanUs = Number(process.hrtime.bigint() - t) / 1000 / iterations;
  return { ...summarize(samples), batchMeanUs };
}

/** A case's engine steps on one compilation: the stepper, and the snapshot before each event. */
function prepare(compiled: CompiledPathway, events: readonly PathwayEvent[]) {
  const input = graphInput(policy);
  const step = compiled.stepper.pathwayStepper(input);
  const snapshots: PathwaySnapshot[] = [initialTransition(compiled.machines.pathwayMachine, input)[0] as PathwaySnapshot];
  for (const e of events) snapshots.push(step(snapshots.at(-1)!, e)[0] as PathwaySnapshot);
  if (snapshots.at(-1)!.status !== 'done') throw new Error(`journey did not end in discharge (${compiled.target})`);
  return { compiled, input, step, snapshots };
}

/**
 * Mean µs per engine step over whole journeys, batch after batch, on one compilation. V8 keeps
 * optimising for thousands of journeys, so the first batch is the cold figure and the median of
 * the second half the steady one, which is what a worker running a region's cases for hours pays.
 */
function journeyStepUs(run: ReturnType<typeof prepare>, events: readonly PathwayEvent[], journeys: number, batches: number) {
  const perBatch: number[] = [];
  // The process's own CPU time too: on a shared machine the wall clock also counts the time other
  // jobs held the core, the CPU time (nearly) only the steps' own work, so it compares across runs.
  const cpuPerBatch: number[] = [];
  for (let b = 0; b < batches; b++) {
    const cpu = process.cpuUsage();
    const t = process.hrtime.bigint();
    for (let j = 0; j < journeys; j++) for (let i = 0; i < events.length; i++) run.step(run.snapshots[i]!, events[i]!);
    perBatch.push(Number(process.hrtime.bigint() - t) / 1000 / journeys / events.length);
    const used = process.cpuUsage(cpu);
    cpuPerBatch.push((used.user + used.system) / journeys / events.length);
  }
  const steady = (xs: number[]) => summarize(xs.slice(Math.floor(batches / 2))).p50;
  return { coldUs: perBatch[0]!, steadyUs: steady(perBatch), steadyCpuUs: steady(cpuPerBatch), perBatch, cpuPerBatch };
}
type JourneyFigures = ReturnType<typeof journeyStepUs>;

/**
 * The journey timed in a process of its own: a worker loads one compilation of the machine, and
 * two loaded side by side make xstate's functions see objects of two shapes, which slows both.
 */
function journeyInChild(target: string, journeys: number, batches: number): JourneyFigures {
  const args = ['--import', 'tsx', __filename, '--journey-of', target, '--journeys', String(journeys), '--batches', String(batches)];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`journey run for ${target} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as JourneyFigures;
}

main(async () => {
  const opts = flags('npm run bench:machine -- [flags]', {
    iterations: num(50_000, 'timed calls per measurement'),
    journeys: num(1000, 'whole journeys per timed batch'),
    batches: num(10, 'timed batches per process: the first is cold, the second half steady'),
    rounds: num(3, 'rounds alternating the two language levels, each in a fresh process'),
    'journey-of': str('', '(internal) time the journey on this compilation only, print JSON'),
  });
  const input = graphInput(policy);
  const events = journey(input.at);
  if (opts['journey-of']) {
    const run = prepare(loadCompiledPathway(opts['journey-of']), events);
    console.log(JSON.stringify(journeyStepUs(run, events, opts.journeys, opts.batches)));
    return;
  }
  const env = environment();
  printEnvironment('machine', env, [
    `policy: default (${policy.tiers.length} tiers, ${policy.measures.length} measures)`,
    `machine compiled by swc as the worker's bundler does: ${WORKFLOW_TARGET} (the engine's setting) and ${SDK_DEFAULT_TARGET} (the SDK's default)`,
  ]);
  compilePathway(SDK_DEFAULT_TARGET);
  compilePathway(WORKFLOW_TARGET);
  const engine = prepare(loadCompiledPathway(WORKFLOW_TARGET), events);
  // The case workflow's own path: one xstate scope per case (workflows/case.ts), not xstate's
  // transition(), which builds a throwaway actor per call.
  const { step, snapshots } = engine;
  const { pathwayMachine, stageOf } = engine.compiled.machines;

  const at = (type: string, nth = 0) => events.findIndex((e, i) => e.type === type && events.slice(0, i).filter((x) => x.type === type).length === nth);
  const label = (i: number) => `${events[i]!.type} (${stageOf(snapshots[i]!)})`;
  const measured = [at('TRIAGE.ACCEPT'), at('VISIT.RECORD'), at('PLAN.AGREE', 1), at('SESSION.LOG', 1), at('CHECKIN.RECORD', 1), at('REVIEW.RECORD')];
  const results: Record<string, ReturnType<typeof time>> = {};
  for (const i of measured) results[`engine step: ${label(i)}`] = time(opts.iterations, () => step(snapshots[i]!, events[i]!));
  for (const i of [at('SESSION.LOG', 1), at('CHECKIN.RECORD', 1)]) results[`xstate transition(): ${label(i)}`] = time(opts.iterations, () => transition(pathwayMachine, snapshots[i]!, events[i]!));
  results['can(): SESSION.LOG in support (each validator)'] = time(opts.iterations, () => snapshots[at('SESSION.LOG', 1)]!.can(events[at('SESSION.LOG', 1)]!));
  results['initialTransition (referral and screening)'] = time(Math.min(opts.iterations, 20_000), () => initialTransition(pathwayMachine, input));
  for (const [name, s] of Object.entries(results)) {
    console.log(`  ${name.padEnd(58)} mean ${fmt(s.batchMeanUs, 2)} µs  p50 ${fmt(s.p50, 2)}  p99 ${fmt(s.p99, 2)}`);
  }
  const session = at('SESSION.LOG', 1);
  const ratio = results[`xstate transition(): ${label(session)}`]!.batchMeanUs / results[`engine step: ${label(session)}`]!.batchMeanUs;
  console.log(`  xstate transition() / engine step, same SESSION.LOG: ${fmt(ratio, 1)}x`);

  // A whole case, round after round, alternating the two compilations so that drift in the
  // machine's load falls on both alike.
  const rounds: Array<{ engine: JourneyFigures; sdkDefault: JourneyFigures }> = [];
  for (let r = 0; r < opts.rounds; r++) {
    const sdkDefault = journeyInChild(SDK_DEFAULT_TARGET, opts.journeys, opts.batches);
    rounds.push({ sdkDefault, engine: journeyInChild(WORKFLOW_TARGET, opts.journeys, opts.batches) });
  }
  const median = (xs: readonly number[]) => summarize(xs).p50;
  const figure = (key: 'engine' | 'sdkDefault', which: 'coldUs' | 'steadyUs' | 'steadyCpuUs') => median(rounds.map((r) => r[key][which]));
  const engineStep = figure('engine', 'steadyUs');
  const targetRatio = median(rounds.map((r) => r.sdkDefault.steadyUs / r.engine.steadyUs));
  const caseLine = (target: string, key: 'engine' | 'sdkDefault') =>
    `  ${`every step of a 12-week case (${events.length} steps), ${target}`.padEnd(58)} steady ${fmt(figure(key, 'steadyUs'), 2)} µs per step (${fmt(figure(key, 'steadyUs') * events.length, 0)} µs per case), cold ${fmt(figure(key, 'coldUs'), 2)}, steady CPU time ${fmt(figure(key, 'steadyCpuUs'), 2)}`;
  console.log(caseLine(`${WORKFLOW_TARGET}, engine`, 'engine'));
  console.log(caseLine(`${SDK_DEFAULT_TARGET}, SDK default`, 'sdkDefault'));
  console.log(`  ${SDK_DEFAULT_TARGET} / ${WORKFLOW_TARGET}, steady, median of ${opts.rounds} alternating rounds, one process each: ${fmt(targetRatio, 2)}x`);

  // The graph tools run where a scheme's developers run them, in the tests, on the source as is.
  const exploreStarted = performance.now();
  const graph = explorePathway(policy);
  const exploreMs = performance.now() - exploreStarted;
  const pathsStarted = performance.now();
  const paths = shortestPaths(graph);
  const pathsMs = performance.now() - pathsStarted;
  const journeysStarted = performance.now();
  const journeys = journeysToDischarge(graph);
  const journeysMs = performance.now() - journeysStarted;
  const states = Object.keys(graph.adjacency).length;
  console.log(`  graph: ${states} states explored in ${fmt(exploreMs, 0)} ms; shortest paths to all ${paths.length} in ${fmt(pathsMs, 0)} ms (its own traversal); ${journeys.length} journeys to discharge in ${fmt(journeysMs, 0)} ms`);

  const goals = [
    goal('transition as the engine runs it, steady mean over every step of a case', engineStep, '<=', GOAL_TRANSITION_US, 'µs'),
    goal('shortest paths to every state', pathsMs, '<=', GOAL_PATHS_MS, 'ms'),
  ];
  printGoals(goals);
  writeResults('machine', {
    environment: env,
    params: opts,
    figures: {
      transitions: results,
      transitionOverStep: ratio,
      journey: {
        steps: events.length,
        engine: { target: WORKFLOW_TARGET, steadyUs: engineStep, coldUs: figure('engine', 'coldUs'), steadyCpuUs: figure('engine', 'steadyCpuUs') },
        sdkDefault: {
          target: SDK_DEFAULT_TARGET,
          steadyUs: figure('sdkDefault', 'steadyUs'),
          coldUs: figure('sdkDefault', 'coldUs'),
          steadyCpuUs: figure('sdkDefault', 'steadyCpuUs'),
        },
        sdkDefaultOverEngine: targetRatio,
        rounds,
      },
      graph: { states, exploreMs, shortestPaths: paths.length, pathsMs, journeys: journeys.length, journeysMs },
    },
    goals,
  });
});
