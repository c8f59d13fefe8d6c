// A hook a workflow sets to run at the start of every activation that carries a command (an
// update), before the SDK validates, accepts or handles it. The case uses it to apply deadlines
// already due first (see catchUp in case.ts): done in the update handler it would come after the
// update's acceptance, and a replay that meets the deadline's markers before the acceptance in
// history would not match. Module state is per workflow: the SDK loads workflow modules afresh
// for each workflow it runs.
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

let hook: (() => void) | undefined;

export function beforeCommands(fn: () => void): void {
  hook = fn;
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  internals: [
    {
      activate(input, next) {
        if (hook && input.activation.jobs?.some((job) => job.doUpdate != null)) hook();
        return next(input);
      },
    },
  ],
});
