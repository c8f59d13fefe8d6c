// The embedded dev server behind `npm start`: the provisioned Temporal CLI with a SQLite file in a
// git-ignored folder (cases survive a restart), the Web UI on its usual port, the pathway's
// search attributes registered, and the UI pointed at the local codec server.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { ensureTemporalCli, root } from './provision.mjs';
import { searchAttributeFlags } from '../workflows/search-attributes';

/**
 * How the dev server keeps its SQLite file. `default` passes no pragma, so SQLite's own defaults
 * hold: an fsynced rollback journal per commit (journal_mode=DELETE, synchronous=FULL), which
 * survives a power cut. `wal` is the write-ahead log, fsynced at checkpoints (journal_mode=WAL,
 * synchronous=NORMAL): it survives the server or the machine's programs crashing, but a power cut
 * can lose the last commits before a checkpoint. It nearly doubles the commands per second one
 * machine takes (docs/benchmarks.md).
 */
export const SQLITE_MODES = {
  default: [],
  wal: ['journal_mode=WAL', 'synchronous=NORMAL'],
} as const satisfies Record<string, readonly string[]>;
export const sqliteModeSchema = z.enum(Object.keys(SQLITE_MODES) as [keyof typeof SQLITE_MODES]);
export type SqliteMode = z.infer<typeof sqliteModeSchema>;

/** The mode `PATHWAY_SQLITE` names (default when unset); anything else is refused by name. */
export function sqliteModeFromEnv(env: NodeJS.ProcessEnv = process.env): SqliteMode {
  const parsed = sqliteModeSchema.safeParse(env.PATHWAY_SQLITE || 'default');
  if (!parsed.success) throw new Error(`PATHWAY_SQLITE must be one of ${sqliteModeSchema.options.join(', ')}, not ${JSON.stringify(env.PATHWAY_SQLITE)}`);
  return parsed.data;
}

export interface DevServer {
  address: string;
  uiUrl: string;
  dbFile: string;
  /** Undefined when a server was already listening and we reused it. */
  process?: ChildProcess;
  stop(): Promise<void>;
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startDevServer(
  opts: { port?: number; uiPort?: number; codecEndpoint?: string; dbFile?: string; sqlite?: SqliteMode } = {},
): Promise<DevServer> {
  const sqlite = opts.sqlite ?? 'default';
  const port = opts.port ?? 7233;
  const uiPort = opts.uiPort ?? 8233;
  const dbFile = opts.dbFile ?? join(root, '.data', 'temporal.sqlite');
  const address = `127.0.0.1:${port}`;
  const uiUrl = `http://localhost:${uiPort}`;
  if (await portOpen(port)) {
    // A dev server from an earlier `npm start` is still up: use it rather than fail on the port.
    return { address, uiUrl, dbFile, async stop() {} };
  }
  mkdirSync(join(root, '.data'), { recursive: true });
  const cli = await ensureTemporalCli();
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    dbFile,
    '--log-level',
    'error',
    ...SQLITE_MODES[sqlite].flatMap((pragma) => ['--sqlite-pragma', pragma]),
    ...searchAttributeFlags(),
    ...(opts.codecEndpoint ? ['--ui-codec-endpoint', opts.codecEndpoint] : []),
  ];
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const started = Date.now();
  while (!(await portOpen(port))) {
    if (child.exitCode !== null) throw new Error(`the Temporal dev server exited (${child.exitCode}):\n${stderr}`);
    if (Date.now() - started > 60_000) throw new Error(`the Temporal dev server did not listen on ${port} within 60s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address,
    uiUrl,
    dbFile,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
