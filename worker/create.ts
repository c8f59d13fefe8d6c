// One place that assembles a pathway worker, for the worker process, `npm start` and the tests, so
// all of them run the same activities, converters and bundle.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type ActivityInterceptorsFactory, type InjectedSinks } from '@temporalio/worker';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  makeWorkflowExporter,
  type OpenTelemetryWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { Tracing } from '../client/tracing';
import type { EngineObservationSinks } from '../workflows/runtime/engine-observations';
import type { PayloadCodec } from '@temporalio/common';
import { createActivities } from '../activities';
import { createCapacityActivities } from '../activities/capacity';
import { createPersonIndexActivities } from '../activities/person-index';
import { createConnectionActivities } from '../activities/connections';
import type { ServiceDirectory } from '../directory/types';
import { createSubscriptionActivities } from '../activities/subscriptions';
import { FileOutbox } from '../activities/outbox';
import type { Sink } from '../activities/sink';
import { CodecKeyError, EncryptionCodec, isProduction } from '../codec';
import { DEFAULT_TASK_QUEUE, pathwayDataConverter } from '../codec/defaults';
import { isRemoteTarget } from './connection';
import { ensureWorkflowBundle } from './bundle';

// Re-exported for the scripts that assemble a worker; defined once in codec/defaults.ts.
export { DEFAULT_TASK_QUEUE, pathwayDataConverter };

export interface PathwayWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  codec: PayloadCodec | undefined;
  connectionOptions?: { tls?: any; apiKey?: string };
  /** Where side effects go; the durable local outbox by default. */
  sink?: Sink;
  workflowBundlePath?: string;
  /** Tests raise or lower the cache; production keeps the SDK's default. */
  maxCachedWorkflows?: number;
  /** The scheme's service directory, for a connection's next match; without it none is suggested. */
  directory?: ServiceDirectory;
  /** Activity interceptors, e.g. the metrics' (worker/metrics.ts). */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /**
   * Traces (client/tracing.ts `tracingFromEnv()`): the cases a traced client started continue its
   * trace in the workflow and its activities, exported from here.
   */
  tracing?: Tracing;
  /** Where the workflows' observations go (worker/metrics.ts `engineSinks`); dropped without. */
  engineSinks?: InjectedSinks<EngineObservationSinks>;
}

const dropObservations: InjectedSinks<EngineObservationSinks> = { engine: { deadlineLate: { fn() {} }, commandRefused: { fn() {} }, connectionAnswered: { fn() {} } } };

/**
 * Where workflow spans leave the sandbox. Every worker has the sink: a case started with a trace
 * (workflows/runtime/trace-gate.ts) emits spans whichever worker runs it; without tracing they are dropped.
 */
function spanSink(tracing: Tracing | undefined): InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }> {
  if (!tracing) return { exporter: { export: { fn() {} } } };
  return { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource as Parameters<typeof makeWorkflowExporter>[1]) };
}

/** Spans around each activity, beneath the workflow's span that scheduled it. */
const tracedActivity: ActivityInterceptorsFactory = (ctx) => ({
  inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
  outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
});

/** The sinks the bundle's interceptors call, all dropping: for a worker put together elsewhere (tests). */
export const WORKFLOW_SINKS_OFF = { ...spanSink(undefined), ...dropObservations };

export async function createPathwayWorker(options: PathwayWorkerOptions): Promise<{ worker: Worker; close(): Promise<void> }> {
  // Encrypted or refused, however the worker was put together: a host that builds one for a
  // cluster (or under NODE_ENV=production) must hand it a codec that refuses plaintext.
  const remote = isRemoteTarget({ address: options.address, connectionOptions: { address: options.address, ...options.connectionOptions } });
  if (isProduction(process.env, remote) && !(options.codec instanceof EncryptionCodec && options.codec.refusesPlaintext)) {
    throw new CodecKeyError(
      'A worker for a production Temporal target (NODE_ENV=production, or a server other than the local dev server) needs a codec ' +
        'that refuses plaintext: load it with loadCodecFromEnv (PATHWAY_CODEC_KEYS or PATHWAY_CODEC_KEY_FILE) in production mode.',
    );
  }
  const dataConverter = pathwayDataConverter(options.codec);
  const nativeConnection = await NativeConnection.connect({ address: options.address, ...options.connectionOptions });
  // Activities that talk to Temporal (the capacity ledger) need a client of their own.
  const connection = await Connection.connect({ address: options.address, ...options.connectionOptions });
  const client = new Client({
    connection,
    namespace: options.namespace,
    dataConverter,
    ...(options.tracing && { interceptors: { workflow: [options.tracing.clientInterceptor()] } }),
  });
  const activityInterceptors = [...(options.tracing ? [tracedActivity] : []), ...(options.activityInterceptors ?? [])];
  const sink = options.sink ?? new FileOutbox(options.codec ? { codec: options.codec } : {});
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: { codePath: options.workflowBundlePath ?? (await ensureWorkflowBundle()) },
    activities: {
      // The outbox seals notice bodies with the payload key, so the same keys read it back.
      ...createActivities({ sink, client }),
      ...createConnectionActivities({ sink, ...(options.directory && { directory: options.directory }) }),
      ...createCapacityActivities({ client }),
      ...createPersonIndexActivities({ client }),
      ...createSubscriptionActivities({ client }),
    },
    dataConverter,
    ...(options.maxCachedWorkflows !== undefined && { maxCachedWorkflows: options.maxCachedWorkflows }),
    ...(activityInterceptors.length > 0 && { interceptors: { activity: activityInterceptors } }),
    sinks: { ...spanSink(options.tracing), ...(options.engineSinks ?? dropObservations) },
  });
  return {
    worker,
    async close() {
      await connection.close();
      await nativeConnection.close();
    },
  };
}
