// The FHIR gateway over real HTTP handling (Fastify's inject) against a real dev server and worker:
// refer, read, poll, cancel; idempotency; auth; errors; and generated malformed requests.
import fc from 'fast-check';
import pino from 'pino';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseNotFoundError, PathwayClient } from '../../client';
import { generateSigningKey, signToken } from '../../gateway/dev-keys';
import { FHIR_JSON as FHIR } from '../../gateway/app';
import { devInstructions } from '../../gateway/server';
import { TASK_STATUS_TOPIC } from '../../gateway/fhir/subscription';
import { startHttpApp } from '../../http/server';
import { workflowTaskFailures } from '../support/faults';
import { clientHarness, poll, uniqueScheme, type ClientHarness } from './client.harness';
import { expectOutcome, gatewayHarness, json, referralBundle, referralTask, JSON_PATCH, type GatewayHarness } from './gateway.harness';

const FUZZ_RUNS = Number(process.env.GATEWAY_FUZZ_RUNS ?? 2000);

describe('FHIR gateway', () => {
  let h: ClientHarness;
  let client: PathwayClient;
  let g: GatewayHarness;
  let token: string;
  const scheme = uniqueScheme('gw');
  const otherScheme = uniqueScheme('gw-other');

  beforeAll(async () => {
    h = await clientHarness('gateway');
    client = h.client;
    await client.setRoster(scheme, [{ id: 'lw-1' }]);
    g = await gatewayHarness(client, [scheme]);
    token = await g.token();
  });
  afterAll(async () => {
    await g?.app.close();
    await h?.close();
  });

  // As the host, unless a test names another bearer (or null: none).
  const post = (url: string, body: unknown, bearer: string | null = token) => g.post(url, body, bearer);
  const get = (url: string, bearer: string | null = token) => g.get(url, bearer);

  describe('refer, follow, cancel', () => {
    it('opens a case from a Gravity Task, reads it back, finds it by polling, and withdraws it on cancel', async () => {
      const referral = referralTask({ schemeId: scheme });
      const family = referral.contained[1]!.name![0]!.family;
      const started = new Date(Date.now() - 1000).toISOString();
      const created = await post('/fhir/Task', referral);
      expect(created.statusCode, created.body).toBe(201);
      const task = json(created);
      const referralId = referral.contained[0]!.identifier![0]!.value;
      expect(task).toMatchObject({ resourceType: 'Task', id: `case-${referralId}`, status: 'requested', businessStatus: { coding: [{ code: 'triage' }] }, intent: 'order', focus: { reference: `ServiceRequest/case-${referralId}` } });
      expect(task.owner.identifier.value).toBe(scheme);
      expect(created.headers.location).toContain(`/Task/case-${referralId}`);
      // Nothing about the person reached the case's history.
      const history = JSON.stringify(await client.temporal.workflow.getHandle(task.id).fetchHistory());
      expect(history).not.toContain(family);
      expect(history).not.toContain('1950-03-14');

      const read = await get(`/fhir/Task/${task.id}`);
      expect(read.statusCode).toBe(200);
      expect(json(read)).toMatchObject({ id: task.id, status: 'requested' });
      expect(read.headers.etag).toMatch(/^W\/"\d+"$/);
      const sr = await get(`/fhir/ServiceRequest/${task.id}`);
      expect(json(sr)).toMatchObject({ resourceType: 'ServiceRequest', id: task.id, status: 'active', identifier: [{ value: referralId }, { value: task.id }] });

      // Gravity polling: visibility lags the case by a moment.
      const found = await poll(
        async () => json(await get(`/fhir/Task?owner=${scheme}&status=requested&_lastUpdated=gt${started}`)),
        (b) => (b.entry ?? []).some((e: any) => e.resource.id === task.id),
        'the new Task in the search',
      );
      expect(found).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
      const byFocus = json(await get(`/fhir/Task?focus=ServiceRequest/${task.id}`));
      expect(byFocus.entry.map((e: any) => e.resource.id)).toEqual([task.id]);
      expect(json(await get(`/fhir/Task?owner=${scheme}&status=completed,cancelled&focus=${task.id}`)).total).toBe(0);

      const cancelled = await g.patchTask(task.id, [{ op: 'replace', path: '/status', value: 'cancelled' }], token);
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      expect(json(cancelled)).toMatchObject({ status: 'cancelled', businessStatus: { coding: [{ code: 'discharged' }] }, statusReason: { coding: [{ code: 'withdrew' }] } });
      // The message back: Task.output references the outcome, which reads back by id and by searching based-on the ServiceRequest.
      const output = json(cancelled).output[0].valueReference.reference as string;
      const reason = await get(`/fhir/${output}`);
      expect(reason.statusCode, reason.body).toBe(200);
      expect(json(reason)).toMatchObject({ resourceType: 'Observation', valueCodeableConcept: { coding: [{ code: 'withdrew' }] }, basedOn: [{ reference: `ServiceRequest/${task.id}` }] });
      const outcome = json(await get(`/fhir/Observation?based-on=ServiceRequest/${task.id}`));
      expect(outcome).toMatchObject({ resourceType: 'Bundle', type: 'searchset' });
      expect(outcome.entry.map((e: any) => `Observation/${e.resource.id}`)).toContain(output);
      expectOutcome(await get(`/fhir/${output}`, await g.token({ scope: 'system/Task.rs' })), 403);
      expectOutcome(await get(`/fhir/Observation?based-on=ServiceRequest/${task.id}`, await g.token({ schemes: [otherScheme] })), 403);
      expectOutcome(await get('/fhir/Observation'), 400, 'based-on');
      expectOutcome(await get(`/fhir/Observation/${task.id}-nothing`), 404);
      const view = await client.getCase(task.id);
      expect(view.discharge).toMatchObject({ reason: 'withdrew', by: { role: 'host', id: 'gp-system-1' } });
      // Cancelling again changes nothing.
      const again = await g.putTask(task.id, { ...json(cancelled), status: 'cancelled' }, token);
      expect(again.statusCode, again.body).toBe(200);
      expect((await client.getCase(task.id)).sequence).toBe(view.sequence);
    });

    it('cancels with PUT of the Task', async () => {
      const task = json(await post('/fhir/Task', referralTask({ schemeId: scheme })));
      const put = await g.putTask(task.id, { ...task, status: 'cancelled' }, token);
      expect(put.statusCode, put.body).toBe(200);
      expect(json(put).status).toBe('cancelled');
      const other = await g.putTask(task.id, { ...task, status: 'completed' }, token);
      expectOutcome(other, 422, 'Task.status');
    });

    it('pages a search with Bundle.link next', async () => {
      for (let i = 0; i < 3; i++) expect((await post('/fhir/Task', referralTask({ schemeId: scheme }))).statusCode).toBe(201);
      const first = await poll(async () => json(await get(`/fhir/Task?owner=${scheme}&_count=2`)), (b) => b.total >= 3, 'three Tasks');
      expect(first.entry).toHaveLength(2);
      const next = first.link.find((l: any) => l.relation === 'next');
      expect(next.url).toContain('_offset=2');
      const second = json(await get(next.url.replace('https://gateway.test', '')));
      expect(second.entry.length).toBeGreaterThan(0);
      const ids = new Set([...first.entry, ...second.entry].map((e: any) => e.resource.id));
      expect(ids.size).toBe(first.entry.length + second.entry.length);
    });

    it('refers with a transaction Bundle', async () => {
      const r = await post('/fhir', referralBundle({ schemeId: scheme }));
      expect(r.statusCode, r.body).toBe(200);
      const body = json(r);
      expect(body).toMatchObject({ resourceType: 'Bundle', type: 'transaction-response' });
      expect(body.entry[0]).toMatchObject({ response: { status: '201 Created' }, resource: { resourceType: 'Task', status: 'requested' } });
    });
  });

  describe('idempotency', () => {
    it('answers the existing Task for the same referral (200) and 409 for the same identifier with other content', async () => {
      const referral = referralTask({ schemeId: scheme });
      const first = await post('/fhir/Task', referral);
      expect(first.statusCode).toBe(201);
      const again = await post('/fhir/Task', structuredClone(referral));
      expect(again.statusCode, again.body).toBe(200);
      expect(json(again).id).toBe(json(first).id);
      const changed = structuredClone(referral);
      changed.contained[0]!.reasonCode = [{ coding: [{ code: 'debt' }] }];
      const conflict = expectOutcome(await post('/fhir/Task', changed), 409, 'ServiceRequest.identifier');
      expect(JSON.stringify(conflict)).not.toContain('debt');
    });

    it('refuses a referral without consent with 422 naming Consent, and starts nothing', async () => {
      const referral = referralTask({ schemeId: scheme, consent: 'rejected' });
      expectOutcome(await post('/fhir/Task', referral), 422, 'Consent');
      const caseId = PathwayClient.caseIdFor(referral.contained[0]!.identifier![0]!.value!);
      await expect(client.getCase(caseId)).rejects.toBeInstanceOf(CaseNotFoundError);
    });
  });

  describe('auth', () => {
    const referral = () => referralTask({ schemeId: scheme });

    it('refuses a missing, expired, wrongly signed or wrong-audience token with 401', async () => {
      expectOutcome(await post('/fhir/Task', referral(), null), 401, 'Authorization');
      expectOutcome(await post('/fhir/Task', referral(), await g.token({ expiresIn: -120 })), 401, 'Authorization');
      const stranger = await generateSigningKey(g.key.privateJwk.kid);
      expectOutcome(await post('/fhir/Task', referral(), await signToken(stranger, { sub: 'gp-system-1', scope: 'system/Task.cru', schemes: [scheme] })), 401);
      expectOutcome(await post('/fhir/Task', referral(), await g.token({ audience: 'someone-else' })), 401);
      expectOutcome(await post('/fhir/Task', referral(), 'not-a-jwt'), 401);
      const bad = await g.app.inject({ method: 'GET', url: '/fhir/Task', headers: { authorization: 'Basic abc' } });
      expectOutcome(bad, 401);
    });

    it('refuses a wrong scope or a scheme the client is not bound to with 403', async () => {
      const readOnly = await g.token({ scope: 'system/Task.rs system/ServiceRequest.r' });
      expectOutcome(await post('/fhir/Task', referral(), readOnly), 403, 'Authorization');
      expectOutcome(await post('/fhir/Task', referralTask({ schemeId: otherScheme })), 403, 'Task.owner');
      const task = json(await post('/fhir/Task', referral()));
      const elsewhere = await g.token({ schemes: [otherScheme] });
      expectOutcome(await get(`/fhir/Task/${task.id}`, elsewhere), 403);
      expectOutcome(await get(`/fhir/Task?owner=${scheme}`, elsewhere), 403, 'owner');
      expectOutcome(await get(`/fhir/ServiceRequest/${task.id}`, await g.token({ scope: 'system/Task.rs' })), 403);
    });

    it("takes the actor from the token: a link worker's token cannot do a supervisor's move, nor refer", async () => {
      const task = json(await post('/fhir/Task', referral()));
      const staff = 'system/Task.rus';
      const linkWorker = await g.token({ sub: 'lw-1', role: 'linkWorker', scope: staff });
      const supervisor = await g.token({ sub: 'sup-1', role: 'supervisor', scope: staff });
      expectOutcome(await post('/fhir/Task', referral(), await g.token({ sub: 'lw-1', role: 'linkWorker' })), 403);
      const command = (type: string, payload: object) => ({ resourceType: 'Parameters', parameter: [{ name: 'command', valueCode: type }, { name: 'payload', valueString: JSON.stringify(payload) }] });
      const raised = await post(`/fhir/Task/${task.id}/$pathway-command`, command('SAFEGUARDING.RAISE', { category: 'selfNeglect' }), linkWorker);
      expect(raised.statusCode, raised.body).toBe(200);
      expect(json(raised).status).toBe('on-hold');
      expectOutcome(await post(`/fhir/Task/${task.id}/$pathway-command`, command('SAFEGUARDING.CLEAR', {}), linkWorker), 403);
      // An actor in the body is refused rather than believed.
      expectOutcome(await post(`/fhir/Task/${task.id}/$pathway-command`, command('SAFEGUARDING.CLEAR', { actor: { role: 'supervisor', id: 'sup-1' } }), linkWorker), 400);
      expect((await client.getCase(task.id)).stage).toBe('onHold');
      const cleared = await post(`/fhir/Task/${task.id}/$pathway-command`, command('SAFEGUARDING.CLEAR', {}), supervisor);
      expect(cleared.statusCode, cleared.body).toBe(200);
      expect(json(cleared).status).toBe('requested');
      const timeline = (await client.getCase(task.id)).timeline;
      expect(timeline.at(-1)?.actor).toEqual({ role: 'supervisor', id: 'sup-1' });
    });
  });

  describe('errors', () => {
    it('answers unknown types, unsupported interactions, big bodies and other media types with an OperationOutcome', async () => {
      expectOutcome(await get('/fhir/Patient/abc'), 404, 'resourceType');
      expectOutcome(await g.app.inject({ method: 'DELETE', url: '/fhir/Task/case-abc', headers: { authorization: `Bearer ${token}` } }), 405, 'Task');
      const big = referralTask({ schemeId: scheme, familyName: 'x'.repeat(300 * 1024) });
      expectOutcome(await post('/fhir/Task', big), 413, '(body)');
      const xml = await g.app.inject({ method: 'POST', url: '/fhir/Task', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' }, payload: '<Task/>' });
      expectOutcome(xml, 415, 'Content-Type');
      const secret = 'SECRET-NAME-42';
      const broken = await g.app.inject({ method: 'POST', url: '/fhir/Task', headers: { authorization: `Bearer ${token}`, 'content-type': FHIR }, payload: `{"family": "${secret}"` });
      expect(expectOutcome(broken, 400, '(body)') && broken.body).not.toContain(secret);
      const badDate = referralTask({ schemeId: scheme });
      badDate.contained[1]!.birthDate = '1950-02-31';
      const dated = expectOutcome(await post('/fhir/Task', badDate), 400, 'Patient.birthDate');
      expect(JSON.stringify(dated)).not.toContain('1950-02-31');
      expectOutcome(await get('/fhir/Task/case-no-such-case'), 404);
    });

    it('describes itself: CapabilityStatement and OpenAPI', async () => {
      const cap = json(await get('/fhir/metadata', null));
      expect(cap).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1' });
      expect(cap.rest[0].resource.map((r: { type: string }) => r.type)).toEqual(['Task', 'ServiceRequest', 'Observation', 'HealthcareService', 'Subscription']);
      const subscription = cap.rest[0].resource.find((r: { type: string }) => r.type === 'Subscription');
      expect(subscription.extension[0].valueCanonical).toBe(TASK_STATUS_TOPIC);
      expect(subscription.interaction.map((i: { code: string }) => i.code)).toEqual(['create', 'read', 'delete']);
      const api = json(await get('/openapi.json', null));
      expect(api.openapi).toMatch(/^3\./);
      expect(Object.keys(api.paths)).toContain('/fhir/Task/{id}');
      expect(Object.keys(api.paths)).toContain('/fhir/Subscription/{id}');
    });
  });

  describe('capacity', () => {
    it("answers each scheme's availability from its capacity ledger: accepting, then a waitlist, or not accepting", async () => {
      const small = uniqueScheme('gw-cap');
      const closed = uniqueScheme('gw-closed');
      await client.setRoster(small, [{ id: 'lw-9', cap: 1 }]);
      await client.setRoster(closed, [{ id: 'lw-8', cap: 0 }]);
      const bound = await g.token({ schemes: [small, closed] });
      const service = async (id: string) => json(await get(`/fhir/HealthcareService/${id}`, bound));
      const availability = (hs: any) => hs.characteristic[0].coding[0].code;
      expect(await service(small)).toMatchObject({ resourceType: 'HealthcareService', id: small, active: true });
      expect(availability(await service(small))).toBe('accepting');
      expect(availability(await service(closed))).toBe('notAccepting');

      const linkWorker = await g.token({ sub: 'lw-9', role: 'linkWorker', scope: 'system/Task.rus', schemes: [small] });
      const accept = { resourceType: 'Parameters', parameter: [{ name: 'command', valueCode: 'TRIAGE.ACCEPT' }] };
      for (let i = 0; i < 2; i++) {
        const task = json(await post('/fhir/Task', referralTask({ schemeId: small }), bound));
        const accepted = await post(`/fhir/Task/${task.id}/$pathway-command`, accept, linkWorker);
        expect(accepted.statusCode, accepted.body).toBe(200);
      }
      const waiting = await poll(() => service(small), (hs) => availability(hs) === 'waitlist', 'the scheme to be full');
      expect(waiting.characteristic[1].coding[0].code).toBe('under1Month');
      const search = json(await get(`/fhir/HealthcareService?identifier=${small}`, bound));
      expect(search.entry.map((e: any) => e.resource.id)).toEqual([small]);
      const all = json(await get('/fhir/HealthcareService', bound));
      expect(all.entry.map((e: any) => e.resource.id).sort()).toEqual([small, closed].sort());
      expectOutcome(await get(`/fhir/HealthcareService/${small}`), 403);
      expectOutcome(await get(`/fhir/HealthcareService/no-such-scheme`, await g.token({ schemes: '*' })), 404);
    });
  });

  describe('logs', () => {
    it('logs requests without bodies, tokens or anything about the person', async () => {
      const lines: string[] = [];
      const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
      const logged = await gatewayHarness(client, [scheme], { loggerInstance: pino({ level: 'trace' }, sink) });
      try {
        const referral = referralTask({ schemeId: scheme });
        const family = referral.contained[1]!.name![0]!.family;
        const nhs = referral.contained[1]!.identifier![0]!.value;
        const bearer = await logged.token();
        const res = await logged.app.inject({ method: 'POST', url: '/fhir/Task', headers: { authorization: `Bearer ${bearer}`, 'content-type': FHIR }, payload: JSON.stringify(referral) });
        expect(res.statusCode).toBe(201);
        const bad = structuredClone(referral);
        bad.contained[1]!.birthDate = 'not-a-date';
        await logged.app.inject({ method: 'POST', url: '/fhir/Task', headers: { authorization: `Bearer ${bearer}`, 'content-type': FHIR }, payload: JSON.stringify(bad) });
        const log = lines.join('');
        expect(log).toContain('/fhir/Task');
        for (const secret of [family, nhs, '1950-03-14', 'not-a-date', bearer]) expect(log).not.toContain(secret);
      } finally {
        await logged.app.close();
      }
    });
  });

  describe('as npm start runs it', () => {
    it('listens on a port, and the dev token it prints refers over real HTTP', async () => {
      const gateway = await startHttpApp({ client, port: 0, console: false, env: { GATEWAY_LOG_LEVEL: 'silent' } });
      try {
        expect(gateway.devToken).toBeDefined();
        expect(devInstructions(gateway.url, gateway.devToken!)).toContain(`curl -s -X POST ${gateway.url}/fhir/Task`);
        const meta = await fetch(`${gateway.url}/fhir/metadata`);
        expect(meta.headers.get('content-type')).toContain(FHIR);
        const res = await fetch(`${gateway.url}/fhir/Task`, {
          method: 'POST',
          headers: { authorization: `Bearer ${gateway.devToken}`, 'content-type': FHIR },
          body: JSON.stringify(referralTask({ schemeId: scheme })),
        });
        expect(res.status, await res.clone().text()).toBe(201);
        expect(((await res.json()) as { status: string }).status).toBe('requested');
      } finally {
        await gateway.close();
      }
    });
  });

  describe('fuzz', () => {
    it(`answers ${FUZZ_RUNS} malformed requests with a 4xx OperationOutcome, starting no case`, async () => {
      const fuzzScheme = uniqueScheme('gw-fuzz');
      const fuzzToken = await g.token({ schemes: [fuzzScheme] });
      const base = () => referralTask({ schemeId: fuzzScheme });
      // Each mutation breaks something a referral needs, so none of them may open a case.
      const junk = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }));
      const badText = fc.oneof(fc.string({ maxLength: 20 }).filter((s) => !/^\d{4}-\d{2}-\d{2}$/.test(s)), fc.constant('2001-02-30'), fc.constant('9999-99-99'));
      type Mutate = (t: ReturnType<typeof base>) => void;
      const mutation: fc.Arbitrary<Mutate> = fc.oneof(
        junk.map((v) => (t: any) => void (t.contained[0].identifier[0].value = v)),
        fc.string({ maxLength: 20 }).filter((s) => !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(s)).map((v) => (t: any) => void (t.contained[0].identifier[0].value = v)),
        junk.map((v) => (t: any) => void (t.contained[1].birthDate = v)),
        badText.map((v) => (t: any) => void (t.contained[1].birthDate = v)),
        junk.map((v) => (t: any) => void (t.contained[1].name = v)),
        junk.map((v) => (t: any) => void (t.contained[1].address[0].postalCode = v)),
        fc.string({ maxLength: 12 }).map((v) => (t: any) => void (t.contained[0].category[0].coding[0].code = `x${v}`)),
        junk.map((v) => (t: any) => void (t.focus = v)),
        junk.map((v) => (t: any) => void (t.owner = v)),
        junk.map((v) => (t: any) => void (t.contained = v)),
        fc.string({ maxLength: 8 }).map((v) => (t: any) => void (t.resourceType = `${v}X`)),
        fc.constantFrom('rejected', 'inactive', 'draft').map((v) => (t: any) => void (t.contained[2].status = v)),
        fc.string({ maxLength: 12 }).filter((s) => !/^\d{10}$/.test(s.replace(/[\s-]/g, ''))).map((v) => (t: any) => void (t.contained[1].identifier[0].value = `${v}x`)),
      );
      type Req = { method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; url: string; payload?: string | undefined; json?: boolean };
      const request: fc.Arbitrary<Req> = fc.oneof<fc.Arbitrary<Req>[]>(
        fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => {
          const t = base();
          for (const m of ms) {
            try {
              m(t);
            } catch {
              // An earlier mutation took away what this one changes: already broken.
            }
          }
          return { method: 'POST' as const, url: '/fhir/Task', payload: JSON.stringify(t) };
        }),
        fc.tuple(fc.constantFrom('/fhir/Task', '/fhir'), fc.jsonValue({ maxDepth: 3 })).map(([url, v]) => ({ method: 'POST' as const, url, payload: JSON.stringify(v) })),
        fc.string({ maxLength: 40 }).map((s) => ({ method: 'POST' as const, url: '/fhir/Task', payload: `{${s}` })),
        fc.tuple(fc.constantFrom('GET', 'DELETE', 'POST', 'PUT', 'PATCH'), fc.oneof(fc.constantFrom('Task', 'ServiceRequest'), fc.stringMatching(/^X[A-Za-z]{1,12}$/)), fc.stringMatching(/^[A-Za-z0-9-]{0,20}$/)).filter(([method, type, id]) => !(method === 'GET' && type === 'Task' && id === '')).map(([method, type, id]) => ({
          method: method as Req['method'],
          url: `/fhir/${type}${id ? `/${id}` : ''}`,
          payload: method === 'GET' || method === 'DELETE' ? undefined : '{}',
        })),
        fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.string({ maxLength: 10 })).map(([k, v]) => ({ method: 'GET' as const, url: `/fhir/Task?x${k}=${encodeURIComponent(v)}` })),
        fc.constantFrom('_count=0', '_count=abc', '_lastUpdated=2026', 'status=unknown', 'owner=a%20b', '_offset=-1', '_lastUpdated=eq2026-01-01').map((q) => ({ method: 'GET' as const, url: `/fhir/Task?${q}` })),
        fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/).map((id) => ({ method: 'GET' as const, url: `/fhir/Task/case-nope-${id}` })),
        fc.jsonValue({ maxDepth: 2 }).map((v) => ({ method: 'PATCH' as const, url: '/fhir/Task/case-nope', payload: JSON.stringify(v), json: true })),
      );
      let serverErrors = 0;
      let notOutcome = 0;
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const res = await g.app.inject({
            method: r.method,
            url: r.url,
            headers: { authorization: `Bearer ${fuzzToken}`, 'content-type': 'json' in r ? JSON_PATCH : FHIR },
            ...(r.payload !== undefined && { payload: r.payload }),
          });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode >= 500) serverErrors++;
          const ok = res.statusCode >= 400 && res.statusCode < 500 && (res.json() as { resourceType?: string }).resourceType === 'OperationOutcome';
          if (!ok) notOutcome++;
          return ok;
        }),
        { numRuns: FUZZ_RUNS, seed: Number(process.env.FUZZ_SEED ?? 20_261_204) },
      );
      expect(serverErrors).toBe(0);
      expect(notOutcome).toBe(0);
      // Visibility lags: give it time to show anything that was started.
      await new Promise((r) => setTimeout(r, 2000));
      expect(await client.listCases({ scheme: fuzzScheme })).toEqual([]);
      // And nothing that was started elsewhere failed a workflow task.
      for (const c of await client.listCases({ scheme })) expect(await workflowTaskFailures(client.temporal, c.caseId)).toEqual([]);
      console.log(`gateway fuzz: ${FUZZ_RUNS} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    }, 600_000);
  });
});
