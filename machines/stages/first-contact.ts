import { arm, disarm, stageTimer, withStageTimers } from '../timers';
import { holdFrom, overdue, payload, timeOf, update, type Args } from './kit';

/*
 * First contact: the link worker tries to reach the person, within the scheme's first-attempt
 * deadline and contact window, for at most its number of attempts.
 */

export const firstContactGuards = {
  contactReached: ({ event }: Args) => payload(event, 'CONTACT.ATTEMPT').outcome === 'reached',
  contactAttemptsExhausted: ({ context, event }: Args) =>
    payload(event, 'CONTACT.ATTEMPT').outcome !== 'reached' &&
    context.contact.attempts.length + 1 >= context.policy.contact.maxAttempts,
};

export const firstContactActions = {
  startFirstContact: update({
    timers: ({ context, event }) => {
      const at = timeOf(context, event);
      return withStageTimers(
        context.timers,
        stageTimer('firstAttempt', at + context.policy.contact.firstAttemptWithin),
        stageTimer('firstContact', at + context.policy.deadlines.firstContact),
      );
    },
  }),
  recordContactAttempt: update(({ context, event }) => {
    const { at, outcome, channel, durationMinutes } = payload(event, 'CONTACT.ATTEMPT');
    const first = context.contact.attempts.length === 0;
    const timers = first
      ? arm(disarm(context.timers, 'firstAttempt'), stageTimer('contactWindow', at + context.policy.contact.window))
      : context.timers;
    return {
      contact: {
        attempts: [...context.contact.attempts, { at, outcome, channel, ...(durationMinutes !== undefined && { durationMinutes }) }],
        ...(outcome === 'reached' ? { reachedAt: at } : context.contact.reachedAt !== undefined && { reachedAt: context.contact.reachedAt }),
      },
      timers,
    };
  }),
};

export const firstContact = {
  on: {
    'SAFEGUARDING.RAISE': holdFrom('firstContact'),
    'CONTACT.ATTEMPT': [
      { guard: 'contactReached', target: 'firstVisit', actions: ['recordContactAttempt', 'startFirstVisit'] },
      {
        guard: 'contactAttemptsExhausted',
        target: '#discharged',
        actions: ['recordContactAttempt', { type: 'recordDischarge', params: { reason: 'unableToContact' } }, 'releasePlace'],
      },
      { actions: 'recordContactAttempt' },
    ],
    'DEADLINE.FIRST_ATTEMPT': overdue('FIRST_CONTACT_OVERDUE', 'firstContact'),
    'DEADLINE.FIRST_CONTACT': overdue('FIRST_CONTACT_OVERDUE', 'firstContact'),
    'DEADLINE.CONTACT_WINDOW': {
      guard: 'deadlineDue',
      target: '#discharged',
      actions: [{ type: 'recordDischarge', params: { reason: 'unableToContact' } }, 'releasePlace'],
    },
  },
} as const;
