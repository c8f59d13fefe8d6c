// `npm run bench`: every benchmark once, one after another, with reduced defaults so the whole set
// takes about a quarter of an hour; then each goal's figure from the results just written. Each
// benchmark runs in a process of its own, as its own npm script would run it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { flags, fmt, main, readResults, str, type Goal } from './support';

const QUICK: Record<string, string[]> = {
  machine: ['--iterations', '20000', '--journeys', '500'],
  startup: ['--runs', '3'],
  intake: ['--duration', '20'],
  gateway: ['--duration', '20'],
  updates: ['--cases', '200', '--duration', '60', '--max-duration', '20'],
  overhead: ['--rounds', '500', '--cases', '30'],
  replay: ['--replays', '100'],
  memory: ['--cases', '1000', '--checkpoints', '250,500,1000', '--deep', '50'],
  programme: ['--cases', '500', '--concurrency', '100'],
};
/** Benchmarks that start a server take the server flags; the pure machine one takes none. */
const SERVERLESS = new Set(['machine']);

main(async () => {
  const opts = flags('npm run bench -- [flags]  (each benchmark with reduced defaults; run one alone for the full figures)', {
    only: str(Object.keys(QUICK).join(','), 'which benchmarks, comma-separated'),
    sqlite: str('', 'passed on: dev-server SQLite pragmas (default, wal, wal-off, or PRAGMA=VALUE,...)'),
    codec: str('', 'passed on: on or off'),
    address: str('', 'passed on: use this Temporal server'),
  });
  const names = opts.only.split(',').filter((n) => n in QUICK);
  const exits: Record<string, number | null> = {};
  for (const name of names) {
    const passed = SERVERLESS.has(name)
      ? []
      : [...(opts.sqlite ? ['--sqlite', opts.sqlite] : []), ...(opts.address ? ['--address', opts.address] : []), ...(opts.codec && name !== 'overhead' ? ['--codec', opts.codec] : [])];
    console.log(`\n=== bench:${name} ${[...QUICK[name]!, ...passed].join(' ')}`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, `${name}.ts`), ...QUICK[name]!, ...passed], { stdio: 'inherit' });
    exits[name] = r.status;
  }
  console.log('\n=== goals');
  for (const name of names) {
    const result = readResults(name) as { goals?: Goal[] } | undefined;
    if (exits[name] !== 0 || !result?.goals) {
      console.log(`  ${name}: did not finish (exit ${exits[name]})`);
      continue;
    }
    for (const g of result.goals) console.log(`  ${name}: ${g.name}: ${fmt(g.value, 2)} ${g.unit} (target ${g.target}) ${g.met ? 'MET' : 'NOT MET'}`);
  }
  if (Object.values(exits).some((e) => e !== 0)) process.exitCode = 1;
});
