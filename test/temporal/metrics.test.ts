// The worker's Prometheus endpoint after a scripted scenario on the dev server: the engine's gauges
// equal the cases' real state (each case's own view), the activity counters saw the deliveries,
// and no label carries a case id or anything about a person. A second scenario: deadlines that
// escalate, a command refused, a supervisor delivery that fails once and is retried.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inject } from 'vitest';
import { MemorySink } from '../../activities/outbox';
import type { OutboxMessage } from '../../activities/sink';
import { PathwayClient, PersonKey } from '../../client';
import { CommandRefusedError, commandError } from '../../client/errors';
import { commandUpdates } from '../../workflows/definitions';
import { createPathwayWorker } from '../../worker/create';
import { pathwayMetrics, startMetricsServer } from '../../worker/metrics';
import { connectDevServer, uniqueTaskQueue, type DevServerHarness } from '../support/temporal';
import { dataConverter, driveTo, openScheme, policy, refer, referral, testCodec, until, view } from '../support/pathway';
import { digitFree } from '../../machines/ids';

const taskQueue = uniqueTaskQueue('metrics');
const schemeId = `metrics-${digitFree(randomUUID().slice(0, 8))}`;
let harness: DevServerHarness;
let client: Client;
let stop: () => Promise<void>;
let metrics: ReturnType<typeof pathwayMetrics>;

/** The outbox, refusing the first supervisor notice once as a disk or endpoint blip would. */
class BlipOnceSink extends MemorySink {
  failed = 0;
  override async deliver(message: OutboxMessage) {
    if (message.channel === 'supervisor' && this.failed === 0) {
      this.failed += 1;
      throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
    }
    return super.deliver(message);
  }
}
const sink = new BlipOnceSink();

beforeAll(async () => {
  harness = await connectDevServer();
  client = new Client({ connection: harness.connection, namespace: harness.namespace, dataConverter: await dataConverter() });
  metrics = pathwayMetrics({ client, countTtlMs: 0 });
  const { worker, close } = await createPathwayWorker({
    address: harness.connection.options.address,
    namespace: harness.namespace,
    taskQueue,
    codec: await testCodec(),
    sink,
    workflowBundlePath: inject('workflowBundlePath'),
    activityInterceptors: [metrics.activityInterceptor],
    engineSinks: metrics.engineSinks,
  });
  const running = worker.run();
  stop = async () => {
    worker.shutdown();
    await running;
    await close();
  };
});

afterAll(async () => {
  await stop?.();
  await harness?.close();
});

/** `name{labels} value` lines of one metric, keyed by their labels as written. */
function series(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (m) found.set(m[1]!, Number(m[2]));
  }
  return found;
}

