import { z } from 'zod';
import { safeIdSchema } from './ids';
import { MAX_TAG, MAX_TAGS } from './limits';

/**
 * Who may refer, as the brief lists them; a scheme's policy says which of these it accepts.
 * `secondaryMentalHealth` (community and secondary mental-health teams) is named by seed 003's link
 * workers, beside social services, as a source of referrals, and "Mental health services" is one of
 * the care settings the PRSB Social Prescribing Information Standard covers; the standard's other
 * settings (general practice, acute, community, social care, pharmacy) already have a route here.
 */
export const referralRouteSchema = z.enum([
  'GP',
  'practiceNurse',
  'communityNurse',
  'pharmacist',
  'hospital',
  'secondaryMentalHealth',
  'adultSocialCare',
  'localAuthority',
  'vcs',
  'communityOutreach',
  'self',
  'familyOrFriend',
]);
export type ReferralRoute = z.infer<typeof referralRouteSchema>;
export const REFERRAL_ROUTES: readonly ReferralRoute[] = referralRouteSchema.options;

const tag = z.string().min(1).max(MAX_TAG);
const tags = z.array(tag).max(MAX_TAGS, { error: `at most ${MAX_TAGS}` }).default([]);

/**
 * The facts the pathway decides on and nothing else: no name, contact details, NHS number or date
 * of birth. Those stay in the host system; the machine's context is carried through Temporal
 * history and continue-as-new, so whatever is here is copied many times. Unknown keys are stripped
 * rather than rejected, so a host passing a fuller referral leaks nothing into the case.
 */
export const referralFactsSchema = z.object({
  referralId: safeIdSchema,
  schemeId: safeIdSchema,
  route: referralRouteSchema,
  age: z.int().min(0).max(130),
  area: z.string().min(1).max(MAX_TAG),
  targetGroups: tags,
  needs: tags,
  flags: tags,
  consent: z.boolean(),
  riskFlags: tags,
  referredAt: z.int().nonnegative(),
});
export type ReferralFacts = z.output<typeof referralFactsSchema>;

/** Copies only the schema's fields, so an unparsed object handed to the machine cannot carry extras in. */
export function pickReferralFacts(input: ReferralFacts): ReferralFacts {
  const { referralId, schemeId, route, age, area, targetGroups, needs, flags, consent, riskFlags, referredAt } = input;
  return {
    referralId,
    schemeId,
    route,
    age,
    area,
    targetGroups: [...targetGroups],
    needs: [...needs],
    flags: [...flags],
    consent,
    riskFlags: [...riskFlags],
    referredAt,
  };
}
