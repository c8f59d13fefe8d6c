// Onward referrals over FHIR: each connection to a community service is a Task partOf its case's
// Task, owned by the provider's organisation. Real dev server, real worker, the gateway app: a case
// referred over FHIR, connections proposed through the client, a provider reading, polling and
// answering with a token of its own, and everyone else kept out.
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PathwayClient } from '../../client';
import { connectionFhirIdOf, connectionIdOfFhirId } from '../../gateway/fhir/resources';
import { digitFree } from '../../machines/ids';
import { clientHarness, lw, poll, uniqueScheme, type ClientHarness } from './client.harness';
import { expectOutcome, gatewayHarness, json, referralTask, type GatewayHarness } from './gateway.harness';

const PROVIDER_SCOPES = 'system/Task.rus';
const STAFF_SCOPES = 'system/Task.rus';

describe('FHIR gateway: onward referrals (connections)', () => {
  let h: ClientHarness;
  let client: PathwayClient;
  let g: GatewayHarness;
  const scheme = uniqueScheme('gw-conn');
  const org = `org-${digitFree(randomUUID().slice(0, 8))}`;
  const otherOrg = `org-${digitFree(randomUUID().slice(0, 8))}`;
  let referrer: string;
  let provider: string;
  let outsider: string;

  beforeAll(async () => {
    h = await clientHarness('gw-conn');
    client = h.client;
    await client.setRoster(scheme, [{ id: 'lw-1' }]);
    g = await gatewayHarness(client, [scheme]);
    referrer = await g.token();
    provider = await g.token({ sub: 'staff-lunch', role: 'provider', organisation: org, scope: PROVIDER_SCOPES, schemes: [scheme] });
    outsider = await g.token({ sub: 'staff-other', role: 'provider', organisation: otherOrg, scope: PROVIDER_SCOPES, schemes: [scheme] });
  }, 60_000);
  afterAll(async () => {
    await g?.app.close();
    await h?.close();
  });

  const attend = (id: string, bearer: string) => g.app.inject({ method: 'POST', url: `/fhir/Task/${id}/$record-attendance`, headers: { authorization: `Bearer ${bearer}` } });
  const ok = (r: LightMyRequestResponse) => {
    expect(r.statusCode, r.body).toBe(200);
    return json(r);
  };
  const setStatus = (status: string, extra: unknown[] = []) => [{ op: 'replace', path: '/status', value: status }, ...extra];

  it('takes a provider from the referral through acceptance and attendance to completion, and a second one to rejection', async () => {
    const referral = referralTask({ schemeId: scheme });
    const created = await g.post('/fhir/Task', referral, referrer);
    expect(created.statusCode, created.body).toBe(201);
    const caseTask = json(created);
    const caseId = caseTask.id as string;
    const before = ok(await g.get(`/fhir/Task/${caseId}`, referrer));

    const lunch = await client.proposeConnection(caseId, { serviceId: 'svc-lunch_club', category: 'connecting', providerId: org, actor: lw });
    const walk = await client.proposeConnection(caseId, { serviceId: 'svc-walking.group', category: 'active', providerId: org, actor: lw });
    const lunchId = connectionFhirIdOf(lunch.connectionId);
    const walkId = connectionFhirIdOf(walk.connectionId);
    // Ids FHIR can carry ('_', '.' and ':' escaped), read back to the connection.
    expect(lunchId).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
    expect(lunchId).toBe(`cn-${caseId.slice('case-'.length)}.3Aconn.3Asvc-lunch.5Fclub`);
    expect(connectionIdOfFhirId(lunchId)).toBe(lunch.connectionId);
    expect(connectionIdOfFhirId(walkId)).toBe(walk.connectionId);

    // The provider reads its onward referral: partOf the case's Task, owned by it, focused on the service.
    const sent = ok(await g.get(`/fhir/Task/${lunchId}`, provider));
    expect(sent).toMatchObject({
      resourceType: 'Task',
      id: lunchId,
      status: 'requested',
      businessStatus: { coding: [{ code: 'sent' }] },
      intent: 'order',
      partOf: [{ reference: `Task/${caseId}` }],
      owner: { type: 'Organization', identifier: { value: org } },
      focus: { type: 'HealthcareService', identifier: { value: 'svc-lunch_club' } },
      identifier: [{ value: lunch.connectionId }],
      authoredOn: new Date(lunch.sentAt!).toISOString(),
      restriction: { period: { end: new Date(lunch.responseDueAt!).toISOString() } },
    });
    expect(sent.output).toBeUndefined();

    // And polls for the open ones sent to it (visibility lags a start by a moment).
    const polled = await poll(
      async () => ok(await g.get(`/fhir/Task?owner=Organization/${org}&status=requested`, provider)),
      (b) => b.total === 2,
      'the provider poll to list both',
    );
    expect(polled.entry.map((e: any) => e.resource.id).sort()).toEqual([lunchId, walkId].sort());
    expect(json(await g.get(`/fhir/Task?owner=Organization/${otherOrg}&status=requested`, outsider)).total).toBe(0);

    // Accept, two attendances (the first is the move to in-progress), complete.
    const accepted = ok(await g.patchTask(lunchId, [{ op: 'test', path: '/status', value: 'requested' }, ...setStatus('accepted')], provider));
    expect(accepted).toMatchObject({ status: 'accepted', businessStatus: { coding: [{ code: 'accepted' }] }, output: [{ valueUnsignedInt: 0 }] });
    // The same request again changes nothing.
    expect(ok(await g.patchTask(lunchId, setStatus('accepted'), provider)).status).toBe('accepted');
    const first = ok(await g.patchTask(lunchId, setStatus('in-progress'), provider));
    expect(first).toMatchObject({ status: 'in-progress', businessStatus: { coding: [{ code: 'attending' }] }, output: [{ valueUnsignedInt: 1 }, {}, {}] });
    const second = ok(await attend(lunchId, provider));
    expect(second.output[0].valueUnsignedInt).toBe(2);
    const done = ok(await g.putTask(lunchId, { ...second, status: 'completed' }, provider));
    expect(done).toMatchObject({ status: 'completed', businessStatus: { coding: [{ code: 'completed' }] } });
    expect(done.executionPeriod.end).toBeDefined();
    expect((await client.getConnection(lunch.connectionId)).attendances).toBe(2);

    // The second is rejected with a reason: the reason reaches the link worker, never the Task.
    const rejected = ok(await g.patchTask(walkId, setStatus('rejected', [{ op: 'add', path: '/statusReason', value: { text: 'Group is full until spring' } }]), provider));
    expect(rejected).toMatchObject({ status: 'rejected', statusReason: { coding: [{ code: 'declinedByProvider' }] }, businessStatus: { coding: [{ code: 'declined' }] } });
    expect(JSON.stringify(rejected)).not.toContain('spring');
    expect((await client.getConnection(walk.connectionId)).declineReason).toBe('Group is full until spring');

    // A move the status does not take: an OperationOutcome naming the status and the move, and nothing changed.
    const refused = expectOutcome(await g.patchTask(walkId, setStatus('accepted'), provider), 409, 'Task.status');
    expect(refused.issue[0].diagnostics).toBe('an onward referral that is rejected (declined) cannot move to accepted: it has ended');
    expectOutcome(await g.patchTask(lunchId, setStatus('on-hold'), provider), 422, 'Task.status');
    expectOutcome(await attend(walkId, provider), 409, 'Task.status');
    expect((await client.getConnection(walk.connectionId)).status).toBe('declined');

    // The case's referrer (and staff of the scheme) list both by part-of, each with its status.
    const staff = await g.token({ sub: 'lw-1', role: 'linkWorker', scope: STAFF_SCOPES });
    for (const bearer of [referrer, staff]) {
      const listed = ok(await g.get(`/fhir/Task?part-of=Task/${caseId}`, bearer));
      expect(listed.total).toBe(2);
      const byId = Object.fromEntries(listed.entry.map((e: any) => [e.resource.id, e.resource.status]));
      expect(byId).toEqual({ [lunchId]: 'completed', [walkId]: 'rejected' });
    }
    expect(ok(await g.get(`/fhir/Task?part-of=Task/${caseId}&status=rejected`, referrer)).entry.map((e: any) => e.resource.id)).toEqual([walkId]);
    // Neither is open now: the provider's poll is empty.
    expect(ok(await g.get(`/fhir/Task?owner=Organization/${org}`, provider)).total).toBe(0);

    // The case's own Task is unchanged by its onward referrals.
    const after = ok(await g.get(`/fhir/Task/${caseId}`, referrer));
    for (const field of ['id', 'status', 'businessStatus', 'statusReason', 'owner', 'focus', 'identifier', 'output']) expect(after[field], field).toEqual(before[field]);
  });

  it('keeps everyone else out: another provider, another referrer, a provider reading the case', async () => {
    const created = await g.post('/fhir/Task', referralTask({ schemeId: scheme }), referrer);
    const caseId = json(created).id as string;
    const c = await client.proposeConnection(caseId, { serviceId: 'svc-mens-shed', category: 'connecting', providerId: org, actor: lw });
    const id = connectionFhirIdOf(c.connectionId);

    // Another provider learns nothing of it: the same 404 as a connection that does not exist.
    const missing = connectionFhirIdOf(`${caseId}:conn:svc-none`);
    for (const target of [id, missing]) {
      expectOutcome(await g.get(`/fhir/Task/${target}`, outsider), 404, 'Task.id');
      expectOutcome(await g.patchTask(target, setStatus('accepted'), outsider), 404, 'Task.id');
    }
    expectOutcome(await g.get(`/fhir/Task?owner=Organization/${org}`, outsider), 403, 'owner');
    // The same organisation id in another scheme's directory is another organisation: nothing of this one.
    const namesake = await g.token({ sub: 'staff-namesake', role: 'provider', organisation: org, scope: PROVIDER_SCOPES, schemes: [`${scheme}-elsewhere`] });
    expectOutcome(await g.get(`/fhir/Task/${id}`, namesake), 404, 'Task.id');
    expectOutcome(await g.patchTask(id, setStatus('accepted'), namesake), 404, 'Task.id');
    expect(json(await g.get(`/fhir/Task?owner=Organization/${org}`, namesake)).total).toBe(0);
    // A provider sees neither the case's Task nor its other onward referrals.
    expectOutcome(await g.get(`/fhir/Task/${caseId}`, provider), 403);
    expectOutcome(await g.get(`/fhir/Task?part-of=Task/${caseId}`, provider), 403, 'part-of');
    const subscribe = await g.post('/fhir/Subscription', { resourceType: 'Subscription' }, provider);
    expectOutcome(subscribe, 403, 'Authorization');
    // Another host bound to the scheme did not make this referral: no part-of, no read, no answer.
    const otherHost = await g.token({ sub: 'gp-system-2' });
    expectOutcome(await g.get(`/fhir/Task?part-of=Task/${caseId}`, otherHost), 403, 'part-of');
    expectOutcome(await g.get(`/fhir/Task/${id}`, otherHost), 404, 'Task.id');
    // A host (even the referrer) does not answer for a provider.
    expectOutcome(await g.patchTask(id, setStatus('accepted'), referrer), 403, 'Authorization');
    // A token naming the provider role without its organisation is refused.
    expectOutcome(await g.get(`/fhir/Task/${id}`, await g.token({ sub: 'staff-x', role: 'provider', scope: PROVIDER_SCOPES })), 403, 'Authorization');
    // Stopping needs a reason; the reason is never echoed.
    expectOutcome(await g.patchTask(id, setStatus('failed'), provider), 409, 'Task.status');
    ok(await g.patchTask(id, setStatus('accepted'), provider));
    expectOutcome(await g.patchTask(id, setStatus('cancelled'), provider), 400, 'Task.statusReason.text');
    const stopped = ok(await g.patchTask(id, setStatus('cancelled', [{ op: 'add', path: '/statusReason/text', value: 'Moved to another town' }]), provider));
    expect(stopped).toMatchObject({ status: 'failed', statusReason: { coding: [{ code: 'stopped' }] }, businessStatus: { coding: [{ code: 'stopped' }] } });
    expect(JSON.stringify(stopped)).not.toContain('Moved');
    // The same stop again (it now reads failed) changes nothing.
    expect(ok(await g.patchTask(id, setStatus('cancelled', [{ op: 'add', path: '/statusReason/text', value: 'Moved to another town' }]), provider)).status).toBe('failed');
    expect((await client.getConnection(c.connectionId)).status).toBe('stopped');
  });

  it('says so in its CapabilityStatement and OpenAPI document', async () => {
    const cap = json(await g.app.inject({ method: 'GET', url: '/fhir/metadata' }));
    const task = cap.rest[0].resource.find((r: { type: string }) => r.type === 'Task');
    expect(task.searchParam.map((p: { name: string }) => p.name)).toContain('part-of');
    expect(task.operation.map((o: { name: string }) => o.name)).toContain('record-attendance');
    const api = json(await g.app.inject({ method: 'GET', url: '/openapi.json' }));
    expect(Object.keys(api.paths)).toContain('/fhir/Task/{id}/$record-attendance');
    expect(api.paths['/fhir/Task'].get.parameters.map((p: { name: string }) => p.name)).toContain('part-of');
  });
});
