import { stageTimer, withStageTimers } from '../timers';
import { holdFrom, overdue, payload, timeOf, update, type Args } from './kit';

/*
 * Waiting for a place: the capacity ledger's answer to requestPlace (allocating), and the waitlist
 * when the scheme is full. Answers are recorded, then routed, so that one arriving while the case
 * is on hold is acted on when it resumes.
 */

export const allocationGuards = {
  placeHeld: ({ context }: Args) => context.place.status === 'held',
  placeWaitlisted: ({ context }: Args) => context.place.status === 'waitlisted',
};

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
    { guard: 'placeHeld', target: 'firstContact', actions: 'startFirstContact' },
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
  always: { guard: 'placeHeld', target: 'firstContact', actions: 'startFirstContact' },
  on: {
    'SAFEGUARDING.RAISE': holdFrom('waitlisted'),
    'CAPACITY.GRANTED': { actions: 'recordAllocation' },
    'CAPACITY.WAITLISTED': { actions: 'recordWaitlisting' },
    'DEADLINE.WAITLIST': overdue('LONG_WAIT', 'waitlisted'),
  },
} as const;
