import type { PathwayContext } from '../context';
import { stageTimer, withStageTimers } from '../timers';
import { update, type Args } from './kit';

/* Screening: the scheme's appropriate-referral rules, decided from the referral alone, before triage. */

function matchingExclusion(context: PathwayContext) {
  return context.policy.exclusions.find((rule) => context.referral.flags.includes(rule.flag));
}

export const screeningGuards = {
  noConsent: ({ context }: Args) => !context.referral.consent,
  wrongScheme: ({ context }: Args) => context.referral.schemeId !== context.policy.schemeId,
  outsideAgeBand: ({ context }: Args) => {
    const { minAge, maxAge } = context.policy.eligibility;
    return context.referral.age < minAge || context.referral.age > maxAge;
  },
  areaNotServed: ({ context }: Args) => {
    const { areas } = context.policy.eligibility;
    return areas.length > 0 && !areas.includes(context.referral.area);
  },
  routeNotAccepted: ({ context }: Args) => !context.policy.eligibility.routes.includes(context.referral.route),
  targetGroupNotServed: ({ context }: Args) => {
    const { targetGroups } = context.policy.eligibility;
    return targetGroups.length > 0 && !context.referral.targetGroups.some((g) => targetGroups.includes(g));
  },
  matchesExclusion: ({ context }: Args) => matchingExclusion(context) !== undefined,
};

export const screeningActions = {
  declineOnScreening: update<{ reason: string }>(({ context }, params) => ({
    triage: { decision: 'declined' as const, at: context.receivedAt, automatic: true, reason: params.reason },
    discharge: { reason: 'declined' as const, at: context.receivedAt },
  })),
  redirectOnScreening: update(({ context }) => {
    const rule = matchingExclusion(context)!;
    return {
      triage: { decision: 'redirected' as const, at: context.receivedAt, automatic: true, reason: rule.reason, service: rule.service },
      discharge: { reason: 'redirected' as const, at: context.receivedAt },
    };
  }),
  startTriage: update({
    timers: ({ context }) => withStageTimers(context.timers, stageTimer('triage', context.receivedAt + context.policy.deadlines.triage)),
  }),
};

type ScreeningGuard = Exclude<keyof typeof screeningGuards, 'matchesExclusion'>;

function screeningDecline(guard: ScreeningGuard, reason: string) {
  return { guard, target: '#discharged', actions: { type: 'declineOnScreening', params: { reason } } } as const;
}

export const screening = {
  always: [
    screeningDecline('noConsent', 'The person has not consented to the referral'),
    screeningDecline('wrongScheme', 'The referral is for another scheme'),
    screeningDecline('outsideAgeBand', "Outside the scheme's age band"),
    screeningDecline('areaNotServed', 'The scheme does not serve this area'),
    screeningDecline('routeNotAccepted', 'The scheme does not accept referrals by this route'),
    screeningDecline('targetGroupNotServed', 'Not in a group the scheme serves'),
    { guard: 'matchesExclusion', target: '#discharged', actions: 'redirectOnScreening' },
    { target: 'triage', actions: 'startTriage' },
  ],
} as const;
