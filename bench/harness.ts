// What a benchmark runs against: a dev server of its own (free port, a SQLite file on the real disk,
// documented pragmas) or one named by --address, a pathway worker in a child process, and clients
// with the same codec as the worker.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { PathwayClient, PersonKey } from '../client';
import { devKeyring, EncryptionCodec } from '../codec';
import type { SchemePolicy } from '../machines';
import { ensureTemporalCli, TEMPORAL_CLI_VERSION } from '../scripts/provision.mjs';
import { SQLITE_MODES, portOpen } from '../scripts/dev-server';
import { startCluster } from '../scripts/cluster';
import { TEMPORAL_SERVER_VERSION } from '../scripts/cluster-provision.mjs';
import { ensureWorkflowBundle } from '../worker/bundle';
import { pathwayDataConverter } from '../codec/defaults';
import { registerSearchAttributes } from '../worker/search-attributes';
import { searchAttributeFlags } from '../workflows/search-attributes';
import { bool, environment, printEnvironment, root, sleep, str, type CpuSubject, type Environment } from './support';
import type { WorkerConfig, WorkerMessage, WorkerStats } from './worker-process';
import { digitFree } from '../machines/ids';

export { TEMPORAL_CLI_VERSION };

// Servers and workers this run started, killed if it ends early (an error, Ctrl-C): otherwise they
// outlive it, holding ports, CPU and the terminal's output pipe.
const children = new Set<ChildProcess>();
const leftovers = new Set<string>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const file of leftovers) rmSync(file, { force: true, recursive: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
function track(child: ChildProcess, ...files: string[]): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  for (const f of files) leftovers.add(f);
}

/**
 * SQLite settings by name: the modes `npm start` offers (`PATHWAY_SQLITE`, scripts/dev-server.ts),
 * and `wal-off`, no fsync at all, for the benches alone.
 */
export const SQLITE_SETTINGS: Record<string, readonly string[]> = {
  ...SQLITE_MODES,
  'wal-off': ['journal_mode=WAL', 'synchronous=OFF'],
};

export interface BenchServer {
  address: string;
  namespace: string;
  /** The server process, when this run started it (for its CPU share). */
  pid?: number;
  /** Every process of the server this run started, by name, for CPU shares (the cluster has several). */
  processes?: Record<string, CpuSubject>;
  description: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A dev server with a SQLite file of its own in `.data/bench/` (on the machine's disk, as
 * `npm start`'s is, not a tmpfs), headless, with the pathway's search attributes; or the server at
 * `address` when one is given.
 */
export async function startBenchServer(opts: { name: string; address?: string; sqlite: string; keepDb?: boolean; cluster?: boolean }): Promise<BenchServer> {
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  if (opts.cluster) {
    // The production topology (scripts/cluster.ts) on a database of its own, without its own
    // workers: the bench's worker process is the only one, as against the dev server.
    const dataDir = join(root, '.data', 'bench', `cluster-${process.pid}-${Date.now()}`);
    const cluster = await startCluster({ dataDir, workers: 0, ui: false, codecServer: false, http: false, basePort: Number(process.env.PATHWAY_CLUSTER_PORT ?? 7600) });
    return {
      address: cluster.address,
      namespace: cluster.namespace,
      pid: cluster.servers[0]!.pid,
      processes: {
        ...Object.fromEntries(cluster.servers.map((s, i) => [`server ${i + 1}`, s.pid])),
        ...(cluster.postgres.pid !== undefined && { postgres: { tree: cluster.postgres.pid } }),
      },
      description: `cluster: PostgreSQL, ${cluster.servers.length} Temporal server ${TEMPORAL_SERVER_VERSION} processes (all services each, 16 shards) behind a frontend balancer`,
      stop: async () => {
        await cluster.stop();
        if (!opts.keepDb) rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  if (opts.address) {
    const connection = await Connection.connect({ address: opts.address });
    await registerSearchAttributes(connection, namespace);
    await connection.close();
    return { address: opts.address, namespace, description: `existing server ${opts.address}`, stop: async () => {} };
  }
  const pragmas = SQLITE_SETTINGS[opts.sqlite] ?? opts.sqlite.split(',').filter(Boolean);
  const port = await freePort();
  const dir = join(root, '.data', 'bench');
  mkdirSync(dir, { recursive: true });
  const dbFile = join(dir, `${opts.name}-${process.pid}-${Date.now()}.sqlite`);
  const cli = await ensureTemporalCli();
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--headless',
    '--db-filename',
    dbFile,
    '--log-level',
    'error',
    ...searchAttributeFlags(),
    ...pragmas.flatMap((p) => ['--sqlite-pragma', p]),
  ];
  const child = spawn(cli, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  track(child, ...(opts.keepDb ? [] : ['', '-wal', '-shm', '-journal'].map((suffix) => `${dbFile}${suffix}`)));
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + d.toString()).slice(-4000)));
  const started = Date.now();
  while (!(await portOpen(port))) {
    if (child.exitCode !== null) throw new Error(`the Temporal dev server exited (${child.exitCode}):\n${stderr}`);
    if (Date.now() - started > 60_000) throw new Error(`the Temporal dev server did not listen on ${port} within 60 s:\n${stderr}`);
    await sleep(200);
  }
  return {
    address: `127.0.0.1:${port}`,
    namespace,
    pid: child.pid,
    description: `dev server (temporal CLI ${TEMPORAL_CLI_VERSION}) on its own SQLite file, pragmas: ${pragmas.length ? pragmas.join(', ') : 'none (SQLite defaults: journal_mode=DELETE, synchronous=FULL)'}`,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(10_000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      if (!opts.keepDb) for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${dbFile}${suffix}`, { force: true });
    },
  };
}

// ---- Codec ----------------------------------------------------------------------------------------

const BENCH_KEY_DIR = join(root, '.cache', 'codec-bench');

/** The codec (production-like: on) and the env that gives a child process the same keys. */
export async function benchCodec(mode: string): Promise<{ codec: PayloadCodec | undefined; env: Record<string, string>; label: string }> {
  if (mode === 'off') return { codec: undefined, env: { PATHWAY_CODEC: 'off' }, label: 'codec off (PATHWAY_CODEC=off, plaintext payloads)' };
  if (mode !== 'on') throw new Error(`--codec is on or off, not ${mode}`);
  const keys = await devKeyring(BENCH_KEY_DIR);
  return { codec: new EncryptionCodec(keys.keyring), env: { ...keys.env }, label: 'codec on (AES-256-GCM payloads and failures, as in production)' };
}

// ---- Worker process -----------------------------------------------------------------------------------

export interface BenchWorker {
  pid: number;
  /** Parent's view: spawn until the worker polls. */
  spawnToReadyMs: number;
  /** The child's view: its process start until it polls, and the part spent in Worker.create. */
  sinceProcessStartMs: number;
  createMs: number;
  stats(): Promise<WorkerStats>;
  stop(): Promise<void>;
}

export interface BenchWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  codecEnv: Record<string, string>;
  workflowBundlePath?: string;
  maxCachedWorkflows?: number;
  sink?: 'file' | 'memory';
  /** V8 old-space limit of the worker process, MiB. */
  maxOldSpaceMiB?: number;
}

export async function startBenchWorker(opts: BenchWorkerOptions): Promise<BenchWorker> {
  const outboxDir = join(root, '.data', 'bench', `outbox-${opts.taskQueue}`);
  const config: WorkerConfig = {
    address: opts.address,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    workflowBundlePath: opts.workflowBundlePath ?? (await ensureWorkflowBundle()),
    sink: opts.sink ?? 'file',
    outboxDir,
    ...(opts.maxCachedWorkflows !== undefined && { maxCachedWorkflows: opts.maxCachedWorkflows }),
  };
  const spawned = performance.now();
  const child: ChildProcess = fork(join(__dirname, 'worker-process.ts'), [], {
    // BENCH_WORKER_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=.data/prof`) profiles the worker alone.
    execArgv: ['--import', 'tsx', ...(opts.maxOldSpaceMiB ? [`--max-old-space-size=${opts.maxOldSpaceMiB}`] : []), ...(process.env.BENCH_WORKER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
    env: { ...process.env, ...opts.codecEnv, BENCH_WORKER: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  track(child, outboxDir);
  const waiting = new Map<string, Array<(m: WorkerMessage) => void>>();
  child.on('message', (m: WorkerMessage) => {
    const next = waiting.get(m.type)?.shift();
    next?.(m);
  });
  const next = <T extends WorkerMessage['type']>(type: T, timeoutMs = 120_000) =>
    new Promise<Extract<WorkerMessage, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker sent no ${type} within ${timeoutMs} ms`)), timeoutMs);
      const list = waiting.get(type) ?? [];
      list.push((m) => {
        clearTimeout(timer);
        resolve(m as Extract<WorkerMessage, { type: T }>);
      });
      waiting.set(type, list);
    });
  const failed = new Promise<never>((_, reject) => {
    child.once('exit', (code) => reject(new Error(`worker process exited (${code}) before it was ready`)));
    void next('error', 2 ** 31 - 1).then((m) => reject(new Error(m.message)));
  });
  const ready = await Promise.race([next('ready'), failed]);
  const spawnToReadyMs = performance.now() - spawned;
  failed.catch(() => undefined);
  return {
    pid: child.pid!,
    spawnToReadyMs,
    sinceProcessStartMs: ready.sinceProcessStartMs,
    createMs: ready.createMs,
    async stats() {
      const reply = next('stats', 30_000);
      child.send({ type: 'stats' });
      return (await reply).stats;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ type: 'stop' });
      await Promise.race([exited, sleep(20_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(outboxDir, { recursive: true, force: true });
    },
  };
}

// ---- Clients ------------------------------------------------------------------------------------------

export interface BenchClients {
  temporal: Client;
  pathway: PathwayClient;
  close(): Promise<void>;
}

export async function benchClients(opts: { address: string; namespace: string; taskQueue: string; codec: PayloadCodec | undefined; policies?: Record<string, SchemePolicy> }): Promise<BenchClients> {
  const connection = await Connection.connect({ address: opts.address });
  const temporal = new Client({ connection, namespace: opts.namespace, dataConverter: pathwayDataConverter(opts.codec) });
  const pathway = await PathwayClient.fromClient(temporal, {
    taskQueue: opts.taskQueue,
    personKey: PersonKey.generate(),
    ...(opts.policies && { policies: opts.policies }),
  });
  return { temporal, pathway, close: () => connection.close() };
}

// ---- A whole stack ----------------------------------------------------------------------------------

/** The flags of every benchmark that starts a server: spread into its own. */
export const serverFlags = {
  codec: str('on', 'payload encryption: on (production) or off'),
  sqlite: str('default', 'dev-server SQLite pragmas: default, wal, wal-off, or PRAGMA=VALUE,...'),
  address: str('', 'use this Temporal server instead of starting a dev server'),
  cluster: bool(false, 'start the production topology (npm run cluster: PostgreSQL, two servers) instead of a dev server'),
  'keep-db': bool(false, 'keep the SQLite file afterwards'),
};

export interface Stack {
  env: Environment;
  codec: Awaited<ReturnType<typeof benchCodec>>;
  server: BenchServer;
  taskQueue: string;
  worker: BenchWorker;
  clients: BenchClients;
  /** What the run was measured on, for the results file. */
  describe: { server: string; codec: string };
  stop(): Promise<void>;
}

/**
 * Server, a worker process on a task queue of its own and clients, with the environment printed
 * first; `worker` options are those of `startBenchWorker` beyond the connection.
 */
export async function startStack(
  name: string,
  opts: { codec: string; sqlite: string; address: string; 'keep-db': boolean; cluster?: boolean },
  extra: { worker?: Partial<BenchWorkerOptions>; policies?: Record<string, SchemePolicy>; notes?: string[] } = {},
): Promise<Stack> {
  const env = environment();
  const codec = await benchCodec(opts.codec);
  const server = await startBenchServer({ name, address: opts.address || undefined, sqlite: opts.sqlite, keepDb: opts['keep-db'], cluster: opts.cluster ?? false });
  const taskQueue = `bench-${name}-${digitFree(Math.random().toString(16).slice(2, 8))}`;
  const worker = await startBenchWorker({ address: server.address, namespace: server.namespace, taskQueue, codecEnv: codec.env, ...extra.worker });
  const clients = await benchClients({ address: server.address, namespace: server.namespace, taskQueue, codec: codec.codec, ...(extra.policies && { policies: extra.policies }) });
  const w = extra.worker ?? {};
  const workerNote = `worker: child process ${worker.pid}, ${w.maxCachedWorkflows !== undefined ? `maxCachedWorkflows ${w.maxCachedWorkflows}` : 'default options'}${w.maxOldSpaceMiB ? `, --max-old-space-size=${w.maxOldSpaceMiB}` : ''}, ${w.sink === 'memory' ? 'in-memory sink' : 'durable file outbox'}`;
  printEnvironment(name, env, [server.description, codec.label, workerNote, ...(extra.notes ?? [])]);
  return {
    env,
    codec,
    server,
    taskQueue,
    worker,
    clients,
    describe: { server: server.description, codec: codec.label },
    async stop() {
      await clients.close();
      await worker.stop();
      await server.stop();
    },
  };
}
