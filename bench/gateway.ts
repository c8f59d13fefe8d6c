// Referrals through the FHIR gateway over real HTTP against the same referrals through the SDK, on
// one server and worker in one run: slices taking turns, so both see the same machine. The ratio
// (HTTP rate / SDK rate) says what the HTTP face costs; the goal is at least 0.9.
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { HostReferral } from '../client';
import { buildApp } from '../gateway/app';
import { DEV_AUDIENCE, DEV_ISSUER, generateSigningKey, signToken } from '../gateway/dev-keys';
import { IDENTIFIER_SYSTEMS, NHS_NUMBER_SYSTEM, ROUTE_SYSTEM } from '../gateway/fhir/systems';
import { serverFlags, startStack } from './harness';
import { syntheticReferral } from './cohort';
import { flags, fmt, goal, main, mergeLoads, num, printGoals, printLoad, runLoad, writeResults, type LoadResult } from './support';
import { digitFree } from '../machines/ids';

const GOAL_RATIO = 0.9;

/** The SDK referral as the Gravity Task a GP system would send. */
function asTask(r: HostReferral) {
  return {
    resourceType: 'Task',
    status: 'requested',
    intent: 'order',
    code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
    focus: { reference: '#sr' },
    for: { reference: '#pat' },
    owner: { identifier: { system: IDENTIFIER_SYSTEMS.scheme, value: r.schemeId } },
    contained: [
      {
        resourceType: 'ServiceRequest',
        id: 'sr',
        status: 'active',
        intent: 'order',
        identifier: [{ value: r.referralId }],
        category: [{ coding: [{ system: ROUTE_SYSTEM, code: r.route }] }],
        reasonCode: (r.needs ?? []).map((code) => ({ coding: [{ code }] })),
        subject: { reference: '#pat' },
      },
      {
        resourceType: 'Patient',
        id: 'pat',
        identifier: r.person.nhsNumber ? [{ system: NHS_NUMBER_SYSTEM, value: r.person.nhsNumber }] : [],
        name: [{ given: [r.person.givenName], family: r.person.familyName }],
        birthDate: r.person.dateOfBirth,
        address: [{ district: r.area }],
      },
      { resourceType: 'Consent', id: 'consent', status: 'active', provision: { type: 'permit' } },
    ],
  };
}

main(async () => {
  const opts = flags('npm run bench:gateway -- [flags]', {
    duration: num(40, 'seconds of each path (SDK and HTTP), in slices taking turns'),
    slice: num(5, 'seconds per slice'),
    concurrency: num(16, 'callers in flight on each path'),
    ...serverFlags,
  });
  const stack = await startStack('gateway', opts, { notes: [`gateway: Fastify on 127.0.0.1, bearer JWT (ES256) verified per request; SDK and HTTP take turns in ${opts.slice} s slices`] });
  const key = await generateSigningKey();
  const app = buildApp({ client: stack.clients.pathway, auth: { jwks: key.jwks, issuer: DEV_ISSUER, audience: DEV_AUDIENCE } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/fhir/Task`;
  const run = digitFree(randomUUID().slice(0, 6));
  const scheme = `gateway-${run}`;
  const token = await signToken(key, { sub: 'bench-host', scope: 'system/Task.cru', schemes: [scheme], role: 'host', expiresIn: 3 * 3600 });

  let n = 0;
  const sdk = async () => {
    await stack.clients.pathway.refer(syntheticReferral(scheme, run, n++));
  };
  const http = async () => {
    const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json' }, body: JSON.stringify(asTask(syntheticReferral(scheme, run, n++))) });
    const body = await res.text();
    if (res.status !== 201) throw new Error(`HTTP ${res.status}: ${body.slice(0, 200)}`);
  };
  // Warm-up: the scheme's person index starts on its first referral; both paths' code is loaded.
  for (let i = 0; i < 10; i++) await sdk();
  for (let i = 0; i < 10; i++) await http();

  const slices = Math.max(1, Math.round(opts.duration / opts.slice));
  const parts: Record<'sdk' | 'http', LoadResult[]> = { sdk: [], http: [] };
  for (let k = 0; k < slices; k++) {
    // Alternate which goes first, so neither always follows the other's backlog.
    const order: Array<'sdk' | 'http'> = k % 2 === 0 ? ['sdk', 'http'] : ['http', 'sdk'];
    for (const path of order) parts[path].push(await runLoad({ label: `refer via ${path}`, seconds: opts.slice, rate: 0, concurrency: opts.concurrency, op: path === 'sdk' ? sdk : http }));
  }
  const viaSdk = mergeLoads('refer via SDK', parts.sdk);
  const viaHttp = mergeLoads('refer via HTTP (FHIR gateway)', parts.http);
  printLoad(viaSdk);
  printLoad(viaHttp);
  const ratio = viaHttp.rate / viaSdk.rate;
  const p99Ratio = viaHttp.latency.p99 / viaSdk.latency.p99;
  console.log(`  ratio HTTP / SDK: rate ${fmt(ratio, 2)}x, p99 ${fmt(p99Ratio, 2)}x`);
  const goals = [goal('gateway rate / SDK rate', ratio, '>=', GOAL_RATIO, 'x')];
  printGoals(goals);
  writeResults('gateway', { environment: stack.env, params: { ...opts, ...stack.describe }, figures: { sdk: viaSdk, http: viaHttp, ratio, p99Ratio, referralsTotal: n }, goals });
  await app.close();
  await stack.stop();
});
