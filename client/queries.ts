// Listing cases through Temporal visibility: the filters a supervisor uses, as list queries on the
// pathway's search attributes. Values are validated as ids or enums before they reach a query
// string, so a filter can never change the query's shape.
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { z } from 'zod';
import { safeIdSchema, STAGES, TASK_STATUSES, type Stage, type TaskStatus } from '../machines';
import { changedAtKey, escalatedKey, linkWorkerKey, nextDueKey, possibleDuplicateKey, providerKey, schemeKey, stageKey, taskStatusKey, tierKey } from '../workflows/search-attributes';

export const CASE_WORKFLOW_TYPE = 'pathwayCase';
export const LEDGER_WORKFLOW_TYPE = 'capacityLedger';
export const CASE_ID_PREFIX = 'case-';

export const caseFiltersSchema = z
  .object({
    /** The scheme the case belongs to. */
    scheme: safeIdSchema.optional(),
    stage: z.enum(STAGES as [Stage, ...Stage[]]).optional(),
    linkWorker: safeIdSchema.optional(),
    tier: safeIdSchema.optional(),
    /** Something (a deadline or an escalation's acknowledgement) fell due and is still waiting. */
    overdue: z.boolean().optional(),
    /** An escalation is open (unacknowledged). */
    escalated: z.boolean().optional(),
    /** The person index matched the referral to another case and no supervisor has answered (`true`), or not (`false`). */
    possibleDuplicate: z.boolean().optional(),
    /** Open cases only (`true`) or closed only (`false`); both when absent. */
    open: z.boolean().optional(),
    /**
     * The case's FHIR Task status is one of these. Cases begun before cases published it (no
     * `taskStatus` in their summary) are listed too: read them to know.
     */
    taskStatus: z.array(z.enum(TASK_STATUSES)).min(1).max(TASK_STATUSES.length).optional(),
    /** The case last changed after this time (ms since the epoch); cases that do not publish it are listed too. */
    changedAfter: z.int().min(0).max(8.64e15).optional(),
    /** The case last changed before this time (ms since the epoch); cases that do not publish it are listed too. */
    changedBefore: z.int().min(0).max(8.64e15).optional(),
    /** At most this many, newest first. */
    limit: z.int().min(1).max(100_000).optional(),
  })
  .strict();
export type CaseFilters = z.input<typeof caseFiltersSchema>;

/** One row of a case list, from search attributes alone (no query to the case). */
export interface CaseSummary {
  caseId: string;
  referralId: string;
  schemeId?: string;
  stage?: Stage;
  linkWorkerId?: string;
  tier?: string;
  escalated: boolean;
  /** Flagged as a possible duplicate person, not yet resolved by a supervisor. */
  possibleDuplicate: boolean;
  nextDueAt?: number;
  /** The case's FHIR Task status; absent for cases begun before cases published it. */
  taskStatus?: TaskStatus;
  /** When the case last changed (ms); absent like `taskStatus`. */
  changedAt?: number;
  overdue: boolean;
  open: boolean;
  startedAt: number;
  closedAt?: number;
}

const quote = (value: string) => `'${value}'`;

// A run that continued as new keeps its last search attributes; the chain's live run is the case.
const NOT_CONTINUED = `ExecutionStatus != 'ContinuedAsNew'`;

/** `taskQueue` narrows to one deployment's cases, for reads that go on to query each case. */
export function caseListQuery(filters: z.output<typeof caseFiltersSchema>, now: number, taskQueue?: string): string {
  const clauses = [`WorkflowType = ${quote(CASE_WORKFLOW_TYPE)}`, NOT_CONTINUED];
  if (taskQueue !== undefined) clauses.push(`TaskQueue = ${quote(taskQueue)}`);
  if (filters.scheme !== undefined) clauses.push(`${schemeKey.name} = ${quote(filters.scheme)}`);
  if (filters.stage !== undefined) clauses.push(`${stageKey.name} = ${quote(filters.stage)}`);
  if (filters.linkWorker !== undefined) clauses.push(`${linkWorkerKey.name} = ${quote(filters.linkWorker)}`);
  if (filters.tier !== undefined) clauses.push(`${tierKey.name} = ${quote(filters.tier)}`);
  if (filters.escalated !== undefined) clauses.push(`${escalatedKey.name} = ${filters.escalated}`);
  if (filters.possibleDuplicate === true) clauses.push(`${possibleDuplicateKey.name} = true`);
  // Never flagged is not a duplicate either: those cases have no value for the attribute.
  if (filters.possibleDuplicate === false) clauses.push(`(${possibleDuplicateKey.name} = false OR ${possibleDuplicateKey.name} IS NULL)`);
  if (filters.overdue === true) clauses.push(`${nextDueKey.name} < ${quote(new Date(now).toISOString())}`);
  // Not overdue includes cases with nothing due at all (closed ones have no next due time).
  if (filters.overdue === false) clauses.push(`(${nextDueKey.name} >= ${quote(new Date(now).toISOString())} OR ${nextDueKey.name} IS NULL)`);
  // Cases begun before the Task attributes existed have neither: they stay in, for the caller to read.
  const orUnpublished = (key: string, clause: string) => `(${clause} OR ${key} IS NULL)`;
  if (filters.taskStatus !== undefined) {
    clauses.push(orUnpublished(taskStatusKey.name, `${taskStatusKey.name} IN (${filters.taskStatus.map(quote).join(', ')})`));
  }
  if (filters.changedAfter !== undefined) clauses.push(orUnpublished(changedAtKey.name, `${changedAtKey.name} > ${quote(new Date(filters.changedAfter).toISOString())}`));
  if (filters.changedBefore !== undefined) clauses.push(orUnpublished(changedAtKey.name, `${changedAtKey.name} < ${quote(new Date(filters.changedBefore).toISOString())}`));
  if (filters.open === true) clauses.push(`ExecutionStatus = 'Running'`);
  if (filters.open === false) clauses.push(`ExecutionStatus != 'Running'`);
  return clauses.join(' AND ');
}

