// Importing from an ORUK / HSDS API base URL: a real local HTTP server serves `/services` in pages
// (HSDS 3.0's `contents` / `total_pages`, and ORUK's first API's `content` / `totalPages`), and the
// importer follows the pages to the last. A page that fails changes nothing.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectorySourceError, importDirectory, openDirectory, SqlDirectory } from '../../../directory';
import { generateSampleDirectory } from '../../../directory/sample/generate';
import { digitFree } from '../../../machines/ids';

const scheme = () => `scheme-${digitFree(randomBytes(4).toString('hex'))}`;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

type Style = 'hsds3' | 'oruk1';

/** An API serving `services` in pages of `size`; records every path asked for. */
async function api(services: unknown[], size: number, style: Style, options: { failPage?: number; summaryOnly?: boolean } = {}): Promise<{ base: string; asked: string[] }> {
  const asked: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    asked.push(`${url.pathname}${url.search}`);
    const one = /^\/api\/services\/([^/]+)$/.exec(url.pathname);
    if (one) {
      const found = services.find((s) => (s as { id: string }).id === decodeURIComponent(one[1]!));
      res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(found ?? {}));
      return;
    }
    if (url.pathname !== '/api/services') {
      res.writeHead(404).end();
      return;
    }
    const page = Number(url.searchParams.get('page') ?? '1');
    if (page === options.failPage) {
      res.writeHead(503).end();
      return;
    }
    const totalPages = Math.ceil(services.length / size);
    const slice = services.slice((page - 1) * size, page * size).map((s) => {
      if (!options.summaryOnly) return s;
      const { id, name, status, organization } = s as Record<string, unknown>;
      return { id, name, status, organization };
    });
    const body =
      style === 'hsds3'
        ? { total_items: services.length, total_pages: totalPages, page_number: page, size, first_page: page === 1, last_page: page === totalPages, empty: slice.length === 0, contents: slice }
        : { totalElements: services.length, totalPages, number: page, size, first: page === 1, last: page === totalPages, content: slice };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`, asked };
}

async function memory(): Promise<SqlDirectory> {
  const d = await openDirectory(':memory:');
  cleanup.push(() => d.close());
  return d;
}

describe('import from an ORUK API', () => {
  for (const style of ['hsds3', 'oruk1'] as const) {
    it(`follows every page of a paged /services answer (${style})`, async () => {
      const services = generateSampleDirectory(23);
      const { base, asked } = await api(services, 5, style);
      const d = await memory();
      const s = scheme();
      const report = await importDirectory(d, s, base);
      expect(report.read).toBe(23);
      expect(report.added).toHaveLength(23);
      expect(report.refused).toEqual([]);
      expect(asked).toEqual([1, 2, 3, 4, 5].map((p) => `/api/services?page=${p}&per_page=100`));
      expect(await d.counts(s)).toEqual({ active: 23, removed: 0 });
    });
  }

  it('reads each service in full when the list carries only summaries', async () => {
    const services = generateSampleDirectory(6);
    const { base, asked } = await api(services, 4, 'hsds3', { summaryOnly: true });
    const d = await memory();
    const s = scheme();
    const report = await importDirectory(d, s, `${base}/services`);
    expect(report.added).toHaveLength(6);
    expect(asked.filter((p) => /^\/api\/services\/svc-/.test(p))).toHaveLength(6);
    expect((await d.getService(s, 'svc-aaa'))!.taxonomyTerms).toContain('loneliness');
  });

  it('a page that fails stops the import before anything is written', async () => {
    const services = generateSampleDirectory(12);
    const { base } = await api(services, 5, 'hsds3', { failPage: 3 });
    const d = await memory();
    const s = scheme();
    await expect(importDirectory(d, s, base)).rejects.toThrow(DirectorySourceError);
    await expect(importDirectory(d, s, base)).rejects.toThrow(/page 3 answered HTTP 503/);
    expect(await d.counts(s)).toEqual({ active: 0, removed: 0 });
  });

  it('a re-import from the API marks a service the council dropped as removed', async () => {
    const services = generateSampleDirectory(10);
    const first = await api(services, 3, 'hsds3');
    const d = await memory();
    const s = scheme();
    await importDirectory(d, s, first.base);
    const second = await api(services.slice(1), 3, 'hsds3');
    const report = await importDirectory(d, s, second.base);
    expect(report.removed).toEqual([{ id: 'svc-aaa', name: (services[0] as { name: string }).name }]);
  });
});
