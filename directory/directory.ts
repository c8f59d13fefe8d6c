// A scheme's service directory in a database: imports (re-importable, nothing ever deleted), the
// search the connection loop asks for, and the gap register of needs nothing met.
import { createHash } from 'node:crypto';
import { activityCategorySchema } from '../machines/events';
import { openSql, SCHEMA, type Param, type Sql } from './db';
import { DirectorySourceError, UnknownNeedError } from './errors';
import { parseServiceRecord, type HsdsService, type RefusedRecord } from './hsds';
import { rank, scoreService, type ResolvedNeed, type Scored } from './match';
import { toServiceRecord, type ServiceRecord } from './record';
import { categoryOfTerm, type ActivityCategory, type TermLike } from './taxonomy';
import type { DirectoryService, MatchQuery, MatchResult, ServiceDirectory } from './types';

export interface ImportReport {
  schemeId: string;
  /** Records read from the source. */
  read: number;
  added: string[];
  updated: string[];
  unchanged: number;
  /** Services the directory held that the source no longer lists (or lists as defunct): kept, marked `removed`. */
  removed: Array<{ id: string; name: string }>;
  /** Bad records, each with its reason; a service already held keeps its last good version. */
  refused: RefusedRecord[];
}

export interface UnmetNeed {
  area: string | undefined;
  need: string;
  category: ActivityCategory | undefined;
  times: number;
  firstSeen: number;
  lastSeen: number;
}

export interface UnmetByCategory {
  area: string | undefined;
  category: ActivityCategory | undefined;
  times: number;
  /** The needs behind it, most searched first. */
  needs: string[];
}

const ANY_AREA = '';
const DEFAULT_LIMIT = 10;
/** Parsed service records kept between searches: a few directories' worth. */
const MAX_PARSED = 50_000;
const CATEGORIES = activityCategorySchema.options as readonly string[];

type TermRow = {
  id: string;
  code: string;
  name: string;
  parent_id: string | null;
  category: string | null;
};

export class SqlDirectory implements ServiceDirectory {
  private readonly parsed = new Map<string, ServiceRecord>();

  private constructor(
    private readonly sql: Sql,
    private readonly now: () => number,
  ) {}

  /** `:memory:`, a SQLite file, or a PostgreSQL connection string; creates the tables it lacks. */
  static async open(location: string, options: { now?: () => number } = {}): Promise<SqlDirectory> {
    const sql = openSql(location);
    try {
      for (const statement of SCHEMA) await sql.run(statement);
    } catch (err) {
      await sql.close().catch(() => undefined);
      throw err;
    }
    return new SqlDirectory(sql, options.now ?? Date.now);
  }

  async close(): Promise<void> {
    await this.sql.close();
  }

  /** Imports one whole export of a scheme's directory: what it lists is the directory. */
  async importRecords(schemeId: string, raw: readonly unknown[]): Promise<ImportReport> {
    const report: ImportReport = { schemeId, read: raw.length, added: [], updated: [], unchanged: 0, removed: [], refused: [] };
    const valid: HsdsService[] = [];
    const listed = new Set<string>();
    raw.forEach((record, index) => {
      const parsed = parseServiceRecord(record, index);
      if (!parsed.ok) {
        report.refused.push(...parsed.refused);
        // Listed but unreadable: not removed, its last good version stays.
        if (parsed.listedId !== undefined) listed.add(parsed.listedId);
        return;
      }
      if (listed.has(parsed.service.id)) {
        report.refused.push({ recordId: parsed.service.id, path: 'id', reason: 'appears more than once in the source; the first is kept' });
        return;
      }
      listed.add(parsed.service.id);
      valid.push(parsed.service);
    });

    const now = this.now();
    await this.sql.transaction(async (tx) => {
      const terms = await this.termsWith(tx, schemeId, valid);
      const existing = new Map(
        (await tx.all<{ id: string; fingerprint: string; status: string }>(`SELECT id, fingerprint, status FROM services WHERE scheme_id = ?`, [schemeId])).map((r) => [r.id, r]),
      );
      // An empty answer from a council's API is far likelier a fault than a borough with no services.
      if (listed.size === 0 && [...existing.values()].some((r) => r.status === 'active')) {
        throw new DirectorySourceError('the source lists no services; nothing was changed rather than every service marked removed');
      }
      for (const s of valid) {
        const fingerprint = createHash('sha256').update(JSON.stringify(s)).digest('base64url');
        const before = existing.get(s.id);
        const status = s.status === 'defunct' ? 'removed' : 'active';
        if (before && before.fingerprint === fingerprint && before.status === status) {
          report.unchanged++;
          continue;
        }
        if (status === 'removed') {
          if (before?.status !== 'removed') report.removed.push({ id: s.id, name: s.name });
        } else (before ? report.updated : report.added).push(s.id);
        await this.writeService(tx, schemeId, s, toServiceRecord(s, (id) => terms.get(id)), fingerprint, status, now);
      }
      for (const [id] of existing) {
        if (listed.has(id) || existing.get(id)!.status === 'removed') continue;
        const [row] = await tx.all<{ name: string }>(`SELECT name FROM services WHERE scheme_id = ? AND id = ?`, [schemeId, id]);
        await tx.run(`UPDATE services SET status = 'removed', removed_at = ? WHERE scheme_id = ? AND id = ?`, [now, schemeId, id]);
        report.removed.push({ id, name: row?.name ?? id });
      }
    });
    return report;
  }

