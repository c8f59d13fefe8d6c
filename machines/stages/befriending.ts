import { stageTimer, withStageTimers } from '../timers';
import { escalate, holdFrom, payload, timeOf, update, type Args } from './kit';

/* The befriending handoff: support ends by passing the person to a befriending service. */

export const befriendingGuards = {
  befriendingAccepted: ({ event }: Args) => payload(event, 'BEFRIENDING.RESULT').result === 'accepted',
  befriendingWaiting: ({ event }: Args) => payload(event, 'BEFRIENDING.RESULT').result === 'waiting',
  befriendingUnavailable: ({ event }: Args) => payload(event, 'BEFRIENDING.RESULT').result === 'unavailable',
};

export const befriendingActions = {
  startBefriending: update(({ context, event }) => {
    const at = timeOf(context, event);
    return {
      befriending: { requests: context.befriending.requests + 1, requestedAt: at },
      timers: withStageTimers(context.timers, stageTimer('befriending', at + context.policy.deadlines.befriendingWait)),
    };
  }),
  recordBefriendingResult: update({
    befriending: ({ context, event }) => {
      const e = payload(event, 'BEFRIENDING.RESULT');
      return { ...context.befriending, result: e.result, ...(e.service && { service: e.service }) };
    },
  }),
};

function befriendingGap() {
  return [
    { type: 'recordServiceGap', params: { kind: 'befriending' } },
    ...escalate('SERVICE_GAP', 'befriendingHandoff'),
    'openReview',
  ] as const;
}

export const befriendingHandoff = {
  on: {
    'SAFEGUARDING.RAISE': holdFrom('befriendingHandoff'),
    'BEFRIENDING.RESULT': [
      {
        guard: 'befriendingAccepted',
        target: '#discharged',
        actions: ['recordBefriendingResult', { type: 'recordDischarge', params: { reason: 'handedOff' } }, 'releasePlace'],
      },
      { guard: 'befriendingWaiting', actions: 'recordBefriendingResult' },
      { guard: 'befriendingUnavailable', target: 'review', actions: ['recordBefriendingResult', ...befriendingGap()] },
    ],
    // The service's wait is longer than the scheme allows: the same gap as no service at all.
    'DEADLINE.BEFRIENDING': { guard: 'deadlineDue', target: 'review', actions: befriendingGap() },
  },
} as const;
