// The sample directory: an invented borough, "Northvale", whose council publishes its community
// services as an Open Referral UK (HSDS 3.0) export. Deterministic (a seeded generator), so the
// committed services.json is what running this file writes (a test checks they agree). Every name, place and postcode
// is made up; ids hold no digits so none can look like a date or an NHS number.
//   npx tsx directory/sample/generate.ts [count]   (default 360; the bench asks for 2,000)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SOCIAL_PRESCRIBING_TERMS } from '../taxonomy';

export const SAMPLE_COUNT = 360;
export const SAMPLE_TAXONOMY = 'Northvale social prescribing needs';

/** Areas of the borough, with a centre the locations scatter around. */
export const SAMPLE_AREAS = [
  { name: 'Northvale Central', outward: 'NV1', lat: 53.48, lon: -1.47 },
  { name: 'Riverside', outward: 'NV2', lat: 53.465, lon: -1.43 },
  { name: 'Moorside', outward: 'NV3', lat: 53.51, lon: -1.52 },
  { name: 'Eastfield', outward: 'NV4', lat: 53.475, lon: -1.39 },
  { name: 'Oakbridge', outward: 'NV5', lat: 53.44, lon: -1.5 },
  { name: 'Hillcrest', outward: 'NV6', lat: 53.53, lon: -1.44 },
  { name: 'Westbrook', outward: 'NV7', lat: 53.47, lon: -1.56 },
  { name: 'Kingsmoor', outward: 'NV8', lat: 53.5, lon: -1.4 },
] as const;
export const BOROUGH = 'Northvale';

/** Gaps the sample leaves on purpose, so the gap register has something true to say. */
export const SAMPLE_GAPS: ReadonlyArray<{ area: string; term: string }> = [
  { area: 'Moorside', term: 'swimming' },
  { area: 'Riverside', term: 'mens-sheds' },
  { area: 'Kingsmoor', term: 'creative-writing' },
];

interface Template {
  names: string[];
  orgs: string[];
  also: string[];
  /** Delivered over the phone or at home: borough-wide, no venue timetable. */
  remote?: boolean;
  byAppointment?: boolean;
  chargeable?: number;
  minAge?: number;
  eligibility?: string;
}

const T: Record<string, Template> = {
  loneliness: { names: ['Friendship Cafe', 'Coffee and Chat', 'Tuesday Social', 'Chatty Bench Mornings', 'Pop-in Social'], orgs: ['Age Friendly Northvale', 'Good Neighbours Network'], also: ['mental-wellbeing'] },
  befriending: { names: ['Telephone Befriending', 'Home Visiting Befrienders', 'Good Neighbours Scheme'], orgs: ['Good Neighbours Network', 'Age Friendly Northvale'], also: ['loneliness'], remote: true, byAppointment: true, minAge: 55, eligibility: 'People aged 55 and over living alone' },
  'lunch-clubs': { names: ['Lunch Club', 'Community Lunch', 'Friday Lunch Table', 'Soup and Social'], orgs: ['Northvale Churches Together', 'Age Friendly Northvale'], also: ['loneliness'], chargeable: 0.8 },
  'mens-sheds': { names: ["Men's Shed", 'Shed and Natter', 'Workshop Wednesdays'], orgs: ["Northvale Men's Sheds"], also: ['loneliness', 'arts-crafts'] },
  carers: { names: ["Carers' Cafe", "Carers' Support Group", "Carers' Drop-in"], orgs: ['Northvale Carers Centre'], also: ['mental-wellbeing'], eligibility: 'Unpaid carers of any age' },
  volunteering: { names: ['Volunteer Centre Drop-in', 'Library Volunteers', 'Conservation Volunteers'], orgs: ['Volunteer Northvale', 'Green Northvale'], also: [] },
  'mental-wellbeing': { names: ['Peer Support Group', 'Mindfulness Group', 'Wellbeing Walk and Talk', 'Anxiety Support Circle'], orgs: ['Northvale Mind', 'Recovery College Northvale'], also: ['loneliness'] },
  'walking-groups': { names: ['Health Walk', 'Nordic Walking', 'Park Walk', 'Canal Stroll'], orgs: ['Walk Northvale', 'Northvale Leisure Trust'], also: ['mental-wellbeing'] },
  'gentle-exercise': { names: ['Chair-based Exercise', 'Tai Chi', 'Strength and Balance', 'Seated Yoga'], orgs: ['Northvale Leisure Trust', 'Age Friendly Northvale'], also: [], chargeable: 0.5 },
  dance: { names: ['Tea Dance', 'Dance for Health', 'Line Dancing'], orgs: ['Northvale Arts Collective', 'Northvale Leisure Trust'], also: ['loneliness'], chargeable: 0.6 },
  swimming: { names: ['Over-50s Swim', 'Aqua Fit', 'Quiet Swim Session'], orgs: ['Northvale Leisure Trust'], also: [], chargeable: 0.9, minAge: 50, eligibility: 'Adults aged 50 and over' },
  gardening: { names: ['Community Garden', 'Allotment Group', 'Green Gym', 'Growing Together'], orgs: ['Green Northvale', 'Northvale Allotments Association'], also: ['volunteering', 'mental-wellbeing'] },
  'arts-crafts': { names: ['Knit and Natter', 'Art Club', 'Pottery Drop-in', 'Craft Cafe'], orgs: ['Northvale Arts Collective', 'Northvale Libraries'], also: ['loneliness'], chargeable: 0.4 },
  'music-singing': { names: ['Community Choir', 'Singing for the Brain', 'Ukulele Group', 'Songs and Smiles'], orgs: ['Northvale Arts Collective', 'Northvale Memory Cafe Network'], also: ['loneliness'] },
  'creative-writing': { names: ["Writers' Circle", 'Memoir Group', 'Poetry Cafe'], orgs: ['Northvale Libraries'], also: [] },
  'benefits-advice': { names: ['Benefits Advice Clinic', 'Pension Credit Check', 'Welfare Rights Surgery'], orgs: ['Northvale Citizens Advice', 'Northvale Welfare Rights'], also: [], byAppointment: true },
  'debt-advice': { names: ['Debt Advice Drop-in', 'Money Matters', 'Budgeting Support'], orgs: ['Northvale Citizens Advice', 'Northvale Credit Union'], also: ['benefits-advice'], byAppointment: true },
  housing: { names: ['Housing Options Advice', 'Warm Homes Advice', 'Tenancy Support'], orgs: ['Northvale Housing Advice', 'Northvale Citizens Advice'], also: [], byAppointment: true },
  'digital-skills': { names: ['Get Online Sessions', 'Tablet Help Drop-in', 'Digital Buddies'], orgs: ['Northvale Libraries', 'Volunteer Northvale'], also: [] },
  employment: { names: ['Job Club', 'Skills for Work', 'Confidence to Work'], orgs: ['Northvale Works', 'Northvale Libraries'], also: ['digital-skills'] },
};

