// An activation interceptor the case workflow relies on, in the bundle through the bundler's
// workflowInterceptorModules (worker/bundle.ts). Module state is per workflow: the SDK loads
// workflow modules afresh for each workflow it runs.
//
// 1. It refuses work built on state a replay would not reach, so the worker drops the case from its
//    cache and the retried task replays the history. After a worker dies, the server hands reads
//    (queries) to the restarted worker with a history whose newest events (a timer fired, an
//    activity finished) no workflow task has taken yet; the SDK applies them to answer the read
//    and keeps the result, and the commands it produced, for the next task. A replay later takes
//    the same events together with whatever that task brings, in another order, and the case would
//    stop with a nondeterminism error (found by the worker-kill fault test). Two guards:
//    - events from history in an activation whose clock has not moved since the last one are
//      refused at once (the read fails and the host asks again);
//    - a task whose history grew too little to hold the commands of the last task is refused
//      (workflows/runtime/unsent-commands.ts): those commands never reached the server.
// 2. It runs the hook the case sets (beforeCommands) at the start of every activation that carries
//    an update, before the SDK validates, accepts or handles it: the case applies deadlines already
//    due there, when the update is one it will accept. Done in the update handler it would come
//    after the update's acceptance, and a replay meeting the deadline's marker before the
//    acceptance in history would not match.
import { defaultPayloadConverter } from '@temporalio/common';
import { workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { SentCommands } from './unsent-commands';

/** An update in the activation: its name, its decoded arguments, and whether the SDK will validate it (false on replay). */
export interface IncomingUpdate {
  id: string;
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
const sent = new SentCommands();

export function beforeCommands(fn: (updates: IncomingUpdate[]) => void): void {
  hook = fn;
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  internals: [
    {
      activate(input, next) {
        const jobs = input.activation.jobs ?? [];
        if (jobs.every((job) => job.queryWorkflow != null)) return next(input);
        sent.starting({ historyLength: input.activation.historyLength ?? 0, isReplaying: input.activation.isReplaying === true, jobs });
        const now = Date.now();
        const fromHistory = jobs.some((job) => FROM_HISTORY.some((kind) => job[kind] != null));
        if (fromHistory && lastClock !== undefined && now <= lastClock && !workflowInfo().unsafe.isReplaying) {
          throw new StaleActivationError();
        }
        lastClock = now;
        const updates = jobs.flatMap(({ doUpdate }) =>
          doUpdate
            ? [{ id: doUpdate.id ?? '', name: doUpdate.name ?? '', args: (doUpdate.input ?? []).map((p) => defaultPayloadConverter.fromPayload(p)), validated: doUpdate.runValidator === true }]
            : [],
        );
        if (hook && updates.length > 0) hook(updates);
        return next(input);
      },
      concludeActivation(input, next) {
        const output = next(input);
        sent.concluded(output.commands);
        return output;
      },
    },
  ],
});
