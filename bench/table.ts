// `npm run bench:table`: the README's results table, from the JSON the benchmarks last wrote
// (bench/results/<name>.json), so the figures quoted are the figures measured.
import { fmt, main, readResults, type Environment, type Goal } from './support';

const ORDER = ['intake', 'updates', 'overhead', 'memory', 'replay', 'programme', 'machine', 'startup'];

main(async () => {
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
    console.log(
      `Measured ${[...new Set(dates)].join(', ')} on ${first.nproc} cores (${first.cpuModel}), ${first.memTotal} RAM; ` +
        `node ${first.node}, @temporalio ${first.temporalSdk}, temporal CLI ${first.temporalCli} (dev server, SQLite), xstate ${first.xstate}, zod ${first.zod}; ` +
        `commits ${[...new Set(environments.map((e) => e.env.commit))].join(', ')}; load average at the start of each: ` +
        environments.map((e) => `${e.name} ${e.env.loadavg[0]?.toFixed(1)}`).join(', ') +
        '.\n',
    );
  }
  console.log('| benchmark | figure | measured | goal | |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  console.log('\nParameters of each run:');
  for (const e of environments) {
    const p = Object.entries(e.params)
      .filter(([, v]) => typeof v !== 'object' && v !== '' && v !== false)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    console.log(`- ${e.name}: ${p}`);
  }
});
