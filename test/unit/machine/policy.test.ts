import { describe, expect, it } from 'vitest';
import {
  DAY,
  DEFAULT_BEFRIENDING_SERVICE,
  befriendingConnectionTiming,
  befriendingServiceId,
  HOUR,
  MINUTE,
  PolicyError,
  REFERRAL_ROUTES,
  SESSION_CAP_CEILING,
  WEEK,
  countedSessionKinds,
  defaultPolicy,
  escalationAudience,
  overBudgetMode,
  maxExtensionWeeks,
  parseDuration,
  parsePolicy,
  referralFactsSchema,
  scalePolicy,
} from '../../../machines';

function issues(input: unknown): string[] {
  try {
    parsePolicy(input);
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as PolicyError).issues;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('scheme policy defaults', () => {
  it('parses an empty policy to the brief’s defaults', () => {
    const p = parsePolicy({});
    expect(p).toEqual(defaultPolicy);
    expect(p.schemeId).toBe('default');
    expect(p.eligibility.routes).toEqual(REFERRAL_ROUTES);
    expect(p.eligibility.areas).toEqual([]);
    expect(p.caseloadCap).toBe(25);
    expect(p.contact).toEqual({ maxAttempts: 3, window: 10 * DAY, firstAttemptWithin: 2 * DAY, selfReferralBooksVisit: false });
    // The pathway's optional stages are all on: today's pathway, whatever a scheme switches off.
    expect(p.waitlist).toEqual({ enabled: true });
    expect(p.befriending).toEqual({ handoff: true, serviceId: 'svc-befriending' });
    expect(p.deadlines.review).toBe(12 * WEEK);
    expect(p.deadlines.checkIn).toBe(4 * WEEK);
    expect(p.deadlines.missedSessions).toBe(2);
    expect(p.tiers.map((t) => [t.id, t.sessionCap])).toEqual([
      ['light', 2],
      ['standard', 6],
      ['intensive', 16],
    ]);
    expect(p.measures).toEqual(['SWEMWBS', 'GAD7', 'PHQ9', 'UCLA3', 'ONS4']);
  });

  it('redirects the brief’s inappropriate referrals to a suggested service', () => {
    expect(defaultPolicy.exclusions.map((e) => e.flag)).toEqual([
      'longTermSpecialistSupport',
      'severeMentalIllness',
      'severePhysicalIllness',
      'respite',
      'personalCare',
      'socialWorkCaseWork',
    ]);
    for (const rule of defaultPolicy.exclusions) expect(rule.service.length).toBeGreaterThan(0);
  });

  it('fills the defaults a partial policy leaves out', () => {
    const p = parsePolicy({ schemeId: 'hand-in-hand', eligibility: { minAge: 65 }, deadlines: { triage: '48h' } });
    expect(p.eligibility.minAge).toBe(65);
    expect(p.eligibility.maxAge).toBe(130);
    expect(p.deadlines.triage).toBe(48 * HOUR);
    expect(p.deadlines.firstVisit).toBe(14 * DAY);
  });

  it('sends the full outcome back unless the scheme asks for codes only', () => {
    expect(defaultPolicy.fhir.codesOnly).toBe(false);
    expect(parsePolicy({ fhir: { codesOnly: true } }).fhir.codesOnly).toBe(true);
    expect(() => parsePolicy({ fhir: { codesOnly: 'yes' } })).toThrow(PolicyError);
  });
});

describe('durations', () => {
  it.each([
    ['90s', 90_000],
    ['30m', 30 * MINUTE],
    ['48h', 48 * HOUR],
    ['10d', 10 * DAY],
    ['12w', 12 * WEEK],
    ['1.5d', 36 * HOUR],
    [5000, 5000],
  ])('reads %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
    expect(parsePolicy({ contact: { window: input, firstAttemptWithin: 1 } }).contact.window).toBe(ms);
  });

  it.each(['ten days', '10 fortnights', '-3d', '', '0d'])('rejects %j naming the field', (input) => {
    expect(issues({ deadlines: { checkIn: input } }).join('\n')).toMatch(/^deadlines\.checkIn: /m);
  });
});

