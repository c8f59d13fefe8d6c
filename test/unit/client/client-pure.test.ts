// The client's pure parts: referral validation and what it derives, fingerprints, list queries,
// error mapping and the bounded pool. No server.
import { ApplicationFailure } from '@temporalio/common';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMAND_METHODS, CaseNotFoundError, CommandRefusedError, ConsentRequiredError, InvalidInputError, PathwayClient, PersonKey, hostReferralSchema } from '../../../client';
import { commandError } from '../../../client/errors';
import { normaliseName, personFingerprints } from '../../../client/person';
import { mapLimit, Semaphore } from '../../../client/pool';
import { caseListQuery, caseFiltersSchema, ledgerListQuery } from '../../../client/queries';
import { ageAt, canonicalJson, isValidNhsNumber, referralFacts } from '../../../client/referral';
import { WorkflowNotFoundError } from '@temporalio/common';
import { COMMAND_TYPES } from '../../../machines';

const person = { givenName: 'Ada', familyName: 'Example', dateOfBirth: '1944-06-02', nhsNumber: '943 476 5919' };
const base = { referralId: 'r-1', schemeId: 's-1', route: 'GP', area: 'Bogside', consent: true, person } as const;

describe('host referral', () => {
  it('accepts a minimal referral and normalises the NHS number', () => {
    const parsed = hostReferralSchema.parse(base);
    expect(parsed.person.nhsNumber).toBe('9434765919');
    expect(parsed.needs).toEqual([]);
  });

  it('checks the NHS number check digit', () => {
    expect(isValidNhsNumber('9434765919')).toBe(true);
    expect(isValidNhsNumber('9434765918')).toBe(false);
    expect(isValidNhsNumber('943476591')).toBe(false);
  });

  it('refuses unknown fields rather than carrying them', () => {
    expect(hostReferralSchema.safeParse({ ...base, notes: 'x' }).success).toBe(false);
    expect(hostReferralSchema.safeParse({ ...base, person: { ...person, address: 'x' } }).success).toBe(false);
  });

  it('refuses a referral id that holds the person\'s NHS number or date of birth, without repeating it', () => {
    for (const referralId of ['9434765919', 'gp-943-476-5919', 'Ada.Example_1944-05-20', 'ref-20051944']) {
      const result = hostReferralSchema.safeParse({ ...base, referralId });
      expect(result.success, referralId).toBe(false);
      expect(JSON.stringify(result.error!.issues.map((i) => i.message))).not.toContain(referralId);
    }
    expect(hostReferralSchema.safeParse({ ...base, referralId: 'gp-2025-00017' }).success).toBe(true);
  });

  it('derives facts with the age on the referral date and no personal details', () => {
    const parsed = hostReferralSchema.parse({ ...base, referredAt: '2024-06-01T09:00:00Z' });
    const facts = referralFacts(parsed, 0);
    expect(facts.age).toBe(79);
    expect(facts.referredAt).toBe(Date.parse('2024-06-01T09:00:00Z'));
    expect(JSON.stringify(facts)).not.toMatch(/Ada|Example|1944|9434765919/);
    // Without a referral time the time received stands in.
    expect(referralFacts(hostReferralSchema.parse(base), Date.parse('2024-06-02T00:00:00Z')).age).toBe(80);
  });

  it('counts whole years', () => {
    expect(ageAt('2000-02-29', Date.parse('2001-02-28T12:00:00Z'))).toBe(0);
    expect(ageAt('2000-02-29', Date.parse('2001-03-01T00:00:00Z'))).toBe(1);
    fc.assert(
      fc.property(fc.integer({ min: 1900, max: 2020 }), fc.integer({ min: 0, max: 100 }), (year, years) => {
        const dob = `${year}-07-15`;
        expect(ageAt(dob, Date.parse(`${year + years}-07-15T00:00:00Z`))).toBe(years);
        expect(ageAt(dob, Date.parse(`${year + years}-07-14T23:59:59Z`))).toBe(years - 1);
      }),
    );
  });
});

describe('canonical JSON', () => {
  it('is the same text for the same content in any key order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
      }),
    );
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [1, 'x'] } })).toBe('{"a":{"c":[1,"x"]},"b":1}');
  });
});

