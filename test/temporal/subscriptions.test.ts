// Task subscriptions end to end: a subscription made through the gateway, a real HTTP receiver on
// this machine, cases moving through real workers. The receiver goes down while cases change, the
// gateway and the worker are replaced by new instances on the same Temporal server, the receiver
// comes back: every change arrives, numbered without gaps, in each case's order, and nothing the
// receiver acknowledged comes twice. Every Subscription and notification passes the HAPI validator.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PathwayClient, type CaseView } from '../../client';
import { TASK_STATUS_TOPIC, BACKPORT_EXTENSIONS } from '../../gateway/fhir/subscription';
import { startFhirValidator, type FhirValidator } from '../support/fhir-validator';
import { quietRuntime, uniqueTaskQueue } from '../support/temporal';
import { startPathwayWorker, testCodec } from '../support/pathway';
import { PersonKey } from '../../client';
import { subscriptionsWorkflowId } from '../../workflows/subscription-definitions';
import { poll, uniqueScheme } from './client.harness';
import { gatewayHarness, referralTask, type GatewayHarness } from './gateway.harness';

const FHIR = 'application/fhir+json';
const LONG = 120_000;

interface Received {
  subscription: string;
  eventsSinceStart: number;
  eventNumber: number;
  focus: string;
  timestamp: string;
  authorization: string | undefined;
  bundle: Record<string, any>;
}

/** A subscriber: a real HTTP server that acknowledges (200) every notification while it is up. */
class Receiver {
  readonly acknowledged: Received[] = [];
  #server: Server | undefined;
  port = 0;

  async up(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }
  /** Down: nothing listens on the port, so every delivery fails to connect. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
  get endpoint() {
    return `http://127.0.0.1:${this.port}/hook`;
  }
  async #handle(req: IncomingMessage, res: ServerResponse) {
    let body = '';
    for await (const chunk of req) body += chunk;
    const bundle = JSON.parse(body) as Record<string, any>;
    const status = bundle.entry[0].resource.parameter as Array<Record<string, any>>;
    const param = (name: string) => status.find((p) => p.name === name)!;
    const event = param('notification-event').part as Array<Record<string, any>>;
    const part = (name: string) => event.find((p) => p.name === name)!;
    this.acknowledged.push({
      subscription: param('subscription').valueReference.reference,
      eventsSinceStart: Number(param('events-since-subscription-start').valueString),
      eventNumber: Number(part('event-number').valueString),
      focus: part('focus').valueReference.reference,
      timestamp: part('timestamp').valueInstant,
      authorization: req.headers.authorization,
      bundle,
    });
    res.writeHead(200).end();
  }
}

/** When the case changed stage, in order: its first stage and every change after it (what it announces). */
function stageChangesOf(view: CaseView): string[] {
  return view.timeline.filter((e) => e.from !== e.to).map((e) => new Date(e.at).toISOString());
}

describe('Task subscriptions (R4 Backport, rest-hook, id-only)', () => {
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const taskQueue = uniqueTaskQueue('subs');
  const scheme = uniqueScheme('subs');
  const otherScheme = uniqueScheme('subs-other');
  const receiver = new Receiver();
  let stopWorker: () => Promise<void>;
  let client: PathwayClient;
  let g: GatewayHarness;
  let token: string;
  let validator: FhirValidator;
  const validations: Array<Promise<{ label: string; errors: string[] }>> = [];
  const validate = (label: string, resource: unknown) => validations.push(validator.validate(resource as never).then((r) => ({ label, errors: r.errors })));

  const startWorker = async () => {
    const { worker, close } = await startPathwayWorker({ address, namespace, taskQueue });
    const running = worker.run();
    return async () => {
      worker.shutdown();
      await running;
      await close();
    };
  };

  beforeAll(async () => {
    quietRuntime();
    const starting = startFhirValidator();
    starting.catch(() => undefined);
    stopWorker = await startWorker();
    client = await PathwayClient.connect({ address, namespace, taskQueue, codec: await testCodec(), personKey: PersonKey.generate(), subscriptionLimits: { retryMaxInterval: '1 second' } });
    await client.setRoster(scheme, [{ id: 'lw-1' }]);
    g = await gatewayHarness(client, [scheme]);
    token = await g.token({ scope: 'system/Task.cruds system/Subscription.crd' });
    await receiver.up();
    validator = await starting;
  }, LONG);
  afterAll(async () => {
    await receiver.down();
    await g?.app.close();
    await client?.close();
    await stopWorker?.();
    await validator?.close();
  });

  const send = (method: 'GET' | 'POST' | 'DELETE' | 'PATCH', url: string, body?: unknown, bearer = token, contentType = FHIR) =>
    g.app.inject({ method, url, headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined && { 'content-type': contentType }) }, ...(body !== undefined && { payload: JSON.stringify(body) }) });
  const json = (r: LightMyRequestResponse) => r.json() as Record<string, any>;
  const subscription = (endpoint: string, extra: Record<string, unknown> = {}) => ({
    resourceType: 'Subscription',
    status: 'requested',
    reason: 'Follow our referrals',
    criteria: TASK_STATUS_TOPIC,
    _criteria: { extension: [{ url: BACKPORT_EXTENSIONS.filterCriteria, valueString: `Task?owner=${scheme}` }] },
    channel: { type: 'rest-hook', endpoint, payload: FHIR, _payload: { extension: [{ url: BACKPORT_EXTENSIONS.payloadContent, valueCode: 'id-only' }] }, header: ['Authorization: Bearer receiver-secret'] },
    ...extra,
  });

