// Updates: pathway commands per second across many open cases in support, with their latency.
// Cases are referred and brought to support first; then sessions and check-ins go to them round
// robin (so no case ever has more than a few in flight), open loop at the goal rate for the
// duration, after a short as-fast-as-possible phase that finds the ceiling.
import { randomUUID } from 'node:crypto';
import { serverFlags, startStack } from './harness';
import { openCasesInSupport, supportCommand } from './cohort';
import { cpuLine, cpuMonitor, flags, fmt, goal, main, num, printGoals, printLoad, runLoad, writeResults, type Goal } from './support';
import { digitFree } from '../machines/ids';

const GOAL_RATE = 100;
const GOAL_P99_MS = 100;

main(async () => {
  const opts = flags('npm run bench:updates -- [flags]', {
    duration: num(600, 'seconds of the sustained phase, open loop at --rate'),
    rate: num(GOAL_RATE, 'commands per second in the sustained phase'),
    'max-duration': num(60, 'seconds of the as-fast-as-possible phase before it (0 skips it)'),
    concurrency: num(32, 'callers in the as-fast-as-possible phase'),
    cases: num(1000, 'open cases the commands are spread over'),
    'setup-concurrency': num(32, 'cases brought to support at once during setup'),
    ...serverFlags,
  });
  const stack = await startStack('updates', opts);
  const { server, worker, clients } = stack;

  const run = digitFree(randomUUID().slice(0, 6));
  const setupStarted = Date.now();
  const cases = await openCasesInSupport(clients.pathway, `updates-${run}`, run, opts.cases, opts['setup-concurrency']);
  console.log(`  setup: ${cases.size} cases in support in ${fmt((Date.now() - setupStarted) / 1000, 0)} s`);

  const op = supportCommand(clients.pathway, cases);
  let offset = 0;
  const shifted = (i: number) => op(offset + i);
  let max;
  if (opts['max-duration'] > 0) {
    const cpu = cpuMonitor({ ...(server.processes ?? { server: server.pid }), worker: worker.pid, client: process.pid });
    max = await runLoad({ label: 'updates max', seconds: opts['max-duration'], rate: 0, concurrency: opts.concurrency, op: shifted });
    const maxCpu = cpu.stop();
    printLoad(max);
    console.log(`    ${cpuLine(maxCpu)}`);
    offset += max.completed + max.failed + opts.concurrency;
    Object.assign(max, { cpu: maxCpu });
  }
  const cpu = cpuMonitor({ ...(server.processes ?? { server: server.pid }), worker: worker.pid, client: process.pid });
  // No more in flight than cases: the server refuses an eleventh update in flight to one workflow.
  const callers = Math.min(200, cases.size);
  // --rate 0 makes this phase a closed loop too, with as many callers as there may be in flight.
  const offered = opts.rate > 0 ? `${opts.rate}/s offered` : `closed loop, ${callers} callers`;
  const sustained = await runLoad({ label: `updates, ${offered}`, seconds: opts.duration, rate: opts.rate, concurrency: callers, op: shifted });
  const sustainedCpu = cpu.stop();
  printLoad(sustained);
  console.log(`    ${cpuLine(sustainedCpu)}`);

  const goals = [
    // The rate achieved, met only if it was held: failed or late commands mean it was not, whatever the count.
    held(
      goal(`updates sustained, ${offered}${sustained.lateStarts > 0 ? ` (${sustained.lateStarts} late starts: not held)` : ''}`, sustained.rate, '>=', GOAL_RATE, 'commands/s'),
      sustained.failed === 0 && sustained.lateStarts === 0,
    ),
    goal('update p99 at that rate', sustained.latency.p99, '<=', GOAL_P99_MS, 'ms'),
  ];
  if (max) goals.push(goal('updates ceiling (as fast as possible)', max.rate, '>=', GOAL_RATE, 'commands/s'));
  printGoals(goals);
  writeResults('updates', {
    environment: stack.env,
    params: { ...opts, ...stack.describe },
    figures: { max, sustained, sustainedCpu },
    goals,
  });
  await stack.stop();
});

function held(g: Goal, ok: boolean): Goal {
  return { ...g, met: g.met && ok };
}
