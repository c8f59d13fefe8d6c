import type { PathwayContext } from '../context';
import { acknowledge } from '../escalations';
import { maxExtensionWeeks, policyWeek } from '../policy';
import { withStageTimers } from '../timers';
import { bySupervisor, holdFrom, payload, timeOf, update, type Args, type EventOf } from './kit';
import { supportTimers } from './support';

/*
 * An extension the review asked for: a supervisor approves (support resumes) or refuses (back to
 * review); under extension.approvedBy 'linkWorker' the review grants it itself and no case waits here.
 */

export function extensionWeeksOf(context: PathwayContext, event: EventOf<'REVIEW.RECORD'>): number {
  return event.extensionWeeks ?? maxExtensionWeeks(context.policy);
}

export function extensionAllowed(context: PathwayContext, weeks: number): boolean {
  const { extension } = context.policy;
  return context.extension.count < extension.maxCount && weeks >= 1 && weeks <= maxExtensionWeeks(context.policy);
}

export const extensionGuards = {
  extensionApprovable: ({ context, event }: Args) => {
    const pending = context.extension.pending;
    return bySupervisor(event) && pending !== undefined && extensionAllowed(context, pending.weeks);
  },
};

export const extensionActions = {
  requestExtension: update(({ context, event }) => {
    const e = payload(event, 'REVIEW.RECORD');
    return {
      extension: { ...context.extension, pending: { weeks: extensionWeeksOf(context, e), requestedAt: e.at } },
      timers: withStageTimers(context.timers),
    };
  }),
  /** The link worker's review grants the extension it asks for (extension.approvedBy 'linkWorker'). */
  grantExtension: update(({ context, event }) => {
    const e = payload(event, 'REVIEW.RECORD');
    const decision = { weeks: extensionWeeksOf(context, e), requestedAt: e.at, decidedAt: e.at, approved: true, by: e.actor.id };
    return { extension: { count: context.extension.count + 1, history: [...context.extension.history, decision] } };
  }),
  decideExtension: update(({ context, event }) => {
    const e = payload(event, 'EXTENSION.APPROVE', 'EXTENSION.REFUSE');
    const approved = e.type === 'EXTENSION.APPROVE';
    const decision = {
      ...context.extension.pending!,
      decidedAt: e.at,
      approved,
      by: e.actor.id,
      ...(e.type === 'EXTENSION.REFUSE' && { reason: e.reason }),
    };
    return {
      extension: { count: context.extension.count + (approved ? 1 : 0), history: [...context.extension.history, decision] },
      ...acknowledge(context, (x) => x.type === 'EXTENSION_APPROVAL', e.at, e.actor.id),
    };
  }),
  resumeSupport: update(({ context, event }) => {
    const at = timeOf(context, event);
    const weeks = context.extension.history.at(-1)!.weeks;
    const reviewDueAt = at + weeks * policyWeek(context.policy);
    const support = {
      ...context.support,
      lastContactAt: at,
      checking: false,
      sessions: { ...context.support.sessions, missedInRow: 0 },
      reviewDueAt,
    };
    return { support, timers: supportTimers({ ...context, support }, at, reviewDueAt) };
  }),
};

export const extensionPending = {
  on: {
    'SAFEGUARDING.RAISE': holdFrom('extensionPending'),
    'EXTENSION.APPROVE': { guard: 'extensionApprovable', target: 'support', actions: ['decideExtension', 'resumeSupport'] },
    'EXTENSION.REFUSE': { guard: 'isSupervisor', target: 'review', actions: ['decideExtension', 'openReview'] },
  },
} as const;