const VENUES = ['Community Centre', 'Library', "St Mary's Church Hall", 'Leisure Centre', 'Methodist Hall', 'Park Pavilion', 'Village Hall', 'Family Hub'];
const DAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA'] as const;
const SLOTS = [['09:30', '11:30'], ['10:00', '12:00'], ['10:30', '12:30'], ['12:00', '14:00'], ['13:30', '15:30'], ['14:00', '16:00'], ['18:00', '20:00']] as const;

/** mulberry32: a small seeded generator, the same numbers on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A digit-free id part: 0 → "aaa", 1 → "aab", ... */
function letters(n: number, width = 3): string {
  let s = '';
  for (let i = 0; i < width || n > 0; i++) {
    s = String.fromCharCode(97 + (n % 26)) + s;
    n = Math.floor(n / 26);
  }
  return s;
}

const slug = (s: string) => s.toLowerCase().replace(/[^a-z]+/g, '-').replace(/^-|-$/g, '');

export function generateSampleDirectory(count = SAMPLE_COUNT, seed = 21): unknown[] {
  const rnd = random(seed);
  const pick = <X>(xs: readonly X[]): X => xs[Math.floor(rnd() * xs.length)]!;
  const term = (code: string) => {
    const t = SOCIAL_PRESCRIBING_TERMS[code]!;
    return {
      id: `term-${code}`,
      code,
      name: t.name,
      ...(t.parent && { parent_id: `term-${t.parent}` }),
      taxonomy_detail: { id: 'northvale-needs', name: SAMPLE_TAXONOMY },
    };
  };
  const needs = Object.keys(T);
  // Venues: each area's halls, with their access and buses, shared by the services held there.
  const venues = SAMPLE_AREAS.flatMap((area, a) =>
    VENUES.map((venue, v) => {
      const stepFree = rnd() < 0.7;
      const id = `loc-${letters(a * VENUES.length + v)}`;
      return {
        area: area.name,
        location: {
          id,
          name: `${area.name} ${venue}`,
          latitude: Math.round((area.lat + (rnd() - 0.5) * 0.03) * 1e5) / 1e5,
          longitude: Math.round((area.lon + (rnd() - 0.5) * 0.05) * 1e5) / 1e5,
          ...(rnd() < 0.75 && { transportation: `Bus ${pick(['N', 'X', 'V'])}${1 + Math.floor(rnd() * 40)} stops outside` }),
          addresses: [
            {
              id: `addr-${letters(a * VENUES.length + v)}`,
              address_1: `${pick(['High Street', 'Church Lane', 'Station Road', 'Mill Lane', 'Park Road', 'Victoria Street'])}`,
              city: BOROUGH,
              region: area.name,
              postal_code: `${area.outward} ${1 + Math.floor(rnd() * 9)}${pick(['A', 'B', 'D', 'E', 'F', 'G', 'H', 'J'])}${pick(['L', 'N', 'P', 'Q', 'R', 'S', 'T', 'U', 'W'])}`,
              country: 'GB',
              address_type: 'physical',
            },
          ],
          accessibility: [
            stepFree
              ? { id: `acc-${letters(a * VENUES.length + v)}`, description: 'Step-free access from the street; accessible toilet', details: 'step-free' }
              : { id: `acc-${letters(a * VENUES.length + v)}`, description: 'Three steps to the entrance; no lift to the first floor', details: 'steps' },
          ],
        },
      };
    }),
  );
  const services: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const need = needs[i % needs.length]!;
    const tpl = T[need]!;
    let area = pick(SAMPLE_AREAS).name;
    while (SAMPLE_GAPS.some((g) => g.area === area && (g.term === need || tpl.also.includes(g.term)))) area = pick(SAMPLE_AREAS).name;
    const orgName = pick(tpl.orgs);
    const id = `svc-${letters(i)}`;
    const areaVenues = venues.filter((v) => v.area === area);
    const sites = tpl.remote ? [] : rnd() < 0.15 ? [pick(areaVenues), pick(areaVenues)].filter((v, k, all) => all.indexOf(v) === k) : [pick(areaVenues)];
    const name = tpl.remote ? `${BOROUGH} ${pick(tpl.names)}` : `${pick(tpl.names)}, ${sites[0]!.location.name}`;
    // Tagged at the broad level too, as councils do: a search for the broad need finds it.
    const codes = [need, SOCIAL_PRESCRIBING_TERMS[need]!.parent!, ...tpl.also.filter(() => rnd() < 0.6)];
    if ((need === 'lunch-clubs' || need === 'befriending') && rnd() < 0.3) codes.push('transport-provided');
    const charged = rnd() < (tpl.chargeable ?? 0.1);
    const days = rnd() < 0.25 ? [pick(DAYS), pick(DAYS)].filter((d, k, all) => all.indexOf(d) === k) : [pick(DAYS)];
    const [opens, closes] = pick(SLOTS);
    services.push({
      id,
      name,
      description: `${name}, run by ${orgName}. Invented for the sample directory.`,
      status: 'active',
      ...(tpl.eligibility && { eligibility_description: tpl.eligibility }),
      ...(tpl.minAge && { minimum_age: tpl.minAge }),
      organization: { id: `org-${slug(orgName)}`, name: orgName, description: `${orgName} (invented)` },
      service_at_locations: sites.map((v, k) => ({ id: `sal-${letters(i)}-${letters(k, 1)}`, location_id: v.location.id, location: v.location })),
      service_areas: tpl.remote ? SAMPLE_AREAS.map((a, k) => ({ id: `area-${letters(i)}-${letters(k, 1)}`, name: a.name })) : [{ id: `area-${letters(i)}`, name: area }],
      attributes: codes.map((code) => ({ id: `attr-${letters(i)}-${slug(code)}`, taxonomy_term_id: `term-${code}`, link_type: 'service', taxonomy_term: term(code) })),
      cost_options: charged
        ? [{ id: `cost-${letters(i)}`, option: 'Per session', amount: pick([2, 2.5, 3, 4, 5]), currency: 'GBP', amount_description: 'per session, first one free' }]
        : [],
      schedules:
        tpl.remote || tpl.byAppointment
          ? []
          : [{ id: `sched-${letters(i)}`, freq: 'WEEKLY', interval: 1, byday: days.join(','), opens_at: opens, closes_at: closes, description: 'Weekly, not on bank holidays' }],
    });
  }
  return services;
}

/** One service a line: a diff of the file shows which services changed. */
export function sampleJson(services: readonly unknown[]): string {
  return `[\n${services.map((s) => JSON.stringify(s)).join(',\n')}\n]\n`;
}

if (require.main === module) {
  const count = Number(process.argv[2] ?? SAMPLE_COUNT);
  const path = join(__dirname, 'services.json');
  writeFileSync(path, sampleJson(generateSampleDirectory(count)));
  process.stdout.write(`wrote ${count} services to ${path}\n`);
}
