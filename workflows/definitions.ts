// The case workflow's typed surface: what a host system or supervisor can send (updates), read
// (queries), and what the workflow tells its activities. Kept next to the workflow, as in the
// Temporal samples, and imported by the client, the worker and the activities alike.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { OutcomeRecord } from '../evidence/outcomeRecord';
import type { ConnectionSummary } from '../machines/connection';
import type { Actor, CommandPayload, CommandType, Escalation, PathwayContext, PossibleDuplicateCase, ReferralFacts, SchemePolicy, SessionBudgetState, Stage, Timer } from '../machines';

/** A case's workflow id is the referral's own id under a fixed prefix: nothing about the person. */
export function caseWorkflowId(referralId: string): string {
  return `case-${referralId}`;
}

export function ledgerWorkflowId(schemeId: string): string {
  return `ledger-${schemeId}`;
}

export interface CaseInput {
  referral: ReferralFacts;
  policy: SchemePolicy;
  /** Carried across continue-as-new; absent on the first run. */
  carried?: CarriedCase;
  /** Continue-as-new earlier than Temporal suggests (tests and long-case drills). */
  limits?: { historyEvents?: number; effectTimeout?: string | number; effectRetryAfter?: string | number };
  /**
   * A digest of the referral as the host sent it (computed by the client). A repeated referral with
   * the same id and digest is the same referral; a different digest is a conflicting repeat.
   */
  intakeDigest?: string;
  /** Drawn by the client that started the case, once per `refer` call: `openCaseUpdate` tells that call it opened the case. */
  intakeId?: string;
}

/** What one run hands the next on continue-as-new: enough to rebuild the snapshot exactly. */
export interface CarriedCase {
  value: unknown;
  context: PathwayContext;
  timeline: TimelineEntry[];
  /** Events applied so far; the source of every idempotency key, so keys stay unique across runs. */
  sequence: number;
  pendingCapacity?: CapacityDecision;
  deliveryProblems?: DeliveryProblem[];
  pathwayVersion?: number;
  /** Deadline and command events cut from the front of the timeline to bound it, by event type. */
  timelineDropped?: Record<string, number>;
  /** The most recent commands sent with a host's command id, so a retry answers the first result. */
  commands?: RecentCommand[];
}

/** What a command answers: what changed, not the whole case (that is the `view` query). */
export interface CommandResult {
  caseId: string;
  stage: Stage;
  /** Events the case has applied after this command. */
  sequence: number;
  /** Who holds the case, once the ledger has allocated it. */
  linkWorkerId?: string;
  nextDueAt?: number;
  discharge?: PathwayContext['discharge'];
}

/** A command the case applied under a host's command id: the id, a keyed digest of it, its answer. */
export interface RecentCommand {
  id: string;
  digest: string;
  result: CommandResult;
}

// A host's command id travels as the update id, with a keyed digest of the command beside it: the
// server answers a repeat of the same update id in the same run from its own record, and a case
// answers one from an earlier run (before a continue-as-new) from `commands`. The same command id
// with another command gets another update id, so it reaches the case, which refuses it as a conflict.
const COMMAND_UPDATE_ID = /^cmd:([A-Za-z0-9][A-Za-z0-9._:-]{0,127}):([0-9a-f]{32})$/;

export function commandUpdateId(commandId: string, digest: string): string {
  return `cmd:${commandId}:${digest}`;
}

/** The host's command id and digest in an update id, when the update carries one. */
export function parseCommandUpdateId(updateId: string | undefined): { id: string; digest: string } | undefined {
  const match = updateId === undefined ? null : COMMAND_UPDATE_ID.exec(updateId);
  return match ? { id: match[1]!, digest: match[2]! } : undefined;
}

/** A side effect the engine could not deliver: kept, retried, and shown, never dropped. */
export interface DeliveryProblem {
  key: string;
  effect: string;
  since: number;
  attempts: number;
  /** The failure's type only; messages may quote data. */
  error: string;
  /** The payload can never be delivered as it is; a person must look at it. */
  permanent: boolean;
}

