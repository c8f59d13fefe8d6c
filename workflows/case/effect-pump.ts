// The effect pump: runs the machine's side effects as activities in a loop of its own, one at a
// time in the order the pathway asked for them, so a slow or broken sink never holds up the case's
// deadlines or commands. A failure is never dropped silently: it is kept as a delivery problem
// (shown in the view, the case counts as escalated), reported to a supervisor, and retried later
// unless it can never succeed.
//
// Not local activities, though they would save a person about a sixth of its CPU on the cluster
// (tried, and reverted): a local activity runs inside a workflow task the server may still turn
// back, and the task that replaces it can take events in another order, so the same effect comes
// again under a key naming another place in history (docs/benchmarks.md, "side effects inside the
// task").
import { ActivityFailure, ApplicationFailure, TimeoutFailure, log, proxyActivities, sleep } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { befriendingConnectionTiming, escalationAudience, isEffect, type DeliveredSupervisorNotice, type EffectName, type PathwayEffects } from '../../machines';
import { activityOptions } from '../../activities/options';
import type { EffectActivities, EffectArgs } from '../../activities/contract';
import type { SubscriptionActivities } from '../../activities/subscriptions';
import { TASK_CHANGE_EFFECT, type TaskChangeEffect } from '../task-changes';
import type { CaseState, MachineAction } from './state';

/**
 * What the pump delivers: the machine's effects, the workflow's own notices (a delivery failed),
 * and its announcements of a stage change to Task subscriptions (workflows/task-changes.ts).
 */
type QueuedParams = Omit<PathwayEffects, 'notifySupervisor'> & { notifySupervisor: DeliveredSupervisorNotice } & { [TASK_CHANGE_EFFECT]: TaskChangeEffect['params'] };
type QueuedName = keyof QueuedParams;
type PumpActivities = EffectActivities & Pick<SubscriptionActivities, 'announceTaskChange'>;

export type Effect<K extends QueuedName = QueuedName> = { [P in K]: { type: P; params: QueuedParams[P]; key: string } }[K];

/** What each effect's activity takes besides the envelope, from the effect's params and the case. */
const argsOf: { [K in EffectName]: (params: QueuedParams[K], state: CaseState) => EffectArgs[K] } = {
  notifyReferrer: (notice) => ({ notice }),
  notifySupervisor: (notice) => ({ notice }),
  requestPlace: (_, state) => ({ caseloadCap: state.context.policy.caseloadCap }),
  releasePlace: (_, state) => ({ caseloadCap: state.context.policy.caseloadCap }),
  requestVolunteerMatch: () => ({}),
  // Only the activity's input grows (replay compares activity types, not inputs): the case's commands stay.
  requestBefriending: (_, state) => ({
    befriending: {
      ...befriendingConnectionTiming(state.context.policy),
      ...(state.context.place.linkWorkerId !== undefined && { linkWorkerId: state.context.place.linkWorkerId }),
    },
  }),
  recordOutcome: (_, state) => ({ context: state.context, timeline: state.timeline, ...(state.timelineDropped && { timelineDropped: state.timelineDropped }) }),
  forgetPerson: () => ({}),
};

export interface PumpLimits {
  /** How long one side effect may keep failing before the case reports a delivery problem. */
  effectTimeout: Duration;
  /** How long the case waits before it tries a failed delivery again. */
  effectRetryAfter: Duration;
}

function isPermanent(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure && cause.nonRetryable === true;
}

function failureType(err: unknown): string {
  // Types only: a failure's message could quote the data that caused it.
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return cause.type ?? 'ApplicationFailure';
  if (cause instanceof TimeoutFailure) return `Timeout:${cause.timeoutType}`;
  return (cause as Error)?.name ?? 'Error';
}

export class EffectPump {
  private readonly queue: Effect[] = [];
  private pumping = false;
  private readonly activities: PumpActivities;

  constructor(
    private readonly state: CaseState,
    private readonly limits: PumpLimits,
    /** Called whenever a delivery's outcome may have changed what visibility shows. */
    private readonly onDeliveryChange: () => void,
  ) {
    this.activities = proxyActivities<PumpActivities>({
      ...activityOptions,
      scheduleToCloseTimeout: limits.effectTimeout,
    });
  }

  /** Queues the side effects among the actions of the event applied as `state.sequence`. */
  enqueue(actions: readonly MachineAction[]): void {
    const { caseId, sequence } = this.state;
    actions.forEach((action, i) => {
      if (isEffect(action)) this.queue.push({ ...action, key: `${caseId}:${sequence}:${i}:${action.type}` });
    });
  }

  push(effect: Effect): void {
    this.queue.push(effect);
  }

  /** Effects wait that no delivery loop is running for. */
  get idle(): boolean {
    return this.queue.length > 0 && !this.pumping;
  }

  get settled(): boolean {
    return this.queue.length === 0 && !this.pumping;
  }

  get empty(): boolean {
    return this.queue.length === 0;
  }

  /** Starts the delivery loop if effects wait and none runs. */
  start(): void {
    if (this.idle) void this.pump();
  }

  // Async, as it always was: the ticks between an activity's end and the next one's start decide
  // where its command falls among a task's others, which history records.
  private async run(effect: Effect) {
    if (effect.type === TASK_CHANGE_EFFECT) return this.activities.announceTaskChange(effect.params);
    return this.deliver(effect);
  }

  /** A machine effect through its activity (activities/contract.ts); not async, so `run` keeps its ticks. */
  private deliver<K extends EffectName>(effect: Effect<K>) {
    const { state } = this;
    const envelope = { caseId: state.caseId, schemeId: state.schemeId, idempotencyKey: effect.key };
    const activity: EffectActivities[K] = this.activities[effect.type];
    return activity({ ...envelope, ...argsOf[effect.type](effect.params, state) });
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0) {
        const effect = this.queue[0]!;
        try {
          await this.run(effect);
          this.state.deliveryProblems = this.state.deliveryProblems.filter((p) => p.key !== effect.key);
          this.queue.shift();
        } catch (err) {
          const permanent = isPermanent(err);
          this.noteDeliveryProblem(effect, err, permanent);
          if (permanent) {
            // Never dropped silently: it stays in the view as a problem and the case shows as escalated.
            this.queue.shift();
          } else {
            // The activity's own retries ran out its schedule-to-close time: the sink is down. Keep
            // the effect at the head and try again later; the problem is visible meanwhile.
            this.onDeliveryChange();
            await sleep(this.limits.effectRetryAfter);
          }
        }
        this.onDeliveryChange();
      }
    } finally {
      this.pumping = false;
    }
  }

  private noteDeliveryProblem(effect: Effect, err: unknown, permanent: boolean): void {
    const { state } = this;
    const existing = state.deliveryProblems.find((p) => p.key === effect.key);
    const error = failureType(err);
    log.error('side effect failed', { caseId: state.caseId, effect: effect.type, key: effect.key, error, permanent });
    if (existing) {
      existing.attempts += 1;
      existing.permanent = permanent;
      return;
    }
    state.deliveryProblems.push({ key: effect.key, effect: effect.type, since: Date.now(), attempts: 1, error, permanent });
    if (effect.type !== 'notifySupervisor') {
      this.queue.push({
        type: 'notifySupervisor',
        params: {
          escalationId: `delivery-${state.deliveryProblems.length}`,
          type: 'DELIVERY_FAILED',
          level: 1,
          stage: state.stage,
          audience: escalationAudience(state.context.policy, 1),
        },
        key: `${effect.key}:failed`,
      });
    }
  }
}
