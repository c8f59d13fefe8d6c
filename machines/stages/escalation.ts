import { acknowledge, isOpen, raiseEscalation, reescalate, supervisorNotice, type EscalationType } from '../escalations';
import type { PathwayContext } from '../context';
import type { PathwayEvent } from '../events';
import { escalationClimbs, escalationInterval } from '../policy';
import type { Stage } from '../stage';
import { disarm, timerFor } from '../timers';
import { bySupervisor, payload, timeOf, update, type Args } from './kit';

/*
 * Escalations run on in every stage and on hold: a supervisor acknowledges, or they go up a level,
 * on the policy's ladder (escalation.intervals between levels, up to escalation.levels).
 */

export const escalationGuards = {
  escalationAcknowledgeable: ({ context, event }: Args) =>
    bySupervisor(event) && isOpen(context, payload(event, 'ESCALATION.ACK').escalationId),
};

export const escalationActions = {
  raiseEscalation: update<{ type: EscalationType; stage: Stage }>(({ context, event }, params) =>
    raiseEscalation(
      context,
      params.type,
      params.stage,
      timeOf(context, event),
      escalationInterval(context.policy, 1),
      escalationClimbs(context.policy, 1),
    ),
  ),
  reescalate: update(({ context, event }) => {
    const e = payload(event, 'DEADLINE.ESCALATION');
    return reescalate(
      context,
      e.escalationId,
      e.at,
      (level) => escalationInterval(context.policy, level),
      (level) => escalationClimbs(context.policy, level),
    );
  }),
  acknowledgeEscalation: update(({ context, event }) => {
    const e = payload(event, 'ESCALATION.ACK');
    return acknowledge(context, (x) => x.id === e.escalationId, e.at, e.actor.id, e.note);
  }),
  /** Removes the timer the deadline event answered. */
  consumeDeadline: update({
    timers: ({ context, event }) => {
      const timer = timerFor(context.timers, event as { type: string; escalationId?: string });
      return timer ? disarm(context.timers, timer.key) : context.timers;
    },
  }),
};

/** The notice for the escalation the deadline event re-raised a level. */
const notifyReescalation = {
  type: 'notifySupervisor',
  params: ({ context, event }: { context: PathwayContext; event: PathwayEvent }) => {
    const { escalationId } = payload(event, 'DEADLINE.ESCALATION');
    return supervisorNotice(context.escalations.find((e) => e.id === escalationId)!, context.policy);
  },
} as const;

export const escalationHandling = {
  'ESCALATION.ACK': { guard: 'escalationAcknowledgeable', actions: 'acknowledgeEscalation' },
  'DEADLINE.ESCALATION': { guard: 'deadlineDue', actions: ['reescalate', notifyReescalation] },
} as const;
