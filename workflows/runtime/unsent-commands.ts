// Whether the commands a case produced in its last live workflow task ever reached the server.
//
// They may not have. After a worker dies holding a workflow task, the task times out; a read
// (query) handed meanwhile to the restarted worker comes with a history whose newest events (a timer
// fired, an activity finished) no task has taken yet. The SDK applies those events to answer the
// read and keeps the commands they produce for the next real task, which sends them ahead of
// whatever that task brings (an update accepted, say). A replay takes the same events together with
// that task, in another order, and the case would stop with a nondeterminism error (found by the
// worker-kill fault test). The next real task gives it away: between two tasks the history grows by
// at least the events their commands write, one WorkflowTaskCompleted, the next task's Scheduled
// and Started, and the events behind the new task's jobs. Less than that, and the commands were
// never written. Pure, so it can be tested outside a workflow; workflows/runtime/before-commands.ts runs it.
import type { coresdk } from '@temporalio/proto';

type Job = coresdk.workflow_activation.IWorkflowActivationJob;
type Command = coresdk.workflow_commands.IWorkflowCommand;

/** Not an ApplicationFailure: the SDK fails the workflow task with it, never the case. */
export class UnsentCommandsError extends Error {
  override name = 'UnsentCommandsError';
  constructor(grew: number, expected: number) {
    super(
      `history grew by ${grew} events since the last task, too few for the ${expected} events its commands write: ` +
        'they never reached the server (a read answered during a timed-out task); dropped for a replay',
    );
  }
}

/** WorkflowTaskCompleted, then the next task's Scheduled and Started. */
const TASK_EVENTS = 3;

/** The fewest history events the event behind a job can be: counting low never refuses a sound task. */
export function fewestEvents(job: Job): number {
  if (job.fireTimer || job.signalWorkflow || job.cancelWorkflow) return 1;
  if (job.resolveSignalExternalWorkflow || job.resolveRequestCancelExternalWorkflow) return 1;
  // A completed activity wrote its start and its end; a failed one at least its end (a timeout
  // before it started); a cancelled one perhaps nothing (cancelled before it was scheduled).
  if (job.resolveActivity) return job.resolveActivity.result?.completed ? 2 : job.resolveActivity.result?.failed ? 1 : 0;
  return 0;
}

/** The commands certain to write one history event each once the server has them. */
export function eventsWritten(commands: Command[]): number {
  // A timer or activity cancelled in the task that started it never reaches history.
  const timersCancelled = new Set(commands.map((c) => c.cancelTimer?.seq));
  const activitiesCancelled = new Set(commands.map((c) => c.requestCancelActivity?.seq));
  return commands.filter(
    (c) =>
      (c.startTimer && !timersCancelled.has(c.startTimer.seq)) ||
      (c.scheduleActivity && !activitiesCancelled.has(c.scheduleActivity.seq)) ||
      c.upsertWorkflowSearchAttributes ||
      c.setPatchMarker ||
      c.updateResponse?.accepted ||
      c.updateResponse?.completed,
  ).length;
}

export interface ActivationFacts {
  historyLength: number;
  isReplaying: boolean;
  jobs: Job[];
}

/** One per workflow run: told of every non-query activation as it starts and as it concludes. */
export class SentCommands {
  private running: { historyLength: number; live: boolean } | undefined;
  private produced: { historyLength: number; events: number } | undefined;

  /** Throws UnsentCommandsError when this activation starts a task the last task's commands never reached. */
  starting({ historyLength, isReplaying, jobs }: ActivationFacts): void {
    const live = !isReplaying;
    this.running = { historyLength, live };
    // Several activations of one task share its history length; only a new task is checked.
    const last = this.produced;
    if (!live || !last || historyLength === last.historyLength) return;
    this.produced = undefined;
    const grew = historyLength - last.historyLength;
    const explained = TASK_EVENTS + jobs.reduce((n, job) => n + fewestEvents(job), 0);
    if (grew - explained < last.events) throw new UnsentCommandsError(grew, last.events);
  }

  concluded(commands: Command[]): void {
    const running = this.running;
    this.running = undefined;
    if (!running?.live) return;
    const events = eventsWritten(commands);
    if (this.produced?.historyLength === running.historyLength) this.produced.events += events;
    else this.produced = events > 0 ? { historyLength: running.historyLength, events } : undefined;
  }
}