  it('refuses endpoints it must not call, without repeating them', async () => {
    for (const endpoint of ['ftp://127.0.0.1/hook', 'https://user:hunter2@127.0.0.1/hook', 'not a url', 'file:///etc/passwd']) {
      const r = await send('POST', '/fhir/Subscription', subscription(endpoint));
      expect(r.statusCode, r.body).toBe(400);
      expect(json(r).issue[0].expression).toEqual(['Subscription.channel.endpoint']);
      expect(r.body).not.toContain('hunter2');
    }
    const wrongTopic = await send('POST', '/fhir/Subscription', subscription(receiver.endpoint, { criteria: 'http://hl7.org/SubscriptionTopic/admission' }));
    expect(wrongTopic.statusCode).toBe(400);
    const otherOwner = subscription(receiver.endpoint, { _criteria: { extension: [{ url: BACKPORT_EXTENSIONS.filterCriteria, valueString: `Task?owner=${otherScheme}` }] } });
    expect((await send('POST', '/fhir/Subscription', otherOwner)).statusCode).toBe(403);
    expect((await send('POST', '/fhir/Subscription', subscription(receiver.endpoint), await g.token({ scope: 'system/Task.rs' }))).statusCode).toBe(403);
  });

  it('delivers every Task change in order, numbered, across a receiver outage and a restart of gateway and worker', async () => {
    const created = await send('POST', '/fhir/Subscription', subscription(receiver.endpoint));
    expect(created.statusCode, created.body).toBe(201);
    const sub = json(created);
    expect(sub).toMatchObject({ resourceType: 'Subscription', status: 'active', criteria: TASK_STATUS_TOPIC, channel: { type: 'rest-hook', endpoint: receiver.endpoint } });
    expect(created.body).not.toContain('receiver-secret');
    validate('Subscription', sub);

    // Only its owner reads or deletes it: not another client of the same scheme, not another scheme's, not without the scope.
    const stranger = await g.token({ sub: 'other-gp-system', scope: 'system/Subscription.crd' });
    const otherSchemeToken = await g.token({ schemes: [otherScheme], scope: 'system/Subscription.crd' });
    const noScope = await g.token({ scope: 'system/Task.rs' });
    for (const bearer of [stranger, otherSchemeToken, noScope]) {
      expect((await send('GET', `/fhir/Subscription/${sub.id}`, undefined, bearer)).statusCode).toBe(403);
      expect((await send('DELETE', `/fhir/Subscription/${sub.id}`, undefined, bearer)).statusCode).toBe(403);
    }
    expect((await send('GET', `/fhir/Subscription/${sub.id}`)).statusCode).toBe(200);

    // Receiver up: the first case's referral arrives as event 1.
    const first = json(await send('POST', '/fhir/Task', referralTask({ schemeId: scheme })));
    await poll(async () => receiver.acknowledged.length, (n) => n >= 1, 'the first notification', LONG);
    expect(receiver.acknowledged[0]).toMatchObject({ eventNumber: 1, eventsSinceStart: 1, focus: `https://gateway.test/fhir/Task/${first.id}`, authorization: 'Bearer receiver-secret' });

    // Receiver down while both cases move on.
    await receiver.down();
    const second = json(await send('POST', '/fhir/Task', referralTask({ schemeId: scheme })));
    await client.acceptReferral(first.id, { actor: { role: 'linkWorker', id: 'lw-1' } });
    await client.waitFor(first.id, 'firstContact');
    const cancelled = await send('PATCH', `/fhir/Task/${second.id}`, [{ op: 'replace', path: '/status', value: 'cancelled' }], token, 'application/json-patch+json');
    expect(cancelled.statusCode, cancelled.body).toBe(200);

    // Gateway and worker replaced by new instances on the same server, while the receiver is still down.
    await g.app.close();
    await stopWorker();
    stopWorker = await startWorker();
    g = await gatewayHarness(client, [scheme]);
    token = await g.token({ scope: 'system/Task.cruds system/Subscription.crd' });
    await receiver.up();

    // Read at once: a read the restarted worker refuses (history no task has taken yet) is asked again by the client.
    const expected = [first.id, second.id].map(async (id: string) => ({ id, stages: stageChangesOf(await client.getCase(id)) }));
    const cases = await Promise.all(expected);
    const total = cases.reduce((n, c) => n + c.stages.length, 0);
    // The first case: triage, allocating, first contact; the second: triage, discharged.
    expect(total).toBeGreaterThanOrEqual(5);
    await poll(async () => receiver.acknowledged.length, (n) => n >= total, `all ${total} notifications`, LONG);

    // Numbered 1..n without gaps, each acknowledged once, in order.
    expect(receiver.acknowledged.map((r) => r.eventNumber)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(receiver.acknowledged.every((r) => r.eventsSinceStart === r.eventNumber && r.subscription === `https://gateway.test/fhir/Subscription/${sub.id}`)).toBe(true);
    // Each case's notifications are its stage changes, in its order: their event timestamps are the case's own.
    for (const c of cases) {
      const mine = receiver.acknowledged.filter((r) => r.focus.endsWith(`/Task/${c.id}`));
      expect(mine.map((r) => r.timestamp)).toEqual(c.stages);
    }
    for (const r of receiver.acknowledged.slice(0, 3)) validate(`notification ${r.eventNumber}`, r.bundle);

    const status = await send('GET', `/fhir/Subscription/${sub.id}/$status`);
    expect(status.statusCode, status.body).toBe(200);
    const parameters = json(status).entry[0].resource;
    expect(parameters.parameter.find((p: any) => p.name === 'events-since-subscription-start').valueString).toBe(String(total));
    validate('$status', json(status));

    // Nothing more after a while: nothing acknowledged is sent again.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(receiver.acknowledged.length).toBe(total);

    // Deleted: gone, and the next change is not sent to it. A second subscription, made before that
    // change, shows when the change has been fanned out.
    const witness = json(await send('POST', '/fhir/Subscription', subscription(receiver.endpoint)));
    expect((await send('DELETE', `/fhir/Subscription/${sub.id}`)).statusCode).toBe(204);
    expect((await send('GET', `/fhir/Subscription/${sub.id}`)).statusCode).toBe(404);
    const third = json(await send('POST', '/fhir/Task', referralTask({ schemeId: scheme })));
    const fanned = await poll(
      async () => receiver.acknowledged.filter((r) => r.subscription.endsWith(`/Subscription/${witness.id}`)),
      (rs) => rs.length >= 1,
      'the witness subscription told of the new case',
      LONG,
    );
    expect(fanned[0]).toMatchObject({ eventNumber: 1, focus: `https://gateway.test/fhir/Task/${third.id}` });
    expect(receiver.acknowledged.filter((r) => r.subscription.endsWith(`/Subscription/${sub.id}`)).length).toBe(total);
  }, 4 * LONG);

  it('a scheme nobody subscribes to gets no subscriptions workflow from its cases changing', async () => {
    const quiet = uniqueScheme('subs-none');
    await client.setRoster(quiet, [{ id: 'lw-1' }]);
    const task = json(await send('POST', '/fhir/Task', referralTask({ schemeId: quiet }), await g.token({ schemes: [quiet], scope: 'system/Task.cruds' })));
    await client.acceptReferral(task.id, { actor: { role: 'linkWorker', id: 'lw-1' } });
    const moved = await client.waitFor(task.id, 'firstContact');
    const changes = stageChangesOf(moved).length;
    expect(changes).toBeGreaterThanOrEqual(3);
    // Every change's announcement ran to completion (and found no workflow to tell).
    const announced = async () => {
      const events = (await client.temporal.workflow.getHandle(task.id).fetchHistory()).events ?? [];
      const scheduled = new Set(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'announceTaskChange').map((e) => String(e.eventId)));
      return events.filter((e) => scheduled.has(String(e.activityTaskCompletedEventAttributes?.scheduledEventId))).length;
    };
    await poll(announced, (n) => n >= changes, 'the announcements', LONG);
    await expect(client.temporal.workflow.getHandle(subscriptionsWorkflowId(quiet)).describe()).rejects.toThrow(/not found/i);
    expect(await client.subscriptions(quiet)).toEqual([]);
  });

  it('every Subscription and notification passes the HAPI FHIR R4 validator', async () => {
    const results = await Promise.all(validations);
    expect(results.length).toBeGreaterThanOrEqual(5);
    expect(results.filter((r) => r.errors.length > 0)).toEqual([]);
  }, LONG);
});
