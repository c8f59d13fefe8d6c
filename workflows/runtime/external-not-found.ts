// A signal to another workflow that has closed (or never existed) fails with an ApplicationFailure
// whose type is the server's cause, `ExternalWorkflowExecutionNotFound`: sdk-core builds it in its
// signal-external state machine, marked "TODO: Create new failure type upstream", and the SDK has no
// typed error for it, so the failure's type is the only way to tell it from other failures.
import { ApplicationFailure } from '@temporalio/workflow';

/** The signalled workflow is closed or was never started: an end, not a fault. */
export function isExternalWorkflowGone(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.type === 'ExternalWorkflowExecutionNotFound';
}