  /** Upserts the records' taxonomy terms; answers each known term's category. */
  private async termsWith(tx: Sql, schemeId: string, services: HsdsService[]): Promise<Map<string, ActivityCategory | undefined>> {
    const byId = new Map<string, TermLike & { taxonomy?: string }>();
    for (const r of await tx.all<TermRow>(`SELECT id, code, name, parent_id FROM taxonomy_terms WHERE scheme_id = ?`, [schemeId])) {
      byId.set(r.id, { id: r.id, code: r.code, name: r.name, parentId: r.parent_id ?? undefined });
    }
    const incoming = new Map<string, TermLike & { taxonomy?: string }>();
    for (const s of services) {
      for (const { taxonomy_term: t } of s.attributes) {
        const taxonomy = t.taxonomy_detail?.name ?? t.taxonomy ?? t.taxonomy_id ?? undefined;
        incoming.set(t.id, { id: t.id, code: t.code ?? t.id, name: t.name, parentId: t.parent_id ?? undefined, ...(taxonomy != null && { taxonomy }) });
      }
    }
    for (const [id, t] of incoming) byId.set(id, t);
    const categories = new Map<string, ActivityCategory | undefined>();
    for (const [id, t] of byId) categories.set(id, categoryOfTerm(t, byId));
    for (const [id, t] of incoming) {
      await tx.run(
        `INSERT INTO taxonomy_terms (scheme_id, id, code, name, parent_id, taxonomy, category) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (scheme_id, id) DO UPDATE SET code = excluded.code, name = excluded.name, parent_id = excluded.parent_id,
           taxonomy = excluded.taxonomy, category = excluded.category`,
        [schemeId, id, t.code, t.name, t.parentId ?? null, t.taxonomy ?? null, categories.get(id) ?? null],
      );
    }
    return categories;
  }

