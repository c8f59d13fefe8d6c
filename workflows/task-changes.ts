// The case's one hook for Task subscriptions: each change of stage (the Task's businessStatus, and
// with it its status) becomes an `announceTaskChange` side effect, run by the case's effect pump in
// order with the others, so a case's announcements reach its scheme's subscriptions workflow in the
// order the case made them. Cases whose history was written before this change stay silent while
// they replay it (CHANGES.taskChangesAnnounced, docs/versioning.md).
import type { Stage } from '../machines';
import { CHANGES, changed } from './changes';
import type { TimelineEntry } from './definitions';
import type { TaskChange } from './subscription-definitions';

export const TASK_CHANGE_EFFECT = 'announceTaskChange';

export interface TaskChangeEffect {
  type: typeof TASK_CHANGE_EFFECT;
  params: TaskChange & Record<string, unknown>;
  key: string;
}

/** One per case run: remembers whether this run announces, so the patch is asked once. */
export function taskChangeAnnouncer(caseId: string, schemeId: string) {
  let announcing: boolean | undefined;
  /** The effect for the timeline entry just written (the event applied), if it changed the stage. */
  return ({ seq: sequence, at, from, to }: Pick<TimelineEntry, 'seq' | 'at' | 'from' | 'to'>): TaskChangeEffect[] => {
    if (from === to) return [];
    announcing ??= changed(CHANGES.taskChangesAnnounced);
    if (!announcing) return [];
    return [{ type: TASK_CHANGE_EFFECT, params: { caseId, schemeId, sequence, stage: to as Stage, at }, key: `${caseId}:${sequence}:task-change` }];
  };
}
