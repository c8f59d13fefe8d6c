// `npm run cluster`: Temporal's production topology on this machine. PostgreSQL (persistence and
// visibility), two Temporal server processes forming one cluster (membership over loopback, each
// running every service; docs/deployment.md says why), a small TCP load balancer in front of their
// frontends (the one address clients and workers are given, as a cloud load balancer would be),
// the Web UI, the codec server, two pathway workers, and the HTTP app (FHIR gateway and console)
// as a host would run it beside them. Ctrl-C stops everything, HTTP app and workers first.
//
// `startCluster()` is also what the fault tests and the benchmarks use: it hands back each process
// so a test can kill -9 a server, restart PostgreSQL, kill a worker or SIGSTOP a server.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { devCodecServerToken, devKeyring, startCodecServer } from '../codec';
import { registerSearchAttributes } from '../worker/search-attributes';
import { ensureClusterBinaries, ensurePostgres, TEMPORAL_SERVER_VERSION } from './cluster-provision.mjs';
import { portOpen } from './dev-server';
import { ensureNodeModules, root } from './provision.mjs';

export const DEFAULT_CLUSTER_BASE_PORT = 7400;
export const CLUSTER_NAMESPACE = 'default';
const ALREADY_EXISTS = 6;

export interface ClusterOptions {
  /** Every port is this plus a fixed offset (see `clusterPorts`), so a second cluster can sit beside the first. */
  basePort?: number;
  /** Where PostgreSQL's data, the servers' configs and the logs live (git-ignored). */
  dataDir?: string;
  servers?: number;
  workers?: number;
  shards?: number;
  ui?: boolean;
  codecServer?: boolean;
  /** The HTTP app (http/main.ts: /fhir and /console) as a process of its own; on by default. */
  http?: boolean;
  /** Extra env for the worker processes (e.g. PATHWAY_OUTBOX_DIR for a test's downstream). */
  workerEnv?: Record<string, string>;
  log?: (message: string) => void;
}

/** The port layout: base+0 the frontend load balancer, base+1 PostgreSQL, base+2 the UI, base+3 the codec server, base+4 the HTTP app, base+10+20i server i. */
export function clusterPorts(base: number, servers: number) {
  return {
    frontend: base,
    postgres: base + 1,
    ui: base + 2,
    codec: base + 3,
    http: base + 4,
    workerMetrics: (i: number) => base + 90 + i,
    servers: Array.from({ length: servers }, (_, i) => {
      const s = base + 10 + 20 * i;
      return { frontend: s, history: s + 1, matching: s + 2, worker: s + 3, http: s + 4, membership: [s + 5, s + 6, s + 7, s + 8], metrics: s + 9 };
    }),
  };
}

/** One child process the cluster owns, which a fault test may kill and the cluster can start again. */
export class ClusterProcess {
  child?: ChildProcess;
  private exited?: Promise<void>;
  constructor(
    readonly name: string,
    private readonly launch: () => ChildProcess,
    private readonly ready: () => Promise<void>,
    private readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  async start(): Promise<void> {
    const child = this.launch();
    const out = createWriteStream(this.logFile, { flags: 'a' });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await Promise.race([
      this.ready(),
      this.exited.then(() => {
        throw new Error(`${this.name} exited during start (exit ${child.exitCode}, signal ${child.signalCode}); its log: ${this.logFile}`);
      }),
    ]);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.pid !== undefined) process.kill(this.pid, signal);
  }

