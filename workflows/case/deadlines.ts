// The case's deadlines: the machine keeps each as an absolute due time in its context; this part
// turns the next one into a durable timer, kept across commands that leave its due time alone (in
// the manner of the Temporal samples' updatable timer), and applies the deadline event when it
// fires. It also brings a case up to date before a command, applying every deadline already due.
import { CancellationScope, condition, log, sleep } from '@temporalio/workflow';
import { nextDue, type PathwayEvent } from '../../machines';
import { CHANGES, changed } from '../changes';
import type { CaseState, Snapshot } from './state';

/** Deadlines applied before one command at most. */
export const CATCH_UP_BOUND = 100;

export type Armed = NonNullable<ReturnType<typeof nextDue>>;

/** The timer for one due time, in a scope of its own under the workflow's root, so ending a wait does not cancel it. */
class DeadlineTimer {
  private current: { dueAt: number; scope: CancellationScope; fired: Promise<boolean> } | undefined;
  private readonly root = CancellationScope.current();

  /** Resolves true when `dueAt` passes, false if the timer is dropped first. */
  fired(dueAt: number): Promise<boolean> {
    if (this.current?.dueAt === dueAt) return this.current.fired;
    this.current?.scope.cancel();
    const scope = new CancellationScope({ cancellable: true, parent: this.root });
    const fired = scope.run(() => sleep(Math.max(1, dueAt - Date.now()))).then(
      () => true,
      () => false,
    );
    this.current = { dueAt, scope, fired };
    return fired;
  }

  /** The due time of a timer still running that falls before `dueAt`, if any. */
  runningBefore(dueAt: number): number | undefined {
    return this.current && this.current.dueAt < dueAt ? this.current.dueAt : undefined;
  }

  drop(): void {
    this.current?.scope.cancel();
    this.current = undefined;
  }

  /** The timer fired: forgotten without a cancel (there is nothing left to cancel). */
  spent(): void {
    this.current = undefined;
  }
}

export class Deadlines {
  // Deadlines that the machine refused when they fell due (a broken invariant): skipped rather
  // than retried in a busy loop, and logged.
  private readonly skipped = new Set<string>();
  private catchingUp: boolean | undefined;
  private keepingTimer: boolean | undefined;
  private keepingEarlier: boolean | undefined;
  private readonly timer = new DeadlineTimer();

  constructor(private readonly state: CaseState) {}

  /** The next deadline of `s` that has not been skipped. */
  armed(s: Snapshot = this.state.snapshot): Armed | undefined {
    return nextDue({ timers: s.context.timers.filter((t) => !this.skipped.has(`${t.key}@${t.dueAt}`)) });
  }

  /** The deadline event of `s` that is due by `now` and that the pathway would take, if any. */
  private dueDeadline(s: Snapshot, now: number): PathwayEvent | undefined {
    const timer = this.armed(s);
    if (!timer || timer.dueAt > now) return undefined;
    const event = { ...timer.event, at: Math.max(timer.dueAt, now) } as PathwayEvent;
    return s.can(event) ? event : undefined;
  }

  // A command can meet a deadline whose timer fired in the same workflow task; the SDK runs the
  // command first. And a worker that answers a query while a task is retried (after a crash) may
  // apply that timer on its own before the command, where a later replay of the same history runs
  // both in one activation, command first. Applying every deadline already due before a command
  // makes both orders reach the same state through the same commands. Bounded: a case left for
  // months with a worker down catches up a finite run of re-escalations, not an endless one.
  catchUp(): void {
    const { state } = this;
    for (let i = 0, event = this.dueDeadline(state.snapshot, Date.now()); event && i < CATCH_UP_BOUND; i++, event = this.dueDeadline(state.snapshot, Date.now())) {
      this.catchingUp ??= changed(CHANGES.deadlineAtDueTime);
      if (!this.catchingUp) return;
      state.apply(event);
    }
  }

  /** The snapshot a command would meet (see catchUp), computed without changing the case, and how many deadlines that took. */
  caughtUp(): { snapshot: Snapshot; steps: number } {
    let s = this.state.snapshot;
    if (this.catchingUp === false) return { snapshot: s, steps: 0 };
    let i = 0;
    for (let event = this.dueDeadline(s, Date.now()); event && i < CATCH_UP_BOUND; i++, event = this.dueDeadline(s, Date.now())) s = this.state.step(s, event)[0];
    return { snapshot: s, steps: i };
  }

  /** A closed case, or one with no deadline armed, waits for no timer. */
  stop(): void {
    this.timer.drop();
  }

  /**
   * Resolves true when `somethingHappened` first, false when `timer` fell due (then `take` it).
   * Not async, and the loop awaits exactly this promise: how many ticks pass before the case acts
   * on a wake decides where its commands fall in the task, which history records.
   */
  newsOrDeadline(timer: Armed, somethingHappened: () => boolean): Promise<boolean> {
    this.keepingTimer ??= changed(CHANGES.deadlineTimerKept);
    if (!this.keepingTimer) return condition(somethingHappened, Math.max(1, timer.dueAt - Date.now()));
    this.keepingEarlier ??= changed(CHANGES.deadlineTimerKeptWhenLater);
    // A deadline moved later (a session logged pushes the contact deadline on) keeps the running
    // timer: it fires early, as news, and the next wait starts one for the rest. Moved earlier, the
    // timer is started again.
    const firesAt = (this.keepingEarlier && this.timer.runningBefore(timer.dueAt)) || timer.dueAt;
    return CancellationScope.cancellable(async () => {
      try {
        const due = await Promise.race([condition(somethingHappened).then(() => false), this.timer.fired(firesAt)]);
        if (due && firesAt < timer.dueAt) {
          this.timer.spent();
          return true;
        }
        return !due;
      } finally {
        // Ends the wait for news (the condition), not the kept timer, which has its own scope.
        CancellationScope.current().cancel();
      }
    });
  }

  /** Applies the deadline whose timer fired. */
  take(timer: Armed): void {
    const { state } = this;
    this.timer.spent();
    // The timer firing is what makes the deadline due; the workflow clock is not evidence of it (it
    // can lag the timer, see CHANGES.deadlineAtDueTime). Later deadlines still count from when the
    // case took this one, so a slow or long-stopped worker does not face a backlog of them.
    this.catchingUp ??= changed(CHANGES.deadlineAtDueTime);
    const at = this.catchingUp ? Math.max(timer.dueAt, Date.now()) : Date.now();
    const event = { ...timer.event, at } as PathwayEvent;
    if (state.snapshot.can(event)) state.apply(event);
    else {
      this.skipped.add(`${timer.key}@${timer.dueAt}`);
      log.warn('deadline refused by the pathway', { caseId: state.caseId, deadline: timer.event.type, stage: state.stage });
    }
  }
}
