// Where an import's records come from: a JSON file (an array of services, or one saved page of the
// API's answer) or an ORUK / HSDS API base URL, whose `/services` is paged: every page is read
// before anything is written, so a failure part way changes nothing.
import { readFile } from 'node:fs/promises';
import { DirectorySourceError } from './errors';
import { recordsOf } from './hsds';

const MAX_PAGES = 1000;
const PER_PAGE = 100;
const DETAIL_CONCURRENCY = 8;

export async function readRecordsFromFile(path: string): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DirectorySourceError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new DirectorySourceError(`${path} is not valid JSON`);
  }
  const page = recordsOf(body);
  if (!page) throw new DirectorySourceError(`${path} is neither an array of services nor a paged /services answer (contents or content)`);
  return page.records;
}

/** The `/services` URL of an API base (or the URL itself when it already ends in /services). */
export function servicesUrl(base: string, page: number): URL {
  const url = new URL(base);
  if (!/\/services\/?$/.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/$/, '')}/services`;
  url.searchParams.set('page', String(page));
  url.searchParams.set('per_page', String(PER_PAGE));
  return url;
}

/** Every service of a paged ORUK / HSDS API, following `total_pages` (or `totalPages`) from page 1. */
export async function readRecordsFromApi(base: string, fetchImpl: typeof fetch = fetch): Promise<unknown[]> {
  const records: unknown[] = [];
  let totalPages = 1;
  for (let page = 1; page <= totalPages; page++) {
    if (page > MAX_PAGES) throw new DirectorySourceError(`${base} reports more than ${MAX_PAGES} pages; refusing to read on`);
    const url = servicesUrl(base, page);
    let response: Response;
    try {
      response = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new DirectorySourceError(`cannot reach ${url.origin}${url.pathname}: ${(err as Error).message}`);
    }
    if (!response.ok) throw new DirectorySourceError(`${url.origin}${url.pathname} page ${page} answered HTTP ${response.status}`);
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new DirectorySourceError(`${url.origin}${url.pathname} page ${page} is not JSON`);
    }
    const got = recordsOf(body);
    if (!got) throw new DirectorySourceError(`${url.origin}${url.pathname} page ${page} is not a paged /services answer (contents or content)`);
    // A few at a time: a council's API is not ours to flood.
    for (let i = 0; i < got.records.length; i += DETAIL_CONCURRENCY) {
      records.push(...(await Promise.all(got.records.slice(i, i + DETAIL_CONCURRENCY).map((r) => fullRecord(base, r, fetchImpl)))));
    }
    totalPages = got.totalPages ?? page;
    if (got.records.length === 0) break;
  }
  return records;
}

/**
 * HSDS 3.0's list answer may carry each service without its related records; those are read from
 * `/services/{id}`, which embeds them. A record without an id is left as it is, to be refused.
 */
async function fullRecord(base: string, record: unknown, fetchImpl: typeof fetch): Promise<unknown> {
  if (typeof record !== 'object' || record === null || 'attributes' in record || 'service_at_locations' in record) return record;
  const id = (record as { id?: unknown }).id;
  if (typeof id !== 'string' || id === '') return record;
  const url = servicesUrl(base, 1);
  url.search = '';
  url.pathname = `${url.pathname}/${encodeURIComponent(id)}`;
  let response: Response;
  try {
    response = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new DirectorySourceError(`cannot reach ${url.origin}: ${(err as Error).message}`);
  }
  if (!response.ok) throw new DirectorySourceError(`${url.origin}${url.pathname} answered HTTP ${response.status}`);
  try {
    return await response.json();
  } catch {
    throw new DirectorySourceError(`${url.origin}${url.pathname} is not JSON`);
  }
}

export function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}
