// What one case holds while its run lasts: the pathway snapshot, the timeline, the event sequence
// (the source of every idempotency key) and what the run carries to the next. The one place an
// event is applied: `apply` steps the machine, writes the timeline entry and hands the machine's
// actions to whoever listens (the effect pump, the search-attribute writer).
import { initialTransition } from 'xstate';
import { befriendingServiceId, connectionPolicy, nextDue, openEscalations, pathwayMachine, sessionBudgetState, stageOf, type PathwayContext, type PathwayEvent } from '../../machines';
import type { CapacityDecision, CarriedCase, CaseInput, CaseView, CommandResult, DeliveryProblem, RecentCommand, TimelineEntry } from '../definitions';
import { pathwayStepper } from '../runtime/pathway-stepper';

export type Snapshot = ReturnType<typeof pathwayMachine.resolveState>;
export type MachineAction = { type: string; params?: unknown };

/**
 * The short fact a timeline entry carries where its event alone does not say what happened: codes,
 * and the service a referral went to (which the referrer is told anyway). Never the free-text reasons.
 */
function timelineDetail(event: { type: string }, ctx: PathwayContext): string | undefined {
  if (event.type === 'DUPLICATES.FLAGGED') return [...new Set(ctx.duplicates?.cases.map((d) => d.match))].join(',');
  if (event.type === 'DUPLICATE.RESOLVE') return ctx.duplicates?.resolution?.resolution;
  if (!ctx.discharge || (event.type !== 'REFERRAL' && ctx.discharge.at !== (event as { at?: number }).at)) return undefined;
  if (ctx.discharge.reason === 'redirected' && ctx.triage?.service) return ctx.triage.service;
  return ctx.discharge.reason;
}

/** The deadline and nudges of the case's own policy (the policy it started with), for its connections. */
function connectionTimes(ctx: PathwayContext): NonNullable<CaseView['connectionTimes']> {
  const { responseDeadline, nudges } = connectionPolicy(ctx.policy);
  return { responseDeadline, nudges };
}

export class CaseState {
  snapshot: Snapshot;
  timeline: TimelineEntry[];
  sequence: number;
  deliveryProblems: DeliveryProblem[];
  // The version the case started on: a case that began before a change keeps its old behaviour
  // where the change would have altered history.
  pathwayVersion: number;
  readonly timelineDropped: Record<string, number> | undefined;
  // Commands applied under a host's command id, most recent last (bounded): a retry of one, even
  // in a later run, answers the first result instead of applying the command again.
  readonly recentCommands: RecentCommand[];
  // A capacity answer the machine could not take yet (it arrived during a safeguarding hold raised
  // while the case waited for a place); kept until the hold ends or the case closes.
  pendingCapacity: CapacityDecision | undefined;
  /** The machine's actions of the first transition (a new case only), for the effect pump. */
  readonly initialActions: readonly MachineAction[];
  /** Told of every applied event's actions, after the snapshot moved. */
  onApplied: (actions: readonly MachineAction[]) => void = () => {};
  readonly step: ReturnType<typeof pathwayStepper>;
  readonly schemeId: string;

  constructor(
    readonly caseId: string,
    private readonly input: CaseInput,
  ) {
    const { referral, policy, carried } = input;
    this.step = pathwayStepper({ referral, policy, at: Date.now() });
    this.schemeId = referral.schemeId;
    this.deliveryProblems = carried?.deliveryProblems ?? [];
    this.pathwayVersion = carried?.pathwayVersion ?? 1;
    this.timelineDropped = carried?.timelineDropped;
    this.recentCommands = carried?.commands ?? [];
    if (carried) {
      this.snapshot = pathwayMachine.resolveState({ value: carried.value as never, context: carried.context });
      this.timeline = carried.timeline;
      this.sequence = carried.sequence;
      this.pendingCapacity = carried.pendingCapacity;
      this.initialActions = [];
    } else {
      const [first, actions] = initialTransition(pathwayMachine, { referral, policy, at: Date.now() });
      this.snapshot = first as Snapshot;
      this.sequence = 1;
      const detail = this.snapshot.context.discharge && timelineDetail({ type: 'REFERRAL' }, this.snapshot.context);
      this.timeline = [{ seq: 1, at: Date.now(), event: 'REFERRAL', from: 'referral', to: stageOf(this.snapshot), ...(detail && { detail }) }];
      this.initialActions = actions;
    }
  }

