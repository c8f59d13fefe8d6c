// `npm run bench:directory`: the service directory's search, as a link worker's searches hit it. A
// generated borough of 2,000 services (the sample's generator, scaled) is imported into a fresh
// SQLite file (or `--db postgres://...`), then a mix of searches runs one after another: a need as
// a term or a category, an area, sometimes step-free, free, transport, a day, a place to rank by
// distance, a service already tried. Goal: p95 under 50 ms. Import time is printed too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDirectory, type MatchQuery } from '../directory';
import { generateSampleDirectory, SAMPLE_AREAS } from '../directory/sample/generate';
import { SOCIAL_PRESCRIBING_TERMS } from '../directory/taxonomy';
import { WEEKDAYS } from '../directory/hsds';
import { environment, flags, goal, latencyLine, main, ms, num, percentile, printEnvironment, printGoals, str, summarize, writeResults } from './support';

const GOAL_P95_MS = 50;

main(async () => {
  const o = flags('npm run bench:directory -- [flags]', {
    services: num(2000, 'services in the generated directory'),
    searches: num(2000, 'searches timed'),
    warmup: num(200, 'searches before timing'),
    db: str('', 'a postgres:// URL (default: a fresh SQLite file in the temp folder)'),
  });
  const env = environment();
  printEnvironment('directory', env, [`${o.services} services, ${o.searches} searches after ${o.warmup} to warm up`]);
  const dir = o.db ? undefined : mkdtempSync(join(tmpdir(), 'bench-directory-'));
  const directory = await openDirectory(o.db || join(dir!, 'directory.sqlite'));
  const schemeId = `bench-${Date.now().toString(36).replace(/\d/g, (d) => 'ghijklmnop'[Number(d)]!)}`;
  try {
    const records = generateSampleDirectory(o.services, 7);
    const t0 = performance.now();
    const report = await directory.importRecords(schemeId, records);
    const importMs = performance.now() - t0;
    if (report.refused.length > 0) throw new Error(`the generated directory had ${report.refused.length} refused records`);
    console.log(`  import: ${report.added.length} services in ${ms(importMs)}`);

    // A seeded mix, the same every run.
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <X>(xs: readonly X[]): X => xs[Math.floor(rnd() * xs.length)]!;
    const needs = [...Object.keys(SOCIAL_PRESCRIBING_TERMS).filter((t) => t !== 'transport-provided'), 'connecting', 'active', 'creative', 'practical'];
    const ids = report.added;
    const query = (): MatchQuery => {
      const area = pick(SAMPLE_AREAS);
      return {
        schemeId,
        needs: rnd() < 0.3 ? [pick(needs), pick(needs)] : [pick(needs)],
        ...(rnd() < 0.8 && { area: area.name }),
        ...(rnd() < 0.4 && { needsStepFree: true }),
        ...(rnd() < 0.3 && { needsFree: true }),
        ...(rnd() < 0.15 && { needsTransport: true }),
        ...(rnd() < 0.3 && { day: pick(WEEKDAYS) }),
        ...(rnd() < 0.6 && { near: { latitude: area.lat, longitude: area.lon } }),
        ...(rnd() < 0.3 && { excludeServiceIds: [pick(ids), pick(ids)] }),
      };
    };
    for (let i = 0; i < o.warmup; i++) await directory.match(query());
    const samples: number[] = [];
    let answers = 0;
    for (let i = 0; i < o.searches; i++) {
      const q = query();
      const t = performance.now();
      const results = await directory.match(q);
      samples.push(performance.now() - t);
      answers += results.length;
    }
    const s = summarize(samples);
    const p95 = percentile([...samples].sort((a, b) => a - b), 95);
    console.log(`  search: p95 ${ms(p95)}  ${latencyLine(s)}`);
    console.log(`   ${(answers / o.searches).toFixed(1)} answers a search on average; ${(await directory.unmetNeeds(schemeId)).length} unmet (area, need) pairs recorded`);
    const goals = [goal('search p95 over 2,000 services', p95, '<=', GOAL_P95_MS, 'ms')];
    printGoals(goals);
    writeResults('directory', {
      environment: env,
      params: { services: o.services, searches: o.searches, warmup: o.warmup, database: o.db ? 'postgres' : 'sqlite' },
      figures: { importMs, search: { ...s, p95 } },
      goals,
    });
  } finally {
    await directory.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});
