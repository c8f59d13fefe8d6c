import { escalationAudience } from './policy';
import type { Stage } from './stage';
import { arm, disarm, escalationTimer, type Timer } from './timers';

export const ESCALATION_TYPES = [
  'TRIAGE_OVERDUE',
  'FIRST_CONTACT_OVERDUE',
  'FIRST_VISIT_OVERDUE',
  'PLAN_OVERDUE',
  'CHECKIN_OVERDUE',
  'DISENGAGEMENT',
  'REVIEW_OVERDUE',
  'LONG_WAIT',
  'VOLUNTEER_WAIT',
  'SERVICE_GAP',
  'SAFEGUARDING',
  'EXTENSION_APPROVAL',
  /** Support went past the tier's session budget under the `needsApproval` policy. */
  'SESSION_BUDGET',
] as const;
export type EscalationType = (typeof ESCALATION_TYPES)[number];

export interface Escalation {
  id: string;
  type: EscalationType;
  /** The stage the case was in when it was raised. */
  stage: Stage;
  raisedAt: number;
  ackDueAt: number;
  /** 1 when raised; one more each time it goes unacknowledged past `ackDueAt`. */
  level: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  /** The supervisor's note on acknowledging, if they wrote one: staff text, kept in the case only. */
  note?: string;
  /** Set when the case was discharged with the escalation still open. */
  closedAt?: number;
}

/** What a supervisor is told: the params of the `notifySupervisor` action. */
export interface SupervisorNotice {
  escalationId: string;
  type: EscalationType;
  level: number;
  stage: Stage;
  /** Who the policy names for this level (`escalation.audiences`): by default the supervisor, then the manager. */
  audience: string;
}

export interface EscalationState {
  escalations: Escalation[];
  timers: Timer[];
  counters: { escalation: number };
}

export function openEscalations(context: { escalations: readonly Escalation[] }): Escalation[] {
  return context.escalations.filter((e) => e.acknowledgedAt === undefined && e.closedAt === undefined);
}

export function isOpen(context: { escalations: readonly Escalation[] }, id: string): boolean {
  return openEscalations(context).some((e) => e.id === id);
}

export function supervisorNotice(e: Escalation, policy: Parameters<typeof escalationAudience>[0]): SupervisorNotice {
  return { escalationId: e.id, type: e.type, level: e.level, stage: e.stage, audience: escalationAudience(policy, e.level) };
}

/** Ids come from a counter in context, never from a clock or random source, so replay agrees. */
export function raiseEscalation(
  state: EscalationState,
  type: EscalationType,
  stage: Stage,
  at: number,
  ackWithin: number,
  climbs = true,
): EscalationState {
  const n = state.counters.escalation + 1;
  const escalation: Escalation = { id: `esc-${n}`, type, stage, raisedAt: at, ackDueAt: at + ackWithin, level: 1 };
  return {
    escalations: [...state.escalations, escalation],
    // At the top of the policy's ladder nothing goes further: no timer to raise it again.
    timers: climbs ? arm(state.timers, escalationTimer(escalation.id, escalation.ackDueAt)) : state.timers,
    counters: { ...state.counters, escalation: n },
  };
}

export function reescalate(
  state: Pick<EscalationState, 'escalations' | 'timers'>,
  id: string,
  at: number,
  ackWithin: (level: number) => number,
  climbs: (level: number) => boolean = () => true,
): Pick<EscalationState, 'escalations' | 'timers'> {
  let raised: Escalation | undefined;
  const escalations = state.escalations.map((e) =>
    e.id === id ? (raised = { ...e, level: e.level + 1, ackDueAt: at + ackWithin(e.level + 1) }) : e,
  );
  if (!raised) throw new Error(`no escalation ${id}`);
  return {
    escalations,
    timers: climbs(raised.level) ? arm(state.timers, escalationTimer(id, raised.ackDueAt)) : disarm(state.timers, escalationTimer(id, 0).key),
  };
}

/** Closes the escalations `which` selects among the open ones, and disarms their timers. */
export function acknowledge(
  state: Pick<EscalationState, 'escalations' | 'timers'>,
  which: (e: Escalation) => boolean,
  at: number,
  by: string,
  note?: string,
): Pick<EscalationState, 'escalations' | 'timers'> {
  const closing = new Set(openEscalations(state).filter(which).map((e) => e.id));
  return {
    escalations: state.escalations.map((e) => (closing.has(e.id) ? { ...e, acknowledgedAt: at, acknowledgedBy: by, ...(note !== undefined && { note }) } : e)),
    timers: disarm(state.timers, ...[...closing].map((id) => escalationTimer(id, 0).key)),
  };
}
