// Traces over OTLP/HTTP: a real HTTP server stands in for the collector, a worker on the traced
// bundle and a PathwayClient both export to it because the environment names it, and a referral
// and a command leave one trace each: the client's span, the workflow's beneath it, its
// activities beneath that; the command's update handled in the workflow under the client's span.
// No person's name, NHS number or birth date is in anything exported.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { MemorySink } from '../../activities/outbox';
import { PathwayClient, PersonKey } from '../../client';
import { tracesEndpoint, tracingFromEnv, type Tracing } from '../../client/tracing';
import { createPathwayWorker } from '../../worker/create';
import { quietRuntime, uniqueTaskQueue } from '../support/temporal';
import { testCodec } from '../support/pathway';
import { hostReferral, lw, uniqueScheme } from './client.harness';

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}

const bodies: string[] = [];
let collector: Server;
let env: Record<string, string | undefined>;
let tracing: Tracing;
let client: PathwayClient;
let stop: () => Promise<void>;

beforeAll(async () => {
  quietRuntime();
  collector = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  const port = (collector.address() as { port: number }).port;
  env = { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SERVICE_NAME: 'pathway-test' };
  tracing = await tracingFromEnv(env)!;
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const taskQueue = uniqueTaskQueue('tracing');
  const codec = await testCodec();
  const { worker, close } = await createPathwayWorker({
    address,
    namespace,
    taskQueue,
    codec,
    sink: new MemorySink(),
    tracing,
    workflowBundlePath: inject('workflowBundlePath'),
  });
  const running = worker.run();
  stop = async () => {
    worker.shutdown();
    await running;
    await close();
  };
  client = await PathwayClient.connect({ address, namespace, taskQueue, codec, personKey: PersonKey.generate(), env });
}, 240_000);

afterAll(async () => {
  await client?.close();
  await stop?.();
  await tracing?.shutdown();
  collector?.close();
});

function exported(): ExportedSpan[] {
  return bodies.flatMap((b) => {
    const doc = JSON.parse(b) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: ExportedSpan[] }> }> };
    return doc.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
  });
}

it('is off without an endpoint, and takes the traces endpoint over the base one', () => {
  expect(tracesEndpoint({})).toBeUndefined();
  expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: '  ' })).toBeUndefined();
  expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toBe('http://c:4318/v1/traces');
  expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x' })).toBe('http://t/x');
});

it('links client, workflow and activity spans in one trace per call, with no personal data', { timeout: 180_000 }, async () => {
  const referral = hostReferral(uniqueScheme('tracing'));
  const { case: opened } = await client.refer(referral);
  const caseId = opened.caseId;
  await client.send(caseId, 'TRIAGE.ACCEPT', { actor: lw });

  // Spans leave in batches; wait until the workflow's update handler has been exported.
  let spans: ExportedSpan[] = [];
  const deadline = Date.now() + 60_000;
  for (;;) {
    await tracing.flush();
    spans = exported();
    if (spans.some((s) => s.name.startsWith('HandleUpdate:')) && spans.some((s) => s.name.startsWith('RunActivity:'))) break;
    if (Date.now() > deadline) throw new Error(`spans exported: ${[...new Set(spans.map((s) => s.name))].join(', ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const workflowIdOf = (s: ExportedSpan) => s.attributes?.find((a) => a.key === 'temporalWorkflowId')?.value.stringValue;

  // The referral: the client's start, the workflow run beneath it, an activity beneath that.
  const start = spans.find((s) => /^(StartWorkflow|UpdateWithStartWorkflow|SignalWithStartWorkflow):/.test(s.name) && workflowIdOf(s) === caseId);
  expect(start, `no client start span for the case among ${[...new Set(spans.map((s) => s.name))].join(', ')}`).toBeDefined();
  const ancestors = (s: ExportedSpan): string[] => {
    const names: string[] = [];
    for (let p = s.parentSpanId && byId.get(s.parentSpanId); p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) names.push(p.name);
    return names;
  };
  // The workflow's run span ends, and is exported, only when the run does (discharge or continue
  // as new); the spans it opens inside are exported as they end, so the activity it scheduled is
  // beneath the workflow's StartActivity, in the client's trace.
  const activity = spans.find((s) => s.name.startsWith('RunActivity:') && s.traceId === start!.traceId);
  expect(activity, 'no activity span in the referral trace').toBeDefined();
  const scheduled = byId.get(activity!.parentSpanId!);
  expect(scheduled?.name).toMatch(/^StartActivity:/);
  expect(scheduled!.traceId).toBe(start!.traceId);
  expect(scheduled!.parentSpanId).toBeTruthy();
  expect(scheduled!.parentSpanId).not.toBe(start!.spanId);

  // The command: the client's update, handled in the workflow beneath it.
  const update = spans.find((s) => s.name === 'StartWorkflowUpdate:TRIAGE.ACCEPT' && workflowIdOf(s) === caseId);
  expect(update).toBeDefined();
  const handled = spans.find((s) => s.name === 'HandleUpdate:TRIAGE.ACCEPT' && s.traceId === update!.traceId);
  expect(handled).toBeDefined();
  expect(ancestors(handled!)).toContain(update!.name);

  // Nothing about the person, anywhere in what left.
  const all = bodies.join('\n');
  for (const value of [referral.person.givenName, referral.person.familyName, referral.person.nhsNumber, referral.person.dateOfBirth]) {
    expect(all).not.toContain(value);
  }
  expect(all).toContain('pathway-test');
});

it('a traced case replays on a worker without tracing, and its trace context stays in its history', { timeout: 240_000 }, async () => {
  // Tracing is a worker setting that can change; a case keeps what it started with.
  const referral = hostReferral(uniqueScheme('tracing'));
  const { case: opened } = await client.refer(referral);
  await client.send(opened.caseId, 'TRIAGE.ACCEPT', { actor: lw });
  const { events } = await client.temporal.workflow.getHandle(opened.caseId).fetchHistory();
  expect(Object.keys(events![0]!.workflowExecutionStartedEventAttributes!.header?.fields ?? {})).toContain('_tracer-data');
  const dir = mkdtempSync(join(tmpdir(), 'pathway-traced-'));
  const file = join(dir, 'traced.history.bin');
  writeFileSync(file, temporal.api.history.v1.History.encode({ events }).finish());
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'support', 'replay-child.ts'), inject('workflowBundlePath'), file], { encoding: 'utf8', timeout: 200_000 });
  expect(child.status, child.stderr.slice(-2000)).toBe(0);
  const { count, failures } = JSON.parse(child.stdout.trim().split('\n').pop()!) as { count: number; failures: string[] };
  expect(failures).toEqual([]);
  expect(count).toBe(1);
});
