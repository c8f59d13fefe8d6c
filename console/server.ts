// A Fastify app holding just the console, for `npm run console`, `npm start` and the tests; a host
// app (the FHIR gateway) registers `consolePlugin` itself instead. With CONSOLE_OIDC_ISSUER set it
// signs in against that IdP; otherwise it starts the local dev IdP with seeded accounts.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { PathwayClient } from '../client';
import { DEV_CLIENT, devAccounts, startDevIdp, type DevAccount, type DevIdp } from './dev-idp';
import { consolePlugin } from './plugin';

export interface ConsoleServer {
  /** The console's address, e.g. `http://127.0.0.1:8300/console/`. */
  url: string;
  app: FastifyInstance;
  /** The dev IdP's accounts, when the console started one. */
  accounts?: DevAccount[];
  idp?: DevIdp;
  close(): Promise<void>;
}

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

export async function startConsoleServer(options: {
  client: PathwayClient;
  /** Schemes the dev accounts may see (ignored with a configured IdP, whose claims say). */
  schemes: string[];
  port?: number;
  host?: string;
  env?: Record<string, string | undefined>;
}): Promise<ConsoleServer> {
  const env = options.env ?? process.env;
  const host = options.host ?? env.CONSOLE_HOST ?? '127.0.0.1';
  const port = options.port ?? (env.CONSOLE_PORT ? Number(env.CONSOLE_PORT) : await freePort());
  const publicUrl = env.CONSOLE_PUBLIC_URL ?? `http://${host}:${port}`;
  let idp: DevIdp | undefined;
  let oidc: { issuer: string; clientId: string; clientSecret: string };
  if (env.CONSOLE_OIDC_ISSUER) {
    if (!env.CONSOLE_OIDC_CLIENT_ID || !env.CONSOLE_OIDC_CLIENT_SECRET || !env.CONSOLE_COOKIE_SECRET)
      throw new Error('CONSOLE_OIDC_ISSUER needs CONSOLE_OIDC_CLIENT_ID, CONSOLE_OIDC_CLIENT_SECRET and CONSOLE_COOKIE_SECRET');
    oidc = { issuer: env.CONSOLE_OIDC_ISSUER, clientId: env.CONSOLE_OIDC_CLIENT_ID, clientSecret: env.CONSOLE_OIDC_CLIENT_SECRET };
  } else {
    idp = await startDevIdp({ redirectUris: [`${publicUrl}/console/callback`], postLogoutRedirectUris: [`${publicUrl}/console/signed-out`], accounts: devAccounts(options.schemes) });
    oidc = { issuer: idp.issuer, clientId: DEV_CLIENT.id, clientSecret: DEV_CLIENT.secret };
  }
  const app = Fastify({ logger: false });
  await app.register(consolePlugin, {
    prefix: '/console',
    client: options.client,
    publicUrl,
    oidc,
    cookieSecret: env.CONSOLE_COOKIE_SECRET ?? randomBytes(32).toString('base64url'),
    ...(env.CONSOLE_ROLES_CLAIM && { claims: { rolesClaim: env.CONSOLE_ROLES_CLAIM } }),
    ...(env.CONSOLE_SCHEMES_CLAIM && { claims: { schemesClaim: env.CONSOLE_SCHEMES_CLAIM } }),
  });
  app.get('/', async (_request, reply) => reply.redirect('/console/', 303));
  await app.listen({ port, host });
  return {
    url: `${publicUrl}/console/`,
    app,
    ...(idp && { idp, accounts: idp.accounts }),
    async close() {
      await app.close();
      await idp?.close();
    },
  };
}

/** What `npm start` and `npm run console` print: the address and the dev accounts. */
export function describeConsole(server: ConsoleServer): string {
  const lines = [`Console: ${server.url}`];
  if (server.accounts) {
    lines.push(`  Dev sign-in (local IdP at ${server.idp?.issuer}; any password):`);
    for (const a of server.accounts) lines.push(`    ${a.login.padEnd(6)} ${a.roles.join(', ')}`);
  }
  return lines.join('\n');
}