describe('person fingerprints', () => {
  const key = PersonKey.generate();

  it('fold case, accents, spacing and punctuation in names', () => {
    expect(normaliseName("O'Brien-Smith")).toBe(normaliseName(' obrien smith '));
    expect(normaliseName('Zoë')).toBe(normaliseName('ZOE'));
    const a = personFingerprints(key, { givenName: 'Mary Jane', familyName: "O'Neill", dateOfBirth: '1950-01-01' });
    const b = personFingerprints(key, { givenName: 'mary-jane', familyName: 'ONEILL', dateOfBirth: '1950-01-01' });
    expect(a).toEqual(b);
    expect(a.nhsNumber).toBeUndefined();
  });

  it('differ by key, by date of birth and by purpose, and never contain the input', () => {
    const p = { givenName: 'Ada', familyName: 'Example', dateOfBirth: '1944-06-02', nhsNumber: '9434765919' };
    const a = personFingerprints(key, p);
    expect(a.nhsNumber).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toEqual(personFingerprints(PersonKey.generate(), p));
    expect(a.nameAndDateOfBirth).not.toBe(personFingerprints(key, { ...p, dateOfBirth: '1944-06-03' }).nameAndDateOfBirth);
    expect(key.digest('nhsNumber', 'x')).not.toBe(key.digest('intake', 'x'));
    expect(JSON.stringify(key)).toBe('"[PersonKey]"');
  });

  it('refuses a key of the wrong size', () => {
    expect(() => PersonKey.fromBase64(Buffer.alloc(16).toString('base64'))).toThrow(/32 bytes/);
    expect(() => PersonKey.fromBase64(Buffer.alloc(32).toString('base64'))).not.toThrow();
  });
});

describe('list queries', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  const q = (f: object) => caseListQuery(caseFiltersSchema.parse(f), now);

  it('turns each filter into a clause on its search attribute', () => {
    expect(q({})).toBe(`WorkflowType = 'pathwayCase' AND ExecutionStatus != 'ContinuedAsNew'`);
    expect(q({ scheme: 's1', stage: 'support', linkWorker: 'lw-1', tier: 'light', escalated: true, overdue: true, open: true })).toBe(
      `WorkflowType = 'pathwayCase' AND ExecutionStatus != 'ContinuedAsNew' AND PathwayScheme = 's1' AND PathwayStage = 'support' ` +
        `AND PathwayLinkWorker = 'lw-1' AND PathwayTier = 'light' AND PathwayEscalated = true ` +
        `AND PathwayNextDue < '2025-01-01T00:00:00.000Z' AND ExecutionStatus = 'Running'`,
    );
  });

  it('finds flagged possible duplicates, and counts a never-flagged case as not one', () => {
    expect(q({ possibleDuplicate: true })).toBe(`WorkflowType = 'pathwayCase' AND ExecutionStatus != 'ContinuedAsNew' AND PathwayPossibleDuplicate = true`);
    expect(q({ possibleDuplicate: false })).toBe(
      `WorkflowType = 'pathwayCase' AND ExecutionStatus != 'ContinuedAsNew' AND (PathwayPossibleDuplicate = false OR PathwayPossibleDuplicate IS NULL)`,
    );
    expect(caseFiltersSchema.safeParse({ possibleDuplicate: 'yes' }).success).toBe(false);
  });

  it('narrows reads that query each case to one task queue', () => {
    expect(caseListQuery(caseFiltersSchema.parse({ escalated: true }), now, 'social-prescribing')).toBe(
      `WorkflowType = 'pathwayCase' AND ExecutionStatus != 'ContinuedAsNew' AND TaskQueue = 'social-prescribing' AND PathwayEscalated = true`,
    );
    expect(ledgerListQuery('q1')).toBe(`WorkflowType = 'capacityLedger' AND ExecutionStatus = 'Running' AND TaskQueue = 'q1'`);
  });

  it('finds cases by Task status and last change, keeping cases that publish neither (begun before they were published)', () => {
    expect(q({ taskStatus: ['requested', 'in-progress'], changedAfter: now, changedBefore: now + 1000 })).toBe(
      `WorkflowType = 'pathwayCase' AND ExecutionStatus != 'ContinuedAsNew' ` +
        `AND (PathwayTaskStatus IN ('requested', 'in-progress') OR PathwayTaskStatus IS NULL) ` +
        `AND (PathwayChangedAt > '2025-01-01T00:00:00.000Z' OR PathwayChangedAt IS NULL) ` +
        `AND (PathwayChangedAt < '2025-01-01T00:00:01.000Z' OR PathwayChangedAt IS NULL)`,
    );
    expect(caseFiltersSchema.safeParse({ taskStatus: [] }).success).toBe(false);
    expect(caseFiltersSchema.safeParse({ taskStatus: ["requested') OR ('x"] }).success).toBe(false);
    expect(caseFiltersSchema.safeParse({ changedAfter: 1.5 }).success).toBe(false);
    expect(caseFiltersSchema.safeParse({ changedBefore: -1 }).success).toBe(false);
  });

  it('cannot be steered by a filter value', () => {
    expect(caseFiltersSchema.safeParse({ scheme: "a' OR WorkflowType = 'capacityLedger" }).success).toBe(false);
    expect(caseFiltersSchema.safeParse({ stage: 'nowhere' }).success).toBe(false);
  });
});

