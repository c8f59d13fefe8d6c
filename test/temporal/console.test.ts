// The supervisor console end to end: a real browser (Debian's Chromium through playwright-core)
// signs in through a real OIDC provider, watches the escalation queue update without a reload,
// acknowledges, approves an extension and sees the case move; a link worker finds the approval
// refused; forged requests change nothing; axe-core finds no serious or critical violations on
// any page. With CONSOLE_SCREENSHOTS=<dir> it also saves a screenshot of each page there.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PathwayClient } from '../../client';
import { describeHttpApp, startHttpApp, type HttpApp } from '../../http/server';
import { launchChromium, seriousViolations } from '../support/browser';
import { clientHarness, hostReferral, quickPolicy, self, swemwbs, uniqueScheme, worker, type ClientHarness } from './client.harness';

const shots = process.env.CONSOLE_SCREENSHOTS;

describe('supervisor console in a browser', () => {
  let h: ClientHarness;
  let client: PathwayClient;
  let http: HttpApp;
  /** The console's address on the one HTTP server. */
  let server: { url: string };
  let browser: Browser;
  const scheme = uniqueScheme('console');
  const otherScheme = uniqueScheme('elsewhere');
  let extensionCase: string;
  let otherCase: string;
  const contexts: BrowserContext[] = [];

  /** A case driven through the SDK to an extension awaiting a supervisor. */
  async function caseAwaitingExtension(): Promise<string> {
    const { case: c } = await client.refer(hostReferral(scheme));
    const id = c.caseId;
    await client.send(id, 'TRIAGE.ACCEPT', { actor: { role: 'linkWorker', id: 'lw-1' } });
    const w = worker(await client.waitFor(id, 'firstContact'));
    await client.send(id, 'CONTACT.ATTEMPT', { outcome: 'reached', channel: 'phone', actor: w });
    await client.send(id, 'VISIT.RECORD', { location: 'home', durationMinutes: 60, measures: [swemwbs([2, 2, 2, 3, 2, 2, 2])], barriers: ['transport'], actor: w });
    await client.send(id, 'PLAN.DRAFT', {
      goals: [{ id: 'g1', text: 'Back to the lunch club' }],
      activities: [{ id: 'a1', category: 'connecting', name: 'Lunch club' }],
      barrierActions: [{ barrier: 'transport', action: 'transportArranged' }],
      tier: 'standard',
      volunteer: false,
      actor: w,
    });
    await client.send(id, 'PLAN.AGREE', { party: 'person', actor: self });
    await client.send(id, 'PLAN.AGREE', { party: 'linkWorker', actor: w });
    await client.send(id, 'CHECKIN.RECORD', { measures: [swemwbs([3, 3, 3, 3, 3, 3, 3])], actor: w });
    await client.waitFor(id, 'review', { intervalMs: 100, timeoutMs: 30_000 });
    await client.send(id, 'REVIEW.RECORD', { measures: [swemwbs([4, 4, 3, 4, 4, 4, 3])], goalsMet: 'some', outcome: 'extend', extensionWeeks: 30, actor: w });
    return id;
  }

  async function signIn(login: string): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(server.url);
    // The IdP's own login form (oidc-provider's development interaction).
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    await page.waitForURL(`${server.url}**`);
    return page;
  }

  const csrfOf = (page: Page) => page.locator('form.signout input[name="_csrf"]').getAttribute('value') as Promise<string>;
  async function cookieHeader(page: Page): Promise<string> {
    return (await page.context().cookies(server.url)).map((c) => `${c.name}=${c.value}`).join('; ');
  }
  async function forge(path: string, form: Record<string, string>, cookie?: string): Promise<number> {
    const res = await fetch(new URL(path, server.url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie && { cookie }) },
      body: new URLSearchParams(form).toString(),
    });
    return res.status;
  }
  async function accessible(page: Page, name: string) {
    expect(await seriousViolations(page), name).toEqual([]);
    if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  }

  beforeAll(async () => {
    if (shots) mkdirSync(shots, { recursive: true });
    h = await clientHarness('console');
    const extension = { maxCount: 2, maxLength: 60_000 };
    client = await h.connect({ policies: { [scheme]: quickPolicy(scheme, { extension }), [otherScheme]: quickPolicy(otherScheme) } });
    await client.setRoster(scheme, [{ id: 'lw-1' }]);
    await client.setRoster(otherScheme, [{ id: 'lw-9' }]);
    [http, browser, extensionCase, otherCase] = await Promise.all([
      startHttpApp({ client, consoleSchemes: [scheme], env: { GATEWAY_LOG_LEVEL: 'silent' }, port: 0 }),
      launchChromium(),
      caseAwaitingExtension(),
      client.refer(hostReferral(otherScheme)).then((r) => r.case.caseId),
    ]);
    server = { url: http.console!.url };
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await http?.close();
    await h?.close();
  });

  it('a supervisor signs in, sees a new escalation arrive without a reload, acknowledges it and approves an extension', async () => {
    const page = await signIn('sup-1');
    expect((await page.locator('h1').textContent())?.trim()).toBe('Scheme overview');
    await accessible(page, 'overview');

    await page.goto(`${server.url}escalations`);
    const approval = page.locator(`tr[data-escalation^="${extensionCase}/"]`);
    await approval.waitFor();
    await accessible(page, 'escalations');

    // A new concern raised elsewhere (the SDK, as a host would) appears in the open page.
    await page.evaluate(() => ((globalThis as unknown as { keptAcrossPolls: number }).keptAcrossPolls = 1));
    const { case: fresh } = await client.refer(hostReferral(scheme));
    await client.send(fresh.caseId, 'SAFEGUARDING.RAISE', { category: 'selfNeglect', actor: { role: 'linkWorker', id: 'lw-1' } });
    const concern = page.locator(`tr[data-escalation^="${fresh.caseId}/"]`);
    await concern.waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (globalThis as unknown as { keptAcrossPolls?: number }).keptAcrossPolls)).toBe(1);

    await concern.getByLabel('Note').fill('Called the GP');
    await concern.getByRole('button', { name: 'Acknowledge' }).click();
    await page.waitForURL(`${server.url}escalations`);
    await concern.waitFor({ state: 'detached' });
    const acked = (await client.getCase(fresh.caseId)).timeline.find((t) => t.event === 'ESCALATION.ACK');
    expect(acked?.actor).toEqual({ role: 'supervisor', id: 'sup-1' });
    expect((await client.getCase(fresh.caseId)).escalations.find((x) => x.type === 'SAFEGUARDING')?.note).toBe('Called the GP');

    await approval.getByRole('button', { name: 'Approve extension' }).click();
    await page.waitForURL(`${server.url}escalations`);
    const moved = await client.getCase(extensionCase);
    expect(moved.stage).toBe('support');
    expect(moved.timeline.find((t) => t.event === 'EXTENSION.APPROVE')?.actor).toEqual({ role: 'supervisor', id: 'sup-1' });

    await page.goto(`${server.url}cases/${extensionCase}`);
    expect((await page.locator('#stage').textContent())?.trim()).toBe('support');
    await accessible(page, 'case');
    for (const [path, name] of [
      ['cases?stage=support', 'cases'],
      ['report', 'report'],
    ] as const) {
      await page.goto(`${server.url}${path}`);
      await accessible(page, name);
    }

    // Signing out ends the session on the server: its cookie opens nothing afterwards.
    const cookie = await cookieHeader(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The IdP confirms ending its own session, then sends the browser back to the console.
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL(`${server.url}signed-out`);
    await accessible(page, 'signed-out');
    const after = await fetch(server.url, { headers: { cookie }, redirect: 'manual' });
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toBe('/console/login');
    // Nor does the IdP let the browser straight back in: it asks for a login again.
    await page.goto(server.url);
    await page.locator('input[name="login"]').waitFor();
  });

  it('refuses a link worker the supervisor-only approval and forged requests, leaving the cases unchanged; a supervisor refuses with a reason', async () => {
    const pending = await caseAwaitingExtension();
    const before = await client.getCase(pending);
    const otherBefore = await client.getCase(otherCase);

    const lw = await signIn('lw-1');
    await lw.goto(`${server.url}cases/${pending}`);
    expect((await lw.locator('#stage').textContent())?.trim()).toBe('extensionPending');
    expect(await lw.getByRole('button', { name: 'Approve extension' }).count()).toBe(0);
    await accessible(lw, 'case-link-worker');
    await lw.goto(`${server.url}mine`);
    expect(await lw.locator(`a[href$="/cases/${pending}"]`).count()).toBe(1);
    await accessible(lw, 'my-caseload');

    const lwCookie = await cookieHeader(lw);
    const lwCsrf = await csrfOf(lw);
    const approve = `/console/cases/${pending}/commands/EXTENSION.APPROVE`;
    // The link worker's own session and token, on a supervisor's move: refused at the HTTP layer.
    expect(await forge(approve, { _csrf: lwCsrf }, lwCookie)).toBe(403);
    await lw.goto(`${server.url}escalations`);
    // No session at all.
    expect(await forge(approve, {})).toBe(401);

    const supervisor = await signIn('sup-1');
    const supCookie = await cookieHeader(supervisor);
    const supCsrf = await csrfOf(supervisor);
    // A supervisor's session without the form's token (a cross-site form post), or with another session's.
    expect(await forge(approve, {}, supCookie)).toBe(403);
    expect(await forge(approve, { _csrf: lwCsrf }, supCookie)).toBe(403);
    // A manager reads but sends no commands.
    const manager = await signIn('mgr-1');
    expect(await forge(`/console/cases/${pending}/commands/ESCALATION.ACK`, { _csrf: await csrfOf(manager), escalationId: 'esc-1' }, await cookieHeader(manager))).toBe(403);
    // Another scheme's case reads as not found, even for a supervisor with a valid token.
    expect(await forge(`/console/cases/${otherCase}/commands/DISCHARGE`, { _csrf: supCsrf, reason: 'withdrew' }, supCookie)).toBe(404);
    const page = await fetch(new URL(`cases/${otherCase}`, server.url), { headers: { cookie: supCookie } });
    expect(page.status).toBe(404);

    const after = await client.getCase(pending);
    expect(after.stage).toBe('extensionPending');
    expect(after.sequence).toBe(before.sequence);
    expect((await client.getCase(otherCase)).sequence).toBe(otherBefore.sequence);

    // The page a supervisor sees carries a strict policy: no inline script, no framing.
    const res = await fetch(server.url, { headers: { cookie: supCookie } });
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);

    // The supervisor refuses it from the queue with a reason: the case goes back to review.
    await supervisor.goto(`${server.url}escalations`);
    const row = supervisor.locator(`tr[data-escalation^="${pending}/"]`);
    await row.getByLabel('Reason').fill('Goals nearly met; review again');
    await row.getByRole('button', { name: 'Refuse extension' }).click();
    await supervisor.waitForURL(`${server.url}escalations`);
    const refused = await client.getCase(pending);
    expect(refused.stage).toBe('review');
    expect(refused.timeline.at(-1)).toMatchObject({ event: 'EXTENSION.REFUSE', actor: { role: 'supervisor', id: 'sup-1' } });
  });

  it('is served by the same listening server as the FHIR gateway, and a session cookie and a bearer token do not stand in for each other', async () => {
    const origin = new URL(server.url).origin;
    expect(http.url).toBe(origin);
    expect(http.devToken).toBeDefined();
    // What the entry points print, once: the curl line and the console, at the same address.
    const printed = describeHttpApp(http);
    expect(printed).toContain(`curl -s -X POST ${origin}/fhir/Task`);
    expect(printed).toContain(`Console: ${origin}/console/`);
    expect(printed).toMatch(/sup-1 +supervisor/);
    const bearer = { authorization: `Bearer ${http.devToken}` };
    const task = `${origin}/fhir/Task/${extensionCase}`;
    // The token reads the case over FHIR; the signed-in supervisor reads it in the console; one port.
    expect((await fetch(task, { headers: bearer })).status).toBe(200);
    const supervisor = await signIn('sup-1');
    const cookie = await cookieHeader(supervisor);
    expect(cookie).toContain('console_sid=');
    expect((await fetch(`${server.url}cases/${extensionCase}`, { headers: { cookie } })).status).toBe(200);

    // The console's session opens no FHIR endpoint: the gateway asks for a bearer token.
    const withCookie = await fetch(task, { headers: { cookie } });
    expect(withCookie.status).toBe(401);
    expect(withCookie.headers.get('www-authenticate')).toBe('Bearer');
    expect((await fetch(`${origin}/fhir/Task?owner=${scheme}`, { headers: { cookie } })).status).toBe(401);

    // The host's token opens no console page and sends no console command.
    const page = await fetch(`${server.url}cases/${extensionCase}`, { headers: bearer, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/console/login');
    const before = (await client.getCase(extensionCase)).sequence;
    const command = await fetch(new URL(`/console/cases/${extensionCase}/commands/DISCHARGE`, origin), {
      method: 'POST',
      redirect: 'manual',
      headers: { ...bearer, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: await csrfOf(supervisor), reason: 'withdrew' }).toString(),
    });
    expect(command.status).toBe(401);
    expect((await client.getCase(extensionCase)).sequence).toBe(before);
  });
});
