import { scoreMeasure } from '../measures';
import { stageTimer, withStageTimers } from '../timers';
import { holdFrom, overdue, payload, timeOf, update } from './kit';

/* First visit: the baseline measures are taken, and the clock for agreeing a plan starts. */

export const firstVisitActions = {
  startFirstVisit: update({
    timers: ({ context, event }) =>
      withStageTimers(context.timers, stageTimer('firstVisit', timeOf(context, event) + context.policy.deadlines.firstVisit)),
  }),
  recordFirstVisit: update(({ context, event }) => {
    const e = payload(event, 'VISIT.RECORD');
    return {
      firstVisit: { at: e.at, location: e.location, durationMinutes: e.durationMinutes, barriers: [...e.barriers] },
      baseline: e.measures.map(scoreMeasure),
      timers: withStageTimers(context.timers, stageTimer('plan', e.at + context.policy.deadlines.planAgreement)),
    };
  }),
};

export const firstVisit = {
  on: {
    'SAFEGUARDING.RAISE': holdFrom('firstVisit'),
    'VISIT.RECORD': { guard: 'measuresAcceptable', target: 'coProducedPlan', actions: 'recordFirstVisit' },
    'DEADLINE.FIRST_VISIT': overdue('FIRST_VISIT_OVERDUE', 'firstVisit'),
  },
} as const;
