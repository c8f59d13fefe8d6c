// The pure machine: what one XState transition costs (the workflow runs one per event, plus a
// `can()` in each update's validator), a whole case's journey per transition, and how long the
// graph tools take to explore the pathway and enumerate a shortest path to every state.
import { initialTransition, transition } from 'xstate';
import { LINK_WORKER, PERSON, explorePathway, graphInput, journeysToDischarge, sampleMeasures, shortestPaths } from '../machines/graph';
import { DAY, WEEK, defaultPolicy, pathwayMachine, stageOf, type PathwayEvent, type PathwaySnapshot, type UnstampedEvent } from '../machines';
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
  const [first] = initialTransition(pathwayMachine, input);
  let support = first as PathwaySnapshot;
  for (const e of events.slice(0, 7)) support = transition(pathwayMachine, support, e)[0] as PathwaySnapshot;
  if (stageOf(support) !== 'support') throw new Error(`journey did not reach support (at ${stageOf(support)})`);
  const checkIn = { ...events[10]!, at: input.at + 3 * WEEK };
  const session = { ...events[8]!, at: input.at + 2 * WEEK };

  const results = {
    'transition: CHECKIN.RECORD in support': time(opts.iterations, () => transition(pathwayMachine, support, checkIn)),
    'transition: SESSION.LOG in support': time(opts.iterations, () => transition(pathwayMachine, support, session)),
    'can(): SESSION.LOG in support (each validator)': time(opts.iterations, () => support.can(session)),
    'initialTransition (referral and screening)': time(Math.min(opts.iterations, 20_000), () => initialTransition(pathwayMachine, input)),
  };
  const journeyTimes = time(opts.journeys, () => {
    let s = initialTransition(pathwayMachine, input)[0] as PathwaySnapshot;
    for (const e of events) s = transition(pathwayMachine, s, e)[0] as PathwaySnapshot;
    if (s.status !== 'done') throw new Error('journey did not end in discharge');
  });
  const perJourneyTransition = journeyTimes.batchMeanUs / (events.length + 1);
  for (const [name, s] of Object.entries(results)) {
    console.log(`  ${name.padEnd(48)} mean ${fmt(s.batchMeanUs, 2)} µs  p50 ${fmt(s.p50, 2)}  p99 ${fmt(s.p99, 2)}  max ${fmt(s.max, 0)} µs`);
  }
  console.log(`  whole 12-week journey (${events.length + 1} transitions)${' '.repeat(9)} mean ${fmt(journeyTimes.batchMeanUs, 0)} µs, ${fmt(perJourneyTransition, 2)} µs per transition`);

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

  const worst = Math.max(...Object.entries(results).filter(([k]) => k.startsWith('transition')).map(([, s]) => s.batchMeanUs));
  const goals = [
    goal('XState transition, mean (slowest command measured)', worst, '<=', GOAL_TRANSITION_US, 'µs'),
    goal('shortest paths to every state', pathsMs, '<=', GOAL_PATHS_MS, 'ms'),
  ];
  printGoals(goals);
  writeResults('machine', {
    environment: env,
    params: opts,
    figures: { transitions: results, journey: { ...journeyTimes, transitions: events.length + 1, perTransitionUs: perJourneyTransition }, graph: { states, exploreMs, shortestPaths: paths.length, pathsMs, journeys: journeys.length, journeysMs } },
    goals,
  });
});
