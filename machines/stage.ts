import type { StateValue } from 'xstate';

/** Where a case is, in the words the host, the workflow's search attributes and reports use. */
export type Stage =
  | 'triage'
  | 'allocating'
  | 'waitlisted'
  | 'firstContact'
  | 'firstVisit'
  | 'coProducedPlan'
  | 'support'
  | 'review'
  | 'extensionPending'
  | 'befriendingHandoff'
  | 'onHold'
  | 'discharged';

/** Stages inside `active`: the ones a safeguarding hold can interrupt and return to. */
export type ActiveStage = Exclude<Stage, 'onHold' | 'discharged'>;

export const ACTIVE_STAGES: readonly ActiveStage[] = [
  'triage',
  'allocating',
  'waitlisted',
  'firstContact',
  'firstVisit',
  'coProducedPlan',
  'support',
  'review',
  'extensionPending',
  'befriendingHandoff',
];

export const STAGES: readonly Stage[] = [...ACTIVE_STAGES, 'onHold', 'discharged'];

export function stageOf(snapshot: { value: StateValue }): Stage {
  const { value } = snapshot;
  if (value === 'onHold' || value === 'discharged') return value;
  if (typeof value === 'object' && value.active !== undefined) {
    const inner = value.active;
    const name = typeof inner === 'string' ? inner : Object.keys(inner)[0];
    if (name && (ACTIVE_STAGES as readonly string[]).includes(name)) return name as ActiveStage;
  }
  // `screening` and `resuming` are transient: no settled snapshot is ever in them.
  throw new Error(`no stage for state value ${JSON.stringify(value)}`);
}