export const CONNECTION_WORKFLOW_TYPE = 'pathwayConnection';

/**
 * The scheme's running connections on a task queue: ids and the scheme only, never the person.
 * Connections started before they carried the scheme have no value for it: they stay in, for the
 * caller to read.
 */
export function openConnectionsQuery(schemeId: string, taskQueue: string): string {
  return (
    `WorkflowType = ${quote(CONNECTION_WORKFLOW_TYPE)} AND ExecutionStatus = 'Running' AND TaskQueue = ${quote(taskQueue)} ` +
    `AND (${schemeKey.name} = ${quote(schemeId)} OR ${schemeKey.name} IS NULL)`
  );
}

/**
 * A provider's open connections on one deployment's task queue. Connections proposed before they
 * carried the provider have none: they stay in, for the caller to read and filter by provider.
 */
export function providerConnectionsQuery(providerId: string, taskQueue: string): string {
  return [
    `WorkflowType = ${quote(CONNECTION_WORKFLOW_TYPE)}`,
    `ExecutionStatus = 'Running'`,
    `TaskQueue = ${quote(taskQueue)}`,
    `(${providerKey.name} = ${quote(providerId)} OR ${providerKey.name} IS NULL)`,
  ].join(' AND ');
}

export function ledgerListQuery(taskQueue: string): string {
  return `WorkflowType = ${quote(LEDGER_WORKFLOW_TYPE)} AND ExecutionStatus = 'Running' AND TaskQueue = ${quote(taskQueue)}`;
}

export { TASK_QUEUE_PATTERN } from '../codec/defaults';

export function caseSummary(info: WorkflowExecutionInfo, now: number): CaseSummary {
  const sa = info.typedSearchAttributes;
  const nextDue = sa.get(nextDueKey);
  const open = info.status.name === 'RUNNING';
  const summary: CaseSummary = {
    caseId: info.workflowId,
    referralId: info.workflowId.startsWith(CASE_ID_PREFIX) ? info.workflowId.slice(CASE_ID_PREFIX.length) : info.workflowId,
    escalated: sa.get(escalatedKey) === true,
    possibleDuplicate: sa.get(possibleDuplicateKey) === true,
    overdue: open && nextDue !== undefined && nextDue.getTime() < now,
    open,
    startedAt: info.startTime.getTime(),
  };
  const scheme = sa.get(schemeKey);
  const stage = sa.get(stageKey);
  const linkWorker = sa.get(linkWorkerKey);
  const tier = sa.get(tierKey);
  if (scheme !== undefined) summary.schemeId = scheme;
  if (stage !== undefined) summary.stage = stage as Stage;
  if (linkWorker !== undefined) summary.linkWorkerId = linkWorker;
  if (tier !== undefined) summary.tier = tier;
  if (nextDue !== undefined) summary.nextDueAt = nextDue.getTime();
  const taskStatus = sa.get(taskStatusKey);
  const changedAt = sa.get(changedAtKey);
  if (taskStatus !== undefined && (TASK_STATUSES as readonly string[]).includes(taskStatus)) summary.taskStatus = taskStatus as TaskStatus;
  if (changedAt !== undefined) summary.changedAt = changedAt.getTime();
  if (info.closeTime) summary.closedAt = info.closeTime.getTime();
  return summary;
}
