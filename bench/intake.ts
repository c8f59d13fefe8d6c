// Intake: referrals per second through `PathwayClient.refer` (validation, case start, first view,
// duplicate-person check in the scheme's person index), and refer's latency. Two phases in one run:
// as fast as `--concurrency` callers can go, then open loop at the goal rate for its latency there.
import { randomUUID } from 'node:crypto';
import { serverFlags, startStack, type Stack } from './harness';
import { syntheticReferral } from './cohort';
import { cpuLine, cpuMonitor, flags, fmt, goal, main, mergeLoads, num, printGoals, printLoad, runLoad, str, writeResults, type CpuShares, type LoadResult } from './support';
import { digitFree } from '../machines/ids';

const GOAL_RATE = 20;

main(async () => {
  const opts = flags('npm run bench:intake -- [flags]', {
    duration: num(60, 'seconds of each phase'),
    concurrency: num(16, 'callers in the as-fast-as-possible phase'),
    rate: num(GOAL_RATE, 'referrals per second in the open-loop phase (0 skips it)'),
    schemes: num(1, 'schemes the referrals are spread over (each has its own person index)'),
    ...serverFlags,
    versus: str('', 'another SQLite setting (e.g. wal): a second server and worker, taking turns with the first in slices, for the ratio'),
    slice: num(10, 'seconds per slice when --versus is given'),
  });
  const stack = await startStack('intake', opts);
  // A second server with another SQLite setting, for a ratio measured in the same minutes.
  const other = opts.versus ? await startStack('intake', { ...opts, sqlite: opts.versus }, { notes: [`versus: the run above alternates with this one in ${opts.slice} s slices`] }) : undefined;
  const stacks = [stack, ...(other ? [other] : [])];

  const run = digitFree(randomUUID().slice(0, 6));
  const schemes = Array.from({ length: opts.schemes }, (_, i) => `intake-${run}-${i}`);
  let n = 0;
  const referOn = (s: Stack) => async () => {
    const i = n++;
    await s.clients.pathway.refer(syntheticReferral(schemes[i % schemes.length]!, run, i));
  };
  // Warm-up: the first referral of a scheme starts its person index.
  for (const s of stacks) for (let i = 0; i < 20; i++) await referOn(s)();

  const phase = async (label: string, rate: number, concurrency: number) => {
    const slices = other ? Math.max(1, Math.round(opts.duration / opts.slice)) : 1;
    const seconds = opts.duration / slices;
    const parts = stacks.map(() => [] as LoadResult[]);
    const cpu = stacks.map(() => [] as CpuShares[]);
    for (let k = 0; k < slices; k++) {
      for (const [j, s] of stacks.entries()) {
        const m = cpuMonitor({ ...(s.server.processes ?? { server: s.server.pid }), worker: s.worker.pid, client: process.pid });
        parts[j]!.push(await runLoad({ label: `${label}${other ? ` [${s.describe.server.split('pragmas: ')[1]?.slice(0, 24)}]` : ''}`, seconds, rate, concurrency, op: referOn(s) }));
        cpu[j]!.push(m.stop());
      }
    }
    return stacks.map((s, j) => {
      const load = parts[j]!.length === 1 ? parts[j]![0]! : mergeLoads(label, parts[j]!);
      const shares = cpu[j]!;
      const mean = (k: string) => shares.reduce((a, c) => a + (c.processes[k] ?? 0), 0) / shares.length;
      const cpuShares: CpuShares = { seconds: load.seconds, processes: { server: mean('server'), worker: mean('worker'), client: mean('client') }, machineBusy: shares.reduce((a, c) => a + c.machineBusy, 0) / shares.length };
      console.log(`  ${s.describe.server}`);
      printLoad(load);
      console.log(`    ${cpuLine(cpuShares)}`);
      return { load, cpu: cpuShares };
    });
  };
  const max = await phase('intake max', 0, opts.concurrency);
  const atGoal = opts.rate > 0 ? await phase(`intake at ${opts.rate}/s`, opts.rate, 64) : undefined;
  const versus = other ? { rateRatio: max[1]!.load.rate / max[0]!.load.rate, p50Ratio: max[1]!.load.latency.p50 / max[0]!.load.latency.p50 } : undefined;
  if (versus) console.log(`  ratio ${opts.versus} / ${opts.sqlite}: rate ${fmt(versus.rateRatio, 2)}x, refer p50 ${fmt(versus.p50Ratio, 2)}x`);

  const goals = [goal(`intake sustained (sqlite ${opts.sqlite})`, max[0]!.load.rate, '>=', GOAL_RATE, 'referrals/s')];
  if (other) goals.push(goal(`intake sustained (sqlite ${opts.versus})`, max[1]!.load.rate, '>=', GOAL_RATE, 'referrals/s'));
  printGoals(goals);
  writeResults('intake', {
    environment: stack.env,
    params: { ...opts, ...stack.describe, ...(other && { versusServer: other.describe.server }) },
    figures: { max, atGoal, versus, referralsTotal: n },
    goals,
  });
  for (const s of stacks) await s.stop();
});
