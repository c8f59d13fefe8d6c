// What the gateway tests and the benchmark share: a gateway app on a PathwayClient, a signing key
// standing in for the authorisation server, tokens, and Gravity referrals with synthetic people.
import { randomInt, randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { PathwayClient } from '../../client';
import { nhsCheckDigit } from '../../client/referral';
import { buildApp, FHIR_JSON, type GatewayOptions } from '../../gateway/app';
import { generateSigningKey, signToken, DEV_AUDIENCE, DEV_ISSUER, type SigningKey, type TokenClaims } from '../../gateway/dev-keys';
import { IDENTIFIER_SYSTEMS, NHS_NUMBER_SYSTEM, ROUTE_SYSTEM } from '../../gateway/fhir/systems';
import { digitFree } from '../../machines/ids';

export const HOST_SCOPES = 'system/Task.cruds system/ServiceRequest.rs system/HealthcareService.rs system/Observation.rs';

export interface GatewayHarness {
  app: FastifyInstance;
  key: SigningKey;
  token(claims?: Partial<TokenClaims>): Promise<string>;
  /** Requests as a host or provider sends them, with its bearer token (null: none). */
  get(url: string, bearer: string | null): Promise<LightMyRequestResponse>;
  post(url: string, body: unknown, bearer: string | null): Promise<LightMyRequestResponse>;
  /** A JSON Patch of the Task. */
  patchTask(id: string, ops: unknown[], bearer: string): Promise<LightMyRequestResponse>;
  /** The whole Task, put back. */
  putTask(id: string, body: unknown, bearer: string): Promise<LightMyRequestResponse>;
}

export async function gatewayHarness(client: PathwayClient, schemes: string[], options: Partial<GatewayOptions> = {}): Promise<GatewayHarness> {
  const key = await generateSigningKey();
  const app = buildApp({ client, auth: { jwks: key.jwks, issuer: DEV_ISSUER, audience: DEV_AUDIENCE }, baseUrl: 'https://gateway.test/fhir', ...options });
  await app.ready();
  const authorization = (bearer: string | null) => (bearer ? { authorization: `Bearer ${bearer}` } : {});
  return {
    app,
    key,
    token: (claims = {}) => signToken(key, { sub: 'gp-system-1', scope: HOST_SCOPES, schemes, role: 'host', ...claims }),
    get: (url, bearer) => app.inject({ method: 'GET', url, headers: authorization(bearer) }),
    post: (url, body, bearer) => app.inject({ method: 'POST', url, headers: { 'content-type': FHIR_JSON, ...authorization(bearer) }, payload: JSON.stringify(body) }),
    patchTask: (id, ops, bearer) =>
      app.inject({ method: 'PATCH', url: `/fhir/Task/${id}`, headers: { ...authorization(bearer), 'content-type': JSON_PATCH }, payload: JSON.stringify(ops) }),
    putTask: (id, body, bearer) => app.inject({ method: 'PUT', url: `/fhir/Task/${id}`, headers: { ...authorization(bearer), 'content-type': FHIR_JSON }, payload: JSON.stringify(body) }),
  };
}

export const JSON_PATCH = 'application/json-patch+json';

/** A gateway answer's body, for reading its fields. */
export const json = (r: LightMyRequestResponse) => r.json() as Record<string, any>;

/** The answer is an OperationOutcome with this status, naming `expression` among its issues if given. */
export function expectOutcome(r: LightMyRequestResponse, status: number, expression?: string): Record<string, any> {
  expect(r.statusCode, r.body).toBe(status);
  expect(r.headers['content-type']).toContain(FHIR_JSON);
  const body = json(r);
  expect(body.resourceType).toBe('OperationOutcome');
  if (expression) expect(body.issue.map((i: { expression?: string[] }) => i.expression?.[0])).toContain(expression);
  return body;
}

export function syntheticNhs(): string {
  for (;;) {
    const digits = `999${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
    const check = nhsCheckDigit(digits);
    if (check !== undefined) return `${digits}${check}`;
  }
}

export interface ReferralOptions {
  schemeId: string;
  identifier?: string;
  consent?: 'active' | 'rejected';
  route?: string;
  needs?: string[];
  familyName?: string;
}

/** A Gravity TaskForReferralManagement with its ServiceRequest, Patient and Consent contained. */
export function referralTask(o: ReferralOptions) {
  const identifier = o.identifier ?? `ref-${digitFree(randomUUID().slice(0, 12))}`;
  return {
    resourceType: 'Task',
    meta: { profile: ['http://hl7.org/fhir/us/sdoh-clinicalcare/StructureDefinition/SDOHCC-TaskForReferralManagement'] },
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
    focus: { reference: '#sr' },
    for: { reference: '#pat' },
    authoredOn: '2026-11-30T09:00:00Z',
    owner: { identifier: { system: IDENTIFIER_SYSTEMS.scheme, value: o.schemeId } },
    contained: [
      {
        resourceType: 'ServiceRequest',
        id: 'sr',
        status: 'active',
        intent: 'order',
        identifier: [{ system: 'https://gp.example/referrals', value: identifier }],
        category: [{ coding: [{ system: ROUTE_SYSTEM, code: o.route ?? 'GP' }] }],
        code: { coding: [{ system: 'http://snomed.info/sct', code: '871731000000106', display: 'Referral to social prescribing service' }] },
        reasonCode: (o.needs ?? ['loneliness']).map((code) => ({ coding: [{ code }] })),
        subject: { reference: '#pat' },
        authoredOn: '2026-11-30T09:00:00Z',
      },
      {
        resourceType: 'Patient',
        id: 'pat',
        identifier: [{ system: NHS_NUMBER_SYSTEM, value: syntheticNhs() }],
        name: [{ given: ['Ada'], family: o.familyName ?? `Example${randomInt(0, 1e9)}` }],
        birthDate: '1950-03-14',
        address: [{ line: ['1 Test Street'], postalCode: 'BT48 7AB' }],
      },
      {
        resourceType: 'Consent',
        id: 'consent',
        status: o.consent ?? 'active',
        scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'treatment' }] },
        category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
        patient: { reference: '#pat' },
        provision: { type: 'permit' },
      },
    ],
  };
}

/** The same referral as a transaction Bundle, each resource an entry. */
export function referralBundle(o: ReferralOptions) {
  const task = referralTask(o);
  const [sr, patient, consent] = task.contained as unknown as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
  const url = (r: Record<string, unknown>) => `urn:uuid:${String(r['id'])}-${randomUUID()}`;
  const [srUrl, patUrl, consentUrl] = [url(sr), url(patient), url(consent)];
  const { contained: _contained, ...bare } = task;
  const strip = ({ id: _id, ...r }: Record<string, unknown>) => r;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: `urn:uuid:${randomUUID()}`, resource: { ...bare, focus: { reference: srUrl }, for: { reference: patUrl } }, request: { method: 'POST', url: 'Task' } },
      { fullUrl: srUrl, resource: { ...strip(sr), subject: { reference: patUrl } }, request: { method: 'POST', url: 'ServiceRequest' } },
      { fullUrl: patUrl, resource: strip(patient), request: { method: 'POST', url: 'Patient' } },
      { fullUrl: consentUrl, resource: { ...strip(consent), patient: { reference: patUrl } }, request: { method: 'POST', url: 'Consent' } },
    ],
  };
}
