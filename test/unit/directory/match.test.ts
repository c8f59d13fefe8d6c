// Matching over a real SQLite directory: needs by term (and the terms under it) or by activity
// category, barriers as filters, ranked and explained as docs/directory.md says, services already
// tried left out, and needs nothing met recorded in the gap register per area and category.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importDirectory, openDirectory, SqlDirectory, UnknownNeedError } from '../../../directory';
import { milesBetween } from '../../../directory/match';
import { SAMPLE_GAPS } from '../../../directory/sample/generate';
import { digitFree } from '../../../machines/ids';

const scheme = () => `scheme-${digitFree(randomBytes(4).toString('hex'))}`;
const open: SqlDirectory[] = [];
afterEach(async () => {
  for (const d of open.splice(0)) await d.close();
});

const TERMS = {
  social: { id: 'term-social', code: 'social-connection', name: 'Social connection' },
  loneliness: { id: 'term-lonely', code: 'loneliness', name: 'Loneliness and isolation', parent_id: 'term-social' },
  lunch: { id: 'term-lunch', code: 'lunch-clubs', name: 'Lunch clubs', parent_id: 'term-social' },
  befriending: { id: 'term-befriend', code: 'befriending', name: 'Befriending', parent_id: 'term-social' },
  walking: { id: 'term-walk', code: 'walking-groups', name: 'Walking groups', parent_id: 'term-active' },
  active: { id: 'term-active', code: 'physical-activity', name: 'Physical activity' },
  swimming: { id: 'term-swim', code: 'swimming', name: 'Swimming', parent_id: 'term-active' },
  transport: { id: 'term-transport', code: 'transport-provided', name: 'Transport provided' },
};

interface Spec {
  id: string;
  name: string;
  terms: Array<keyof typeof TERMS>;
  at?: { lat: number; lon: number; area: string; stepFree: boolean; bus?: boolean };
  areas?: string[];
  cost?: number;
  schedule?: { byday: string; opens_at: string; closes_at: string };
  status?: string;
}

function service(s: Spec): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    status: s.status ?? 'active',
    organization: { id: 'org-test', name: 'Test Trust' },
    service_at_locations: s.at
      ? [
          {
            id: `sal-${s.id}`,
            location: {
              id: `loc-${s.id}`,
              latitude: s.at.lat,
              longitude: s.at.lon,
              ...(s.at.bus && { transportation: 'Bus stops outside' }),
              addresses: [{ region: s.at.area, postal_code: 'NV2 1AB' }],
              accessibility: [{ description: s.at.stepFree ? 'Step-free access throughout' : 'Steps to the entrance, no ramp' }],
            },
          },
        ]
      : [],
    service_areas: (s.areas ?? []).map((name) => ({ name })),
    attributes: s.terms.map((t) => ({ id: `attr-${s.id}-${t}`, taxonomy_term: TERMS[t] })),
    cost_options: s.cost ? [{ id: `cost-${s.id}`, amount: s.cost, currency: 'GBP' }] : [],
    schedules: s.schedule ? [{ id: `sched-${s.id}`, ...s.schedule }] : [],
  };
}

const HOME = { latitude: 53.46, longitude: -1.43 };
const SERVICES: Spec[] = [
  { id: 'svc-cafe', name: 'Riverside Friendship Cafe', terms: ['loneliness'], at: { lat: 53.47, lon: -1.43, area: 'Riverside', stepFree: true, bus: true }, schedule: { byday: 'TU', opens_at: '10:00', closes_at: '12:00' } },
  { id: 'svc-lunch', name: 'Riverside Lunch Club', terms: ['lunch', 'loneliness', 'transport'], at: { lat: 53.5, lon: -1.43, area: 'Riverside', stepFree: false }, cost: 3, schedule: { byday: 'WE', opens_at: '12:00', closes_at: '14:00' } },
  { id: 'svc-phone', name: 'Northvale Telephone Befriending', terms: ['befriending', 'social'], areas: ['Riverside', 'Moorside'] },
  { id: 'svc-walk', name: 'Riverside Health Walk', terms: ['walking', 'active'], at: { lat: 53.465, lon: -1.43, area: 'Riverside', stepFree: true } },
  { id: 'svc-pool', name: 'Closed Pool', terms: ['swimming'], at: { lat: 53.46, lon: -1.43, area: 'Riverside', stepFree: true }, status: 'inactive' },
  { id: 'svc-moor', name: 'Moorside Friendship Cafe', terms: ['loneliness'], at: { lat: 53.51, lon: -1.52, area: 'Moorside', stepFree: true } },
];

