// An activation interceptor the case workflow relies on, in the bundle through the bundler's
// workflowInterceptorModules (worker/bundle.ts). Module state is per workflow: the SDK loads
// workflow modules afresh for each workflow it runs.
//
// 1. It refuses stale activations. After a worker dies, the server releases reads (queries) it was
//    holding and hands them to the restarted worker with a history whose newest events (a timer
//    fired, an activity finished) no workflow task has taken yet; the SDK applies those events
//    while answering, with the workflow clock of the last task, and keeps the result cached. A
//    replay later takes the same events together with whatever the next task brings, in another
//    order, and the case stops with a nondeterminism error (found by the worker-kill fault test).
//    Events from history reach a real task only after the task that caused them, so its clock has
//    moved on; one that has not is refused here, the worker fails that read (the host asks again)
//    and drops the case from its cache, and the next real task replays the history.
// 2. It runs the hook the case sets (beforeCommands) at the start of every activation that carries
//    an update, before the SDK validates, accepts or handles it: the case applies deadlines already
//    due there, when the update is one it will accept. Done in the update handler it would come after the update's acceptance, and a replay
//    meeting the deadline's marker before the acceptance in history would not match.
import { defaultPayloadConverter } from '@temporalio/common';
import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

/** An update in the activation: its name, its decoded arguments, and whether the SDK will validate it (false on replay). */
export interface IncomingUpdate {
  name: string;
  args: unknown[];
  validated: boolean;
}

/** Not an ApplicationFailure: the SDK fails the activation with it, never the case. */
export class StaleActivationError extends Error {
  override name = 'StaleActivationError';
  constructor() {
    super('events from history reached an activation whose clock has not moved since the last one; dropped for a replay');
  }
}

/** Jobs that carry history events a previous task caused (not commands from a host). */
const FROM_HISTORY = ['fireTimer', 'resolveActivity', 'signalWorkflow', 'resolveChildWorkflowExecution', 'resolveSignalExternalWorkflow', 'resolveRequestCancelExternalWorkflow'] as const;

let hook: ((updates: IncomingUpdate[]) => void) | undefined;
let lastClock: number | undefined;

export function beforeCommands(fn: (updates: IncomingUpdate[]) => void): void {
  hook = fn;
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  internals: [
    {
      activate(input, next) {
        const jobs = input.activation.jobs ?? [];
        if (jobs.every((job) => job.queryWorkflow != null)) return next(input);
        const now = Date.now();
        const fromHistory = jobs.some((job) => FROM_HISTORY.some((kind) => job[kind] != null));
        if (fromHistory && lastClock !== undefined && now <= lastClock && !workflowInfo().unsafe.isReplaying) {
          throw new StaleActivationError();
        }
        lastClock = now;
        const updates = jobs.flatMap(({ doUpdate }) =>
          doUpdate
            ? [{ name: doUpdate.name ?? '', args: (doUpdate.input ?? []).map((p) => defaultPayloadConverter.fromPayload(p)), validated: doUpdate.runValidator === true }]
            : [],
        );
        if (hook && updates.length > 0) hook(updates);
        return next(input);
      },
    },
  ],
});
