import { awaitingPlace, openConcerns } from '../context';
import { acknowledge } from '../escalations';
import type { ActiveStage } from '../stage';
import { arm, isEscalationTimer } from '../timers';
import { dischargeOnHold } from './discharge';
import { duplicateHandling } from './duplicates';
import { escalationHandling } from './escalation';
import { heldStage, notifyNewEscalation, payload, update, type Args } from './kit';

/*
 * A safeguarding hold: any active stage can be interrupted (kit's holdFrom), its stage timers are
 * set aside, and a supervisor's clearing returns the case to the stage it left, timers shifted by
 * the hold's length.
 */

export const holdGuards = {
  awaitingPlace: ({ context }: Args) => awaitingPlace(context),
  resumesAt: ({ context }: Args, params: { stage: ActiveStage }) => heldStage(context) === params.stage,
};

export const holdActions = {
  placeOnHold: update<{ stage: ActiveStage }>(({ context, event }, params) => {
    const e = payload(event, 'SAFEGUARDING.RAISE');
    return {
      safeguarding: [...context.safeguarding, { category: e.category, raisedAt: e.at, raisedBy: e.actor, stage: params.stage }],
      suspendedTimers: context.timers.filter((t) => !isEscalationTimer(t)),
      timers: context.timers.filter(isEscalationTimer),
    };
  }),
  recordFurtherConcern: update({
    safeguarding: ({ context, event }) => {
      const e = payload(event, 'SAFEGUARDING.RAISE');
      return [...context.safeguarding, { category: e.category, raisedAt: e.at, raisedBy: e.actor, stage: heldStage(context) }];
    },
  }),
  /** Stage timers come back shifted by the hold's length: time on hold does not count against the case. */
  releaseHold: update(({ context, event }) => {
    const e = payload(event, 'SAFEGUARDING.CLEAR');
    const since = openConcerns(context)[0]?.raisedAt ?? e.at;
    const shift = e.at - since;
    const restored = context.suspendedTimers.map((t) => ({ ...t, dueAt: t.dueAt + shift }));
    const acked = acknowledge(context, (x) => x.type === 'SAFEGUARDING', e.at, e.actor.id);
    return {
      safeguarding: context.safeguarding.map((c) => (c.clearedAt === undefined ? { ...c, clearedAt: e.at, clearedBy: e.actor.id } : c)),
      suspendedTimers: [],
      escalations: acked.escalations,
      timers: arm(acked.timers, ...restored),
    };
  }),
};

export const onHold = {
  on: {
    'SAFEGUARDING.RAISE': {
      actions: [
        'recordFurtherConcern',
        {
          type: 'raiseEscalation',
          params: ({ context }: Args) => ({ type: 'SAFEGUARDING' as const, stage: heldStage(context) }),
        },
        notifyNewEscalation,
      ],
    },
    'SAFEGUARDING.CLEAR': { guard: 'isSupervisor', target: '#resuming', actions: 'releaseHold' },
    DISCHARGE: dischargeOnHold,
    ...duplicateHandling,
    'CAPACITY.GRANTED': { guard: 'awaitingPlace', actions: 'recordAllocation' },
    'CAPACITY.WAITLISTED': { guard: 'awaitingPlace', actions: 'recordWaitlisting' },
    ...escalationHandling,
  },
} as const;

function resumeTo(stage: ActiveStage) {
  return { guard: { type: 'resumesAt', params: { stage } }, target: stage } as const;
}

// Back from a safeguarding hold to the stage it interrupted. The stage is kept in context,
// not in XState's history, because resolveState({ value, context }) does not restore history.
export const resuming = {
  id: 'resuming',
  always: [
    resumeTo('triage'),
    resumeTo('allocating'),
    resumeTo('waitlisted'),
    resumeTo('firstContact'),
    resumeTo('firstVisit'),
    resumeTo('coProducedPlan'),
    resumeTo('support'),
    resumeTo('review'),
    resumeTo('extensionPending'),
    resumeTo('befriendingHandoff'),
  ],
} as const;
