// Starting the gateway: its auth from the environment (a real authorisation server's JWKS), or on
// a developer's machine the dev signing key, so `npm start` can print a token and a curl line.
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { PathwayClient } from '../client';
import { ConfigurationError } from '../client';
import { buildApp, type GatewayPlugin } from './app';
import type { AuthOptions } from './auth';
import { DEV_AUDIENCE, DEV_ISSUER, devSigningKey, signToken, type SigningKey } from './dev-keys';

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

export interface StartedGateway {
  app: FastifyInstance;
  url: string;
  /** A token for a host system bound to `schemes`, when the dev key is in use. */
  devToken?: string;
  close(): Promise<void>;
}

export async function startGateway(options: {
  client: PathwayClient;
  env?: Record<string, string | undefined>;
  port?: number;
  host?: string;
  plugins?: GatewayPlugin[];
  /** The schemes the printed dev token may see. */
  devSchemes?: string[];
}): Promise<StartedGateway> {
  const env = options.env ?? process.env;
  const { auth, devKey } = await gatewayAuthFromEnv(env);
  // Request lines only (method, URL, status, time): no bodies, no headers, so no personal data or tokens.
  const logger = pino({ level: env['GATEWAY_LOG_LEVEL'] ?? 'warn', redact: ['req.headers.authorization', 'req.headers.cookie'] });
  const port = options.port ?? Number(env['GATEWAY_PORT'] ?? 8787);
  const host = options.host ?? env['GATEWAY_HOST'] ?? '127.0.0.1';
  const app = buildApp({ client: options.client, auth, loggerInstance: logger, ...(env['GATEWAY_BASE_URL'] && { baseUrl: env['GATEWAY_BASE_URL'] }), ...(options.plugins && { plugins: options.plugins }) });
  await app.listen({ port, host });
  // Port 0 asks for any free port: the address says which one it got.
  const bound = app.server.address();
  const actualPort = bound && typeof bound === 'object' ? bound.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  const devToken = devKey
    ? await signToken(devKey, { sub: 'dev-host', scope: 'system/Task.cruds system/ServiceRequest.rs system/HealthcareService.rs system/Observation.rs', schemes: options.devSchemes ?? ['*'], role: 'host', expiresIn: 12 * 3600 })
    : undefined;
  return { app, url, ...(devToken && { devToken }), close: () => app.close() };
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
