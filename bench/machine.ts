// The pure machine: what one XState transition costs (the workflow runs one per event, plus a
// `can()` in each update's validator), a whole case's journey per transition, and how long the
// graph tools take to explore the pathway and enumerate a shortest path to every state.
import { initialTransition, transition } from 'xstate';
import { LINK_WORKER, PERSON, explorePathway, graphInput, journeysToDischarge, sampleMeasures, shortestPaths } from '../machines/graph';
import { DAY, defaultPolicy, pathwayMachine, stageOf, type PathwayEvent, type PathwaySnapshot, type UnstampedEvent } from '../machines';
import { pathwayStepper } from '../workflows/pathway-stepper';
import { environment, flags, fmt, goal, main, num, printEnvironment, printGoals, summarize, writeResults, type Summary } from './support';

const GOAL_TRANSITION_US = 20;
const GOAL_PATHS_MS = 2000;

const policy = defaultPolicy;
const measures = sampleMeasures(policy);
const lw = LINK_WORKER;

/** The events of an ordinary case from referral to discharge, with the times they arrive. */
function journey(start: number): PathwayEvent[] {
  const steps: Array<[number, UnstampedEvent]> = [
    [0.1, { type: 'TRIAGE.ACCEPT', actor: lw }],
    [0.2, { type: 'CAPACITY.GRANTED', linkWorkerId: lw.id }],
    [1, { type: 'CONTACT.ATTEMPT', outcome: 'reached', channel: 'phone', actor: lw }],
    [5, { type: 'VISIT.RECORD', location: 'home', durationMinutes: 120, measures, barriers: ['transport'], actor: lw }],
    [6, { type: 'PLAN.DRAFT', goals: [{ id: 'g1', text: 'Lunch club twice a week' }], activities: [{ id: 'a1', category: 'connecting', name: 'Lunch club' }], barrierActions: [{ barrier: 'transport', action: 'transportArranged' }], tier: 'intensive', volunteer: false, actor: lw }],
    [7, { type: 'PLAN.AGREE', party: 'person', actor: PERSON }],
    [7, { type: 'PLAN.AGREE', party: 'linkWorker', actor: lw }],
  ];
  for (let week = 1; week < 12; week++) {
    steps.push([7 + week * 7, week % 3 === 0 ? { type: 'CHECKIN.RECORD', measures, actor: lw } : { type: 'SESSION.LOG', kind: 'accompaniedActivity', attended: true, durationMinutes: 90, withVolunteer: false, actor: lw }]);
  }
  steps.push([7 + 12 * 7, { type: 'DEADLINE.REVIEW' }]);
  steps.push([7 + 12 * 7 + 1, { type: 'REVIEW.RECORD', measures, goalsMet: 'all', outcome: 'discharge', actor: lw }]);
  return steps.map(([day, e]) => ({ ...e, at: start + day * DAY }) as PathwayEvent);
}

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

main(async () => {
  const opts = flags('npm run bench:machine -- [flags]', {
    iterations: num(50_000, 'timed calls per measurement'),
    journeys: num(2000, 'whole journeys replayed through transition()'),
  });
  const env = environment();
  printEnvironment('machine', env, [`policy: default (${policy.tiers.length} tiers, ${policy.measures.length} measures)`]);

  const input = graphInput(policy);
  const events = journey(input.at);
  // The case workflow's own path: one xstate scope per case (workflows/case.ts), not xstate's
  // transition(), which builds a throwaway actor per call.
  const step = pathwayStepper(input);
  const snapshots: PathwaySnapshot[] = [initialTransition(pathwayMachine, input)[0] as PathwaySnapshot];
  for (const e of events) snapshots.push(step(snapshots.at(-1)!, e)[0] as PathwaySnapshot);
  if (snapshots.at(-1)!.status !== 'done') throw new Error('journey did not end in discharge');
  const at = (type: string, nth = 0) => events.findIndex((e, i) => e.type === type && events.slice(0, i).filter((x) => x.type === type).length === nth);
  const label = (i: number) => `${events[i]!.type} (${stageOf(snapshots[i]!)})`;
  const measured = [at('TRIAGE.ACCEPT'), at('VISIT.RECORD'), at('PLAN.AGREE', 1), at('SESSION.LOG', 1), at('CHECKIN.RECORD', 1), at('REVIEW.RECORD')];
  const results: Record<string, ReturnType<typeof time>> = {};
  for (const i of measured) results[`engine step: ${label(i)}`] = time(opts.iterations, () => step(snapshots[i]!, events[i]!));
  for (const i of [at('SESSION.LOG', 1), at('CHECKIN.RECORD', 1)]) results[`xstate transition(): ${label(i)}`] = time(opts.iterations, () => transition(pathwayMachine, snapshots[i]!, events[i]!));
  results['can(): SESSION.LOG in support (each validator)'] = time(opts.iterations, () => snapshots[at('SESSION.LOG', 1)]!.can(events[at('SESSION.LOG', 1)]!));
  results['initialTransition (referral and screening)'] = time(Math.min(opts.iterations, 20_000), () => initialTransition(pathwayMachine, input));
  const journeyTimes = time(opts.journeys, () => {
    for (let i = 0; i < events.length; i++) step(snapshots[i]!, events[i]!);
  });
  const perStep = journeyTimes.batchMeanUs / events.length;
  for (const [name, s] of Object.entries(results)) {
    console.log(`  ${name.padEnd(58)} mean ${fmt(s.batchMeanUs, 2)} µs  p50 ${fmt(s.p50, 2)}  p99 ${fmt(s.p99, 2)}`);
  }
  console.log(`  ${`every step of a 12-week case (${events.length} engine steps)`.padEnd(58)} mean ${fmt(perStep, 2)} µs per step, ${fmt(journeyTimes.batchMeanUs, 0)} µs per case`);
  const session = at('SESSION.LOG', 1);
  const ratio = results[`xstate transition(): ${label(session)}`]!.batchMeanUs / results[`engine step: ${label(session)}`]!.batchMeanUs;
  console.log(`  xstate transition() / engine step, same SESSION.LOG: ${fmt(ratio, 1)}x`);

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
    goal('transition as the engine runs it, mean over every step of a case', perStep, '<=', GOAL_TRANSITION_US, 'µs'),
    goal('shortest paths to every state', pathsMs, '<=', GOAL_PATHS_MS, 'ms'),
  ];
  printGoals(goals);
  writeResults('machine', {
    environment: env,
    params: opts,
    figures: { transitions: results, transitionOverStep: ratio, journey: { ...journeyTimes, steps: events.length, perStepUs: perStep }, graph: { states, exploreMs, shortestPaths: paths.length, pathsMs, journeys: journeys.length, journeysMs } },
    goals,
  });
});