describe('command errors', () => {
  it('maps the workflow validator failures to typed errors', () => {
    const refused = ApplicationFailure.create({
      type: 'CommandNotAllowed',
      message: "VISIT.RECORD refused: not a move the pathway allows at stage 'triage'",
      details: [{ command: 'VISIT.RECORD', stage: 'triage', rule: 'notAtThisStage' }],
    });
    const e = commandError('case-1', 'VISIT.RECORD', refused);
    expect(e).toBeInstanceOf(CommandRefusedError);
    expect(e).toMatchObject({ stage: 'triage', rule: 'notAtThisStage', reason: "not a move the pathway allows at stage 'triage'" });

    const invalid = ApplicationFailure.create({
      type: 'InvalidCommand',
      message: 'PLAN.DRAFT refused: goals[0].text: too short',
      details: [{ command: 'PLAN.DRAFT', issues: [{ path: ['goals', '0', 'text'], message: 'too short' }] }],
    });
    const i = commandError('case-1', 'PLAN.DRAFT', invalid);
    expect(i).toBeInstanceOf(InvalidInputError);
    expect((i as InvalidInputError).issues).toEqual([{ path: 'goals[0].text', message: 'too short' }]);

    expect(commandError('case-1', 'DISCHARGE', new WorkflowNotFoundError('gone', 'case-1', undefined))).toBeInstanceOf(CaseNotFoundError);
    const other = new Error('network');
    expect(commandError('case-1', 'DISCHARGE', other)).toBe(other);
  });
});

describe('client surface', () => {
  it('has a named method for every pathway command', () => {
    expect(Object.keys(COMMAND_METHODS).sort()).toEqual([...COMMAND_TYPES].sort());
    for (const method of Object.values(COMMAND_METHODS)) expect(typeof PathwayClient.prototype[method]).toBe('function');
    expect(PathwayClient.caseIdFor('r-1')).toBe('case-r-1');
  });
});

describe('consent at the door', () => {
  it('refuses a referral without consent before touching the server', async () => {
    // Any use of the Temporal client (start, update, query) would throw something else.
    const untouchable = new Proxy({}, { get: () => { throw new Error('the server was touched'); } });
    const client = await PathwayClient.fromClient(untouchable as never, { personKey: PersonKey.generate() });
    const err = await client.refer({ ...base, consent: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsentRequiredError);
    expect(err).toMatchObject({ code: 'CONSENT_REQUIRED', field: 'consent', referralId: 'r-1' });
    expect((err as Error).message).not.toContain('Example');
    // Invalid input is still named first.
    await expect(client.refer({ ...base, consent: false, route: 'carrierPigeon' as never })).rejects.toBeInstanceOf(InvalidInputError);
  });
});

describe('mapLimit', () => {
  it('keeps order and never exceeds the limit', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 4, 2, 3, 0], 2, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running--;
      return n * 2;
    });
    expect(out).toEqual([10, 2, 8, 4, 6, 0]);
    expect(peak).toBe(2);
    expect(await mapLimit([], 3, async () => 1)).toEqual([]);
  });
});

describe('Semaphore', () => {
  it('lets at most its limit run, in arrival order, and frees a place on failure', async () => {
    const lane = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const job = (n: number, fail = false) =>
      lane.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        order.push(n);
        running--;
        if (fail) throw new Error('boom');
        return n;
      });
    const results = await Promise.allSettled([job(1), job(2, true), job(3), job(4), job(5)]);
    expect(peak).toBe(2);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(order.slice(2)).toEqual([3, 4, 5]);
  });
});
