// Importing a council's ORUK / HSDS 3.0 export into a real SQLite database: the sample imports
// whole, bad records are refused each with its reason while the rest import, a re-import applies
// changes and marks (never deletes) the services it no longer lists.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectorySourceError, importDirectory, openDirectory, SqlDirectory } from '../../../directory';
import { generateSampleDirectory, sampleJson, SAMPLE_COUNT } from '../../../directory/sample/generate';
import { digitFree } from '../../../machines/ids';

const SAMPLE = join(__dirname, '../../../directory/sample/services.json');
const BROKEN = join(__dirname, '../../fixtures/directory/broken.json');
const scheme = () => `scheme-${digitFree(randomBytes(4).toString('hex'))}`;

const open: SqlDirectory[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
async function memory(now?: () => number): Promise<SqlDirectory> {
  const d = await openDirectory(':memory:', now ? { now } : {});
  open.push(d);
  return d;
}

describe('the sample directory', () => {
  it('is what its generator writes', () => {
    expect(readFileSync(SAMPLE, 'utf8')).toBe(sampleJson(generateSampleDirectory()));
  });

  it('imports cleanly: every service, no refusals', async () => {
    const d = await memory();
    const s = scheme();
    const report = await importDirectory(d, s, SAMPLE);
    expect(report.refused).toEqual([]);
    expect(report.read).toBe(SAMPLE_COUNT);
    expect(report.added).toHaveLength(SAMPLE_COUNT);
    expect(report.removed).toEqual([]);
    expect(await d.counts(s)).toEqual({ active: SAMPLE_COUNT, removed: 0 });
    const service = await d.getService(s, 'svc-aaa');
    expect(service).toMatchObject({ id: 'svc-aaa', schemeId: s, status: 'active', categories: ['connecting'], organizationId: 'org-good-neighbours-network' });
    expect(service!.taxonomyTerms).toContain('loneliness');
    // Another scheme's directory is another directory.
    expect(await d.getService(scheme(), 'svc-aaa')).toBeUndefined();
  });

  it('holds the HSDS tables: organisations, locations, service_at_location, terms, attributes, costs, schedules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'directory-'));
    dirs.push(dir);
    const file = join(dir, 'directory.sqlite');
    const d = await openDirectory(file);
    const s = scheme();
    await importDirectory(d, s, SAMPLE);
    await d.close();
    const db = new Database(file, { readonly: true });
    const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE scheme_id = ?`).get(s) as { n: number }).n;
    try {
      expect(count('services')).toBe(SAMPLE_COUNT);
      for (const table of ['organizations', 'locations', 'service_at_location', 'taxonomy_terms', 'attributes', 'cost_options', 'schedules']) expect(count(table)).toBeGreaterThan(0);
      const stepFree = db.prepare(`SELECT step_free, accessibility FROM locations WHERE scheme_id = ? AND id = 'loc-abq'`).get(s) as { step_free: number; accessibility: string };
      expect(stepFree.step_free).toBe(1);
      expect(JSON.parse(stepFree.accessibility)[0].details).toBe('step-free');
    } finally {
      db.close();
    }
  });
});

describe('a file with broken records', () => {
  it('refuses each bad record with its id, field and reason, and imports the rest', async () => {
    const d = await memory();
    const s = scheme();
    const report = await importDirectory(d, s, BROKEN);
    expect(report.added.sort()).toEqual(['svc-good-one', 'svc-good-three', 'svc-good-two']);
    const reasons = report.refused.map((r) => `${r.recordId} ${r.path}: ${r.reason}`);
    expect(reasons).toEqual([
      'svc-no-name name: must not be empty',
      'svc-bad-status status: must be one of active, inactive, defunct, temporarily closed',
      'svc-negative-cost cost_options.0.amount: must not be negative',
      'svc-bad-hours schedules.0.closes_at: must be after opens_at',
      'svc-bad-day schedules.0.byday.0: must be days as MO,TU,WE,TH,FR,SA,SU',
      expect.stringMatching(/^svc-bad-latitude service_at_locations\.0\.location\.latitude: /),
      '#9 id: is missing',
      'svc-no-org organization: is missing',
      'svc-term-no-name attributes.0.taxonomy_term.name: is missing',
      'svc-good-one id: appears more than once in the source; the first is kept',
    ]);
    expect(await d.counts(s)).toEqual({ active: 3, removed: 0 });
    expect((await d.getService(s, 'svc-good-one'))!.name).toBe('Good Lunch Club');
  });

  it('never echoes a record\'s content in a refusal', async () => {
    const d = await memory();
    const report = await importDirectory(d, scheme(), BROKEN);
    for (const r of report.refused) expect(JSON.stringify(r)).not.toMatch(/Backwards Hours|Off The Map|No Id Club|Orphan/);
  });

  it('a whole source that is not an export is refused and changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'directory-'));
    dirs.push(dir);
    const d = await memory();
    const s = scheme();
    writeFileSync(join(dir, 'not.json'), '{"services": 3}');
    writeFileSync(join(dir, 'garbled.json'), '[{');
    await expect(importDirectory(d, s, join(dir, 'not.json'))).rejects.toThrow(DirectorySourceError);
    await expect(importDirectory(d, s, join(dir, 'garbled.json'))).rejects.toThrow(/not valid JSON/);
    await expect(importDirectory(d, s, join(dir, 'missing.json'))).rejects.toThrow(/ENOENT/);
    expect(await d.counts(s)).toEqual({ active: 0, removed: 0 });
  });
});

describe('re-importing', () => {
  it('applies changes, marks a service it no longer lists as removed and reports it; nothing is deleted', async () => {
    let now = 1_000;
    const d = await memory(() => now);
    const s = scheme();
    const first = generateSampleDirectory(40) as Array<Record<string, unknown>>;
    await d.importRecords(s, first);
    const dropped = first[3]!;
    const renamed: Record<string, unknown> = { ...first[5]!, name: 'Renamed Friendship Cafe' };
    const second = first.filter((r) => r !== dropped).map((r) => (r.id === renamed.id ? renamed : r));
    now = 2_000;
    const report = await d.importRecords(s, second);
    expect(report.removed).toEqual([{ id: dropped.id, name: dropped.name }]);
    expect(report.updated).toEqual([renamed.id]);
    expect(report.added).toEqual([]);
    expect(report.unchanged).toBe(38);
    expect(await d.getService(s, dropped.id as string)).toMatchObject({ status: 'removed', name: dropped.name });
    expect((await d.getService(s, renamed.id as string))!.name).toBe('Renamed Friendship Cafe');
    expect(await d.counts(s)).toEqual({ active: 39, removed: 1 });

    // The same export again: nothing to report. Listed again: active again, reported as updated.
    const again = await d.importRecords(s, second);
    expect(again).toMatchObject({ added: [], updated: [], removed: [], unchanged: 39 });
    const back = await d.importRecords(s, first);
    expect(back.updated.sort()).toEqual([dropped.id, renamed.id].sort());
    expect(await d.counts(s)).toEqual({ active: 40, removed: 0 });
  });

  it('a search while an import runs waits for it and sees all of it, never half', async () => {
    const d = await memory();
    const s = scheme();
    const records = generateSampleDirectory(200);
    const query = { schemeId: s, needs: ['connecting'], limit: 500, recordUnmet: false };
    const [, during] = await Promise.all([d.importRecords(s, records), d.match(query)]);
    expect(during).toEqual(await d.match(query));
    expect(during.length).toBeGreaterThan(50);
  });

  it('a source that lists nothing is refused rather than marking every service removed', async () => {
    const d = await memory();
    const s = scheme();
    await d.importRecords(s, generateSampleDirectory(5));
    await expect(d.importRecords(s, [])).rejects.toThrow(DirectorySourceError);
    expect(await d.counts(s)).toEqual({ active: 5, removed: 0 });
    // A new scheme's directory may start empty.
    expect((await d.importRecords(scheme(), [])).added).toEqual([]);
  });

  it('a listed record that is now broken keeps its last good version instead of being removed', async () => {
    const d = await memory();
    const s = scheme();
    const first = generateSampleDirectory(5) as Array<Record<string, unknown>>;
    await d.importRecords(s, first);
    const broken = first.map((r, i) => (i === 2 ? { ...r, status: 'open' } : r));
    const report = await d.importRecords(s, broken);
    expect(report.refused).toEqual([{ recordId: first[2]!.id, path: 'status', reason: expect.any(String) }]);
    expect(report.removed).toEqual([]);
    expect((await d.getService(s, first[2]!.id as string))!.status).toBe('active');
  });

  it('a service the export marks defunct is removed and reported', async () => {
    const d = await memory();
    const s = scheme();
    const first = generateSampleDirectory(5) as Array<Record<string, unknown>>;
    await d.importRecords(s, first);
    const report = await d.importRecords(s, first.map((r, i) => (i === 1 ? { ...r, status: 'defunct' } : r)));
    expect(report.removed).toEqual([{ id: first[1]!.id, name: first[1]!.name }]);
    expect((await d.getService(s, first[1]!.id as string))!.status).toBe('removed');
  });
});
