// The worker process: `npx tsx worker/main.ts`. Connects where TEMPORAL_* env vars say (the local dev
// server by default), encrypts payloads with the configured key, and shuts down gracefully on
// SIGINT/SIGTERM (the SDK's runtime finishes in-flight tasks before it exits).
import { loadCodecFromEnv, DEFAULT_DEV_KEY_DIR } from '../codec';
import { isLocalDevTarget, isRemoteTarget, serverTarget } from './connection';
import { Client, Connection } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { pathwayDataConverter, taskQueueFromEnv } from '../codec/defaults';
import { directoryLocation, openDirectory } from '../directory';
import { createPathwayWorker } from './create';
import { jsonLogger } from './logger';
import { pathwayMetrics, startMetricsServer } from './metrics';
import { tracingFromEnv } from '../client/tracing';

async function main() {
  // The SDK core serves the Temporal runtime's metrics on a port of its own; /metrics appends them.
  const sdkMetricsPort = process.env.PATHWAY_SDK_METRICS_PORT ? Number(process.env.PATHWAY_SDK_METRICS_PORT) : undefined;
  // PATHWAY_LOG_FORMAT=json: JSON lines with case and workflow ids and only non-personal fields
  // (worker/logger.ts), as `npm run cluster` runs its workers; otherwise the SDK's own text lines.
  if (process.env.PATHWAY_LOG_FORMAT !== undefined && !['json', 'text'].includes(process.env.PATHWAY_LOG_FORMAT)) {
    throw new Error(`PATHWAY_LOG_FORMAT must be json or text, not ${JSON.stringify(process.env.PATHWAY_LOG_FORMAT)}`);
  }
  const json = process.env.PATHWAY_LOG_FORMAT === 'json';
  if (json || sdkMetricsPort) {
    Runtime.install({
      ...(json && { logger: jsonLogger() }),
      ...(sdkMetricsPort && { telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkMetricsPort}` } } } }),
    });
  }
  const target = serverTarget();
  // Any server but this machine's is production (encrypted or refused); only the local dev server
  // gets a dev key minted for it.
  const codec = await loadCodecFromEnv(process.env, {
    production: isRemoteTarget(target),
    ...(isLocalDevTarget(target) && { devKeyDir: DEFAULT_DEV_KEY_DIR }),
  });
  const taskQueue = taskQueueFromEnv(process.env);
  const started = Date.now();
  const metricsPort = process.env.PATHWAY_METRICS_PORT ? Number(process.env.PATHWAY_METRICS_PORT) : undefined;
  // Visibility counts need only a client (search attributes are never encrypted, nor personal); the
  // escalated cases' views it asks for are decrypted with the worker's own converter.
  const metricsConnection = metricsPort !== undefined ? await Connection.connect(target.connectionOptions) : undefined;
  const metrics = metricsConnection
    ? pathwayMetrics({ client: new Client({ connection: metricsConnection, namespace: target.namespace, dataConverter: pathwayDataConverter(codec) }) })
    : undefined;
  // OTEL_EXPORTER_OTLP_ENDPOINT set: spans for each workflow and activity, over OTLP/HTTP.
  const tracing = await tracingFromEnv();
  // The scheme's service directory (PATHWAY_DIRECTORY_DB, else .data/directory.sqlite): a connection's next match.
  const directory = await openDirectory(directoryLocation(undefined, process.env, process.cwd()));
  const { worker, close } = await createPathwayWorker({
    directory,
    ...(tracing && { tracing }),
    ...(metrics && { activityInterceptors: [metrics.activityInterceptor], engineSinks: metrics.engineSinks }),
    address: target.address,
    namespace: target.namespace,
    taskQueue,
    codec,
    connectionOptions: target.connectionOptions,
  });
  const metricsServer = metrics && metricsPort !== undefined ? await startMetricsServer({ port: metricsPort, registry: metrics.registry, sdkMetricsPort }) : undefined;
  if (metricsServer) console.log(`metrics: ${metricsServer.url}`);
  console.log(`worker ready in ${Date.now() - started}ms: ${target.address} namespace=${target.namespace} taskQueue=${taskQueue}`);
  try {
    await worker.run();
  } finally {
    metricsServer?.close();
    await tracing?.shutdown();
    await close();
    await directory.close();
    await metricsConnection?.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
