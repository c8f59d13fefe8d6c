// The same directory on PostgreSQL through pg: a throwaway cluster of Debian's postgres (as
// `npm run cluster` starts it: initdb and postgres as the postgres user when run as root), on
// loopback, on a free port. Skipped, saying so, where no PostgreSQL is installed.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDirectory, openDirectory, type SqlDirectory } from '../../../directory';
import { generateSampleDirectory, SAMPLE_COUNT } from '../../../directory/sample/generate';

const SAMPLE = join(__dirname, '../../../directory/sample/services.json');

function pgBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (process.env['PATHWAY_PG_BIN']) return process.env['PATHWAY_PG_BIN'];
  if (!existsSync(base)) return undefined;
  const version = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a))[0];
  return version ? join(base, version, 'bin') : undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const bin = pgBin();
if (!bin) console.warn('postgres.test: no PostgreSQL in /usr/lib/postgresql (or PATHWAY_PG_BIN); the PostgreSQL directory tests are skipped');

describe.skipIf(!bin)('the directory on PostgreSQL', () => {
  let dir = '';
  let server: ChildProcess | undefined;
  let url = '';
  let directory: SqlDirectory;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'directory-pg-'));
    const data = join(dir, 'data');
    const user = process.getuid?.() === 0 ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) } : undefined;
    if (user) chownSync(dir, user.uid, user.gid);
    execFileSync(join(bin!, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8'], { stdio: 'ignore', cwd: '/', ...user });
    const port = await freePort();
    server = spawn(join(bin!, 'postgres'), ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', dir, '-c', 'fsync=off'], { stdio: 'ignore', cwd: '/', ...user });
    url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    for (let i = 0; ; i++) {
      try {
        directory = await openDirectory(url);
        break;
      } catch (err) {
        if (i > 100) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }, 120_000);

  afterAll(async () => {
    await directory?.close();
    if (server?.pid) {
      const exited = new Promise((r) => server!.once('exit', r));
      process.kill(server.pid, 'SIGINT');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('imports the sample, refuses nothing, and answers a search as SQLite does', async () => {
    const report = await importDirectory(directory, 'northvale', SAMPLE);
    expect(report).toMatchObject({ read: SAMPLE_COUNT, refused: [], removed: [] });
    expect(await directory.counts('northvale')).toEqual({ active: SAMPLE_COUNT, removed: 0 });

    const sqlite = await openDirectory(':memory:');
    try {
      await importDirectory(sqlite, 'northvale', SAMPLE);
      const query = { schemeId: 'northvale', needs: ['loneliness', 'active'], area: 'Eastfield', needsStepFree: true, near: { latitude: 53.475, longitude: -1.39 }, recordUnmet: false };
      const results = await directory.match(query);
      expect(results.length).toBeGreaterThan(0);
      expect(results).toEqual(await sqlite.match(query));
    } finally {
      await sqlite.close();
    }
  });

  it('a re-import marks a dropped service removed; the gap register counts', async () => {
    const first = generateSampleDirectory(12) as Array<{ id: string; name: string }>;
    await directory.importRecords('pg-reimport', first);
    const report = await directory.importRecords('pg-reimport', first.slice(1));
    expect(report.removed).toEqual([{ id: first[0]!.id, name: first[0]!.name }]);
    expect((await directory.getService('pg-reimport', first[0]!.id))!.status).toBe('removed');
    await directory.match({ schemeId: 'northvale', needs: ['swimming'], area: 'Moorside' });
    await directory.match({ schemeId: 'northvale', needs: ['swimming'], area: 'Moorside' });
    expect(await directory.unmetNeeds('northvale')).toEqual([expect.objectContaining({ area: 'Moorside', need: 'swimming', category: 'active', times: 2 })]);
  });
});
