// Intake: referrals per second through `PathwayClient.refer` (validation, case start, first view,
// duplicate-person check in the scheme's person index), and refer's latency. Two phases in one run:
// as fast as `--concurrency` callers can go, then open loop at the goal rate for its latency there.
import { randomUUID } from 'node:crypto';
import { serverFlags, startStack } from './harness';
import { syntheticReferral } from './cohort';
import { cpuLine, cpuMonitor, flags, goal, main, num, printGoals, printLoad, runLoad, writeResults } from './support';

const GOAL_RATE = 20;

main(async () => {
  const opts = flags('npm run bench:intake -- [flags]', {
    duration: num(60, 'seconds of each phase'),
    concurrency: num(16, 'callers in the as-fast-as-possible phase'),
    rate: num(GOAL_RATE, 'referrals per second in the open-loop phase (0 skips it)'),
    schemes: num(1, 'schemes the referrals are spread over (each has its own person index)'),
    ...serverFlags,
  });
  const stack = await startStack('intake', opts);
  const { server, worker, clients } = stack;

  const run = randomUUID().slice(0, 6);
  const schemes = Array.from({ length: opts.schemes }, (_, i) => `intake-${run}-${i}`);
  let n = 0;
  const refer = async () => {
    const i = n++;
    await clients.pathway.refer(syntheticReferral(schemes[i % schemes.length]!, run, i));
  };
  // Warm-up: the first referral of a scheme starts its person index.
  for (let i = 0; i < 20; i++) await refer();

  const cpu = cpuMonitor({ server: server.pid, worker: worker.pid, client: process.pid });
  const max = await runLoad({ label: 'intake max', seconds: opts.duration, rate: 0, concurrency: opts.concurrency, op: refer });
  const maxCpu = cpu.stop();
  printLoad(max);
  console.log(`    ${cpuLine(maxCpu)}`);
  let atGoal: Awaited<ReturnType<typeof runLoad>> | undefined;
  let goalCpu;
  if (opts.rate > 0) {
    const cpu2 = cpuMonitor({ server: server.pid, worker: worker.pid, client: process.pid });
    atGoal = await runLoad({ label: `intake at ${opts.rate}/s`, seconds: opts.duration, rate: opts.rate, concurrency: 64, op: refer });
    goalCpu = cpu2.stop();
    printLoad(atGoal);
    console.log(`    ${cpuLine(goalCpu)}`);
  }

  const goals = [goal('intake sustained', max.rate, '>=', GOAL_RATE, 'referrals/s')];
  printGoals(goals);
  writeResults('intake', {
    environment: stack.env,
    params: { ...opts, ...stack.describe },
    figures: { max, maxCpu, atGoal, goalCpu, referralsTotal: n },
    goals,
  });
  await stack.stop();
});
