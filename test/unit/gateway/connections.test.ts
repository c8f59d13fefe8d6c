// The onward-referral Task's pure parts: its reversible FHIR id, its status mapping, the patch and
// put a provider sends, and a provider token's organisation.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONNECTION_STATUSES } from '../../../machines/connection';
import { answerFromPatch, answerFromPut } from '../../../gateway/connections';
import { authenticator } from '../../../gateway/auth';
import { generateSigningKey, signToken, DEV_AUDIENCE, DEV_ISSUER } from '../../../gateway/dev-keys';
import { FhirError } from '../../../gateway/fhir/outcome';
import { CONNECTION_TASK_STATUS, connectionFhirIdOf, connectionIdOfFhirId, fhirIdOf, isConnectionFhirId, onwardReferralTaskFor } from '../../../gateway/fhir/resources';

const idChars = fc.constantFrom(...'abcXYZ09._:-'.split(''));
const idPart = fc.tuple(fc.constantFrom('a', 'Z', '7'), fc.array(idChars, { maxLength: 40 })).map(([first, rest]) => first + rest.join(''));

describe('connection FHIR ids', () => {
  it('are valid FHIR ids that read back to the connection, and are never a case id', () => {
    fc.assert(
      fc.property(idPart, idPart, (referral, service) => {
        const connectionId = `case-${referral}:conn:${service}`;
        const id = connectionFhirIdOf(connectionId);
        expect(id).toMatch(/^[A-Za-z0-9\-.]{1,64}$/);
        expect(isConnectionFhirId(id)).toBe(true);
        expect(isConnectionFhirId(fhirIdOf(`case-${referral}`))).toBe(false);
        if (id.startsWith('cn-')) expect(connectionIdOfFhirId(id)).toBe(connectionId);
        else expect(id).toMatch(/^cnh-[0-9a-f]{40}$/);
      }),
      { numRuns: 2000 },
    );
  });

  it('read as documented, and refuse what no connection id encodes to', () => {
    expect(connectionFhirIdOf('case-gp-17:conn:svc-lunch_club')).toBe('cn-gp-17.3Aconn.3Asvc-lunch.5Fclub');
    for (const bad of ['cn-a.2', 'cn-a.41b', 'cn-', 'case-x', 'cn-a.2e']) expect(connectionIdOfFhirId(bad)).toBeUndefined();
  });
});

describe('the onward-referral Task', () => {
  const view = {
    connectionId: 'case-ref-a:conn:svc-x',
    caseId: 'case-ref-a',
    schemeId: 'brandywell',
    serviceId: 'svc-x',
    providerId: 'org-a',
    category: 'connecting' as const,
    proposedAt: 1_000,
    sentAt: 1_000,
    responseDueAt: 5_000,
    autoDeclined: false,
    nudgesSent: 0,
    attendances: 0,
    nudgesDue: [],
    attendedAt: [],
    suggestions: [],
  };

  it('maps every connection status, coding why it ended and never carrying the reason text', () => {
    expect(Object.keys(CONNECTION_TASK_STATUS).sort()).toEqual([...CONNECTION_STATUSES].sort());
    const declined = onwardReferralTaskFor({ ...view, status: 'declined', respondedAt: 2_000, endedAt: 2_000, declineReason: 'Full up' });
    expect(declined).toMatchObject({ status: 'rejected', statusReason: { coding: [{ code: 'declinedByProvider' }] }, partOf: [{ reference: 'Task/case-ref-a' }] });
    expect(JSON.stringify(declined)).not.toContain('Full up');
    const timedOut = onwardReferralTaskFor({ ...view, status: 'noResponse', autoDeclined: true, endedAt: 5_000 });
    expect(timedOut).toMatchObject({ status: 'cancelled', statusReason: { coding: [{ code: 'noResponse' }], text: 'No response from the provider by the deadline' }, lastModified: new Date(5_000).toISOString() });
    const stopped = onwardReferralTaskFor({ ...view, status: 'stopped', respondedAt: 2_000, endedAt: 3_000, stopReason: 'Moved' });
    expect(stopped.status).toBe('failed');
    expect(JSON.stringify(stopped)).not.toContain('Moved');
  });
});

describe('what a provider sends', () => {
  it('reads status, reason and an expected status from a JSON Patch, and a PUT', () => {
    expect(answerFromPatch([{ op: 'test', path: '/status', value: 'requested' }, { op: 'replace', path: '/status', value: 'rejected' }, { op: 'add', path: '/statusReason', value: { text: 'Full' } }])).toEqual({
      status: 'rejected',
      reason: 'Full',
      expectStatus: 'requested',
    });
    expect(answerFromPut({ resourceType: 'Task', status: 'failed', statusReason: { text: 'Stopped' } })).toEqual({ status: 'failed', reason: 'Stopped' });
  });

  it('refuses statuses no provider sets, other paths, and a patch without a status', () => {
    const status = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as FhirError).status;
      }
      return 200;
    };
    expect(status(() => answerFromPatch([{ op: 'replace', path: '/status', value: 'on-hold' }]))).toBe(422);
    expect(status(() => answerFromPatch([{ op: 'replace', path: '/owner', value: {} }]))).toBe(422);
    expect(status(() => answerFromPatch([{ op: 'add', path: '/statusReason/text', value: 'x' }]))).toBe(400);
    expect(status(() => answerFromPut({ status: 'draft' }))).toBe(422);
  });
});

describe('a provider token', () => {
  it('carries its organisation, and is refused without one', async () => {
    const key = await generateSigningKey();
    const verify = authenticator({ jwks: key.jwks, issuer: DEV_ISSUER, audience: DEV_AUDIENCE });
    const bearer = async (claims: Record<string, unknown>) => `Bearer ${await signToken(key, { sub: 'staff-1', scope: 'system/Task.rus', role: 'provider', ...claims })}`;
    expect(await verify(await bearer({ organisation: 'org-a' }))).toMatchObject({ actor: { role: 'provider', id: 'staff-1' }, organisation: 'org-a' });
    await expect(verify(await bearer({}))).rejects.toMatchObject({ status: 403 });
    await expect(verify(await bearer({ organisation: 'not an id' }))).rejects.toMatchObject({ status: 403 });
  });
});
