// `npm run bench:cluster`: the intake, update and programme benchmarks against the dev server and
// then against the production topology (scripts/cluster.ts: PostgreSQL, two Temporal servers), in
// one run on one machine, with each goal's figure side by side and the cluster's as a share of the
// dev server's. Each benchmark runs in a process of its own, as its npm script would, once per
// server; their own results files are kept per server beside this run's (`bench/results/`).
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { TEMPORAL_SERVER_VERSION } from '../scripts/cluster-provision.mjs';
import { environment, flags, fmt, main, printEnvironment, readResults, resultsDir, str, writeResults, type Goal } from './support';

/** Each benchmark's arguments here: shorter than its own defaults, so the pair of runs fits in a sitting. */
const ARGS: Record<string, string[]> = {
  intake: ['--duration', '30'],
  updates: ['--cases', '200', '--duration', '60', '--max-duration', '20'],
  // A policy week of 20 s, not the bench's 2 s: on a loaded two-core machine a case's commands fall
  // behind a fast clock (its review falls due before its sessions are in), and every case fails.
  programme: ['--cases', '200', '--concurrency', '100', '--week-ms', '20000'],
};

/** `args` with `flag`'s value replaced by `value` (or added), when a value is given. */
function withFlag(args: string[], flag: string, value: string): string[] {
  if (!value) return args;
  const at = args.indexOf(flag);
  return at < 0 ? [...args, flag, value] : [...args.slice(0, at), flag, value, ...args.slice(at + 2)];
}

interface Run {
  exit: number | null;
  seconds: number;
  goals: Goal[];
}

function runBench(name: string, args: string[], target: 'dev' | 'cluster'): Run {
  const all = [...args, ...(target === 'cluster' ? ['--cluster'] : [])];
  console.log(`\n=== bench:${name} ${all.join(' ')}  (${target === 'cluster' ? 'cluster' : 'dev server'})`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, `${name}.ts`), ...all], { stdio: 'inherit' });
  const seconds = (Date.now() - started) / 1000;
  const result = r.status === 0 ? (readResults(name) as { goals?: Goal[] } | undefined) : undefined;
  // The benchmark's own file is overwritten by the next run: keep this one under the server's name.
  const file = join(resultsDir, `${name}.json`);
  if (r.status === 0 && existsSync(file)) copyFileSync(file, join(resultsDir, `${name}.${target}.json`));
  return { exit: r.status, seconds, goals: result?.goals ?? [] };
}

main(async () => {
  const opts = flags('npm run bench:cluster -- [flags]', {
    only: str(Object.keys(ARGS).join(','), 'which benchmarks, comma-separated (intake, updates, programme)'),
    'programme-cases': str('', "referrals in the programme run (the seeds' scale is 16000); default 200"),
    'programme-concurrency': str('', 'cases under way at once in the programme run; default 100'),
    'programme-week-ms': str('', 'one policy week in real milliseconds in the programme run; default 20000'),
  });
  const names = opts.only.split(',').filter((n) => n in ARGS);
  const env = environment();
  printEnvironment('cluster', env, [`cluster: PostgreSQL and two Temporal server ${TEMPORAL_SERVER_VERSION} processes; dev server: the temporal CLI's, on SQLite`]);
  const rows: Array<{ bench: string; goal: string; unit: string; dev?: number; cluster?: number; ratio?: number }> = [];
  const runs: Record<string, { dev: Run; cluster: Run }> = {};
  for (const name of names) {
    let args = [...ARGS[name]!];
    if (name === 'programme') {
      args = withFlag(args, '--cases', opts['programme-cases']);
      args = withFlag(args, '--concurrency', opts['programme-concurrency']);
      args = withFlag(args, '--week-ms', opts['programme-week-ms']);
    }
    const dev = runBench(name, args, 'dev');
    const cluster = runBench(name, args, 'cluster');
    runs[name] = { dev, cluster };
    for (const g of dev.goals) {
      const c = cluster.goals.find((x) => x.name === g.name);
      rows.push({ bench: name, goal: g.name, unit: g.unit, dev: g.value, ...(c && { cluster: c.value, ratio: c.value / g.value }) });
    }
    for (const c of cluster.goals.filter((x) => !dev.goals.some((g) => g.name === x.name))) rows.push({ bench: name, goal: c.name, unit: c.unit, cluster: c.value });
  }

  console.log('\n=== dev server and cluster, side by side (ratio: cluster / dev server)');
  for (const r of rows) {
    console.log(
      `  ${r.bench}: ${r.goal}: dev ${r.dev === undefined ? '-' : fmt(r.dev, 2)}  cluster ${r.cluster === undefined ? '-' : fmt(r.cluster, 2)} ${r.unit}  ratio ${r.ratio === undefined ? '-' : fmt(r.ratio, 2)}`,
    );
  }
  for (const [name, { dev, cluster }] of Object.entries(runs)) {
    console.log(`  ${name}: wall time dev ${fmt(dev.seconds, 0)} s (exit ${dev.exit}), cluster ${fmt(cluster.seconds, 0)} s (exit ${cluster.exit}, including its start)`);
  }
  writeResults('cluster', {
    environment: env,
    params: { args: Object.fromEntries(names.map((n) => [n, ARGS[n]])), programme: { cases: opts['programme-cases'], concurrency: opts['programme-concurrency'], weekMs: opts['programme-week-ms'] } },
    figures: { rows, runs },
    goals: [],
  });
  if (Object.values(runs).some((r) => r.dev.exit !== 0 || r.cluster.exit !== 0)) process.exitCode = 1;
});
