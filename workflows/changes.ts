// Changes to the workflows that running cases (and ledgers) must not notice. Each is a Temporal patch:
// `changed(id)` is false while a case replays history written before the change, so it keeps
// doing what it did then, and true from the first time the case runs the new code for real.
// See docs/versioning.md for how to add one, and when to retire it with deprecatePatch.
import { patched } from '@temporalio/workflow';

export const CHANGES = {
  /** v2: the referrer hears at once that the referral arrived, before triage decides anything. */
  referralReceipt: 'referral-receipt-v2',
  /**
   * A deadline whose timer fired is taken even when the workflow clock says it is not yet due (the
   * event's time is never before its due time), and deadlines already due are applied before a
   * command (workflows/runtime/before-commands.ts). Both from the worker-kill fault test: a restarted worker
   * answering a query while a task was retried applied a fired timer on its own, with the clock of
   * the task before, where replay applies it with the next command; the case then stopped with a
   * nondeterminism error.
   */
  deadlineAtDueTime: 'deadline-at-due-time',
  /**
   * The timer for the case's next deadline is kept while that deadline's due time stays the same,
   * instead of being cancelled and started again around every command: two history events fewer
   * per command that leaves the deadline where it was (most commands during support).
   */
  deadlineTimerKept: 'deadline-timer-kept',
  /**
   * The capacity ledger applies signals that arrive before a run starts (while it continues as
   * new) in the order they arrived, not handler by handler (workflows/runtime/signals-in-order.ts): a
   * release and a new request from the same case were applied the wrong way round, and the case
   * fell out of the ledger.
   */
  ledgerSignalsInOrder: 'ledger-signals-in-order',
  /**
   * A case takes a capacity answer that reached its run before it started ahead of any command
   * waiting with it: the command handlers were registered first, so a first contact sent once the
   * place was granted met a case still allocating, and was refused.
   */
  capacityBeforeCommands: 'capacity-before-commands',
  /**
   * The case continues as new when its carried state or history passes a budget (not only when
   * Temporal suggests it), and carries a compacted state (workflows/carried-state.ts): valid
   * commands grew a case until its workflow tasks passed the 4 MB message limit and it stopped.
   */
  boundedCarriedState: 'bounded-carried-state',
  /**
   * Each change of stage is announced to the scheme's Task subscriptions (workflows/task-changes.ts):
   * one more activity per stage change, which a case replaying older history must not schedule.
   */
  taskChangesAnnounced: 'task-changes-announced',
  /**
   * A case writes its own search attributes once per activation, however many events it applied
   * in it (a deadline caught up before a command, a command, a capacity answer), where each event
   * wrote its own upsert (workflows/case/attributes.ts).
   */
  attributesOncePerActivation: 'attributes-once-per-activation',
  /**
   * A case publishes its FHIR Task status and the time of its last change as search attributes
   * (PathwayTaskStatus, PathwayChangedAt), so the gateway's Task search filters and pages without
   * reading every case: more attributes in its upserts than history written before holds.
   */
  taskSearchAttributes: 'task-search-attributes',
  /**
   * The timer for the case's next deadline is kept also when a command moves that deadline later
   * (it fires early, and the case then starts a timer for the rest), not only when the due time
   * stays: a command during support moves the contact deadline on, and cancelled and started a
   * timer each time, two history events per command (workflows/case/deadlines.ts).
   */
  deadlineTimerKeptWhenLater: 'deadline-timer-kept-when-later',
  /**
   * v8, for cases: every case change above at once. A case that starts on this code writes this one
   * marker instead of one per change; each marker also upserts Temporal's TemporalChangeVersion
   * search attribute, so a new case's first task held four markers and four upserts for them.
   */
  caseChangesV8: 'case-changes-v8',
  /**
   * The befriending handoff is a connection: the answer of the connection to the scheme's
   * befriending service (accepted, declined, no response) becomes the case's BEFRIENDING.RESULT
   * while it waits in the handoff (workflows/case/connection-news.ts). Asked only when such news
   * arrives; not one of the v8 set (v8 cases may be running).
   */
  befriendingConnection: 'befriending-connection',
  /**
   * A connection takes the directory's word that its service was removed (SERVICE.REMOVED, from the
   * `serviceRemoved` signal). Asked in the signal's handler: a worker of the code before held such a
   * signal without a handler and did nothing, so a replay of that history must do nothing too.
   */
  connectionServiceRemoved: 'connection-service-removed',
  /**
   * A connection whose case has closed stops telling it of its changes: it notes the closed case
   * once and sends no more signals, where it sent one (and warned) at every change. Asked only once
   * the case is known closed, so a connection whose case stays open writes no marker.
   */
  connectionCaseClosed: 'connection-case-closed',
} as const;

export type ChangeId = (typeof CHANGES)[keyof typeof CHANGES];

/** The case changes that `caseChangesV8` stands for. */
const IN_CASE_V8: ReadonlySet<ChangeId> = new Set([
  CHANGES.referralReceipt,
  CHANGES.deadlineAtDueTime,
  CHANGES.deadlineTimerKept,
  CHANGES.capacityBeforeCommands,
  CHANGES.boundedCarriedState,
  CHANGES.attributesOncePerActivation,
  CHANGES.deadlineTimerKeptWhenLater,
  CHANGES.taskChangesAnnounced,
  CHANGES.taskSearchAttributes,
]);

// Set once, at the start of a case's run (module state is per workflow run in the sandbox).
let caseV8 = false;

/**
 * Called first thing in a case's run. True for a run that starts on this code; false while a case
 * begun earlier replays its history, which then keeps asking for each change on its own, as before.
 */
export function startCaseRun(): void {
  caseV8 = patched(CHANGES.caseChangesV8);
}

export function changed(id: ChangeId): boolean {
  if (caseV8 && IN_CASE_V8.has(id)) return true;
  return patched(id);
}