export interface TimelineEntry {
  /** 1-based position of the event that caused this entry, across all runs of the case. */
  seq: number;
  at: number;
  event: string;
  from: Stage | 'referral';
  to: Stage;
  actor?: Actor;
  /**
   * A short fact about the event, where the event alone does not say what happened: the service a
   * referral was redirected to, the discharge reason, the resolution of a possible duplicate.
   */
  detail?: string;
}

/** Everything a host or supervisor sees of a case: the `view` query's answer. */
export interface CaseView {
  caseId: string;
  referralId: string;
  schemeId: string;
  stage: Stage;
  /** The machine's full state value, for tools that need more than the stage. */
  state: unknown;
  linkWorkerId?: string;
  tier?: string;
  sessions: PathwayContext['support']['sessions'];
  /** The tier's session budget as the policy counts it; `exceeded` is the warning past it. Absent before a tier. */
  sessionBudget?: SessionBudgetState;
  deadlines: Timer[];
  nextDueAt?: number;
  escalations: Escalation[];
  openEscalations: Escalation[];
  measures: { baseline: PathwayContext['baseline']; checkIns: PathwayContext['checkIns']; review?: PathwayContext['review'] };
  plan: PathwayContext['plan'];
  discharge?: PathwayContext['discharge'];
  /** Triage's decision, with the reason and the service for a decline or a redirect. */
  triage?: PathwayContext['triage'];
  /** The first visit: where, how long, and the barriers the person named. */
  firstVisit?: PathwayContext['firstVisit'];
  /** Other cases the person index matched at referral, and a supervisor's answer once given. */
  possibleDuplicates?: PathwayContext['duplicates'];
  serviceGaps: PathwayContext['serviceGaps'];
  /** The case's connections to community services, as each connection last told the case. */
  connections?: ConnectionSummary[];
  /**
   * The case's own policy's connection deadline and nudges (ms from sending), which a connection
   * proposed for it follows. Absent from workers older than it.
   */
  connectionTimes?: Pick<SchemePolicy['connections'], 'responseDeadline' | 'nudges'>;
  /** The service the case's own policy hands befriending to (its handoff's connection). Absent from workers older than it. */
  befriendingServiceId?: string;
  timeline: TimelineEntry[];
  /** How many events the case has applied (history grows with it). */
  sequence: number;
  /** The pathway workflow version the case started on (see docs/versioning.md). */
  pathwayVersion: number;
  intakeDigest?: string;
  deliveryProblems: DeliveryProblem[];
  /** Timeline entries no longer kept (the timeline keeps the most recent), counted by event type. */
  timelineDropped?: Record<string, number>;
}

/** One update per pathway command; each validates synchronously and answers what changed. */
export type CommandUpdates = { [K in CommandType]: ReturnType<typeof defineUpdate<CommandResult, [CommandPayload<K>]>> };

