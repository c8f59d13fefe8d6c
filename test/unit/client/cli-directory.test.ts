// `pathway directory import|search|gaps` through the real command line into a real SQLite file.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../client/cli';

const SAMPLE = join(__dirname, '../../../directory/sample/services.json');
const BROKEN = join(__dirname, '../../fixtures/directory/broken.json');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pathway-directory-'));
  dirs.push(dir);
  return dir;
}

async function pathway(cwd: string, env: Record<string, string>, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    env,
    cwd,
    connect: () => Promise.reject(new Error('the directory needs no Temporal server')),
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('pathway directory', () => {
  it('imports the sample into the default database under .data/ and searches it', async () => {
    const cwd = workspace();
    copyFileSync(SAMPLE, join(cwd, 'northvale.json'));
    const imported = await pathway(cwd, {}, 'directory', 'import', 'northvale.json', '--scheme', 'northvale');
    expect(imported).toMatchObject({ code: EXIT.ok, err: '' });
    expect(imported.out).toBe('scheme northvale: read 360 service(s); 360 added, 0 updated, 0 unchanged, 0 removed, 0 refused');
    expect(existsSync(join(cwd, '.data', 'directory.sqlite'))).toBe(true);

    const found = await pathway(cwd, {}, 'directory', 'search', '--scheme', 'northvale', '--need', 'loneliness', '--area', 'Moorside', '--step-free', '--limit', '3');
    expect(found.code).toBe(EXIT.ok);
    const lines = found.out.split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(/^1\. .+ \(.+\) \[svc-[a-z]+\]$/);
    expect(lines[1]).toMatch(/^ {3}matches loneliness; step-free/);

    const json = await pathway(cwd, {}, '--json', 'directory', 'search', '--scheme', 'northvale', '--need', 'walking-groups', '--need', 'creative', '--area', 'Eastfield', '--day', 'TU');
    const results = JSON.parse(json.out) as Array<{ serviceId: string; explanation: string }>;
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) expect(r.explanation).toMatch(/^matches (walking groups|creative)/);
  });

  it('reports each refused record and still imports the rest; PATHWAY_DIRECTORY_DB names the database', async () => {
    const cwd = workspace();
    const db = join(cwd, 'elsewhere', 'dir.sqlite');
    const r = await pathway(cwd, { PATHWAY_DIRECTORY_DB: db }, 'directory', 'import', BROKEN, '--scheme', 'fixture');
    expect(r.code).toBe(EXIT.ok);
    expect(r.out.split('\n')[0]).toBe('scheme fixture: read 13 service(s); 3 added, 0 updated, 0 unchanged, 0 removed, 10 refused');
    expect(r.out).toContain('  refused svc-bad-hours schedules.0.closes_at: must be after opens_at');
    expect(existsSync(db)).toBe(true);
  });

  it('records a search nothing met in the gap register, unless it is a preview', async () => {
    const cwd = workspace();
    await pathway(cwd, {}, 'directory', 'import', SAMPLE, '--scheme', 'northvale');
    const preview = await pathway(cwd, {}, 'directory', 'search', '--scheme', 'northvale', '--need', 'swimming', '--area', 'Moorside', '--preview');
    expect(preview.out).toBe('no match for swimming in Moorside');
    expect((await pathway(cwd, {}, 'directory', 'gaps', '--scheme', 'northvale')).out).toBe('no unmet needs recorded');
    const none = await pathway(cwd, {}, 'directory', 'search', '--scheme', 'northvale', '--need', 'swimming', '--area', 'Moorside');
    expect(none.out).toBe('no match for swimming in Moorside (recorded as an unmet need)');
    const gaps = await pathway(cwd, {}, '--json', 'directory', 'gaps', '--scheme', 'northvale');
    expect(JSON.parse(gaps.out)).toEqual([expect.objectContaining({ area: 'Moorside', need: 'swimming', category: 'active', times: 1 })]);
  });

  it('a bad command line or source is a usage error with a clear message', async () => {
    const cwd = workspace();
    await pathway(cwd, {}, 'directory', 'import', SAMPLE, '--scheme', 'northvale');
    const unknown = await pathway(cwd, {}, 'directory', 'search', '--scheme', 'northvale', '--need', 'lonliness');
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.err).toMatch(/^error: unknown need "lonliness"/);
    expect((await pathway(cwd, {}, 'directory', 'search', '--scheme', 'northvale')).code).toBe(EXIT.usage);
    expect((await pathway(cwd, {}, 'directory', 'search', '--scheme', 'northvale', '--need', 'loneliness', '--near', 'home')).err).toMatch(/--near: must be LATITUDE,LONGITUDE/);
    expect((await pathway(cwd, {}, 'directory', 'search', '--scheme', 'northvale', '--need', 'loneliness', '--day', 'Tuesday')).code).toBe(EXIT.usage);
    const missing = await pathway(cwd, {}, 'directory', 'import', 'missing.json', '--scheme', 'northvale');
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.err).toMatch(/^error: cannot read .*missing\.json: ENOENT/);
    expect((await pathway(cwd, {}, 'directory', 'import', SAMPLE, '--scheme', 'bad scheme')).code).toBe(EXIT.usage);
  });

  it('keeps a re-import that removed services when the server cannot be told, and says how to tell it later', async () => {
    const cwd = workspace();
    await pathway(cwd, {}, 'directory', 'import', SAMPLE, '--scheme', 'northvale');
    const services = JSON.parse(readFileSync(SAMPLE, 'utf8')) as Array<{ id: string }>;
    writeFileSync(join(cwd, 'next.json'), JSON.stringify(services.slice(1)));
    const unreachable = await pathway(cwd, {}, 'directory', 'import', 'next.json', '--scheme', 'northvale');
    expect(unreachable.code).toBe(EXIT.failure);
    expect(unreachable.out).toContain('1 removed');
    expect(unreachable.err).toContain(`tell them once the server answers: pathway directory tell-removed --scheme northvale ${services[0]!.id}`);
    // The import stands: the service is removed, and importing the same again changes nothing.
    const again = await pathway(cwd, {}, 'directory', 'import', 'next.json', '--scheme', 'northvale');
    expect(again).toMatchObject({ code: EXIT.ok, err: '' });
    expect(again.out).toContain(`0 added, 0 updated, ${services.length - 1} unchanged, 0 removed`);
    // Without a server on purpose: the removal is reported and no client is asked for.
    writeFileSync(join(cwd, 'fewer.json'), JSON.stringify(services.slice(2)));
    const quiet = await pathway(cwd, {}, 'directory', 'import', 'fewer.json', '--scheme', 'northvale', '--no-tell-connections');
    expect(quiet).toMatchObject({ code: EXIT.ok, err: '' });
    expect(quiet.out).toContain('1 removed');
  });
});