  get context(): PathwayContext {
    return this.snapshot.context;
  }

  get stage() {
    return stageOf(this.snapshot);
  }

  get done(): boolean {
    return this.snapshot.status === 'done';
  }

  apply(event: PathwayEvent): void {
    const from = stageOf(this.snapshot);
    const [next, actions] = this.step(this.snapshot, event);
    this.snapshot = next;
    this.sequence += 1;
    const actor = 'actor' in event ? event.actor : undefined;
    const detail = timelineDetail(event, this.snapshot.context);
    this.timeline.push({ seq: this.sequence, at: event.at, event: event.type, from, to: stageOf(this.snapshot), ...(actor && { actor }), ...(detail !== undefined && { detail }) });
    this.onApplied(actions);
  }

  view(): CaseView {
    const ctx = this.snapshot.context;
    const due = nextDue(ctx);
    return {
      caseId: this.caseId,
      referralId: ctx.referral.referralId,
      schemeId: ctx.referral.schemeId,
      stage: this.stage,
      state: this.snapshot.value,
      ...(ctx.place.linkWorkerId && { linkWorkerId: ctx.place.linkWorkerId }),
      ...(ctx.support.tier && { tier: ctx.support.tier }),
      sessions: ctx.support.sessions,
      ...(ctx.support.tier && { sessionBudget: sessionBudgetState(ctx) }),
      deadlines: ctx.timers,
      ...(due && { nextDueAt: due.dueAt }),
      escalations: ctx.escalations,
      openEscalations: openEscalations(ctx),
      measures: { baseline: ctx.baseline, checkIns: ctx.checkIns, ...(ctx.review && { review: ctx.review }) },
      plan: ctx.plan,
      ...(ctx.discharge && { discharge: ctx.discharge }),
      ...(ctx.triage && { triage: ctx.triage }),
      ...(ctx.firstVisit && { firstVisit: ctx.firstVisit }),
      ...(ctx.duplicates && { possibleDuplicates: ctx.duplicates }),
      serviceGaps: ctx.serviceGaps,
      ...(ctx.connections && { connections: ctx.connections }),
      connectionTimes: connectionTimes(ctx),
      befriendingServiceId: befriendingServiceId(ctx.policy),
      timeline: this.timeline,
      sequence: this.sequence,
      pathwayVersion: this.pathwayVersion,
      ...(this.input.intakeDigest && { intakeDigest: this.input.intakeDigest }),
      deliveryProblems: this.deliveryProblems,
      ...(this.timelineDropped && { timelineDropped: this.timelineDropped }),
    };
  }

  /** What a command answers: what it changed, small whatever the case holds (the view is a query). */
  commandResult(): CommandResult {
    const ctx = this.snapshot.context;
    const due = nextDue(ctx);
    return {
      caseId: this.caseId,
      stage: this.stage,
      sequence: this.sequence,
      ...(ctx.place.linkWorkerId && { linkWorkerId: ctx.place.linkWorkerId }),
      ...(due && { nextDueAt: due.dueAt }),
      ...(ctx.discharge && { discharge: ctx.discharge }),
    };
  }

  /** What this run hands the next on continue-as-new. */
  carried(): CarriedCase {
    return {
      value: this.snapshot.value,
      context: this.snapshot.context,
      timeline: this.timeline,
      sequence: this.sequence,
      pendingCapacity: this.pendingCapacity,
      deliveryProblems: this.deliveryProblems,
      pathwayVersion: this.pathwayVersion,
      ...(this.timelineDropped && { timelineDropped: this.timelineDropped }),
      ...(this.recentCommands.length > 0 && { commands: this.recentCommands }),
    };
  }

  /** The carried state as cases that began before the byte budget carried it: everything, whole. */
  carriedWhole(): CarriedCase {
    const { value, context, timeline, sequence, pendingCapacity, deliveryProblems, pathwayVersion } = this.carried();
    return { value, context, timeline, sequence, pendingCapacity, deliveryProblems, pathwayVersion };
  }
}
