import { assertEvent, assign, type Assigner, type ParameterizedObject, type PropertyAssigner } from 'xstate';
import type { DischargeReason, PathwayContext } from '../context';
import { supervisorNotice, type EscalationType } from '../escalations';
import type { PathwayEvent, PathwayEventType } from '../events';
import { isMeasureSubmission, type MeasureSubmission } from '../measures';
import type { ActiveStage, Stage } from '../stage';
import { timerFor } from '../timers';

/*
 * What every stage of the pathway machine shares: reading events, time and actors, the typed
 * `update` every stage's context changes are made with, and the transitions several stages reuse
 * (a hold, a missed deadline, an escalation). The stages' own guards and actions live beside their
 * states under machines/stages/; machines/pathway.ts puts them together.
 */

export type EventOf<T extends PathwayEventType> = Extract<PathwayEvent, { type: T }>;

/** What a guard or an action of this machine receives. */
export interface Args {
  context: PathwayContext;
  event: PathwayEvent;
}

export function payload<T extends PathwayEventType>(event: PathwayEvent, ...types: T[]): EventOf<T> {
  assertEvent(event, types);
  return event as unknown as EventOf<T>;
}

/** Event time; `always` transitions taken at start-up see xstate.init, which carries none. */
export function timeOf(context: PathwayContext, event: PathwayEvent): number {
  return (event as { at?: number }).at ?? context.receivedAt;
}

export function hasActor(event: PathwayEvent): event is Extract<PathwayEvent, { actor: unknown }> {
  return 'actor' in event;
}

export function bySupervisor(event: PathwayEvent): boolean {
  return hasActor(event) && event.actor.role === 'supervisor';
}

/**
 * `assign` typed for this machine: a stage's actions are written apart from the `setup()` that
 * would otherwise infer their context and event types.
 */
export function update<P extends ParameterizedObject['params'] | undefined = undefined>(
  assignment: Assigner<PathwayContext, PathwayEvent, P, PathwayEvent, never> | PropertyAssigner<PathwayContext, PathwayEvent, P, PathwayEvent, never>,
) {
  return assign<PathwayContext, PathwayEvent, P, PathwayEvent, never>(assignment);
}

/**
 * What an enqueueing action of this machine uses: typed by hand, since xstate cannot infer the
 * action names of the very setup the action is part of. Only parameterless effects are enqueued.
 */
export type EnqueueArgs = { context: PathwayContext; event: PathwayEvent; enqueue: (action: 'releasePlace' | 'forgetPerson') => void };

export function measuresAcceptable(context: PathwayContext, measures: readonly MeasureSubmission[]): boolean {
  const seen = new Set<string>();
  for (const m of measures) {
    if (!isMeasureSubmission(m)) return false;
    if (!context.policy.measures.includes(m.instrument) || seen.has(m.instrument)) return false;
    seen.add(m.instrument);
  }
  return true;
}

export function eventMeasuresAcceptable(context: PathwayContext, event: PathwayEvent): boolean {
  const e = payload(event, 'VISIT.RECORD', 'CHECKIN.RECORD', 'REVIEW.RECORD');
  return measuresAcceptable(context, e.measures);
}

export function holdsPlace(context: PathwayContext): boolean {
  const { status } = context.place;
  return status === 'requested' || status === 'waitlisted' || status === 'held';
}

/** The stage a hold returns to: that of the concern that started it. */
export function heldStage(context: PathwayContext): ActiveStage {
  const concern = context.safeguarding.at(-1);
  if (!concern) throw new Error('no safeguarding concern recorded');
  return concern.stage;
}

export function dischargeWith(context: PathwayContext, event: PathwayEvent, reason: DischargeReason) {
  const at = timeOf(context, event);
  return hasActor(event) ? { reason, at, by: event.actor } : { reason, at };
}

/** The notice for the escalation just raised (the last one): the supervisor hears of it at once. */
export const notifyNewEscalation = {
  type: 'notifySupervisor',
  params: ({ context }: { context: PathwayContext }) => supervisorNotice(context.escalations.at(-1)!, context.policy),
} as const;

export function escalate(type: EscalationType, stage: Stage) {
  return [{ type: 'raiseEscalation', params: { type, stage } }, notifyNewEscalation] as const;
}

/** A safeguarding concern puts the case on hold from `stage`; a supervisor is told at once. */
export function holdFrom(stage: ActiveStage) {
  return {
    target: '#pathway.onHold',
    actions: [{ type: 'placeOnHold', params: { stage } }, ...escalate('SAFEGUARDING', stage)],
  } as const;
}

/** A missed stage deadline: the timer is spent and a supervisor is told. */
export function overdue(type: EscalationType, stage: Stage) {
  return {
    guard: 'deadlineDue',
    actions: ['consumeDeadline', ...escalate(type, stage)],
  } as const;
}

/** Guards more than one stage asks. */
export const sharedGuards = {
  isSupervisor: ({ event }: Args) => bySupervisor(event),
  holdsPlace: ({ context }: Args) => holdsPlace(context),
  /** A deadline event is taken only for an armed timer that has fallen due: stale or early ones are refused. */
  deadlineDue: ({ context, event }: Args) => {
    const timer = timerFor(context.timers, event as { type: string; escalationId?: string });
    return timer !== undefined && timeOf(context, event) >= timer.dueAt;
  },
  measuresAcceptable: ({ context, event }: Args) => eventMeasuresAcceptable(context, event),
};
