// A pathway worker as a process of its own, started by the benchmarks: its RSS and CPU are then the
// worker's alone, not the load generator's. Configured by BENCH_WORKER (JSON), it reports when it
// polls and answers `stats` over IPC; `stop` shuts it down gracefully.
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { FileOutbox, MemorySink } from '../activities/outbox';
import { loadCodecFromEnv } from '../codec';
import { createPathwayWorker } from '../worker/create';

export interface WorkerConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  workflowBundlePath: string;
  maxCachedWorkflows?: number;
  /** `memory` keeps deliveries in memory; `file` is the durable fsynced outbox production uses. */
  sink: 'file' | 'memory';
  outboxDir?: string;
}

export type WorkerMessage =
  | { type: 'ready'; sinceProcessStartMs: number; createMs: number }
  | { type: 'stats'; stats: WorkerStats }
  | { type: 'error'; message: string };

export interface WorkerStats {
  rss: number;
  heapUsed: number;
  external: number;
  cachedWorkflows: number;
  inFlightActivations: number;
  inFlightActivities: number;
}

async function run() {
  const config = JSON.parse(process.env.BENCH_WORKER ?? '') as WorkerConfig;
  Runtime.install({
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
  const send = (m: WorkerMessage) => process.send?.(m);
  const codec = await loadCodecFromEnv(process.env);
  const created = performance.now();
  const { worker, close } = await createPathwayWorker({
    address: config.address,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    codec,
    workflowBundlePath: config.workflowBundlePath,
    sink: config.sink === 'memory' ? new MemorySink() : new FileOutbox({ ...(config.outboxDir && { dir: config.outboxDir }), ...(codec && { codec }) }),
    ...(config.maxCachedWorkflows !== undefined && { maxCachedWorkflows: config.maxCachedWorkflows }),
  });
  const running = worker.run();
  send({ type: 'ready', sinceProcessStartMs: performance.now(), createMs: performance.now() - created });

  process.on('message', (m: { type: string }) => {
    if (m.type === 'stats') {
      const mem = process.memoryUsage();
      const status = worker.getStatus();
      send({
        type: 'stats',
        stats: {
          rss: mem.rss,
          heapUsed: mem.heapUsed,
          external: mem.external,
          cachedWorkflows: status.numCachedWorkflows,
          inFlightActivations: status.numInFlightWorkflowActivations,
          inFlightActivities: status.numInFlightActivities,
        },
      });
    } else if (m.type === 'stop') worker.shutdown();
  });
  process.on('SIGTERM', () => worker.shutdown());
  await running;
  await close();
  process.exit(0);
}

run().catch((err) => {
  process.send?.({ type: 'error', message: (err as Error).stack ?? String(err) } satisfies WorkerMessage);
  console.error(err);
  process.exit(1);
});
