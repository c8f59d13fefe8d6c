import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// What supervisors and host systems filter cases by. None of these may ever hold patient data:
// they are indexed in plaintext by the Temporal server, outside the payload codec's reach.
export const stageKey = defineSearchAttributeKey('PathwayStage', SearchAttributeType.KEYWORD);
export const schemeKey = defineSearchAttributeKey('PathwayScheme', SearchAttributeType.KEYWORD);
export const linkWorkerKey = defineSearchAttributeKey('PathwayLinkWorker', SearchAttributeType.KEYWORD);
export const tierKey = defineSearchAttributeKey('PathwayTier', SearchAttributeType.KEYWORD);
export const escalatedKey = defineSearchAttributeKey('PathwayEscalated', SearchAttributeType.BOOL);
export const nextDueKey = defineSearchAttributeKey('PathwayNextDue', SearchAttributeType.DATETIME);
/** The person index matched the referral to another case and no supervisor has answered yet. */
export const possibleDuplicateKey = defineSearchAttributeKey('PathwayPossibleDuplicate', SearchAttributeType.BOOL);

/** The case's FHIR Task.status (machines/task-status.ts), so the gateway's Task search needs no case read to filter. */
export const taskStatusKey = defineSearchAttributeKey('PathwayTaskStatus', SearchAttributeType.KEYWORD);
/** When the case last changed (its last timeline entry, the Task's lastModified): the machine's event time. */
export const changedAtKey = defineSearchAttributeKey('PathwayChangedAt', SearchAttributeType.DATETIME);

/**
 * On a connection's workflow (set by the client when it proposes one): the provider's organisation
 * id from the directory, so a provider's open onward referrals are one list query. An id, never a name.
 */
export const providerKey = defineSearchAttributeKey('PathwayProvider', SearchAttributeType.KEYWORD);

export const pathwaySearchAttributes = [stageKey, schemeKey, linkWorkerKey, tierKey, escalatedKey, nextDueKey, possibleDuplicateKey, taskStatusKey, changedAtKey, providerKey];

/** The `--search-attribute Name=Type` flags the Temporal CLI's dev server takes. */
export function searchAttributeFlags(): string[] {
  const cliType: Record<string, string> = { KEYWORD: 'Keyword', BOOL: 'Bool', DATETIME: 'Datetime', INT: 'Int' };
  return pathwaySearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=${cliType[key.type]}`]);
}
