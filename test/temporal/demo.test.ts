// `npm start`'s demo job end to end on the dev server, with a real worker and a SQLite directory:
// the sample directory is imported for the demo's scheme (twice, the second import changing
// nothing), people are connected to services from it, and the cohort report it writes shows the
// connections by category, providers' answers, auto-declines and attendance.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { openDirectory, type SqlDirectory } from '../../directory';
import type { CohortReport } from '../../evidence/report';
import { runDemo } from '../../scripts/demo';
import { importSampleDirectory } from '../../scripts/demo-connections';
import { pathwayWorkerOnDevServer } from '../support/pathway';

const dir = mkdtempSync(join(tmpdir(), 'pathway-demo-'));
let directory: SqlDirectory;

// Opened before the worker starts and closed after it stops (hooks registered before the worker's).
beforeAll(async () => {
  directory = await openDirectory(join(dir, 'directory.sqlite'));
});
afterAll(async () => {
  await directory?.close();
});
const dev = pathwayWorkerOnDevServer('demo', { directory: () => directory });

it('connects people to services from the sample directory, and reports accepted, auto-declined and attended connections', { timeout: 600_000 }, async () => {
  const lines: string[] = [];
  const warnings: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  const warn = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args.join(' ')));
  vi.stubEnv('PATHWAY_REPORT_DIR', dir);
  let schemeId: string;
  try {
    ({ schemeId } = await runDemo({ client: dev.client, taskQueue: dev.taskQueue, address: dev.server.address, directory }));
  } finally {
    log.mockRestore();
    warn.mockRestore();
    vi.unstubAllEnvs();
    // What the demo printed, kept beside its report for whoever reads a failure.
    writeFileSync(join(dir, 'demo-output.txt'), `${lines.join('\n')}\n${warnings.join('\n')}\n`);
  }
  expect(warnings.filter((w) => /connection/i.test(w))).toEqual([]);
  // The sample was imported for the scheme; importing it again is no change and no failure.
  expect(lines.some((l) => l.includes(`the sample borough's 360 services imported for ${schemeId}`))).toBe(true);
  expect(await importSampleDirectory(directory, schemeId)).toMatchObject({ read: 360, added: [], unchanged: 360, removed: [], refused: [] });

  const report = JSON.parse(readFileSync(join(dir, `${schemeId}.json`), 'utf8')) as CohortReport;
  const c = report.connections;
  expect(c.attendance.accepted).toBeGreaterThanOrEqual(1);
  expect(c.attendance.attended).toBeGreaterThanOrEqual(1);
  expect(c.autoDeclined).toBeGreaterThanOrEqual(1);
  expect(c.answered).toBeGreaterThanOrEqual(c.attendance.accepted);
  expect(c.responseDays.n).toBe(c.answered);
  // One declined by its provider: answered, not accepted.
  expect(c.answered).toBeGreaterThan(c.attendance.accepted);
  const categories = c.byCategory.filter((x) => x.proposed > 0).map((x) => x.category);
  expect(categories).toEqual(expect.arrayContaining(['connecting', 'creative', 'active']));
  expect(c.providers.some((p) => p.autoDeclined > 0)).toBe(true);

  const html = readFileSync(join(dir, `${schemeId}.html`), 'utf8');
  for (const caption of ['Connections to services by category', 'Providers&#39; answers', 'Attendance']) expect(html).toContain(caption);
  const csv = readFileSync(join(dir, `${schemeId}.csv`), 'utf8');
  expect(csv).toMatch(/connections,responses,,autoDeclined,[1-9]/);
  expect(csv).toMatch(/connections,attendance,,attended,[1-9]/);
  // And the demo says so in what it prints.
  expect(lines.some((l) => /auto-declined for no answer/.test(l) && !/ 0 auto-declined/.test(l))).toBe(true);
  expect(lines.some((l) => /attendance: [1-9]\d* of [1-9]/.test(l))).toBe(true);
});