  /** Stops it with `signal` and waits for it to exit (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 20_000): Promise<void> {
    if (this.pid === undefined) return;
    this.signal('SIGCONT'); // a stopped process cannot act on SIGTERM
    this.signal(signal);
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  async kill9(): Promise<void> {
    await this.stop('SIGKILL');
  }

  async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stop(signal);
    await this.start();
  }
}

/**
 * The load balancer in front of the frontends: each client connection goes to the next frontend
 * that accepts it. gRPC connections are long-lived HTTP/2, so when a frontend dies its callers'
 * connections drop and they reconnect, landing on a live one.
 */
function startFrontendBalancer(port: number, backends: number[]): Promise<Server> {
  let next = 0;
  const server = createServer((client: Socket) => {
    client.pause();
    const attempt = (tried: number) => {
      if (tried >= backends.length) return client.destroy();
      const backendPort = backends[(next + tried) % backends.length]!;
      const upstream = netConnect({ port: backendPort, host: '127.0.0.1' });
      upstream.once('connect', () => {
        next = (next + tried + 1) % backends.length;
        upstream.setNoDelay(true);
        client.setNoDelay(true);
        client.pipe(upstream).pipe(client);
        client.resume();
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
      });
      upstream.once('error', () => attempt(tried + 1));
      // A SIGSTOPped frontend accepts in the kernel but never answers; a timeout moves on.
    };
    attempt(0);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const started = Date.now();
  while (!(await check().catch(() => false))) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} was not ready within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function postgresUser(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

function serverConfig(opts: { ports: ReturnType<typeof clusterPorts>; index: number; shards: number; moduleDir: string }) {
  const p = opts.ports.servers[opts.index]!;
  const store = (db: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName: db,
      connectAddr: `127.0.0.1:${opts.ports.postgres}`,
      connectProtocol: 'tcp',
      user: 'postgres',
      password: '',
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const service = (grpcPort: number, membershipPort: number, extra: object = {}) => ({ rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra } });
  // JSON is YAML; the server's loader reads it as its development.yaml.
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      // Fixed for the cluster's life: shards cannot be changed once the database exists.
      numHistoryShards: opts.shards,
      datastores: { 'postgres-default': store('temporal', 20), 'postgres-visibility': store('temporal_visibility', 4) },
    },
    global: {
      membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' },
      metrics: { prometheus: { framework: 'tally', timerType: 'histogram', listenAddress: `127.0.0.1:${p.metrics}` } },
    },
    services: {
      frontend: service(p.frontend, p.membership[0]!, { httpPort: p.http }),
      history: service(p.history, p.membership[1]!),
      matching: service(p.matching, p.membership[2]!),
      worker: service(p.worker, p.membership[3]!),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      // The internal worker service reaches the frontends through the same balancer as everyone.
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${opts.ports.frontend}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: join(__dirname, 'cluster', 'dynamicconfig.yaml'), pollInterval: '10s' },
  };
}

export interface Cluster {
  /** The one address clients and workers need: TEMPORAL_ADDRESS. */
  address: string;
  namespace: string;
  uiUrl?: string;
  codecUrl?: string;
  /** The HTTP app: the FHIR gateway at `/fhir`, the console at `/console/`. */
  httpUrl?: string;
  /** Env a worker or client process needs to use the cluster (address, namespace, codec key file). */
  env: Record<string, string>;
  postgres: ClusterProcess;
  servers: ClusterProcess[];
  workers: ClusterProcess[];
  others: ClusterProcess[];
  logDir: string;
  stop(): Promise<void>;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const log = options.log ?? ((m: string) => process.stderr.write(`[cluster] ${m}\n`));
  const base = options.basePort ?? Number(process.env.PATHWAY_CLUSTER_PORT ?? DEFAULT_CLUSTER_BASE_PORT);
  const serverCount = options.servers ?? 2;
  const workerCount = options.workers ?? 2;
  const shards = options.shards ?? 16;
  const dataDir = options.dataDir ?? join(root, '.data', 'cluster');
  const ports = clusterPorts(base, serverCount);
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });

  for (const port of [ports.frontend, ports.postgres, ...ports.servers.map((s) => s.frontend)]) {
    if (await portOpen(port)) throw new Error(`port ${port} is already in use; is a cluster already running? (PATHWAY_CLUSTER_PORT moves every port)`);
  }

  ensureNodeModules();
  const pgBin = ensurePostgres();
  const bins = ensureClusterBinaries();

