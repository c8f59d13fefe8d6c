// `npm start`: the embedded dev server, the codec server, a worker, and the pathway's demo job,
// then where to look. Keeps running (so the Web UI stays up) until Ctrl-C, unless `--exit` or CI.
import { Client, Connection } from '@temporalio/client';
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { DEFAULT_DEV_KEY_DIR, devCodecServerToken, EncryptionCodec, loadCodecFromEnv, startCodecServer } from '../codec';
import { isLocalDevTarget, isRemoteTarget, serverTarget } from '../worker/connection';
import { createPathwayWorker, DEFAULT_TASK_QUEUE, pathwayDataConverter } from '../worker/create';
import { registerSearchAttributes } from '../worker/search-attributes';
import { startCluster, type Cluster } from './cluster';
import { sqliteModeFromEnv, startDevServer, type DevServer } from './dev-server';
import { runDemo } from './demo';
import { directoryLocation, openDirectory } from '../directory';
import { PathwayClient } from '../client';
import { describeHttpApp, startHttpApp, type HttpApp } from '../http/server';
import { tracingFromEnv } from '../client/tracing';

const CODEC_PORT = Number(process.env.PATHWAY_CODEC_SERVER_PORT ?? 8888);

async function connect(address: string, options: object): Promise<Connection> {
  const started = Date.now();
  for (;;) {
    try {
      return await Connection.connect({ address, ...options });
    } catch (err) {
      if (Date.now() - started > 30_000) throw err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

async function main() {
  // The worker's own INFO lines would bury the demo's output; warnings and errors still show.
  Runtime.install({
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
  });
  // `--cluster`: PostgreSQL, two servers and two workers (scripts/cluster.ts); then the rest of
  // this script treats it like any cluster it was pointed at, through TEMPORAL_ADDRESS alone, and
  // serves the HTTP app itself (below), so the cluster starts none.
  const cluster: Cluster | undefined = process.argv.includes('--cluster') ? await startCluster({ http: false }) : undefined;
  if (cluster) Object.assign(process.env, cluster.env);
  const external = Boolean(process.env.TEMPORAL_ADDRESS || process.env.TEMPORAL_PROFILE || process.env.TEMPORAL_CONFIG_FILE);
  const exitWhenDone = process.argv.includes('--exit') || process.env.CI === 'true';
  const sqlite = sqliteModeFromEnv();

  // Encryption is on from the first run: a dev key is minted into a git-ignored folder unless
  // the operator configured keys. A cluster is production: encrypted or refused, no dev key.
  const configured = serverTarget();
  const codec = (await loadCodecFromEnv(process.env, {
    production: isRemoteTarget(configured),
    ...(isLocalDevTarget(configured) && { devKeyDir: DEFAULT_DEV_KEY_DIR }),
  })) as EncryptionCodec | undefined;
  // The codec server decrypts for whoever holds its token, kept beside the dev key (git-ignored, mode 600).
  const codecToken = codec ? await devCodecServerToken() : undefined;
  const codecServer =
    codec && codecToken
      ? await startCodecServer({ port: CODEC_PORT, codec, authToken: codecToken.token, corsOrigins: ['http://localhost:8233', 'http://127.0.0.1:8233'] }).catch((err) => {
          console.warn(`codec server not started (${(err as Error).message}); the Web UI will show encrypted payloads`);
          return undefined;
        })
      : undefined;
  if (codecServer && codecToken) {
    console.log(
      [
        `Codec server: ${codecServer.url}, for callers holding the token in ${codecToken.file}`,
        `  CLI:    temporal workflow show --workflow-id <id> --codec-endpoint ${codecServer.url} --codec-auth "Bearer $(cat ${codecToken.file})"`,
        `  Web UI: "Configure data encoder": Remote Codec Endpoint ${codecServer.url}, "Pass the user access token" on;`,
        `          it sends its signed-in user's token, which must be this one, so the dev UI (no sign-in) shows payloads encrypted.`,
      ].join('\n'),
    );
  }

  let server: DevServer | undefined;
  const target = serverTarget();
  if (!external) {
    server = await startDevServer({ sqlite, ...(codecServer && { codecEndpoint: codecServer.url }) });
    console.log(`Temporal dev server: ${server.address} (state in ${server.dbFile}, SQLite ${server.process ? sqlite : 'as that server was started'})`);
  }
  const address = server?.address ?? target.address;
  const connection = await connect(address, external ? target.connectionOptions : {});
  await registerSearchAttributes(connection, target.namespace);
  // OTEL_EXPORTER_OTLP_ENDPOINT set: the demo's cases and the HTTP app's are traced (client/tracing.ts).
  const tracing = await tracingFromEnv();
  const client = new Client({
    connection,
    namespace: target.namespace,
    dataConverter: pathwayDataConverter(codec),
    ...(tracing && { interceptors: { workflow: [tracing.clientInterceptor()] } }),
  });

  const taskQueue = process.env.PATHWAY_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  // The service directory a connection's next match comes from (PATHWAY_DIRECTORY_DB, else .data/directory.sqlite).
  const directory = await openDirectory(directoryLocation(undefined, process.env, process.cwd()));
  const { worker, close } = await createPathwayWorker({
    directory,
    address,
    namespace: target.namespace,
    taskQueue,
    codec,
    connectionOptions: external ? target.connectionOptions : {},
    ...(tracing && { tracing }),
  });
  const running = worker.run();

  let schemes: string[] = [];
  try {
    schemes = [(await runDemo({ client, taskQueue, uiUrl: server?.uiUrl, codecUrl: codecServer?.url, address, directory })).schemeId];
  } catch (err) {
    console.error(`demo failed: ${(err as Error).stack ?? err}`);
    process.exitCode = 1;
  }

  // One HTTP server beside the worker: the FHIR gateway and the supervisor console (signed in
  // through a local OIDC provider unless CONSOLE_OIDC_ISSUER names one). A deployment without a
  // person key still gets the worker and demo.
  let http: HttpApp | undefined;
  try {
    const gatewayClient = await PathwayClient.fromClient(client, { taskQueue, ...(process.env.PATHWAY_PERSON_KEY ? {} : { devKeyDir: DEFAULT_DEV_KEY_DIR }) });
    const consoleClient = exitWhenDone ? undefined : await PathwayClient.fromClient(client, { taskQueue, devKeyDir: DEFAULT_DEV_KEY_DIR });
    http = await startHttpApp({ client: gatewayClient, console: !exitWhenDone, ...(consoleClient && { consoleClient }), consoleSchemes: schemes.length ? schemes : ['demo'] });
    console.log(`\n${describeHttpApp(http)}`);
  } catch (err) {
    console.warn(`HTTP server (FHIR gateway and console) not started (${(err as Error).message})`);
  }

  const shutdown = async () => {
    await http?.close();
    worker.shutdown();
    await running.catch(() => undefined);
    await close();
    await tracing?.shutdown();
    await directory.close();
    await connection.close();
    await codecServer?.close();
    await server?.stop();
    await cluster?.stop();
  };
  if (exitWhenDone) {
    await shutdown();
    return;
  }
  console.log('\nThe worker and server keep running so you can look around; Ctrl-C stops them.');
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void shutdown().then(() => process.exit(process.exitCode ?? 0));
    });
  }
  await running;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