describe('session budgets', () => {
  it('have no cap below the documented ceiling: a scheme may budget 28 sessions, or 200', () => {
    const tiers = (cap: number) => [
      { id: 'a', label: 'A', sessionCap: 2 },
      { id: 'b', label: 'B', sessionCap: 6 },
      { id: 'c', label: 'C', sessionCap: cap },
    ];
    expect(SESSION_CAP_CEILING).toBe(200);
    expect(parsePolicy({ tiers: tiers(28) }).tiers[2]!.sessionCap).toBe(28);
    expect(parsePolicy({ tiers: tiers(SESSION_CAP_CEILING) }).tiers[2]!.sessionCap).toBe(SESSION_CAP_CEILING);
    expect(() => parsePolicy({ tiers: tiers(SESSION_CAP_CEILING + 1) })).toThrow(/tiers\[2\]\.sessionCap: must be at most 200 sessions/);
  });

  it('count structured sessions and ask a supervisor past them by default', () => {
    expect(defaultPolicy.sessions).toEqual({ counted: ['homeVisit', 'officeVisit', 'video', 'accompaniedActivity'], overBudget: 'needsApproval' });
    expect(defaultPolicy.escalation).toEqual({ audiences: ['supervisor', 'manager'] });
  });

  it('read a policy parsed before the settings existed (a running case) with the same defaults', () => {
    const { sessions: _s, escalation: _e, ...carried } = defaultPolicy;
    expect(countedSessionKinds(carried)).toEqual(defaultPolicy.sessions.counted);
    expect(overBudgetMode(carried)).toBe('needsApproval');
    expect([1, 2, 3].map((level) => escalationAudience(carried, level))).toEqual(['supervisor', 'manager', 'manager']);
  });
});

describe('invalid policy names the field', () => {
  it.each([
    [{ eligibility: { minAge: 70, maxAge: 60 } }, 'eligibility.minAge'],
    [{ eligibility: { routes: ['carrierPigeon'] } }, 'eligibility.routes[0]'],
    [{ eligibility: { routes: [] } }, 'eligibility.routes'],
    [{ caseloadCap: 0 }, 'caseloadCap'],
    [{ contact: { maxAttempts: 0 } }, 'contact.maxAttempts'],
    [{ contact: { firstAttemptWithin: '6d' } }, 'contact.firstAttemptWithin'],
    [{ deadlines: { missedSessions: 1.5 } }, 'deadlines.missedSessions'],
    [{ extension: { maxCount: -1 } }, 'extension.maxCount'],
    [{ tiers: [{ id: 'a', label: 'A', sessionCap: 2 }] }, 'tiers'],
    [
      {
        tiers: [
          { id: 'a', label: 'A', sessionCap: 2 },
          { id: 'b', label: 'B', sessionCap: 6 },
          { id: 'c', label: 'C', sessionCap: SESSION_CAP_CEILING + 1 },
        ],
      },
      'tiers[2].sessionCap',
    ],
    [{ sessions: { counted: [] } }, 'sessions.counted'],
    [{ sessions: { counted: ['teaAndBiscuits'] } }, 'sessions.counted[0]'],
    [{ sessions: { overBudget: 'ignore' } }, 'sessions.overBudget'],
    [{ escalation: { audiences: [] } }, 'escalation.audiences'],
    [{ escalation: { audiences: ['the manager'] } }, 'escalation.audiences[0]'],
    [
      {
        tiers: [
          { id: 'a', label: 'A', sessionCap: 2 },
          { id: 'a', label: 'B', sessionCap: 6 },
          { id: 'c', label: 'C', sessionCap: 16 },
        ],
      },
      'tiers[1].id',
    ],
    [{ measures: ['SWEMWBS', 'WEMWBS'] }, 'measures[1]'],
    [{ measures: ['GAD7', 'GAD7'] }, 'measures[1].instrument'],
    [{ exclusions: [{ flag: 'respite', service: '', reason: 'x' }] }, 'exclusions[0].service'],
    [{ exclusions: [{ flag: 'respite', service: 'Respite', reason: 'x'.repeat(501) }] }, 'exclusions[0].reason'],
    [{ exclusions: [{ flag: 'respite', service: 's'.repeat(501), reason: 'x' }] }, 'exclusions[0].service'],
    [{ schemeId: 'has spaces' }, 'schemeId'],
  ])('%j → %s', (input, field) => {
    const found = issues(input);
    expect(found.some((issue) => issue.startsWith(`${field}: `))).toBe(true);
    expect(() => parsePolicy(input)).toThrow(field);
  });
});

