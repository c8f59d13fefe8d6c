// The console plugin inside a host app that already parses cookies and forms (as the FHIR gateway
// does): it registers beside them, and refuses what has no session before touching the engine.
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import type { PathwayClient } from '../../../client';
import { consolePlugin } from '../../../console/plugin';

describe('console plugin in a host app', () => {
  it('registers beside the host\'s own cookie and form parsers and refuses requests without a session', async () => {
    const touched: string[] = [];
    const client = new Proxy({}, { get: (_t, name) => (touched.push(String(name)), () => Promise.reject(new Error('no engine here'))) }) as PathwayClient;
    const app = Fastify();
    await app.register(cookie, { secret: 'the-host-app-own-secret-0123456789' });
    await app.register(formbody);
    await app.register(consolePlugin, {
      prefix: '/console',
      client,
      publicUrl: 'http://127.0.0.1:1',
      oidc: { issuer: 'http://127.0.0.1:1', clientId: 'c', clientSecret: 's' },
      cookieSecret: 'console-secret-0123456789abcdefghijkl',
    });
    const css = await app.inject({ method: 'GET', url: '/console/assets/console.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-security-policy']).toMatch(/script-src 'self'/);
    const page = await app.inject({ method: 'GET', url: '/console/escalations' });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/console/login');
    const forged = await app.inject({ method: 'POST', url: '/console/cases/case-x/commands/EXTENSION.APPROVE', payload: '_csrf=x', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: 'console_sid=forged.sig' } });
    expect(forged.statusCode).toBe(401);
    expect(touched).toEqual([]);
    await app.close();
  });
});

describe('console plugin errors', () => {
  it('answers sign-in with an unreachable IdP with a 503 page that quotes no error', async () => {
    const app = Fastify();
    const client = {} as PathwayClient;
    await app.register(consolePlugin, {
      prefix: '/console',
      client,
      publicUrl: 'http://127.0.0.1:1',
      oidc: { issuer: 'http://127.0.0.1:1', clientId: 'c', clientSecret: 's' },
      cookieSecret: 'console-secret-0123456789abcdefghijkl',
    });
    const login = await app.inject({ method: 'GET', url: '/console/login' });
    expect(login.statusCode).toBe(503);
    expect(login.body).toContain('Sign-in unavailable');
    expect(login.body).not.toContain('ECONNREFUSED');
    await app.close();
  });
});