  // PostgreSQL: its own cluster in a git-ignored folder the postgres user owns (initdb and postgres
  // refuse to run as root), on loopback only, fsync on.
  const pgData = join(dataDir, 'pg');
  const pgUser = process.getuid?.() === 0 ? postgresUser() : undefined;
  if (!existsSync(join(pgData, 'PG_VERSION'))) {
    log(`initdb ${pgData}`);
    mkdirSync(pgData, { recursive: true, mode: 0o700 });
    if (pgUser) chownSync(pgData, pgUser.uid, pgUser.gid);
    execFileSync(join(pgBin, 'initdb'), ['-D', pgData, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      ...(pgUser && { uid: pgUser.uid, gid: pgUser.gid }),
      cwd: '/',
    });
  }
  const postgres = new ClusterProcess(
    'postgres',
    () =>
      spawn(
        join(pgBin, 'postgres'),
        ['-D', pgData, '-p', String(ports.postgres), '-h', '127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
        { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/', ...(pgUser && { uid: pgUser.uid, gid: pgUser.gid }) },
      ),
    () => waitFor('PostgreSQL', () => portOpen(ports.postgres), 60_000),
    join(logDir, 'postgres.log'),
  );
  // Stopped in reverse order of starting: workers before servers, servers before PostgreSQL.
  const started: { stop(signal?: NodeJS.Signals): Promise<void> }[] = [];
  const stopAll = async () => {
    // SIGINT is PostgreSQL's fast shutdown; everything else stops gracefully on SIGTERM.
    for (const p of [...started].reverse()) await p.stop(p === postgres ? 'SIGINT' : 'SIGTERM').catch(() => undefined);
  };

  try {
    await postgres.start();
    started.push(postgres);
    log(`PostgreSQL on 127.0.0.1:${ports.postgres}`);

    // Schemas: created and migrated by the server's own tool, once per server version.
    const schemaStamp = join(dataDir, 'schema-version');
    const stampValue = `${TEMPORAL_SERVER_VERSION} shards=${shards}`;
    if (!existsSync(schemaStamp) || readFileSync(schemaStamp, 'utf8').trim() !== stampValue) {
      for (const [db, dir] of [
        ['temporal', 'temporal'],
        ['temporal_visibility', 'visibility'],
      ] as const) {
        const tool = (args: string[]) =>
          execFileSync(bins.sqlTool, ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(ports.postgres), '-u', 'postgres', '--db', db, ...args], {
            stdio: ['ignore', 'pipe', 'pipe'],
            encoding: 'utf8',
          });
        log(`schema ${db}: create, set up and migrate to ${TEMPORAL_SERVER_VERSION}`);
        try {
          tool(['create-database']);
        } catch (err) {
          if (!/already exists/.test(String((err as { stderr?: string }).stderr) + String((err as Error).message))) throw err;
        }
        if (!existsSync(schemaStamp)) tool(['setup-schema', '-v', '0.0']);
        tool(['update-schema', '-d', join(bins.moduleDir, 'schema', 'postgresql', 'v12', dir, 'versioned')]);
      }
      writeFileSync(schemaStamp, `${stampValue}\n`);
    }

    // The server processes, each with its own root folder, ports and log.
    const servers = ports.servers.map((p, index) => {
      const serverRoot = join(dataDir, `server-${index + 1}`);
      mkdirSync(join(serverRoot, 'config'), { recursive: true });
      writeFileSync(join(serverRoot, 'config', 'development.yaml'), JSON.stringify(serverConfig({ ports, index, shards, moduleDir: bins.moduleDir }), null, 2));
      return new ClusterProcess(
        `server-${index + 1}`,
        () => spawn(bins.server, ['--root', serverRoot, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: serverRoot }),
        () => waitFor(`Temporal server ${index + 1}`, () => portOpen(p.frontend), 120_000),
        join(logDir, `server-${index + 1}.log`),
      );
    });
    for (const [i, server] of servers.entries()) {
      await server.start();
      started.push(server);
      log(`Temporal server ${i + 1}: frontend 127.0.0.1:${ports.servers[i]!.frontend}, metrics http://127.0.0.1:${ports.servers[i]!.metrics}/metrics`);
    }
    const balancer = await startFrontendBalancer(
      ports.frontend,
      ports.servers.map((s) => s.frontend),
    );
    const address = `127.0.0.1:${ports.frontend}`;

    // The namespace and the pathway's search attributes (a new cluster has neither). The
    // namespace reaches each server's cache within seconds; until then registration is retried.
    const connection = await Connection.connect({ address });
    try {
      try {
        await connection.workflowService.registerNamespace({ namespace: CLUSTER_NAMESPACE, workflowExecutionRetentionPeriod: msToTs('30 days') });
        log(`namespace ${CLUSTER_NAMESPACE} created`);
      } catch (err) {
        if ((err as { code?: number }).code !== ALREADY_EXISTS) throw err;
      }
      await waitFor('the namespace and search attributes', async () => {
        await registerSearchAttributes(connection, CLUSTER_NAMESPACE);
        return true;
      });
    } finally {
      await connection.close();
    }

    // A cluster key and codec-server token of its own, git-ignored beside its data.
    const keys = await devKeyring(join(dataDir, 'codec'));
    const env: Record<string, string> = { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: CLUSTER_NAMESPACE, ...keys.env };

    const others: ClusterProcess[] = [];
    let codecUrl: string | undefined;
    if (options.codecServer !== false) {
      const token = await devCodecServerToken(join(dataDir, 'codec'));
      const { loadCodecFromEnv } = await import('../codec');
      const codec = await loadCodecFromEnv({ ...process.env, ...env });
      if (codec) {
        const uiOrigins = [`http://localhost:${ports.ui}`, `http://127.0.0.1:${ports.ui}`];
        const server = await startCodecServer({ port: ports.codec, codec, authToken: token.token, corsOrigins: uiOrigins });
        codecUrl = server.url;
        log(`codec server ${server.url} (token in ${token.file})`);
        started.push({ stop: () => server.close() });
      }
    }

    let uiUrl: string | undefined;
    if (options.ui !== false) {
      const uiRoot = join(dataDir, 'ui');
      mkdirSync(join(uiRoot, 'config'), { recursive: true });
      writeFileSync(
        join(uiRoot, 'config', 'development.yaml'),
        JSON.stringify(
          {
            temporalGrpcAddress: address,
            host: '127.0.0.1',
            port: ports.ui,
            enableUi: true,
            defaultNamespace: CLUSTER_NAMESPACE,
            cors: { allowOrigins: [`http://localhost:${ports.ui}`], cookieInsecure: true },
            ...(codecUrl && { codec: { endpoint: codecUrl, passAccessToken: true } }),
          },
          null,
          2,
        ),
      );
      const ui = new ClusterProcess(
        'ui',
        () => spawn(bins.ui, ['--root', uiRoot, '--env', 'development', 'start'], { stdio: ['ignore', 'pipe', 'pipe'], cwd: uiRoot }),
        () => waitFor('the Web UI', () => portOpen(ports.ui), 60_000),
        join(logDir, 'ui.log'),
      );
      await ui.start();
      started.push(ui);
      others.push(ui);
      uiUrl = `http://localhost:${ports.ui}`;
      log(`Web UI ${uiUrl}`);
    }

    // The pathway workers: separate processes needing nothing but the address and the key.
    const tsx = join(root, 'node_modules', '.bin', 'tsx');
    const workers = Array.from({ length: workerCount }, (_, i) => {
      const name = `worker-${i + 1}`;
      let readyLine: Promise<void> = Promise.resolve();
      return new ClusterProcess(
        name,
        () => {
          const child = spawn(tsx, [join(root, 'worker', 'main.ts')], {
            stdio: ['ignore', 'pipe', 'pipe'],
            cwd: root,
            // The file outbox takes one writer process per folder: each worker has its own.
            env: {
              ...process.env,
              ...env,
              PATHWAY_OUTBOX_DIR: join(dataDir, `outbox-${i + 1}`),
              PATHWAY_METRICS_PORT: String(ports.workerMetrics(i)),
              PATHWAY_SDK_METRICS_PORT: String(ports.workerMetrics(i) + 5),
              PATHWAY_LOG_FORMAT: 'json',
              ...options.workerEnv,
            },
          });
          readyLine = new Promise((resolve) => {
            const onData = (d: Buffer) => {
              if (d.toString().includes('worker ready')) {
                child.stdout?.off('data', onData);
                resolve();
              }
            };
            child.stdout?.on('data', onData);
          });
          return child;
        },
        () => readyLine,
        join(logDir, `${name}.log`),
      );
    });
    // One at a time: the first builds the workflow bundle into the shared cache.
    for (const worker of workers) {
      await worker.start();
      started.push(worker);
      log(`${worker.name} ready (pid ${worker.pid})`);
    }

    // The HTTP app, a client of the cluster like any host: only the address and the keys.
    let httpUrl: string | undefined;
    if (options.http !== false) {
      const http = new ClusterProcess(
        'http',
        () => spawn(tsx, [join(root, 'http', 'main.ts')], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root, env: { ...process.env, ...env, HTTP_PORT: String(ports.http) } }),
        () => waitFor('the HTTP app', () => portOpen(ports.http), 120_000),
        join(logDir, 'http.log'),
      );
      await http.start();
      started.push(http);
      others.push(http);
      httpUrl = `http://127.0.0.1:${ports.http}`;
      log(`HTTP app ${httpUrl} (/fhir, /console/)`);
    }

    return {
      address,
      namespace: CLUSTER_NAMESPACE,
      uiUrl,
      codecUrl,
      httpUrl,
      env,
      postgres,
      servers,
      workers,
      others,
      logDir,
      async stop() {
        await stopAll();
        await new Promise<void>((resolve) => balancer.close(() => resolve()));
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function main() {
  const cluster = await startCluster();
  console.log(
    [
      '',
      `Temporal cluster up: TEMPORAL_ADDRESS=${cluster.address} (namespace ${cluster.namespace})`,
      `  PostgreSQL, ${cluster.servers.length} server processes, ${cluster.workers.length} pathway workers; logs in ${cluster.logDir}`,
      cluster.uiUrl && `  Web UI: ${cluster.uiUrl}`,
      cluster.codecUrl && `  Codec server: ${cluster.codecUrl}`,
      cluster.httpUrl && `  HTTP app: FHIR gateway ${cluster.httpUrl}/fhir, console ${cluster.httpUrl}/console/ (dev token and sign-in accounts in ${join(cluster.logDir, 'http.log')})`,
      `  Use it: TEMPORAL_ADDRESS=${cluster.address} ${Object.entries(cluster.env)
        .filter(([k]) => k !== 'TEMPORAL_ADDRESS' && k !== 'TEMPORAL_NAMESPACE')
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')} npx tsx worker/main.ts`,
      'Ctrl-C stops everything.',
    ]
      .filter(Boolean)
      .join('\n'),
  );
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      console.log('stopping the cluster: workers, UI, servers, then PostgreSQL');
      void cluster.stop().then(() => process.exit(0));
    });
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