  private async writeService(tx: Sql, schemeId: string, s: HsdsService, record: ServiceRecord, fingerprint: string, status: string, now: number) {
    const key: Param[] = [schemeId, s.id];
    await tx.run(`INSERT INTO organizations (scheme_id, id, name) VALUES (?, ?, ?) ON CONFLICT (scheme_id, id) DO UPDATE SET name = excluded.name`, [
      schemeId,
      s.organization.id,
      s.organization.name,
    ]);
    await tx.run(
      `INSERT INTO services (scheme_id, id, organization_id, name, status, hsds_status, free, eligibility, minimum_age, maximum_age, fingerprint, record, imported_at, removed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (scheme_id, id) DO UPDATE SET organization_id = excluded.organization_id, name = excluded.name, status = excluded.status,
         hsds_status = excluded.hsds_status, free = excluded.free, eligibility = excluded.eligibility, minimum_age = excluded.minimum_age,
         maximum_age = excluded.maximum_age, fingerprint = excluded.fingerprint, record = excluded.record, imported_at = excluded.imported_at,
         removed_at = excluded.removed_at`,
      [...key, s.organization.id, s.name, status, s.status, record.free ? 1 : 0, s.eligibility_description ?? null, s.minimum_age ?? null, s.maximum_age ?? null,
        fingerprint, JSON.stringify(record), now, status === 'removed' ? now : null],
    );
    for (const table of ['service_at_location', 'attributes', 'cost_options', 'schedules']) {
      await tx.run(`DELETE FROM ${table} WHERE scheme_id = ? AND service_id = ?`, key);
    }
    for (const [i, sal] of s.service_at_locations.entries()) {
      const l = sal.location;
      const loc = record.locations[i]!;
      await tx.run(
        `INSERT INTO locations (scheme_id, id, name, postcode, area, latitude, longitude, step_free, transportation, accessibility) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (scheme_id, id) DO UPDATE SET name = excluded.name, postcode = excluded.postcode, area = excluded.area, latitude = excluded.latitude,
           longitude = excluded.longitude, step_free = excluded.step_free, transportation = excluded.transportation, accessibility = excluded.accessibility`,
        [schemeId, l.id, loc.name ?? null, loc.postcode ?? null, loc.area ?? null, loc.latitude ?? null, loc.longitude ?? null, loc.stepFree ? 1 : 0,
          loc.transport ?? null, JSON.stringify(l.accessibility ?? [])],
      );
      await tx.run(`INSERT INTO service_at_location (scheme_id, service_id, id, location_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, [...key, sal.id, l.id]);
    }
    for (const a of s.attributes) {
      await tx.run(`INSERT INTO attributes (scheme_id, service_id, id, taxonomy_term_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, [...key, a.id, a.taxonomy_term.id]);
    }
    for (const c of s.cost_options) {
      await tx.run(
        `INSERT INTO cost_options (scheme_id, service_id, id, option, amount, currency, amount_description) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [...key, c.id, c.option ?? null, c.amount ?? null, c.currency ?? null, c.amount_description ?? null],
      );
    }
    for (const h of s.schedules) {
      await tx.run(
        `INSERT INTO schedules (scheme_id, service_id, id, byday, opens_at, closes_at, description) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [...key, h.id, (h.byday ?? []).join(','), h.opens_at ?? null, h.closes_at ?? null, h.description ?? null],
      );
    }
  }

  /** Each need as a set of terms: a term code (and every term under it) or a category's terms. */
  private async resolveNeeds(schemeId: string, needs: readonly string[]): Promise<ResolvedNeed[]> {
    const terms = await this.sql.all<TermRow>(`SELECT id, code, name, parent_id, category FROM taxonomy_terms WHERE scheme_id = ?`, [schemeId]);
    const children = new Map<string, string[]>();
    for (const t of terms) if (t.parent_id) children.set(t.parent_id, [...(children.get(t.parent_id) ?? []), t.id]);
    return [...new Set(needs)].map((need) => {
      if (CATEGORIES.includes(need)) {
        const category = need as ActivityCategory;
        return { need, label: need, category, isCategory: true, termIds: new Set(terms.filter((t) => t.category === category).map((t) => t.id)) };
      }
      const term = terms.find((t) => t.code === need) ?? terms.find((t) => t.id === need);
      if (!term) throw new UnknownNeedError(need, [...CATEGORIES, ...new Set(terms.map((t) => t.code))].sort());
      const termIds = new Set<string>();
      const stack = [term.id];
      while (stack.length > 0) {
        const id = stack.pop()!;
        if (termIds.has(id)) continue;
        termIds.add(id);
        stack.push(...(children.get(id) ?? []));
      }
      return { need, label: term.code.replace(/-/g, ' '), isCategory: false, termIds, ...(term.category && { category: term.category as ActivityCategory }) };
    });
  }

  async match(query: MatchQuery): Promise<MatchResult[]> {
    const needs = await this.resolveNeeds(query.schemeId, query.needs);
    const termIds = [...new Set(needs.flatMap((n) => [...n.termIds]))];
    const exclude = new Set(query.excludeServiceIds ?? []);
    const scored: Scored[] = [];
    if (termIds.length > 0) {
      const rows = await this.sql.all<{ id: string; fingerprint: string }>(
        `SELECT DISTINCT s.id, s.fingerprint FROM services s JOIN attributes a ON a.scheme_id = s.scheme_id AND a.service_id = s.id
         WHERE s.scheme_id = ? AND s.status = 'active' AND a.taxonomy_term_id IN (${termIds.map(() => '?').join(', ')})`,
        [query.schemeId, ...termIds],
      );
      const candidates = rows.filter((r) => !exclude.has(r.id));
      for (const record of await this.records(query.schemeId, candidates)) {
        const result = scoreService(record, query, needs);
        if (result) scored.push(result);
      }
    }
    if (query.recordUnmet !== false) {
      const met = new Set(scored.flatMap((r) => r.matchedNeeds));
      for (const n of needs) if (!met.has(n.need)) await this.recordUnmet(query.schemeId, query.area, n);
    }
    return rank(scored).slice(0, query.limit ?? DEFAULT_LIMIT);
  }

  /**
   * The services' records, parsed once per version: a search over a large category reads only ids
   * and fingerprints; a record is read and parsed again only after an import changed it.
   */
  private async records(schemeId: string, rows: ReadonlyArray<{ id: string; fingerprint: string }>): Promise<ServiceRecord[]> {
    const key = (r: { id: string; fingerprint: string }) => `${schemeId}\u0000${r.id}\u0000${r.fingerprint}`;
    const missing = rows.filter((r) => !this.parsed.has(key(r)));
    for (let i = 0; i < missing.length; i += 500) {
      const chunk = missing.slice(i, i + 500);
      const got = await this.sql.all<{ id: string; fingerprint: string; record: string }>(
        `SELECT id, fingerprint, record FROM services WHERE scheme_id = ? AND id IN (${chunk.map(() => '?').join(', ')})`,
        [schemeId, ...chunk.map((r) => r.id)],
      );
      if (this.parsed.size + got.length > MAX_PARSED) this.parsed.clear();
      for (const r of got) this.parsed.set(key(r), JSON.parse(r.record) as ServiceRecord);
    }
    // A record changed between the two reads is left out of this answer rather than shown stale.
    return rows.map((r) => this.parsed.get(key(r))).filter((r): r is ServiceRecord => r !== undefined);
  }

  private async recordUnmet(schemeId: string, area: string | undefined, need: ResolvedNeed): Promise<void> {
    await this.sql.run(`INSERT INTO unmet_needs (scheme_id, area, need, category, at) VALUES (?, ?, ?, ?, ?)`, [
      schemeId,
      area ?? ANY_AREA,
      need.need,
      need.category ?? null,
      this.now(),
    ]);
  }

  /**
   * The gap register: needs searched for and not met, per area and need (with its category), most
   * often first; within `[from, to)` when given, as a cohort report's period.
   */
  async unmetNeeds(schemeId: string, period: { from?: number; to?: number } = {}): Promise<UnmetNeed[]> {
    const rows = await this.sql.all<{ area: string; need: string; category: string | null; times: number | string; first_seen: number | string; last_seen: number | string }>(
      `SELECT area, need, MAX(category) AS category, COUNT(*) AS times, MIN(at) AS first_seen, MAX(at) AS last_seen FROM unmet_needs
       WHERE scheme_id = ? AND at >= ? AND at < ? GROUP BY area, need ORDER BY COUNT(*) DESC, area, need`,
      [schemeId, period.from ?? 0, period.to ?? Number.MAX_SAFE_INTEGER],
    );
    return rows.map((r) => ({
      area: r.area === ANY_AREA ? undefined : r.area,
      need: r.need,
      category: (r.category ?? undefined) as ActivityCategory | undefined,
      times: Number(r.times),
      firstSeen: Number(r.first_seen),
      lastSeen: Number(r.last_seen),
    }));
  }

  /** The register by area and activity category, as the cohort report shows it. */
  async unmetNeedsByCategory(schemeId: string, period: { from?: number; to?: number } = {}): Promise<UnmetByCategory[]> {
    const byKey = new Map<string, UnmetByCategory>();
    for (const u of await this.unmetNeeds(schemeId, period)) {
      const key = `${u.area ?? ''}\u0000${u.category ?? ''}`;
      const row = byKey.get(key) ?? { area: u.area, category: u.category, times: 0, needs: [] };
      row.times += u.times;
      row.needs.push(u.need);
      byKey.set(key, row);
    }
    return [...byKey.values()].sort((a, b) => b.times - a.times || (a.area ?? '').localeCompare(b.area ?? '') || (a.category ?? '').localeCompare(b.category ?? ''));
  }

  async getService(schemeId: string, serviceId: string): Promise<DirectoryService | undefined> {
    const [row] = await this.sql.all<{ record: string; status: string }>(`SELECT record, status FROM services WHERE scheme_id = ? AND id = ?`, [schemeId, serviceId]);
    if (!row) return undefined;
    const r = JSON.parse(row.record) as ServiceRecord;
    const area = r.locations.find((l) => l.area)?.area ?? r.areas[0];
    return {
      id: r.id,
      schemeId,
      name: r.name,
      organizationName: r.organizationName,
      organizationId: r.organizationId,
      categories: r.categories,
      taxonomyTerms: r.termCodes,
      ...(area !== undefined && { area }),
      stepFree: r.locations.some((l) => l.stepFree),
      free: r.free,
      status: row.status === 'removed' ? 'removed' : 'active',
    };
  }

  /** How many services the scheme's directory holds, by status. */
  async counts(schemeId: string): Promise<{ active: number; removed: number }> {
    const rows = await this.sql.all<{ status: string; n: number | string }>(`SELECT status, COUNT(*) AS n FROM services WHERE scheme_id = ? GROUP BY status`, [schemeId]);
    const of = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
    return { active: of('active'), removed: of('removed') };
  }
}
