// Prometheus metrics for a worker process (`PATHWAY_METRICS_PORT`): the engine's own figures and,
// when `PATHWAY_SDK_METRICS_PORT` is set, the Temporal runtime's (the SDK core serves those on a
// port of its own; this endpoint fetches and appends them, so one scrape target has both).
//
// Where each figure comes from, and why: never workflow code (a side effect there would repeat on
// every replay), and never personal data in a label (labels are scheme, stage, activity, command,
// rule, escalation type and level: ids of configuration, not of people or cases).
//   - open cases by scheme and stage, and escalated open cases by scheme: a visibility count,
//     taken when scraped (cached briefly), from the search attributes the case workflow keeps;
//   - open escalations by scheme, type and level: the visibility store narrows to the escalated
//     cases, and each of those (only those) is asked for its view, as the client's escalation list does;
//   - activity outcomes and durations by activity type, outbox delivery failures by error type and
//     the outbox backlog (deliveries in flight or waiting for a retry): an activity interceptor,
//     so a delivery that fails and is retried counts each failure;
//   - deadline lateness, commands refused and providers' answers to connections (by outcome, and
//     how long they took): the workflows' own observations, handed over through a sink
//     (workflows/runtime/engine-observations.ts), which is never called on replay.
import { createServer, type Server } from 'node:http';
import type { Client } from '@temporalio/client';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { InjectedSinks } from '@temporalio/worker';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PathwayActivities } from '../activities';
import { activityOptions } from '../activities/options';
import { mapLimit } from '../client/pool';
import { caseViewQuery } from '../workflows/definitions';
import { CONNECTION_ANSWERS, type EngineObservationSinks } from '../workflows/runtime/engine-observations';
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

export interface OpenEscalationCount {
  scheme: string;
  type: string;
  level: number;
  open: number;
}

/** Open escalations by scheme, type and level: the escalated open cases (visibility), each asked for its view. */
export async function countOpenEscalations(client: Client, concurrency = 8): Promise<OpenEscalationCount[]> {
  const ids: string[] = [];
  const query = `ExecutionStatus = 'Running' AND ${escalatedKey.name} = true AND ${stageKey.name} IS NOT NULL`;
  for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
  // A case that closed or does not answer in between is left out, not failed: the next scrape has it.
  const views = await mapLimit(ids, concurrency, (id) => client.workflow.getHandle(id).query(caseViewQuery).catch(() => undefined));
  const counts = new Map<string, OpenEscalationCount>();
  for (const view of views) {
    for (const e of view?.openEscalations ?? []) {
      const key = `${view!.schemeId}\u0000${e.type}\u0000${e.level}`;
      const entry = counts.get(key) ?? { scheme: view!.schemeId, type: e.type, level: e.level, open: 0 };
      entry.open += 1;
      counts.set(key, entry);
    }
  }
  return [...counts.values()];
}

/** The activities that deliver a notice through the outbox (activities/index.ts). */
const DELIVERIES: ReadonlySet<string> = new Set<keyof PathwayActivities>(['notifyReferrer', 'notifySupervisor', 'requestVolunteerMatch', 'requestBefriending', 'recordOutcome']);

/**
 * How long a delivery whose attempt failed here stays in this worker's backlog without a new
 * attempt: the longest retry backoff plus one attempt's time (activities/options.ts). Past it the
 * retry ran on another worker, which counts it.
 */
const RETRY_WINDOW_MS = msToNumber(activityOptions.retry!.maximumInterval!) + msToNumber(activityOptions.startToCloseTimeout!);

export interface PathwayMetrics {
  registry: Registry;
  /** Activity interceptor factory for `Worker.create({ interceptors: { activity: [...] } })`. */
  activityInterceptor: () => { inbound: ActivityInboundCallsInterceptor };
  /** The sink the workflows' observations arrive by (`createPathwayWorker({ engineSinks })`). */
  engineSinks: InjectedSinks<EngineObservationSinks>;
}

