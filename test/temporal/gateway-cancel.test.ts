// Cancel is bound to the referring client: the gateway records which client (token `sub`) made a
// referral, and only that client may withdraw it. Real dev server, real worker, the gateway app.
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PathwayClient } from '../../client';
import { clientHarness, hostReferral, uniqueScheme, type ClientHarness } from './client.harness';
import { gatewayHarness, referralTask, type GatewayHarness } from './gateway.harness';

const FHIR = 'application/fhir+json';

describe('FHIR gateway: only the referring client cancels', () => {
  let h: ClientHarness;
  let client: PathwayClient;
  let g: GatewayHarness;
  const scheme = uniqueScheme('gw-cancel');

  beforeAll(async () => {
    h = await clientHarness('gw-cancel');
    client = h.client;
    await client.setRoster(scheme, [{ id: 'lw-1' }]);
    g = await gatewayHarness(client, [scheme]);
  }, 60_000);
  afterAll(async () => {
    await g?.app.close();
    await h?.close();
  });

  const cancel = async (id: string, sub: string) =>
    g.app.inject({
      method: 'PATCH',
      url: `/fhir/Task/${id}`,
      headers: { authorization: `Bearer ${await g.token({ sub })}`, 'content-type': 'application/json-patch+json' },
      payload: JSON.stringify([{ op: 'replace', path: '/status', value: 'cancelled' }]),
    });
  const expectForbidden = (r: LightMyRequestResponse) => {
    expect(r.statusCode, r.body).toBe(403);
    expect(r.headers['content-type']).toContain(FHIR);
    expect(r.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ code: 'forbidden', expression: ['Task'] }] });
  };

  it("refuses another client's cancel with 403 and leaves the case as it was; the referrer's own cancel withdraws it", async () => {
    const created = await g.app.inject({
      method: 'POST',
      url: '/fhir/Task',
      headers: { authorization: `Bearer ${await g.token({ sub: 'gp-system-a' })}`, 'content-type': FHIR },
      payload: JSON.stringify(referralTask({ schemeId: scheme })),
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    expect(await client.referrerOf(id)).toBe('gp-system-a');
    const before = await client.getCase(id);

    expectForbidden(await cancel(id, 'gp-system-b'));
    const after = await client.getCase(id);
    expect(after.sequence).toBe(before.sequence);
    expect(after.stage).toBe('triage');

    const own = await cancel(id, 'gp-system-a');
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json()).toMatchObject({ status: 'cancelled' });
  });

  it('refuses to cancel over FHIR a referral made without a recorded referrer (through the SDK)', async () => {
    const { case: c } = await client.refer(hostReferral(scheme));
    expect(await client.referrerOf(c.caseId)).toBeUndefined();
    expectForbidden(await cancel(c.caseId, 'gp-system-1'));
    expect((await client.getCase(c.caseId)).stage).toBe('triage');
  });
});
