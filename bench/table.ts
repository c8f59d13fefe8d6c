// `npm run bench:table`: the results table, from the JSON the benchmarks last wrote
// (bench/results/<name>.json), so the figures quoted are the figures measured. With `--write` it
// also replaces the generated block of docs/benchmarks.md (between its bench-table markers).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, main, readResults, type Environment, type Goal } from './support';

const DOC = join(__dirname, '..', 'docs', 'benchmarks.md');
const START = '<!-- bench-table:start -->';
const END = '<!-- bench-table:end -->';

const ORDER = ['intake', 'updates', 'overhead', 'memory', 'replay', 'programme', 'machine', 'startup'];

main(async () => {
  const out: string[] = [];
  const print = (line: string) => out.push(line);
  const rows: string[] = [];
  const environments: Array<{ name: string; env: Environment; params: Record<string, unknown> }> = [];
  for (const name of ORDER) {
    const result = readResults(name) as { environment: Environment; params: Record<string, unknown>; goals: Goal[] } | undefined;
    if (!result) {
      rows.push(`| ${name} | (not run) | | | |`);
      continue;
    }
    environments.push({ name, env: result.environment, params: result.params });
    for (const g of result.goals) rows.push(`| ${name} | ${g.name} | ${fmt(g.value, 2)} ${g.unit} | ${g.target} | ${g.met ? 'met' : 'not met'} |`);
  }
  const first = environments[0]?.env;
  if (first) {
    const dates = environments.map((e) => e.env.date.slice(0, 10));
    print(
      `Measured ${[...new Set(dates)].join(', ')} on ${first.nproc} cores (${first.cpuModel}), ${first.memTotal} RAM; ` +
        `node ${first.node}, @temporalio ${first.temporalSdk}, temporal CLI ${first.temporalCli} (dev server, SQLite), xstate ${first.xstate}, zod ${first.zod}; ` +
        `commits ${[...new Set(environments.map((e) => e.env.commit))].join(', ')}; load average at the start of each: ` +
        environments.map((e) => `${e.name} ${e.env.loadavg[0]?.toFixed(1)}`).join(', ') +
        '.\n',
    );
  }
  print('| benchmark | figure | measured | goal | |');
  print('| --- | --- | --- | --- | --- |');
  for (const r of rows) print(r);
  print('\nParameters of each run:');
  for (const e of environments) {
    const p = Object.entries(e.params)
      .filter(([, v]) => typeof v !== 'object' && v !== '' && v !== false)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    print(`- ${e.name}: ${p}`);
  }
  const table = out.join('\n');
  console.log(table);
  if (process.argv.includes('--write')) {
    if (environments.length === 0) throw new Error('no results in bench/results: run a benchmark (npm run bench) before writing the table');
    const doc = readFileSync(DOC, 'utf8');
    const at = doc.indexOf(START);
    const end = doc.indexOf(END);
    if (at < 0 || end < at) throw new Error(`docs/benchmarks.md has no ${START} ... ${END} block to replace`);
    writeFileSync(DOC, `${doc.slice(0, at + START.length)}\n${table}\n${doc.slice(end)}`);
    console.log('\nwritten to docs/benchmarks.md');
  }
});
