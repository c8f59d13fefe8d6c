// A real OpenID Connect provider on a loopback port, for `npm start`, `npm run console` and the
// tests: the console signs in against it exactly as it would against an organisation's IdP. Its
// accounts are seeded (one per role) and its login form is oidc-provider's own development form,
// which checks only that the account exists: never expose it beyond loopback.
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import Provider from 'oidc-provider';

export interface DevAccount {
  /** What to type in the login field. */
  login: string;
  name: string;
  roles: string[];
  schemes: string[];
}

export const DEV_CLIENT = { id: 'pathway-console', secret: 'dev-console-secret-not-for-production' } as const;

export function devAccounts(schemes: string[]): DevAccount[] {
  return [
    { login: 'sup-1', name: 'Sam Supervisor', roles: ['supervisor'], schemes },
    { login: 'lw-1', name: 'Lee Link-Worker', roles: ['linkWorker'], schemes },
    { login: 'mgr-1', name: 'Morgan Manager', roles: ['manager'], schemes },
  ];
}

export interface DevIdp {
  issuer: string;
  accounts: DevAccount[];
  close(): Promise<void>;
}

/**
 * Starts the provider. `redirectUris` are the console's callback URLs (exact match, as any IdP
 * requires); accounts carry their roles and schemes in `roles` and `schemes` claims of the ID token.
 */
export async function startDevIdp(options: { redirectUris: string[]; postLogoutRedirectUris?: string[]; accounts: DevAccount[]; port?: number }): Promise<DevIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const issuer = `http://localhost:${(server.address() as AddressInfo).port}`;
  const byLogin = new Map(options.accounts.map((a) => [a.login, a]));
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: DEV_CLIENT.id,
        client_secret: DEV_CLIENT.secret,
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: options.postLogoutRedirectUris ?? [],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    claims: { openid: ['sub'], profile: ['name'], console: ['roles', 'schemes'] },
    scopes: ['openid', 'profile', 'console'],
    // The console reads roles from the ID token, as it would from an organisation's IdP.
    conformIdTokenClaims: false,
    // A first-party client: no consent screen, the grant covers what the console asks for.
    async loadExistingGrant(ctx) {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid profile console');
      await grant.save();
      return grant;
    },
    async findAccount(_ctx, id) {
      const account = byLogin.get(id);
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, name: account.name, roles: account.roles, schemes: account.schemes };
        },
      };
    },
    features: {
      devInteractions: { enabled: true },
      // Signing out of the console signs out here too; the confirmation page is plain (the
      // default one fetches a web font, which a closed network refuses slowly).
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx: { body: string }, form: string) {
          ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign out</title></head><body><main><h1>Sign out of the dev identity provider?</h1>${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button> <button type="submit" form="op.logoutForm">No, stay signed in</button></main></body></html>`;
        },
      },
    },
    cookies: { keys: ['dev-idp-cookie-key-not-for-production'] },
    ttl: { Session: 3600, Interaction: 600, Grant: 3600, IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60 },
  });
  // Its dev-mode warnings say what this file's header says.
  provider.on('server_error', () => undefined);
  server.on('request', provider.callback());
  return {
    issuer,
    accounts: options.accounts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
