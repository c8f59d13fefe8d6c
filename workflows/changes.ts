// Changes to the pathway workflow that running cases must not notice. Each is a Temporal patch:
// `changed(id)` is false while a case replays history written before the change, so it keeps
// doing what it did then, and true from the first time the case runs the new code for real.
// See docs/versioning.md for how to add one, and when to retire it with deprecatePatch.
import { patched } from '@temporalio/workflow';

export const CHANGES = {
  /** v2: the referrer hears at once that the referral arrived, before triage decides anything. */
  referralReceipt: 'referral-receipt-v2',
  /**
   * A deadline is recorded as falling due at its due time, not at the workflow clock of the task
   * that noticed it. That clock can lag the timer that woke the case (seen after a worker was
   * killed: the task ran with the time of the task before), so a deadline judged by it could be
   * refused when it ran live and taken when it replayed, a nondeterminism that stops the case.
   */
  deadlineAtDueTime: 'deadline-at-due-time',
} as const;

export type ChangeId = (typeof CHANGES)[keyof typeof CHANGES];

export function changed(id: ChangeId): boolean {
  return patched(id);
}