async function directory(now = () => 5_000): Promise<{ d: SqlDirectory; schemeId: string }> {
  const d = await openDirectory(':memory:', { now });
  open.push(d);
  const schemeId = scheme();
  const report = await d.importRecords(schemeId, SERVICES.map(service));
  expect(report.refused).toEqual([]);
  return { d, schemeId };
}

describe('matching', () => {
  it('ranks by needs met, then nearness, free and step-free, and explains each answer', async () => {
    const { d, schemeId } = await directory();
    const results = await d.match({ schemeId, needs: ['loneliness'], area: 'Riverside', near: HOME });
    const cafeMiles = milesBetween(HOME, { latitude: 53.47, longitude: -1.43 });
    const lunchMiles = milesBetween(HOME, { latitude: 53.5, longitude: -1.43 });
    expect(cafeMiles.toFixed(1)).toBe('0.7');
    expect(results).toEqual([
      expect.objectContaining({ serviceId: 'svc-cafe', explanation: 'matches loneliness; step-free; free; 0.7 miles', score: Math.round((10 + 1 + 1 + 3 * (1 - cafeMiles / 5)) * 100) / 100, miles: 0.7 }),
      expect.objectContaining({ serviceId: 'svc-lunch', explanation: `matches loneliness; ${lunchMiles.toFixed(1)} miles`, score: Math.round((10 + 3 * (1 - lunchMiles / 5)) * 100) / 100 }),
    ]);
    expect(results[0]!.organizationName).toBe('Test Trust');
  });

  it('a broad term finds the services tagged with the terms under it', async () => {
    const { d, schemeId } = await directory();
    const ids = (await d.match({ schemeId, needs: ['social-connection'], area: 'Riverside' })).map((r) => r.serviceId);
    expect(ids.sort()).toEqual(['svc-cafe', 'svc-lunch', 'svc-phone']);
    const label = (await d.match({ schemeId, needs: ['social-connection'], area: 'Riverside' })).find((r) => r.serviceId === 'svc-phone')!.explanation;
    expect(label).toBe('matches social connection; free');
  });

  it('a need may be an activity category of the plan', async () => {
    const { d, schemeId } = await directory();
    const results = await d.match({ schemeId, needs: ['connecting', 'active'], area: 'Riverside' });
    expect(results.map((r) => r.serviceId).sort()).toEqual(['svc-cafe', 'svc-lunch', 'svc-phone', 'svc-walk']);
    expect(results.find((r) => r.serviceId === 'svc-walk')!.explanation).toBe('matches active; step-free; free');
  });

  it('barriers are filters: step-free, free, transport, the area', async () => {
    const { d, schemeId } = await directory();
    const ids = async (q: Record<string, unknown>) => (await d.match({ schemeId, needs: ['loneliness'], ...q })).map((r) => r.serviceId).sort();
    expect(await ids({ area: 'Riverside', needsStepFree: true })).toEqual(['svc-cafe']);
    expect(await ids({ area: 'Riverside', needsFree: true })).toEqual(['svc-cafe']);
    expect(await ids({ area: 'Moorside' })).toEqual(['svc-moor']);
    expect(await ids({})).toEqual(['svc-cafe', 'svc-lunch', 'svc-moor']);
    const transport = await d.match({ schemeId, needs: ['loneliness'], area: 'Riverside', needsTransport: true });
    expect(transport.map((r) => [r.serviceId, r.explanation])).toEqual([
      ['svc-cafe', 'matches loneliness; step-free; free; on a bus route'],
      ['svc-lunch', 'matches loneliness; transport provided'],
    ]);
    expect(await ids({ near: HOME, maxMiles: 1 })).toEqual(['svc-cafe']);
  });

  it('day and time: a timetable must fit; a service by arrangement stays, ranked lower', async () => {
    const { d, schemeId } = await directory();
    const tuesday = await d.match({ schemeId, needs: ['social-connection'], area: 'Riverside', day: 'TU' });
    expect(tuesday.map((r) => [r.serviceId, r.explanation])).toEqual([
      ['svc-cafe', 'matches social connection; step-free; free; Tuesdays 10:00-12:00'],
      ['svc-phone', 'matches social connection; free; times by arrangement'],
    ]);
    expect((await d.match({ schemeId, needs: ['loneliness'], area: 'Riverside', day: 'TU', time: '11:00' })).map((r) => r.serviceId)).toEqual(['svc-cafe']);
    expect(await d.match({ schemeId, needs: ['loneliness'], area: 'Riverside', day: 'TU', time: '12:00' })).toEqual([]);
  });

  it('leaves out the services already tried, and inactive or removed ones', async () => {
    const { d, schemeId } = await directory();
    const results = await d.match({ schemeId, needs: ['loneliness'], area: 'Riverside', excludeServiceIds: ['svc-cafe'] });
    expect(results.map((r) => r.serviceId)).toEqual(['svc-lunch']);
    await d.importRecords(schemeId, SERVICES.filter((s) => s.id !== 'svc-lunch').map(service));
    expect(await d.match({ schemeId, needs: ['loneliness'], area: 'Riverside', excludeServiceIds: ['svc-cafe'] })).toEqual([]);
  });

  it('answers from the latest import: a renamed service shows its new name', async () => {
    const { d, schemeId } = await directory();
    expect((await d.match({ schemeId, needs: ['walking-groups'] }))[0]!.name).toBe('Riverside Health Walk');
    await d.importRecords(schemeId, SERVICES.map((s) => service(s.id === 'svc-walk' ? { ...s, name: 'Riverside Canal Walk' } : s)));
    expect((await d.match({ schemeId, needs: ['walking-groups'] }))[0]!.name).toBe('Riverside Canal Walk');
  });

  it('an unknown need is refused by name, with the needs the directory knows', async () => {
    const { d, schemeId } = await directory();
    const err = await d.match({ schemeId, needs: ['lonliness'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownNeedError);
    expect((err as UnknownNeedError).known).toEqual(expect.arrayContaining(['loneliness', 'connecting', 'swimming']));
  });

  it('answers the same order every time, and at most `limit`', async () => {
    const { d, schemeId } = await directory();
    const a = await d.match({ schemeId, needs: ['connecting', 'active'] });
    const b = await d.match({ schemeId, needs: ['connecting', 'active'] });
    expect(a).toEqual(b);
    expect(await d.match({ schemeId, needs: ['connecting', 'active'], limit: 2 })).toEqual(a.slice(0, 2));
  });
});

describe('the gap register', () => {
  it('records each need no service met, per area and category, counting repeats', async () => {
    let now = 5_000;
    const { d, schemeId } = await directory(() => now);
    expect(await d.match({ schemeId, needs: ['swimming', 'loneliness'], area: 'Riverside' })).toHaveLength(2);
    now = 6_000;
    expect(await d.match({ schemeId, needs: ['swimming'], area: 'Riverside' })).toEqual([]);
    await d.match({ schemeId, needs: ['loneliness'], area: 'Eastfield' });
    await d.match({ schemeId, needs: ['active'] , area: 'Moorside' });
    // A preview does not count; a need met does not either.
    await d.match({ schemeId, needs: ['swimming'], area: 'Riverside', recordUnmet: false });
    expect(await d.unmetNeeds(schemeId)).toEqual([
      { area: 'Riverside', need: 'swimming', category: 'active', times: 2, firstSeen: 5_000, lastSeen: 6_000 },
      { area: 'Eastfield', need: 'loneliness', category: 'connecting', times: 1, firstSeen: 6_000, lastSeen: 6_000 },
      { area: 'Moorside', need: 'active', category: 'active', times: 1, firstSeen: 6_000, lastSeen: 6_000 },
    ]);
    // Needs tried for everywhere and not met are kept apart from any one area's.
    await d.match({ schemeId, needs: ['swimming'] });
    expect((await d.unmetNeeds(schemeId)).find((u) => u.area === undefined)).toMatchObject({ need: 'swimming', times: 1 });
    // Each scheme has its own register.
    expect(await d.unmetNeeds(scheme())).toEqual([]);
  });

  it('counts a period\'s gaps, and sums them by area and activity category for the cohort report', async () => {
    let now = 1_000;
    const { d, schemeId } = await directory(() => now);
    await d.match({ schemeId, needs: ['swimming'], area: 'Riverside' });
    now = 2_000;
    await d.match({ schemeId, needs: ['swimming'], area: 'Riverside' });
    await d.match({ schemeId, needs: ['physical-activity'], area: 'Eastfield' });
    await d.match({ schemeId, needs: ['walking-groups'], area: 'Eastfield' });
    await d.match({ schemeId, needs: ['loneliness'], area: 'Eastfield' });
    now = 3_000;
    await d.match({ schemeId, needs: ['walking-groups'], area: 'Eastfield' });
    expect(await d.unmetNeeds(schemeId, { from: 2_000, to: 3_000 })).toEqual([
      { area: 'Eastfield', need: 'loneliness', category: 'connecting', times: 1, firstSeen: 2_000, lastSeen: 2_000 },
      { area: 'Eastfield', need: 'physical-activity', category: 'active', times: 1, firstSeen: 2_000, lastSeen: 2_000 },
      { area: 'Eastfield', need: 'walking-groups', category: 'active', times: 1, firstSeen: 2_000, lastSeen: 2_000 },
      { area: 'Riverside', need: 'swimming', category: 'active', times: 1, firstSeen: 2_000, lastSeen: 2_000 },
    ]);
    expect(await d.unmetNeedsByCategory(schemeId)).toEqual([
      { area: 'Eastfield', category: 'active', times: 3, needs: ['walking-groups', 'physical-activity'] },
      { area: 'Riverside', category: 'active', times: 2, needs: ['swimming'] },
      { area: 'Eastfield', category: 'connecting', times: 1, needs: ['loneliness'] },
    ]);
  });

  it('a need met only by services already tried is a gap', async () => {
    const { d, schemeId } = await directory();
    await d.match({ schemeId, needs: ['loneliness'], area: 'Moorside', excludeServiceIds: ['svc-moor'] });
    expect(await d.unmetNeeds(schemeId)).toEqual([expect.objectContaining({ area: 'Moorside', need: 'loneliness', times: 1 })]);
  });
});

describe('the sample directory', () => {
  it('answers a link worker\'s search with explained, step-free matches in the area', async () => {
    const d = await openDirectory(':memory:');
    open.push(d);
    const schemeId = scheme();
    await importDirectory(d, schemeId, join(__dirname, '../../../directory/sample/services.json'));
    const results = await d.match({ schemeId, needs: ['loneliness'], area: 'Moorside', needsStepFree: true });
    expect(results.length).toBeGreaterThan(2);
    for (const r of results) expect(r.explanation).toMatch(/^matches loneliness; step-free/);
    for (const r of results) expect((await d.getService(schemeId, r.serviceId))!.stepFree).toBe(true);
    // The gaps the sample leaves on purpose come out in the register.
    for (const gap of SAMPLE_GAPS) expect(await d.match({ schemeId, needs: [gap.term], area: gap.area })).toEqual([]);
    const register = await d.unmetNeeds(schemeId);
    expect(register.map((u) => `${u.area}/${u.need}`).sort()).toEqual(SAMPLE_GAPS.map((g) => `${g.area}/${g.term}`).sort());
  });
});
