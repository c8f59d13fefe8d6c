// The check behind workflows/runtime/before-commands.ts's second guard: a task whose history grew too
// little to hold what the last task's commands write is refused. Refusing a sound task would fail
// it for nothing, so the tests hold both sides of every boundary.
import { describe, expect, it } from 'vitest';
import type { coresdk } from '@temporalio/proto';
import { SentCommands, UnsentCommandsError, eventsWritten, fewestEvents } from '../../../workflows/runtime/unsent-commands';

type Job = coresdk.workflow_activation.IWorkflowActivationJob;
type Command = coresdk.workflow_commands.IWorkflowCommand;

const fireTimer: Job = { fireTimer: { seq: 1 } };
const doUpdate: Job = { doUpdate: { id: 'u1', name: 'ESCALATION.ACK', protocolInstanceId: 'p1', runValidator: true } };
const activityDone: Job = { resolveActivity: { seq: 2, result: { completed: {} } } };
const marker: Command = { setPatchMarker: { patchId: 'deadline-at-due-time' } };
const upsert: Command = { upsertWorkflowSearchAttributes: { searchAttributes: {} } };
const schedule = (seq: number): Command => ({ scheduleActivity: { seq, activityType: 'notifySupervisor' } });
const timer = (seq: number): Command => ({ startTimer: { seq } });

/** A run that took one live task at `historyLength` and concluded it with `commands`. */
function after(historyLength: number, jobs: Job[], commands: Command[]): SentCommands {
  const sent = new SentCommands();
  sent.starting({ historyLength, isReplaying: false, jobs });
  sent.concluded(commands);
  return sent;
}

describe('commands a timed-out task never sent', () => {
  it('refuses the task after a read applied a fired timer during a timed-out task (the kept failing history)', () => {
    // Events 15-20 of that history: TimerFired, WorkflowTaskScheduled, WorkflowTaskStarted (the
    // killed worker's), WorkflowTaskTimedOut, WorkflowTaskScheduled, WorkflowTaskStarted. The read
    // ran the timer at 17 and produced a patch marker, an upsert and a notification, written at
    // 22-25 after the next task (with the SDK's own upsert for the patch).
    const read = after(17, [fireTimer], [marker, upsert, schedule(3)]);
    expect(() => read.starting({ historyLength: 20, isReplaying: false, jobs: [doUpdate] })).toThrow(UnsentCommandsError);
  });

  it('lets the next task through once the history holds every event the commands write', () => {
    // 17 + WorkflowTaskCompleted + 3 command events + Scheduled + Started = 23.
    expect(() => after(17, [fireTimer], [marker, upsert, schedule(3)]).starting({ historyLength: 23, isReplaying: false, jobs: [doUpdate] })).not.toThrow();
    expect(() => after(17, [fireTimer], [marker, upsert, schedule(3)]).starting({ historyLength: 22, isReplaying: false, jobs: [doUpdate] })).toThrow(
      /grew by 5 events since the last task, too few for the 3/,
    );
  });

  it('counts the events behind the new task’s own jobs as explained', () => {
    // 2 command events; the new task brings a fired timer (1) and a finished activity (2).
    const jobs = [fireTimer, activityDone];
    expect(() => after(30, [doUpdate], [upsert, timer(4)]).starting({ historyLength: 38, isReplaying: false, jobs })).not.toThrow();
    expect(() => after(30, [doUpdate], [upsert, timer(4)]).starting({ historyLength: 37, isReplaying: false, jobs })).toThrow(UnsentCommandsError);
  });

  it('adds up the activations of one task and checks only when a new task starts', () => {
    const sent = new SentCommands();
    sent.starting({ historyLength: 40, isReplaying: false, jobs: [fireTimer] });
    sent.concluded([upsert]);
    expect(() => sent.starting({ historyLength: 40, isReplaying: false, jobs: [] })).not.toThrow();
    sent.concluded([schedule(5), timer(6)]);
    // 40 + WorkflowTaskCompleted + 3 command events + Scheduled + Started = 46.
    expect(() => sent.starting({ historyLength: 45, isReplaying: false, jobs: [doUpdate] })).toThrow(/too few for the 3 events/);
    const again = new SentCommands();
    again.starting({ historyLength: 40, isReplaying: false, jobs: [fireTimer] });
    again.concluded([upsert]);
    again.starting({ historyLength: 40, isReplaying: false, jobs: [] });
    again.concluded([schedule(5), timer(6)]);
    expect(() => again.starting({ historyLength: 46, isReplaying: false, jobs: [doUpdate] })).not.toThrow();
  });

  it('ignores replayed activations and tasks that write nothing', () => {
    const replayed = new SentCommands();
    replayed.starting({ historyLength: 10, isReplaying: true, jobs: [fireTimer] });
    replayed.concluded([upsert, schedule(1)]);
    expect(() => replayed.starting({ historyLength: 11, isReplaying: false, jobs: [] })).not.toThrow();

    // An answered read, a rejected update, a timer started and cancelled in the same task.
    const nothing: Command[] = [
      { respondToQuery: { queryId: 'q' } },
      { updateResponse: { protocolInstanceId: 'p', rejected: {} } },
      timer(7),
      { cancelTimer: { seq: 7 } },
    ];
    expect(() => after(50, [doUpdate], nothing).starting({ historyLength: 53, isReplaying: false, jobs: [] })).not.toThrow();
  });

  it('counts low: jobs by the fewest events behind them, commands only when certain to write one', () => {
    expect(fewestEvents(fireTimer)).toBe(1);
    expect(fewestEvents(activityDone)).toBe(2);
    expect(fewestEvents({ resolveActivity: { seq: 1, result: { failed: {} } } })).toBe(1);
    expect(fewestEvents({ resolveActivity: { seq: 1, result: { cancelled: {} } } })).toBe(0);
    expect(fewestEvents(doUpdate)).toBe(0);
    expect(fewestEvents({ signalWorkflow: { signalName: 'capacityDecision' } })).toBe(1);
    expect(eventsWritten([marker, upsert, schedule(1), timer(2), { cancelTimer: { seq: 9 } }])).toBe(4);
    expect(eventsWritten([schedule(1), { requestCancelActivity: { seq: 1 } }])).toBe(0);
    expect(eventsWritten([{ updateResponse: { protocolInstanceId: 'p', accepted: {} } }, { updateResponse: { protocolInstanceId: 'p', completed: {} } }])).toBe(2);
  });
});
