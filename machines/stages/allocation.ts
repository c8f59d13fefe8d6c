import { booksVisitDirectly, waitlistAdmits } from '../policy';
import { stageTimer, withStageTimers } from '../timers';
import { holdFrom, overdue, payload, timeOf, update, type Args } from './kit';

/*
 * Waiting for a place: the capacity ledger's answer to requestPlace (allocating), and the waitlist
 * when the scheme is full. Answers are recorded, then routed, so that one arriving while the case
 * is on hold is acted on when it resumes. The policy varies the routing: a self-referral may go
 * straight to its first visit (contact.selfReferralBooksVisit), and a scheme may keep no waiting
 * list, or cap it (waitlist), declining a referral it cannot place as the scheme is full.
 */

export const allocationGuards = {
  placeHeld: ({ context }: Args) => context.place.status === 'held',
  placeWaitlisted: ({ context }: Args) => context.place.status === 'waitlisted',
  placeHeldBooksVisit: ({ context }: Args) =>
    context.place.status === 'held' && booksVisitDirectly(context.policy, context.referral.route),
  waitlistClosed: ({ context }: Args) =>
    context.place.status === 'waitlisted' && !waitlistAdmits(context.policy, context.place.position ?? 1),
};

/** A place is held: the first-contact call, or for a self-referral under the policy, the first visit at once. */
const placed = [
  { guard: 'placeHeldBooksVisit', target: 'firstVisit', actions: 'startFirstVisit' },
  { guard: 'placeHeld', target: 'firstContact', actions: 'startFirstContact' },
] as const;

export const allocationActions = {
  recordAllocation: update({
    place: ({ context, event }) => {
      const e = payload(event, 'CAPACITY.GRANTED');
      return { ...context.place, status: 'held' as const, linkWorkerId: e.linkWorkerId, grantedAt: e.at };
    },
  }),
  recordWaitlisting: update({
    place: ({ context, event }) => {
      const e = payload(event, 'CAPACITY.WAITLISTED');
      return { ...context.place, status: 'waitlisted' as const, position: e.position, waitlistedAt: context.place.waitlistedAt ?? e.at };
    },
  }),
  startWaitlist: update({
    timers: ({ context, event }) =>
      withStageTimers(context.timers, stageTimer('waitlist', timeOf(context, event) + context.policy.deadlines.waitlistMax)),
  }),
};

export const allocating = {
  always: [
    ...placed,
    { guard: 'waitlistClosed', target: '#discharged', actions: [{ type: 'recordDischarge', params: { reason: 'declined' } }, 'releasePlace'] },
    {
      guard: 'placeWaitlisted',
      target: 'waitlisted',
      actions: ['startWaitlist', { type: 'notifyReferrer', params: { kind: 'waitlisted' } }],
    },
  ],
  on: {
    'SAFEGUARDING.RAISE': holdFrom('allocating'),
    'CAPACITY.GRANTED': { actions: 'recordAllocation' },
    'CAPACITY.WAITLISTED': { actions: 'recordWaitlisting' },
  },
} as const;

export const waitlisted = {
  always: placed,
  on: {
    'SAFEGUARDING.RAISE': holdFrom('waitlisted'),
    'CAPACITY.GRANTED': { actions: 'recordAllocation' },
    'CAPACITY.WAITLISTED': { actions: 'recordWaitlisting' },
    'DEADLINE.WAITLIST': overdue('LONG_WAIT', 'waitlisted'),
  },
} as const;
