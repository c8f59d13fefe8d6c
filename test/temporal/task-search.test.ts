// The FHIR Task search at a bounded cost, on a real dev server and worker through real HTTP handling:
// cases at several stages, found by status and _lastUpdated from visibility alone, and each page
// reads at most `_count` cases (counted on the client the gateway is given).
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseView, PathwayClient } from '../../client';
import { lastModifiedOf } from '../../gateway/fhir/resources';
import { clientHarness, hostReferral, lw, poll, uniqueScheme, type ClientHarness } from './client.harness';
import { gatewayHarness, type GatewayHarness } from './gateway.harness';

describe('FHIR Task search', () => {
  let h: ClientHarness;
  let client: PathwayClient;
  let g: GatewayHarness;
  let token: string;
  let reads = 0;
  const scheme = uniqueScheme('tsearch');
  /** A scheme of its own for the test of changes within one second, out of the other test's counts. */
  const quick = uniqueScheme('tsecond');

  beforeAll(async () => {
    h = await clientHarness('task-search');
    client = h.client;
    await client.setRoster(scheme, [{ id: 'lw-1' }]);
    // The gateway's client, with its case reads counted.
    const counted = new Proxy(client, {
      get(target, prop, receiver) {
        if (prop === 'getCase') {
          return (id: string) => {
            reads += 1;
            return target.getCase(id);
          };
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    g = await gatewayHarness(counted, [scheme]);
    token = await g.token();
  }, 60_000);
  afterAll(async () => {
    await g?.app.close();
    await h?.close();
  });

  const json = (r: LightMyRequestResponse) => r.json() as { total: number; entry?: Array<{ resource: { id: string; status: string } }>; link: Array<{ relation: string; url: string }> };
  /** One search, with how many cases it read. */
  const search = async (query: string) => {
    reads = 0;
    const r = await g.app.inject({ method: 'GET', url: `/fhir/Task?owner=${scheme}&${query}`, headers: { authorization: `Bearer ${token}` } });
    expect(r.statusCode, r.body).toBe(200);
    return { bundle: json(r), reads };
  };
  const ids = (b: ReturnType<typeof json>) => (b.entry ?? []).map((e) => e.resource.id).sort();
  const refer = async () => (await client.refer(hostReferral(scheme))).case.caseId;

  it('publishes a change that comes within the same second as the one before it', async () => {
    // Times compared as strings kept whole seconds: the second change was never published, and a
    // host polling _lastUpdated never saw it. Try until the two changes fall in one second.
    for (let attempt = 0; ; attempt++) {
      const id = (await client.refer(hostReferral(quick))).case.caseId;
      const referred = lastModifiedOf(await client.getCase(id))!;
      await client.send(id, 'TRIAGE.ACCEPT', { actor: lw });
      const accepted = lastModifiedOf(await client.getCase(id))!;
      expect(accepted).toBeGreaterThan(referred);
      if (Math.floor(accepted / 1000) !== Math.floor(referred / 1000) && attempt < 5) continue;
      const listed = await poll(
        () => client.listCases({ scheme: quick, changedAfter: referred }),
        (cases) => cases.some((c) => c.caseId === id),
        'the later change in visibility',
        60_000,
      );
      expect(listed.find((c) => c.caseId === id)?.changedAt).toBeGreaterThan(referred);
      return;
    }
  }, 180_000);

  it('answers exactly the Tasks of a status and a last update, and reads no more cases than a page holds', async () => {
    // Before the mark: A waits for triage, C is about to be accepted, D is declined.
    const a = await refer();
    const c = await refer();
    const d = await refer();
    await client.send(d, 'TRIAGE.DECLINE', { reason: 'outside the area', actor: lw });
    const before: CaseView[] = await Promise.all([a, c, d].map((id) => client.getCase(id)));
    const mark = Math.max(...before.map((v) => lastModifiedOf(v) ?? 0));
    const since = `_lastUpdated=gt${new Date(mark).toISOString()}`;
    // After it: B waits for triage, E is redirected, C is accepted and allocated.
    await poll(async () => Date.now(), (now) => now > mark + 5, 'the clock to pass the mark');
    const b = await refer();
    const e = await refer();
    await client.send(e, 'TRIAGE.REDIRECT', { service: 'Debt advice', reason: 'debt only', actor: lw });
    await client.send(c, 'TRIAGE.ACCEPT', { actor: lw });
    await client.waitFor(c, 'firstContact');

    const expectations: Array<[string, string[]]> = [
      ['status=requested', [a, b]],
      ['status=rejected', [d, e]],
      ['status=in-progress', [c]],
      [since, [b, c, e]],
      [`status=rejected&${since}`, [e]],
      [`status=requested,in-progress&${since}`, [b, c]],
      ['status=completed,cancelled', []],
    ];
    for (const [query, want] of expectations) {
      // Visibility lags the cases by a moment: wait until it shows them all (a busy machine can take
      // many seconds), then hold the answer to it; if it never does, the assertions show what it said.
      const shows = (s: Awaited<ReturnType<typeof search>>) => s.bundle.total === want.length && ids(s.bundle).join() === [...want].sort().join();
      let answer = await search(query);
      for (const until = Date.now() + 60_000; !shows(answer) && Date.now() < until; ) {
        await new Promise((r) => setTimeout(r, 250));
        answer = await search(query);
      }
      const { bundle, reads: read } = answer;
      expect(ids(bundle), `${query} (cases ${JSON.stringify({ a, b, c, d, e })})`).toEqual([...want].sort());
      expect(bundle.total, query).toBe(want.length);
      // Only the page's cases are read.
      expect(read, query).toBeLessThanOrEqual(want.length);
    }

    // Paging: two a page, three pages, every case once, never more than two reads a page.
    const seen: string[] = [];
    let query = '_count=2';
    for (let pages = 0; pages < 3; pages++) {
      const { bundle, reads: read } = await search(query);
      expect(bundle.total).toBe(5);
      expect(read).toBeLessThanOrEqual(2);
      seen.push(...ids(bundle));
      const next = bundle.link.find((l) => l.relation === 'next');
      if (pages < 2) {
        expect(next).toBeDefined();
        query = new URL(next!.url).search.slice(1).replace(/(^|&)owner=[^&]*/, '');
      } else expect(next).toBeUndefined();
    }
    expect(seen.sort()).toEqual([a, b, c, d, e].sort());
  }, 600_000);
});
