// A referral as a host system sends it: who the person is (which stays with the client) and the
// facts the pathway decides on (which go into the case). The client derives the person's age and
// a duplicate-person fingerprint, and passes nothing else about them on.
import { z } from 'zod';
import { referralFactsSchema, type ReferralFacts } from '../machines';

// One definition of an NHS number's check, shared with the id rule that keeps them out of ids.
import { isValidNhsNumber, nhsCheckDigit } from '../machines/ids';
export { isValidNhsNumber, nhsCheckDigit };

/** Spaces and hyphens as people write them (`943 476 5919`) are dropped. */
export function normaliseNhsNumber(input: string): string {
  return input.replace(/[\s-]/g, '');
}

const nhsNumberSchema = z
  .string()
  .transform(normaliseNhsNumber)
  .refine((s) => /^\d{10}$/.test(s), { error: 'must be 10 digits' })
  .refine(isValidNhsNumber, { error: 'fails the NHS number check digit' });

/** A calendar date written YYYY-MM-DD that exists (no 31 April). */
export const isoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'must be a date written YYYY-MM-DD' })
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, { error: 'is not a calendar date' });

const name = z.string().trim().min(1, { error: 'must not be blank' }).max(100);

export const personSchema = z
  .object({
    nhsNumber: nhsNumberSchema.optional(),
    givenName: name,
    familyName: name,
    dateOfBirth: isoDateSchema,
    /** The host's own contact details; accepted so a host can pass its record as it is, never sent on. */
    contact: z
      .object({
        phone: z.string().max(40).optional(),
        email: z.string().max(254).optional(),
        address: z.string().max(500).optional(),
        preferred: z.enum(['phone', 'text', 'email', 'letter', 'visit']).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type Person = z.output<typeof personSchema>;

/** Epoch milliseconds, or an ISO 8601 date-time with its offset. */
export const instantSchema = z.union([
  z.int().nonnegative(),
  z.iso.datetime({ offset: true, error: 'must be epoch milliseconds or an ISO date-time with an offset' }).transform((s) => Date.parse(s)),
]);

const facts = referralFactsSchema.omit({ age: true, referredAt: true }).shape;

export const hostReferralSchema = z
  .object({
    referralId: facts.referralId,
    schemeId: facts.schemeId,
    route: facts.route,
    area: facts.area,
    targetGroups: facts.targetGroups,
    needs: facts.needs,
    flags: facts.flags,
    consent: facts.consent,
    riskFlags: facts.riskFlags,
    /** When the referrer made the referral; the time the client sends it, if absent. */
    referredAt: instantSchema.optional(),
    person: personSchema,
  })
  .strict();

/** What a host passes to `refer` (arrays may be left out; dates may be ISO text). */
export type HostReferral = z.input<typeof hostReferralSchema>;
export type ParsedReferral = z.output<typeof hostReferralSchema>;

/** Whole years from the date of birth to `at`, by the UTC calendar. */
export function ageAt(dateOfBirth: string, at: number): number {
  const [y, m, d] = dateOfBirth.split('-').map(Number) as [number, number, number];
  const now = new Date(at);
  let age = now.getUTCFullYear() - y;
  const month = now.getUTCMonth() + 1;
  if (month < m || (month === m && now.getUTCDate() < d)) age -= 1;
  return age;
}

/**
 * The facts the case workflow receives: the referral minus the person, plus the age on the day of
 * referral. Built field by field so nothing a host adds can ride along.
 */
export function referralFacts(referral: ParsedReferral, receivedAt: number): ReferralFacts {
  const referredAt = referral.referredAt ?? receivedAt;
  return {
    referralId: referral.referralId,
    schemeId: referral.schemeId,
    route: referral.route,
    age: ageAt(referral.person.dateOfBirth, referredAt),
    area: referral.area,
    targetGroups: [...referral.targetGroups],
    needs: [...referral.needs],
    flags: [...referral.flags],
    consent: referral.consent,
    riskFlags: [...referral.riskFlags],
    referredAt,
  };
}

/** JSON with object keys sorted at every level and undefined left out: equal content, equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
