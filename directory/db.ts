// The one seam between the directory and its database: SQLite through better-sqlite3 (embedded,
// the default) or PostgreSQL through pg. Statements are written once with `?` placeholders and a
// dialect both accept; PostgreSQL's `$n` are put in here.
import Database from 'better-sqlite3';
import { Pool, type PoolClient } from 'pg';

export type Row = Record<string, unknown>;
export type Param = string | number | null;

export interface Sql {
  readonly dialect: 'sqlite' | 'postgres';
  run(sql: string, params?: Param[]): Promise<void>;
  all<R extends Row = Row>(sql: string, params?: Param[]): Promise<R[]>;
  /** Runs `fn` in one transaction: all of it is kept or none. */
  transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

class SqliteSql implements Sql {
  readonly dialect = 'sqlite';
  /** Settles when the open transaction ends; other callers wait for it rather than run inside it. */
  private idle: Promise<unknown> = Promise.resolve();
  constructor(
    private readonly db: Database.Database,
    private readonly statements = new Map<string, Database.Statement>(),
    private readonly inTransaction = false,
  ) {}

  private prepare(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.db.prepare(sql)));
    return s;
  }
  private async turn(): Promise<void> {
    if (!this.inTransaction) await this.idle;
  }
  async run(sql: string, params: Param[] = []): Promise<void> {
    await this.turn();
    this.prepare(sql).run(...params);
  }
  async all<R extends Row>(sql: string, params: Param[] = []): Promise<R[]> {
    await this.turn();
    return this.prepare(sql).all(...params) as R[];
  }
  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    const previous = this.idle;
    let done!: () => void;
    this.idle = new Promise<void>((r) => (done = r));
    await previous;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(new SqliteSql(this.db, this.statements, true));
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        this.db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      done();
    }
  }
  async close(): Promise<void> {
    await this.idle;
    this.db.close();
  }
}

const numbered = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

class PostgresSql implements Sql {
  readonly dialect = 'postgres';
  constructor(
    private readonly pool: Pool,
    private readonly client?: PoolClient,
  ) {}
  private get target(): Pool | PoolClient {
    return this.client ?? this.pool;
  }
  async run(sql: string, params: Param[] = []): Promise<void> {
    await this.target.query(numbered(sql), params);
  }
  async all<R extends Row>(sql: string, params: Param[] = []): Promise<R[]> {
    return (await this.target.query(numbered(sql), params)).rows as R[];
  }
  async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
    if (this.client) return fn(this);
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(new PostgresSql(this.pool, client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
  async close(): Promise<void> {
    if (!this.client) await this.pool.end();
  }
}

/** `:memory:`, a file path, or a `postgres://` / `postgresql://` connection string. */
export function openSql(location: string): Sql {
  if (/^postgres(ql)?:\/\//.test(location)) {
    const pool = new Pool({ connectionString: location, max: 4 });
    // An idle connection the server drops (a restart, a shutdown) is an 'error' on the pool, which
    // would end the host process unheard; the pool discards it and the next query connects anew.
    pool.on('error', () => undefined);
    return new PostgresSql(pool);
  }
  const db = new Database(location);
  if (location !== ':memory:') db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  return new SqliteSql(db);
}

// Rows a service owns (attributes, costs, schedules, its locations) are keyed by the service too:
// exports reuse those ids across services. BIGINT for times in ms (PostgreSQL's INTEGER is 32-bit); pg returns BIGINT as a string, so
// readers go through Number(). DOUBLE PRECISION is REAL to SQLite.
export const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS organizations (scheme_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (scheme_id, id))`,
  `CREATE TABLE IF NOT EXISTS taxonomy_terms (scheme_id TEXT NOT NULL, id TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL,
     parent_id TEXT, taxonomy TEXT, category TEXT, PRIMARY KEY (scheme_id, id))`,
  `CREATE TABLE IF NOT EXISTS services (scheme_id TEXT NOT NULL, id TEXT NOT NULL, organization_id TEXT NOT NULL, name TEXT NOT NULL,
     status TEXT NOT NULL, hsds_status TEXT NOT NULL, free INTEGER NOT NULL, eligibility TEXT, minimum_age INTEGER, maximum_age INTEGER,
     fingerprint TEXT NOT NULL, record TEXT NOT NULL, imported_at BIGINT NOT NULL, removed_at BIGINT, PRIMARY KEY (scheme_id, id))`,
  `CREATE TABLE IF NOT EXISTS locations (scheme_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT, postcode TEXT, area TEXT,
     latitude DOUBLE PRECISION, longitude DOUBLE PRECISION, step_free INTEGER NOT NULL, transportation TEXT, accessibility TEXT NOT NULL,
     PRIMARY KEY (scheme_id, id))`,
  `CREATE TABLE IF NOT EXISTS service_at_location (scheme_id TEXT NOT NULL, id TEXT NOT NULL, service_id TEXT NOT NULL, location_id TEXT NOT NULL,
     PRIMARY KEY (scheme_id, service_id, id))`,
  `CREATE TABLE IF NOT EXISTS attributes (scheme_id TEXT NOT NULL, id TEXT NOT NULL, service_id TEXT NOT NULL, taxonomy_term_id TEXT NOT NULL,
     PRIMARY KEY (scheme_id, service_id, id))`,
  `CREATE TABLE IF NOT EXISTS cost_options (scheme_id TEXT NOT NULL, id TEXT NOT NULL, service_id TEXT NOT NULL, option TEXT,
     amount DOUBLE PRECISION, currency TEXT, amount_description TEXT, PRIMARY KEY (scheme_id, service_id, id))`,
  `CREATE TABLE IF NOT EXISTS schedules (scheme_id TEXT NOT NULL, id TEXT NOT NULL, service_id TEXT NOT NULL, byday TEXT,
     opens_at TEXT, closes_at TEXT, description TEXT, PRIMARY KEY (scheme_id, service_id, id))`,
  // One row a need not met by a search, so a report can count a period's gaps.
  `CREATE TABLE IF NOT EXISTS unmet_needs (scheme_id TEXT NOT NULL, area TEXT NOT NULL, need TEXT NOT NULL, category TEXT, at BIGINT NOT NULL)`,
  `CREATE INDEX IF NOT EXISTS unmet_needs_by_time ON unmet_needs (scheme_id, at)`,
  `CREATE INDEX IF NOT EXISTS attributes_by_term ON attributes (scheme_id, taxonomy_term_id)`,
  `CREATE INDEX IF NOT EXISTS services_by_status ON services (scheme_id, status)`,
];