export const commandUpdates = {
  'TRIAGE.ACCEPT': defineUpdate<CommandResult, [CommandPayload<'TRIAGE.ACCEPT'>]>('TRIAGE.ACCEPT'),
  'TRIAGE.DECLINE': defineUpdate<CommandResult, [CommandPayload<'TRIAGE.DECLINE'>]>('TRIAGE.DECLINE'),
  'TRIAGE.REDIRECT': defineUpdate<CommandResult, [CommandPayload<'TRIAGE.REDIRECT'>]>('TRIAGE.REDIRECT'),
  'CONTACT.ATTEMPT': defineUpdate<CommandResult, [CommandPayload<'CONTACT.ATTEMPT'>]>('CONTACT.ATTEMPT'),
  'VISIT.RECORD': defineUpdate<CommandResult, [CommandPayload<'VISIT.RECORD'>]>('VISIT.RECORD'),
  'PLAN.DRAFT': defineUpdate<CommandResult, [CommandPayload<'PLAN.DRAFT'>]>('PLAN.DRAFT'),
  'PLAN.AGREE': defineUpdate<CommandResult, [CommandPayload<'PLAN.AGREE'>]>('PLAN.AGREE'),
  'SESSION.LOG': defineUpdate<CommandResult, [CommandPayload<'SESSION.LOG'>]>('SESSION.LOG'),
  'TIER.CHANGE': defineUpdate<CommandResult, [CommandPayload<'TIER.CHANGE'>]>('TIER.CHANGE'),
  'VOLUNTEER.MATCHED': defineUpdate<CommandResult, [CommandPayload<'VOLUNTEER.MATCHED'>]>('VOLUNTEER.MATCHED'),
  'CHECKIN.RECORD': defineUpdate<CommandResult, [CommandPayload<'CHECKIN.RECORD'>]>('CHECKIN.RECORD'),
  'REVIEW.RECORD': defineUpdate<CommandResult, [CommandPayload<'REVIEW.RECORD'>]>('REVIEW.RECORD'),
  'EXTENSION.APPROVE': defineUpdate<CommandResult, [CommandPayload<'EXTENSION.APPROVE'>]>('EXTENSION.APPROVE'),
  'EXTENSION.REFUSE': defineUpdate<CommandResult, [CommandPayload<'EXTENSION.REFUSE'>]>('EXTENSION.REFUSE'),
  'BEFRIENDING.RESULT': defineUpdate<CommandResult, [CommandPayload<'BEFRIENDING.RESULT'>]>('BEFRIENDING.RESULT'),
  'SAFEGUARDING.RAISE': defineUpdate<CommandResult, [CommandPayload<'SAFEGUARDING.RAISE'>]>('SAFEGUARDING.RAISE'),
  'SAFEGUARDING.CLEAR': defineUpdate<CommandResult, [CommandPayload<'SAFEGUARDING.CLEAR'>]>('SAFEGUARDING.CLEAR'),
  'ESCALATION.ACK': defineUpdate<CommandResult, [CommandPayload<'ESCALATION.ACK'>]>('ESCALATION.ACK'),
  DISCHARGE: defineUpdate<CommandResult, [CommandPayload<'DISCHARGE'>]>('DISCHARGE'),
  'DUPLICATE.RESOLVE': defineUpdate<CommandResult, [CommandPayload<'DUPLICATE.RESOLVE'>]>('DUPLICATE.RESOLVE'),
} satisfies CommandUpdates;

/**
 * The client's word to a new case of the person index's answer: other cases that look like the same
 * person (ids and kinds of match only). Idempotent: repeating it, or sending fewer, changes nothing.
 */
export const flagDuplicatesUpdate = defineUpdate<CaseView, [{ duplicates: PossibleDuplicateCase[] }]>('flagPossibleDuplicates');

export const caseViewQuery = defineQuery<CaseView>('view');

/** A referral's answer from the case it started or found: the case as it is, and whether this referral opened it. */
export interface CaseOpened {
  view: CaseView;
  created: boolean;
}

/**
 * Sent by `refer` with the case's start (update-with-start), so one round trip starts the case and
 * answers with its first view; sent to a case already open, it answers that case.
 */
export const openCaseUpdate = defineUpdate<CaseOpened, [{ intakeId: string }]>('openCase');

/** The case's outcome record as it stands: final after discharge, partial while the case is open. */
export const outcomeRecordQuery = defineQuery<OutcomeRecord>('outcomeRecord');

/** The capacity ledger's answer to `requestPlace`, now or later when a place frees. */
export type CapacityDecision = { kind: 'granted'; linkWorkerId: string } | { kind: 'waitlisted'; position: number };
export const capacityDecisionSignal = defineSignal<[CapacityDecision]>('capacityDecision');

// ---- What the case workflow asks of its activities --------------------------------------------

/** Every activity call carries these; `idempotencyKey` is stable across retries and replays. */
export interface ActivityEnvelope {
  caseId: string;
  schemeId: string;
  idempotencyKey: string;
}

export type { ReferrerNotice } from '../machines/notices';

/** The case whose fingerprints the scheme's person index must forget (consent withdrawn). */
export type ForgetPersonRequest = ActivityEnvelope;

/** What the notifySupervisor activity takes (machines/notices.ts). */
export type { DeliveredSupervisorNotice as SupervisorNotice } from '../machines/notices';

export interface OutcomeSubmission {
  context: PathwayContext;
  timeline: TimelineEntry[];
  timelineDropped?: Record<string, number>;
}
