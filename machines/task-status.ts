// A case's FHIR Task.status (Gravity's referral management subset), from its stage and, once
// discharged, its discharge reason. Pure, with no Node imports: the gateway builds Tasks with it and
// the case workflow publishes it as a search attribute, so a search by status needs no case read.
import type { DischargeReason, PathwayContext } from './context';
import type { Stage } from './stage';

/** The statuses this mapping gives a Task, for search. */
export const TASK_STATUSES = ['requested', 'accepted', 'in-progress', 'on-hold', 'rejected', 'failed', 'completed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/**
 * Task.status by stage (the open stages) and by discharge reason (a closed case). One table, shown
 * in docs/fhir.md: the scheme taking the referral on is `accepted`; working with the person is
 * `in-progress`; a scheme turning it down (declined at triage or screening, redirected, duplicate)
 * is `rejected`; the person ending it (withdrew, declined, consent withdrawn) is `cancelled`;
 * support ending without being completed for reasons outside both (never reached, moved, died,
 * admitted, escalated to statutory services) is `failed`; a plan completed is `completed`.
 */
export const TASK_STATUS_BY_STAGE: Record<Exclude<Stage, 'discharged'>, TaskStatus> = {
  triage: 'requested',
  allocating: 'accepted',
  waitlisted: 'accepted',
  firstContact: 'in-progress',
  firstVisit: 'in-progress',
  coProducedPlan: 'in-progress',
  support: 'in-progress',
  review: 'in-progress',
  extensionPending: 'in-progress',
  befriendingHandoff: 'in-progress',
  onHold: 'on-hold',
};

export const TASK_STATUS_BY_DISCHARGE: Record<DischargeReason, TaskStatus> = {
  connected: 'completed',
  handedOff: 'completed',
  goalsMet: 'completed',
  redirected: 'rejected',
  duplicate: 'rejected',
  // `declined` is the scheme's when triage (or screening) declined, else the person's: see taskStatus.
  declined: 'cancelled',
  withdrew: 'cancelled',
  consentWithdrawn: 'cancelled',
  unableToContact: 'failed',
  movedAway: 'failed',
  died: 'failed',
  admittedLongTerm: 'failed',
  escalatedToStatutory: 'failed',
};

/** What the status depends on: a case view and the machine's context both carry these. */
export type TaskStatusFacts = { stage: Stage } & Pick<PathwayContext, 'discharge' | 'triage'>;

export function taskStatus(facts: TaskStatusFacts): TaskStatus {
  if (facts.stage !== 'discharged') return TASK_STATUS_BY_STAGE[facts.stage];
  const reason = facts.discharge?.reason;
  if (!reason) return 'completed';
  if (reason === 'declined' && facts.triage?.decision === 'declined') return 'rejected';
  return TASK_STATUS_BY_DISCHARGE[reason];
}

