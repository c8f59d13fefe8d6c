// Prometheus metrics for a worker process (`PATHWAY_METRICS_PORT`): the engine's own figures and,
// when `PATHWAY_SDK_METRICS_PORT` is set, the Temporal runtime's (the SDK core serves those on a
// port of its own; this endpoint fetches and appends them, so one scrape target has both).
//
// Where each figure comes from, and why: never workflow code (a side effect there would repeat on
// every replay), and never personal data in a label (labels are scheme, stage, activity: ids of
// configuration, not of people or cases).
//   - open cases by scheme and stage, and escalated open cases by scheme: a visibility count,
//     taken when scraped (cached briefly), from the search attributes the case workflow keeps;
//   - activity outcomes and durations by activity type (outbox deliveries among them): an activity
//     interceptor, so a delivery that fails and is retried counts each failure.
import { createServer, type Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { escalatedKey, schemeKey, stageKey } from '../workflows/search-attributes';

/** How long one visibility count serves scrapes: a scrape every few seconds must not list every case each time. */
const COUNT_TTL_MS = 10_000;

export interface OpenCaseCount {
  scheme: string;
  stage: string;
  open: number;
  escalated: number;
}

/** Open (running) cases by scheme and stage, from the visibility store. */
export async function countOpenCases(client: Client): Promise<OpenCaseCount[]> {
  const counts = new Map<string, OpenCaseCount>();
  const query = `ExecutionStatus = 'Running' AND ${stageKey.name} IS NOT NULL AND ${schemeKey.name} IS NOT NULL`;
  for await (const wf of client.workflow.list({ query })) {
    const attrs = wf.typedSearchAttributes;
    const scheme = attrs.get(schemeKey);
    const stage = attrs.get(stageKey);
    if (!scheme || !stage) continue;
    const key = `${scheme}\u0000${stage}`;
    const entry = counts.get(key) ?? { scheme, stage, open: 0, escalated: 0 };
    entry.open += 1;
    if (attrs.get(escalatedKey)) entry.escalated += 1;
    counts.set(key, entry);
  }
  return [...counts.values()];
}

export interface PathwayMetrics {
  registry: Registry;
  /** Activity interceptor factory for `Worker.create({ interceptors: { activity: [...] } })`. */
  activityInterceptor: () => { inbound: ActivityInboundCallsInterceptor };
}

export function pathwayMetrics(opts: { client?: Client; registry?: Registry; countTtlMs?: number } = {}): PathwayMetrics {
  const ttl = opts.countTtlMs ?? COUNT_TTL_MS;
  const registry = opts.registry ?? new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pathway_worker_' });
  let cached: { at: number; counts: Promise<OpenCaseCount[]> } | undefined;
  const counts = () => {
    if (!opts.client) return Promise.resolve([]);
    if (!cached || Date.now() - cached.at >= ttl) {
      const fresh = countOpenCases(opts.client);
      cached = { at: Date.now(), counts: fresh };
      fresh.catch(() => (cached = undefined));
    }
    return cached.counts;
  };
  new Gauge({
    name: 'pathway_open_cases',
    help: 'Open cases by scheme and stage (visibility count).',
    labelNames: ['scheme', 'stage'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await counts()) this.set({ scheme: c.scheme, stage: c.stage }, c.open);
    },
  });
  new Gauge({
    name: 'pathway_escalated_open_cases',
    help: 'Open cases with an escalation open, by scheme and stage (visibility count).',
    labelNames: ['scheme', 'stage'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await counts()) if (c.escalated > 0) this.set({ scheme: c.scheme, stage: c.stage }, c.escalated);
    },
  });
  const outcomes = new Counter({
    name: 'pathway_activity_executions_total',
    help: 'Activity executions by activity type and outcome (ok, failed); a retried delivery counts each attempt.',
    labelNames: ['activity', 'outcome'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'pathway_activity_duration_seconds',
    help: 'Activity execution time by activity type.',
    labelNames: ['activity'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const activityInterceptor = () => ({
    inbound: {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>) {
        const activity = Context.current().info.activityType;
        const end = durations.startTimer({ activity });
        try {
          const result = await next(input);
          outcomes.inc({ activity, outcome: 'ok' });
          return result;
        } catch (err) {
          outcomes.inc({ activity, outcome: 'failed' });
          throw err;
        } finally {
          end();
        }
      },
    },
  });
  return { registry, activityInterceptor };
}

/** Serves `GET /metrics` on loopback (or `host`): the registry, then the SDK core's own metrics if a port is given. */
export async function startMetricsServer(opts: { port: number; host?: string; registry: Registry; sdkMetricsPort?: number }): Promise<Server & { url: string }> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    void (async () => {
      try {
        let text = await opts.registry.metrics();
        if (opts.sdkMetricsPort) {
          const sdk = await fetch(`http://127.0.0.1:${opts.sdkMetricsPort}/metrics`).then((r) => r.text()).catch(() => '');
          text += `\n${sdk}`;
        }
        res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text);
      } catch (err) {
        res.writeHead(500).end(`metrics unavailable: ${(err as Error).name}`);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return Object.assign(server, { url: `http://${opts.host ?? '127.0.0.1'}:${port}/metrics` });
}
