// The Gravity polling search, `GET /fhir/Task?owner=…&status=…&_lastUpdated=gt…`, at a bounded
// cost: owner, status and _lastUpdated become one visibility query per scheme (the case publishes
// its Task status and last change as search attributes), the matches are ordered from the list
// alone, and only the page's cases are read to build their Tasks: at most `_count` reads a page.
// Cases begun before cases published those attributes come back from the query too (it ORs
// `IS NULL`), and are read to know their status and last change; their number only falls.
import type { CaseFilters, CaseSummary, CaseView, PathwayClient } from '../client';
import { taskStatus, type TaskStatus } from '../machines/task-status';
import { maySee, type Caller } from './auth';
import { lastModifiedOf } from './fhir/resources';

export type DatePrefix = 'gt' | 'ge' | 'lt' | 'le';

export interface TaskSearch {
  owner?: string;
  statuses?: TaskStatus[];
  focus?: string;
  lastUpdated: Array<{ prefix: DatePrefix; at: number; raw: string }>;
  count: number;
  offset: number;
}

/** One case that matches, ordered by its last change; `view` once read. */
export interface TaskMatch {
  caseId: string;
  status: TaskStatus;
  at: number;
  view?: CaseView;
}

export interface TaskPage {
  /** How many cases match in all. */
  total: number;
  /** The page's cases, each read. */
  views: CaseView[];
}

export function compare(at: number, prefix: DatePrefix, than: number): boolean {
  return prefix === 'gt' ? at > than : prefix === 'ge' ? at >= than : prefix === 'lt' ? at < than : at <= than;
}

/** The visibility filters for a search: times are whole milliseconds, so `ge t` is `> t-1`, `le t` is `< t+1`. */
export function taskListFilters(search: Pick<TaskSearch, 'statuses' | 'lastUpdated'>): CaseFilters {
  const filters: CaseFilters = {};
  if (search.statuses) filters.taskStatus = [...new Set(search.statuses)];
  const after = search.lastUpdated.filter((c) => c.prefix === 'gt' || c.prefix === 'ge').map((c) => (c.prefix === 'gt' ? c.at : c.at - 1));
  const before = search.lastUpdated.filter((c) => c.prefix === 'lt' || c.prefix === 'le').map((c) => (c.prefix === 'lt' ? c.at : c.at + 1));
  if (after.length > 0) filters.changedAfter = Math.max(0, ...after);
  if (before.length > 0) filters.changedBefore = Math.max(0, Math.min(...before));
  return filters;
}

function matchesSearch(search: TaskSearch, m: Pick<TaskMatch, 'status' | 'at'>): boolean {
  return (search.statuses ? search.statuses.includes(m.status) : true) && search.lastUpdated.every((c) => compare(m.at, c.prefix, c.at));
}

function fromView(view: CaseView): TaskMatch {
  return { caseId: view.caseId, status: taskStatus(view), at: lastModifiedOf(view) ?? 0, view };
}

/** Newest change first, then by case id, so pages are stable between requests. */
function byLastChange(a: TaskMatch, b: TaskMatch): number {
  return b.at - a.at || (a.caseId < b.caseId ? -1 : 1);
}

export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

export interface SearchDeps {
  client: PathwayClient;
  who: Caller;
  concurrency: number;
}

/** The page of a search over the schemes given (all the caller may see when undefined). */
export async function searchTasks({ client, who, concurrency }: SearchDeps, search: TaskSearch, schemes: readonly string[] | undefined): Promise<TaskPage> {
  const read = (caseId: string) => client.getCase(caseId).catch(() => undefined);
  const visible = (v: CaseView | undefined): v is CaseView => v !== undefined && maySee(who, v.schemeId);

  const filters = taskListFilters(search);
  const listed: CaseSummary[] = [];
  for (const scheme of schemes ?? [undefined]) listed.push(...(await client.listCases({ ...filters, ...(scheme !== undefined && { scheme }) })));
  const published = listed.filter((c): c is CaseSummary & Required<Pick<CaseSummary, 'taskStatus' | 'changedAt'>> => c.taskStatus !== undefined && c.changedAt !== undefined);
  const unpublished = listed.filter((c) => c.taskStatus === undefined || c.changedAt === undefined);
  const older = (await mapLimit(unpublished, concurrency, (c) => read(c.caseId))).filter(visible).map(fromView);

  const matches = [...published.map((c): TaskMatch => ({ caseId: c.caseId, status: c.taskStatus, at: c.changedAt })), ...older]
    .filter((m) => matchesSearch(search, m))
    .sort(byLastChange);
  const page = matches.slice(search.offset, search.offset + search.count);
  const views = await mapLimit(page, concurrency, async (m) => m.view ?? (await read(m.caseId)));
  // Visibility lags a case by a moment: a case that moved on since no longer answers this search.
  return { total: matches.length, views: views.filter(visible).filter((v) => matchesSearch(search, fromView(v))) };
}

/** A search by focus: the one case, if the caller may see it and it matches. */
export function focusPage(view: CaseView | undefined, search: TaskSearch, schemes: readonly string[] | undefined): TaskPage {
  const matches = view && (schemes === undefined || schemes.includes(view.schemeId)) ? [fromView(view)].filter((m) => matchesSearch(search, m)) : [];
  return { total: matches.length, views: matches.slice(search.offset, search.offset + search.count).map((m) => m.view!) };
}