describe('scalePolicy', () => {
  it('divides every duration and keeps the counts', () => {
    const fast = scalePolicy(defaultPolicy, 12 * WEEK / MINUTE);
    expect(fast.deadlines.review).toBe(MINUTE);
    expect(fast.deadlines.missedSessions).toBe(defaultPolicy.deadlines.missedSessions);
    expect(fast.contact.maxAttempts).toBe(3);
    expect(fast.contact.window).toBe(Math.round((10 * DAY) / (12 * WEEK / MINUTE)));
    expect(fast.extension.maxLength).toBeLessThan(defaultPolicy.extension.maxLength);
    expect(fast.tiers).toEqual(defaultPolicy.tiers);
    for (const [key, ms] of Object.entries(fast.deadlines)) {
      if (key !== 'missedSessions') expect(ms, key).toBeLessThan(defaultPolicy.deadlines[key as keyof typeof fast.deadlines]);
    }
  });

  it('keeps an extension’s weeks meaning the same share of the scaled time', () => {
    expect(maxExtensionWeeks(scalePolicy(defaultPolicy, 1000))).toBe(maxExtensionWeeks(defaultPolicy));
  });

  it('refuses a factor that is not positive', () => {
    expect(() => scalePolicy(defaultPolicy, 0)).toThrow(RangeError);
  });

  it('is still a policy the schema accepts', () => {
    expect(() => parsePolicy(scalePolicy(defaultPolicy, 5000))).not.toThrow();
  });
});

describe('referral facts', () => {
  const referral = {
    referralId: 'ref-1',
    schemeId: 'default',
    route: 'GP',
    age: 72,
    area: 'Whitehill',
    consent: true,
    referredAt: 0,
  };

  it('keeps only what the pathway needs, dropping anything identifying', () => {
    const parsed = referralFactsSchema.parse({ ...referral, name: 'Jo Bloggs', nhsNumber: '943 476 5919', dateOfBirth: '1950-01-01' });
    expect(parsed).not.toHaveProperty('name');
    expect(parsed).not.toHaveProperty('nhsNumber');
    expect(parsed).not.toHaveProperty('dateOfBirth');
    expect(parsed.needs).toEqual([]);
  });

  it('refuses an id that could carry free text', () => {
    expect(referralFactsSchema.safeParse({ ...referral, referralId: 'Jo Bloggs 1950' }).success).toBe(false);
  });
});

describe('the befriending handoff connection (befriending.serviceId)', () => {
  it('connects to the named service within the befriending wait, nudged only before it', () => {
    expect(befriendingConnectionTiming(parsePolicy({}))).toEqual({ serviceId: 'svc-befriending', responseDeadline: 8 * WEEK, nudges: [7 * DAY, 12 * DAY] });
    const short = parsePolicy({ befriending: { serviceId: 'svc-good-neighbours' }, deadlines: { befriendingWait: '10d' } });
    expect(befriendingConnectionTiming(short)).toEqual({ serviceId: 'svc-good-neighbours', responseDeadline: 10 * DAY, nudges: [7 * DAY] });
    // A case carried from before the field reads the default service.
    expect(befriendingServiceId({ tiers: [], befriending: { handoff: true } })).toBe(DEFAULT_BEFRIENDING_SERVICE);
    expect(() => parsePolicy({ befriending: { serviceId: 'Age UK 1' } })).toThrow(/befriending\.serviceId/);
  });
});
