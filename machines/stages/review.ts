import type { ReviewRecord } from '../context';
import { scoreMeasure } from '../measures';
import { befriendingHandoff, extensionNeedsApproval } from '../policy';
import { stageTimer, withStageTimers } from '../timers';
import { extensionAllowed, extensionWeeksOf } from './extension';
import { escalate, eventMeasuresAcceptable, holdFrom, overdue, payload, timeOf, update, type Args } from './kit';

/* The review at the end of support: discharge as connected, ask for an extension, or hand off to befriending. */

export const reviewGuards = {
  reviewDischarges: ({ context, event }: Args) =>
    eventMeasuresAcceptable(context, event) && payload(event, 'REVIEW.RECORD').outcome === 'discharge',
  reviewExtends: ({ context, event }: Args) => {
    const e = payload(event, 'REVIEW.RECORD');
    return eventMeasuresAcceptable(context, event) && e.outcome === 'extend' && extensionAllowed(context, extensionWeeksOf(context, e));
  },
  /** An allowed extension the link worker's review grants itself (extension.approvedBy 'linkWorker'). */
  reviewGrantsExtension: ({ context, event }: Args) => {
    const e = payload(event, 'REVIEW.RECORD');
    return (
      !extensionNeedsApproval(context.policy) &&
      eventMeasuresAcceptable(context, event) &&
      e.outcome === 'extend' &&
      extensionAllowed(context, extensionWeeksOf(context, e))
    );
  },
  /** Only where the scheme hands off to befriending (befriending.handoff). */
  reviewBefriends: ({ context, event }: Args) =>
    befriendingHandoff(context.policy) && eventMeasuresAcceptable(context, event) && payload(event, 'REVIEW.RECORD').outcome === 'befriend',
};

export const reviewActions = {
  openReview: update({
    timers: ({ context, event }) =>
      withStageTimers(context.timers, stageTimer('reviewGrace', timeOf(context, event) + context.policy.deadlines.reviewGrace)),
  }),
  recordReview: update(({ context, event }) => {
    const e = payload(event, 'REVIEW.RECORD');
    const review: ReviewRecord = {
      at: e.at,
      measures: e.measures.map(scoreMeasure),
      goalsMet: e.goalsMet,
      outcome: e.outcome,
      ...(e.outcome === 'extend' && { extensionWeeks: extensionWeeksOf(context, e) }),
      ...(e.durationMinutes !== undefined && { durationMinutes: e.durationMinutes }),
      ...(e.personAccount !== undefined && { personAccount: e.personAccount }),
    };
    return { review, priorReviews: context.review ? [...context.priorReviews, context.review] : context.priorReviews };
  }),
};

export const review = {
  on: {
    'SAFEGUARDING.RAISE': holdFrom('review'),
    'REVIEW.RECORD': [
      {
        guard: 'reviewDischarges',
        target: '#discharged',
        actions: ['recordReview', { type: 'recordDischarge', params: { reason: 'connected' } }, 'releasePlace'],
      },
      { guard: 'reviewGrantsExtension', target: 'support', actions: ['recordReview', 'grantExtension', 'resumeSupport'] },
      {
        guard: 'reviewExtends',
        target: 'extensionPending',
        actions: ['recordReview', 'requestExtension', ...escalate('EXTENSION_APPROVAL', 'extensionPending')],
      },
      { guard: 'reviewBefriends', target: 'befriendingHandoff', actions: ['recordReview', 'startBefriending', 'requestBefriending'] },
    ],
    'DEADLINE.REVIEW_GRACE': overdue('REVIEW_OVERDUE', 'review'),
  },
} as const;
