import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { nextDue, openEscalations, possibleDuplicate, taskStatus, type PathwayContext, type Stage } from '../machines';
import { changedAtKey, escalatedKey, linkWorkerKey, nextDueKey, possibleDuplicateKey, schemeKey, stageKey, taskStatusKey, tierKey } from './search-attributes';

export type CaseSearchAttributes = SearchAttributeUpdatePair[];

/** What the Task attributes are made of: the time of the case's last timeline entry. */
export interface TaskFacts {
  changedAt: number;
}

/**
 * What a case publishes to visibility: stage, scheme, link worker, tier, open escalation, next
 * due time and (given `task`: CHANGES.taskSearchAttributes) its Task status and last change. Staff
 * ids, codes and times only; nothing that identifies the person.
 */
export function caseSearchAttributes(context: PathwayContext, stage: Stage, deliveryProblems = 0, task?: TaskFacts): CaseSearchAttributes {
  const due = nextDue(context);
  const pairs: SearchAttributeUpdatePair[] = [
    { key: stageKey, value: stage },
    { key: schemeKey, value: context.referral.schemeId },
    // A side effect that cannot be delivered needs a supervisor as much as an escalation does.
    { key: escalatedKey, value: openEscalations(context).length > 0 || deliveryProblems > 0 },
  ];
  if (context.place.linkWorkerId) pairs.push({ key: linkWorkerKey, value: context.place.linkWorkerId });
  if (context.support.tier) pairs.push({ key: tierKey, value: context.support.tier });
  // Only once flagged: a case never flagged publishes nothing new, so its history replays unchanged.
  if (context.duplicates) pairs.push({ key: possibleDuplicateKey, value: possibleDuplicate(context) });
  // A closed case has no next due time; null removes the attribute.
  pairs.push({ key: nextDueKey, value: due ? new Date(due.dueAt) : null });
  if (task) {
    pairs.push({ key: taskStatusKey, value: taskStatus({ stage, discharge: context.discharge, triage: context.triage }) });
    pairs.push({ key: changedAtKey, value: new Date(task.changedAt) });
  }
  return pairs;
}