/** `name{labels} value` lines of one metric, for this test's scheme. */
function samples(text: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}\\{([^}]*)\\} (\\S+)$`).exec(line);
    if (!m || !m[1]!.includes(`scheme="${schemeId}"`)) continue;
    const stage = /stage="([^"]*)"/.exec(m[1]!)?.[1] ?? '';
    found.set(stage, Number(m[2]));
  }
  return found;
}

it('scrapes open cases by stage equal to the cases themselves, and counts the deliveries', { timeout: 180_000 }, async () => {
  const pol = await openScheme(client, taskQueue, schemeId, { roster: [{ id: 'lw-1' }, { id: 'lw-2' }] });
  const handles = await Promise.all(Array.from({ length: 5 }, () => refer(client, taskQueue, referral({ schemeId }), pol)));
  // Spread over stages: two left in triage, one at first contact, one at first visit, one at the plan.
  await Promise.all(handles.slice(0, 2).map((h) => until(h, (v) => v.stage === 'triage')));
  await driveTo(handles[2]!, 'firstContact');
  await driveTo(handles[3]!, 'firstVisit');
  await driveTo(handles[4]!, 'coProducedPlan');
  const expected = new Map<string, number>();
  for (const h of handles) {
    const stage = (await view(h)).stage;
    expected.set(stage, (expected.get(stage) ?? 0) + 1);
  }
  expect([...expected.values()].reduce((a, b) => a + b, 0)).toBe(5);

  const server = await startMetricsServer({ port: 0, registry: metrics.registry });
  try {
    // Visibility catches up with the cases within moments; poll until it has.
    let text = '';
    const deadline = Date.now() + 60_000;
    for (;;) {
      text = await fetch(server.url).then((r) => r.text());
      const got = samples(text, 'pathway_open_cases');
      if (JSON.stringify([...got].sort()) === JSON.stringify([...expected].sort())) break;
      if (Date.now() > deadline) expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(text).toMatch(/pathway_activity_executions_total\{activity="[A-Za-z]+",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/pathway_activity_duration_seconds_bucket\{/);
    expect(text).toMatch(/pathway_worker_process_resident_memory_bytes/);
    // The dashboard charts only what a worker serves (its SDK panels read the SDK's own names).
    const dashboard = readFileSync(join(__dirname, '..', '..', 'docs', 'grafana-dashboard.json'), 'utf8');
    const charted = new Set([...dashboard.matchAll(/\b(pathway_[a-z_]+?)(?:_bucket)?\b/g)].map((m) => m[1]!));
    expect(charted.size).toBeGreaterThan(4);
    for (const name of charted) expect(text, `${name} is charted but not served`).toContain(`${name}`);
    // No case id, referral id or person in any label.
    for (const h of handles) expect(text).not.toContain(h.workflowId);
  } finally {
    server.close();
  }
});

it('scrapes open escalations by type and level, deadline lateness, refusals by rule and delivery failures as they are', { timeout: 180_000 }, async () => {
  // Triage falls due a second after referral here, and stays unacknowledged (the ack window is days).
  const quick = policy({ schemeId, deadlines: { triage: 1000 } });
  const late = await Promise.all(Array.from({ length: 3 }, () => refer(client, taskQueue, referral({ schemeId }), quick)));
  const escalated = await Promise.all(late.map((h) => until(h, (v) => v.openEscalations.length > 0, undefined, 60_000)));
  const expected = new Map<string, number>();
  for (const v of escalated) {
    for (const e of v.openEscalations) {
      const key = `scheme="${schemeId}",type="${e.type}",level="${e.level}"`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
  }
  // A command the pathway refuses at triage: the rule the client reports is the label.
  const refusal = await late[0]!.executeUpdate(commandUpdates['PLAN.AGREE'] as never, { args: [{ party: 'person', actor: { role: 'person', id: 'self' } }] }).catch((err: unknown) => err);
  const refused = commandError(late[0]!.workflowId, 'PLAN.AGREE', refusal);
  expect(refused).toBeInstanceOf(CommandRefusedError);
  const rule = (refused as CommandRefusedError).rule ?? 'CommandNotAllowed';

  const server = await startMetricsServer({ port: 0, registry: metrics.registry });
  try {
    let text = '';
    const deadline = Date.now() + 90_000;
    for (;;) {
      text = await fetch(server.url).then((r) => r.text());
      const got = new Map([...series(text, 'pathway_open_escalations')].filter(([k]) => k.includes(`scheme="${schemeId}"`)));
      const backlog = [...series(text, 'pathway_outbox_backlog').values()].reduce((a, b) => a + b, 0);
      if (JSON.stringify([...got].sort()) === JSON.stringify([...expected].sort()) && backlog === 0 && sink.failed === 1) break;
      if (Date.now() > deadline) {
        expect(Object.fromEntries(got)).toEqual(Object.fromEntries(expected));
        expect(backlog).toBe(0);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    // Every triage deadline that fired was measured; none of them fired before it fell due.
    const fired = series(text, 'pathway_deadline_lateness_seconds_count').get('workflow="pathwayCase"') ?? 0;
    expect(fired).toBeGreaterThanOrEqual(late.length);
    expect(series(text, 'pathway_commands_refused_total').get(`command="${commandUpdates['PLAN.AGREE'].name}",rule="${rule}"`)).toBe(1);
    // The blip counted as a failure of the supervisor's delivery; its retry delivered it once.
    expect(series(text, 'pathway_outbox_delivery_failures_total').get('activity="notifySupervisor",error="SinkUnavailable"')).toBe(1);
    const supervisorNotices = sink.messages.filter((m) => m.channel === 'supervisor' && late.some((h) => h.workflowId === m.caseId));
    expect(supervisorNotices.length).toBe(escalated.reduce((n, v) => n + v.openEscalations.length, 0));
    for (const h of late) expect(text).not.toContain(h.workflowId);
  } finally {
    server.close();
  }
});

it("counts providers' answers to connections by outcome, and times the answers, by scheme only", { timeout: 180_000 }, async () => {
  // The case's own policy: a provider has four seconds to answer, nudged after one.
  const quick = policy({ schemeId, connections: { responseDeadline: 4000, nudges: [1000] } });
  const handle = await refer(client, taskQueue, referral({ schemeId }), quick);
  await until(handle, (v) => v.stage === 'triage');
  const sdk = await PathwayClient.fromClient(client, { personKey: PersonKey.generate(), taskQueue });
  const lw = { role: 'linkWorker', id: 'lw-1' } as const;
  const provider = { role: 'provider', id: 'staff-one' } as const;
  const propose = (serviceId: string) => sdk.proposeConnection(handle.workflowId, { serviceId, category: 'connecting', actor: lw });
  const [yes, no, silent] = [await propose('svc-lunch-club'), await propose('svc-knit-and-natter'), await propose('svc-walking-group')];
  await sdk.respondToConnection(yes.connectionId, { accept: true, actor: provider });
  await sdk.respondToConnection(no.connectionId, { accept: false, reason: 'Full this term', actor: provider });
  const answered = [await sdk.getConnection(yes.connectionId), await sdk.getConnection(no.connectionId)];
  const longest = Math.max(...answered.map((c) => (c.respondedAt! - c.sentAt!) / 1000));

  const server = await startMetricsServer({ port: 0, registry: metrics.registry });
  try {
    let text = '';
    const expected = { accepted: 1, declined: 1, noResponse: 1 };
    const deadline = Date.now() + 60_000;
    for (;;) {
      text = await fetch(server.url).then((r) => r.text());
      const got = Object.fromEntries([...series(text, 'pathway_connection_responses_total')].filter(([k]) => k.includes(`scheme="${schemeId}"`)).map(([k, n]) => [/outcome="([^"]*)"/.exec(k)![1]!, n]));
      if (JSON.stringify(got) === JSON.stringify(expected) || Date.now() > deadline) {
        expect(got).toEqual(expected);
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect((await sdk.getConnection(silent.connectionId)).status).toBe('noResponse');
    // The two answers, timed: both within the longest of them; the deadline's decline is not an answer.
    expect(series(text, 'pathway_connection_response_seconds_count').get(`scheme="${schemeId}"`)).toBe(2);
    expect(series(text, 'pathway_connection_response_seconds_sum').get(`scheme="${schemeId}"`)).toBeLessThanOrEqual(2 * longest + 1e-6);
    const within = [...series(text, 'pathway_connection_response_seconds_bucket')].find(([k]) => k.includes(`scheme="${schemeId}"`) && k.includes('le="60"'));
    expect(within?.[1]).toBe(2);
    // Nothing of the case, its connections or their services in any label.
    for (const id of [handle.workflowId, yes.connectionId, 'svc-lunch-club', 'staff-one']) expect(text).not.toContain(id);
  } finally {
    server.close();
  }
});
