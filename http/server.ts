// The one HTTP server: the FHIR gateway's app with the supervisor console registered under
// `/console`, on one port. `npm start`, `npm run gateway` and `npm run console` all start it here.
// The gateway's auth comes from GATEWAY_* (or the dev signing key); the console signs in against
// CONSOLE_OIDC_ISSUER, or on a developer's machine a local OIDC provider with seeded accounts.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { PathwayClient } from '../client';
import { ConfigurationError } from '../client';
import { DEV_CLIENT, devAccounts, startDevIdp, type DevAccount, type DevIdp } from '../console/dev-idp';
import { consolePlugin, type ConsoleOptions } from '../console/plugin';
import { buildApp, type GatewayPlugin } from '../gateway/app';
import { signToken } from '../gateway/dev-keys';
import { devInstructions, gatewayAuthFromEnv } from '../gateway/server';

export const DEFAULT_PORT = 8787;

export interface HttpApp {
  app: FastifyInstance;
  /** The server's address, e.g. `http://127.0.0.1:8787`; FHIR under `/fhir`, the console under `/console/`. */
  url: string;
  /** A token for a host system, when the gateway's dev signing key is in use. */
  devToken?: string;
  /** The console's address and, with the local IdP, its accounts; absent when the console is off. */
  console?: { url: string; accounts?: DevAccount[]; idp?: DevIdp };
  close(): Promise<void>;
}

/** A free loopback port, asked of the OS: the console must know its address before it listens. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

type Env = Record<string, string | undefined>;

async function consoleSettings(env: Env, publicUrl: string, schemes: string[]): Promise<{ oidc: ConsoleOptions['oidc']; cookieSecret: string; idp?: DevIdp }> {
  if (env['CONSOLE_OIDC_ISSUER']) {
    const { CONSOLE_OIDC_CLIENT_ID: clientId, CONSOLE_OIDC_CLIENT_SECRET: clientSecret, CONSOLE_COOKIE_SECRET: cookieSecret } = env;
    if (!clientId || !clientSecret || !cookieSecret) throw new ConfigurationError('CONSOLE_OIDC_ISSUER needs CONSOLE_OIDC_CLIENT_ID, CONSOLE_OIDC_CLIENT_SECRET and CONSOLE_COOKIE_SECRET');
    return { oidc: { issuer: env['CONSOLE_OIDC_ISSUER'], clientId, clientSecret }, cookieSecret };
  }
  if (env['NODE_ENV'] === 'production') throw new ConfigurationError('set CONSOLE_OIDC_ISSUER and its settings: the local sign-in provider is for development only');
  const idp = await startDevIdp({ redirectUris: [`${publicUrl}/console/callback`], postLogoutRedirectUris: [`${publicUrl}/console/signed-out`], accounts: devAccounts(schemes) });
  return { oidc: { issuer: idp.issuer, clientId: DEV_CLIENT.id, clientSecret: DEV_CLIENT.secret }, cookieSecret: env['CONSOLE_COOKIE_SECRET'] ?? randomBytes(32).toString('base64url'), idp };
}

export async function startHttpApp(options: {
  client: PathwayClient;
  /** The console's own client, if it should differ from the gateway's (e.g. another person key). */
  consoleClient?: PathwayClient;
  /** Serve the console under `/console` (default true). */
  console?: boolean;
  /** Schemes the local IdP's dev accounts may see (ignored with a configured IdP, whose claims say). */
  consoleSchemes?: string[];
  /** The schemes the printed dev token may see (every scheme by default). */
  devSchemes?: string[];
  env?: Env;
  /** 0 for any free port; `HTTP_PORT` (or the older `GATEWAY_PORT`), else 8787. */
  port?: number;
  host?: string;
}): Promise<HttpApp> {
  const env = options.env ?? process.env;
  const { auth, devKey } = await gatewayAuthFromEnv(env);
  const host = options.host ?? env['HTTP_HOST'] ?? env['GATEWAY_HOST'] ?? '127.0.0.1';
  const asked = options.port ?? Number(env['HTTP_PORT'] ?? env['GATEWAY_PORT'] ?? DEFAULT_PORT);
  const port = asked === 0 ? await freePort() : asked;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const publicUrl = env['HTTP_PUBLIC_URL'] ?? env['CONSOLE_PUBLIC_URL'] ?? url;

  let idp: DevIdp | undefined;
  const plugins: GatewayPlugin[] = [];
  if (options.console !== false) {
    const settings = await consoleSettings(env, publicUrl, options.consoleSchemes ?? ['demo']);
    idp = settings.idp;
    const claims = {
      ...(env['CONSOLE_ROLES_CLAIM'] && { rolesClaim: env['CONSOLE_ROLES_CLAIM'] }),
      ...(env['CONSOLE_SCHEMES_CLAIM'] && { schemesClaim: env['CONSOLE_SCHEMES_CLAIM'] }),
    };
    const consoleOptions: Omit<ConsoleOptions, 'prefix'> = { client: options.consoleClient ?? options.client, publicUrl, oidc: settings.oidc, cookieSecret: settings.cookieSecret, claims };
    plugins.push({ plugin: consolePlugin as GatewayPlugin['plugin'], prefix: '/console', options: consoleOptions as unknown as Record<string, unknown> });
  }

  // Request lines only (method, URL, status, time): no bodies, no headers, so no personal data or tokens.
  const logger = pino({ level: env['GATEWAY_LOG_LEVEL'] ?? 'warn', redact: ['req.headers.authorization', 'req.headers.cookie'] });
  const app = buildApp({ client: options.client, auth, loggerInstance: logger, plugins, ...(env['GATEWAY_BASE_URL'] && { baseUrl: env['GATEWAY_BASE_URL'] }) });
  if (options.console !== false) app.get('/', async (_request, reply) => reply.redirect('/console/', 303));
  try {
    await app.listen({ port, host });
  } catch (err) {
    await app.close();
    await idp?.close();
    throw err;
  }
  const devToken = devKey
    ? await signToken(devKey, { sub: 'dev-host', scope: 'system/Task.cruds system/ServiceRequest.rs system/HealthcareService.rs system/Observation.rs system/Subscription.crd', schemes: options.devSchemes ?? ['*'], role: 'host', expiresIn: 12 * 3600 })
    : undefined;
  return {
    app,
    url,
    ...(devToken && { devToken }),
    ...(options.console !== false && { console: { url: `${publicUrl}/console/`, ...(idp && { idp, accounts: idp.accounts }) } }),
    async close() {
      await app.close();
      await idp?.close();
    },
  };
}

/** What the entry points print, once: the address, the dev token and curl line, the console and its dev accounts. */
export function describeHttpApp(started: HttpApp): string {
  const lines = [started.devToken ? devInstructions(started.url, started.devToken) : `FHIR gateway: ${started.url}/fhir`];
  if (started.console) {
    lines.push(`Console: ${started.console.url} (same server)`);
    if (started.console.accounts) {
      lines.push(`  Dev sign-in (local IdP at ${started.console.idp?.issuer}; any password):`);
      for (const a of started.console.accounts) lines.push(`    ${a.login.padEnd(6)} ${a.roles.join(', ')}`);
    }
  }
  return lines.join('\n');
}
