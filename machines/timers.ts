import type { StageDeadlineType } from './events';

/**
 * A deadline as an absolute due time. The workflow sleeps until the earliest `dueAt` and then
 * sends `{ ...event, at }`; keeping due times in context (not XState `after` delays) is what lets
 * them survive replay and continue-as-new unchanged.
 */
export interface Timer {
  key: string;
  dueAt: number;
  event: { type: `DEADLINE.${string}`; escalationId?: string };
}

/** Each stage deadline's timer key and the event it sends. */
export const STAGE_TIMERS = {
  triage: 'DEADLINE.TRIAGE',
  firstAttempt: 'DEADLINE.FIRST_ATTEMPT',
  firstContact: 'DEADLINE.FIRST_CONTACT',
  contactWindow: 'DEADLINE.CONTACT_WINDOW',
  firstVisit: 'DEADLINE.FIRST_VISIT',
  plan: 'DEADLINE.PLAN',
  waitlist: 'DEADLINE.WAITLIST',
  checkIn: 'DEADLINE.CHECKIN',
  disengagement: 'DEADLINE.DISENGAGEMENT',
  disengagementCheck: 'DEADLINE.DISENGAGEMENT_CHECK',
  volunteer: 'DEADLINE.VOLUNTEER',
  review: 'DEADLINE.REVIEW',
  reviewGrace: 'DEADLINE.REVIEW_GRACE',
  befriending: 'DEADLINE.BEFRIENDING',
} as const satisfies Record<string, StageDeadlineType>;
export type StageTimerKey = keyof typeof STAGE_TIMERS;

const ESCALATION_PREFIX = 'escalation:';

export function stageTimer(key: StageTimerKey, dueAt: number): Timer {
  return { key, dueAt, event: { type: STAGE_TIMERS[key] } };
}

export function escalationTimer(escalationId: string, dueAt: number): Timer {
  return { key: `${ESCALATION_PREFIX}${escalationId}`, dueAt, event: { type: 'DEADLINE.ESCALATION', escalationId } };
}

export function isEscalationTimer(timer: Timer): boolean {
  return timer.key.startsWith(ESCALATION_PREFIX);
}

// Sorted by due time (then key) so the earliest is first and the order never depends on history.
function ordered(timers: Timer[]): Timer[] {
  return timers.sort((a, b) => a.dueAt - b.dueAt || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Arms each timer, replacing any armed under the same key. */
export function arm(timers: readonly Timer[], ...added: Timer[]): Timer[] {
  const keys = new Set(added.map((t) => t.key));
  return ordered([...timers.filter((t) => !keys.has(t.key)), ...added]);
}

export function disarm(timers: readonly Timer[], ...keys: string[]): Timer[] {
  return timers.filter((t) => !keys.includes(t.key));
}

/** Replaces every stage timer with `stage` (escalation timers run on): moving to a new stage. */
export function withStageTimers(timers: readonly Timer[], ...stage: Timer[]): Timer[] {
  return arm(timers.filter(isEscalationTimer), ...stage);
}

/** The armed timer an incoming deadline event answers, if any. */
export function timerFor(
  timers: readonly Timer[],
  event: { type: string; escalationId?: string },
): Timer | undefined {
  return timers.find((t) => t.event.type === event.type && t.event.escalationId === event.escalationId);
}

/** The earliest armed timer: what the workflow sleeps until. */
export function nextDue(context: { timers: readonly Timer[] }): Timer | undefined {
  let next: Timer | undefined;
  for (const t of context.timers) if (!next || t.dueAt < next.dueAt) next = t;
  return next;
}
