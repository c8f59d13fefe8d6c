// The gateway's settings: its auth from the environment (a real authorisation server's JWKS), or on
// a developer's machine the dev signing key, so `npm start` can print a token and a curl line. The
// server itself (gateway and console on one port) is started by http/server.ts.
import { ConfigurationError } from '../client';
import type { AuthOptions } from './auth';
import { DEV_AUDIENCE, DEV_ISSUER, devSigningKey, type SigningKey } from './dev-keys';

export interface GatewayEnvConfig {
  auth: AuthOptions;
  /** Set when the dev key is in use: it signs the printed dev token. */
  devKey?: SigningKey & { file: string };
}

/**
 * `GATEWAY_JWKS_URL`, `GATEWAY_ISSUER`, `GATEWAY_AUDIENCE` (and optionally `GATEWAY_ROLE_CLAIM`,
 * `GATEWAY_SCHEMES_CLAIM`); without a JWKS URL, the dev key, unless `NODE_ENV=production`.
 */
export async function gatewayAuthFromEnv(env: Record<string, string | undefined> = process.env): Promise<GatewayEnvConfig> {
  const claims = {
    ...(env['GATEWAY_ROLE_CLAIM'] && { roleClaim: env['GATEWAY_ROLE_CLAIM'] }),
    ...(env['GATEWAY_SCHEMES_CLAIM'] && { schemesClaim: env['GATEWAY_SCHEMES_CLAIM'] }),
  };
  const jwks = env['GATEWAY_JWKS_URL'];
  if (jwks) {
    const issuer = env['GATEWAY_ISSUER'];
    const audience = env['GATEWAY_AUDIENCE'];
    if (!issuer || !audience) throw new ConfigurationError('GATEWAY_JWKS_URL needs GATEWAY_ISSUER and GATEWAY_AUDIENCE too');
    return { auth: { jwks, issuer, audience, ...claims } };
  }
  if (env['NODE_ENV'] === 'production') throw new ConfigurationError('set GATEWAY_JWKS_URL, GATEWAY_ISSUER and GATEWAY_AUDIENCE: the dev signing key is for local development only');
  const devKey = await devSigningKey();
  return { auth: { jwks: devKey.jwks, issuer: DEV_ISSUER, audience: DEV_AUDIENCE, ...claims }, devKey };
}

/** What to paste: the address, a token and a referral in one curl line. */
export function devInstructions(url: string, token: string, schemeId = 'dev-scheme'): string {
  const referral = JSON.stringify({
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
    owner: { identifier: { system: 'https://social-prescribing.example/fhir/Id/scheme', value: schemeId } },
    focus: { reference: '#sr' },
    for: { reference: '#pat' },
    contained: [
      { resourceType: 'ServiceRequest', id: 'sr', status: 'active', intent: 'order', subject: { reference: '#pat' }, identifier: [{ value: 'curl-1' }], category: [{ coding: [{ system: 'https://social-prescribing.example/fhir/CodeSystem/referral-route', code: 'GP' }] }], reasonCode: [{ coding: [{ code: 'loneliness' }] }] },
      { resourceType: 'Patient', id: 'pat', name: [{ given: ['Test'], family: 'Example' }], birthDate: '1950-03-14', address: [{ postalCode: 'BT48 7AB' }] },
      { resourceType: 'Consent', id: 'consent', status: 'active', scope: { text: 'treatment' }, category: [{ text: 'referral' }], provision: { type: 'permit' } },
    ],
  });
  return [
    `FHIR gateway: ${url}/fhir (CapabilityStatement at ${url}/fhir/metadata, OpenAPI at ${url}/openapi.json)`,
    `  dev token (12 h, host role, every scheme): export TOKEN=${token}`,
    `  refer:  curl -s -X POST ${url}/fhir/Task -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/fhir+json' -d '${referral}'`,
    `  follow: curl -s ${url}/fhir/Task/case-curl-1 -H "Authorization: Bearer $TOKEN"`,
  ].join('\n');
}