/**
 * The worker's registry. `client` (with the worker's data converter, for the escalation views)
 * enables the visibility-based gauges.
 */
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
  let escalationsCached: { at: number; counts: Promise<OpenEscalationCount[]> } | undefined;
  const escalations = () => {
    if (!opts.client) return Promise.resolve([]);
    if (!escalationsCached || Date.now() - escalationsCached.at >= ttl) {
      const fresh = countOpenEscalations(opts.client);
      escalationsCached = { at: Date.now(), counts: fresh };
      fresh.catch(() => (escalationsCached = undefined));
    }
    return escalationsCached.counts;
  };
  new Gauge({
    name: 'pathway_open_escalations',
    help: 'Open (unacknowledged) escalations by scheme, type and level (the escalated cases\' views).',
    labelNames: ['scheme', 'type', 'level'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of await escalations()) this.set({ scheme: c.scheme, type: c.type, level: String(c.level) }, c.open);
    },
  });
  const lateness = new Histogram({
    name: 'pathway_deadline_lateness_seconds',
    help: 'How long after it fell due a durable timer (a case\'s deadline) fired, as the workflow saw it, by workflow type.',
    labelNames: ['workflow'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const refused = new Counter({
    name: 'pathway_commands_refused_total',
    help: 'Commands a workflow refused, by command and the rule that refused it (or the refusal type).',
    labelNames: ['command', 'rule'],
    registers: [registry],
  });
  const answers = new Counter({
    name: 'pathway_connection_responses_total',
    help: "Providers' answers to connections by scheme and outcome (accepted, declined, noResponse: declined for them at the response deadline).",
    labelNames: ['scheme', 'outcome'],
    registers: [registry],
  });
  const HOUR = 3600;
  const DAY = 24 * HOUR;
  const answerTime = new Histogram({
    name: 'pathway_connection_response_seconds',
    help: 'How long after the referral was sent a provider answered a connection (accepted or declined), by scheme, in workflow time.',
    labelNames: ['scheme'],
    buckets: [60, HOUR, 6 * HOUR, DAY, 2 * DAY, 3 * DAY, 5 * DAY, 7 * DAY, 10 * DAY, 14 * DAY, 21 * DAY, 28 * DAY],
    registers: [registry],
  });
  const deliveryFailures = new Counter({
    name: 'pathway_outbox_delivery_failures_total',
    help: 'Failed outbox delivery attempts by activity and error type (each is retried under its idempotency key unless non-retryable).',
    labelNames: ['activity', 'error'],
    registers: [registry],
  });
  /** Deliveries in flight (until Infinity) or waiting for a retry (until then), keyed by attempt owner; never exported. */
  const backlog = new Map<string, { activity: string; until: number }>();
  new Gauge({
    name: 'pathway_outbox_backlog',
    help: 'Notices not yet delivered, seen from this worker: deliveries in flight, and those whose last attempt here failed and wait for a retry.',
    labelNames: ['activity'],
    registers: [registry],
    collect() {
      this.reset();
      const now = Date.now();
      const counts = new Map<string, number>();
      for (const [key, entry] of backlog) {
        if (entry.until < now) backlog.delete(key);
        else counts.set(entry.activity, (counts.get(entry.activity) ?? 0) + 1);
      }
      for (const activity of DELIVERIES) this.set({ activity }, counts.get(activity) ?? 0);
    },
  });
  const engineSinks: InjectedSinks<EngineObservationSinks> = {
    engine: {
      deadlineLate: { fn: (_info, workflowType, lateMs) => lateness.observe({ workflow: workflowType }, lateMs / 1000) },
      commandRefused: { fn: (_info, command, rule) => refused.inc({ command, rule }) },
      connectionAnswered: {
        fn: (_info, scheme, outcome, afterMs) => {
          // An outcome another version's workflow code might send is not a label to invent.
          if (!CONNECTION_ANSWERS.includes(outcome)) return;
          answers.inc({ scheme, outcome });
          if (outcome !== 'noResponse') answerTime.observe({ scheme }, afterMs / 1000);
        },
      },
    },
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
        const info = Context.current().info;
        const activity = info.activityType;
        const delivery = DELIVERIES.has(activity);
        const key = `${info.workflowExecution?.workflowId}\u0000${info.workflowExecution?.runId}\u0000${info.activityId}`;
        if (delivery) backlog.set(key, { activity, until: Infinity });
        const end = durations.startTimer({ activity });
        try {
          const result = await next(input);
          outcomes.inc({ activity, outcome: 'ok' });
          if (delivery) backlog.delete(key);
          return result;
        } catch (err) {
          outcomes.inc({ activity, outcome: 'failed' });
          if (delivery) {
            const failure = err instanceof ApplicationFailure ? err : undefined;
            deliveryFailures.inc({ activity, error: failure?.type ?? (err as Error | undefined)?.name ?? 'Error' });
            if (failure?.nonRetryable) backlog.delete(key);
            else backlog.set(key, { activity, until: Date.now() + RETRY_WINDOW_MS });
          }
          throw err;
        } finally {
          end();
        }
      },
    },
  });
  return { registry, activityInterceptor, engineSinks };
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
