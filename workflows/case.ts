// One referred person's journey, as one workflow. The workflow is a thin, durable driver of the
// pure pathway machine: it holds the snapshot, applies events with `transition()`, turns deadlines
// in the machine's context into durable waits, and runs the machine's side effects as activities.
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  defineUpdate,
  log,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { initialTransition } from 'xstate';
import {
  awaitingPlace,
  COMMAND_BYTE_BUDGET,
  COMMAND_TYPES,
  commandRefusal,
  commandSchemas,
  escalationAudience,
  jsonBytes,
  sessionBudgetState,
  nextDue,
  systemEventSchemas,
  openEscalations,
  pathwayMachine,
  stageOf,
  type CommandType,
  type PathwayContext,
  type PathwayEvent,
} from '../machines';
import { connectionSummarySchema } from '../machines/connection';
import { connectionChangedSignal } from './connection-definitions';
import { activityOptions } from '../activities/options';
import type { PathwayActivities } from '../activities';
import type { CapacityActivities } from '../activities/capacity';
import type { PersonIndexActivities } from '../activities/person-index';
import {
  capacityDecisionSignal,
  caseViewQuery,
  commandUpdates,
  flagDuplicatesUpdate,
  outcomeRecordQuery,
  parseCommandUpdateId,
  type CapacityDecision,
  type CarriedCase,
  type CaseInput,
  type CaseView,
  type CommandResult,
  type DeliveryProblem,
  type RecentCommand,
  type TimelineEntry,
} from './definitions';
import { CARRIED_BYTE_BUDGET, HISTORY_BYTE_BUDGET, HISTORY_EVENT_BUDGET, KEPT, compactCarried } from './carried-state';
import type { Duration } from '@temporalio/common';
import { outcomeRecordFromCase } from '../evidence/from-case';
import { beforeCommands } from './runtime/before-commands';
import { CHANGES, changed } from './changes';
import { describeIssues } from './refusals';
import { caseSearchAttributes, type CaseSearchAttributes } from './case-search-attributes';
import { pathwayStepper } from './runtime/pathway-stepper';


type Snapshot = ReturnType<typeof pathwayMachine.resolveState>;

type Effect = { type: EffectType; params: Record<string, unknown>; key: string };
type EffectType = (typeof EFFECTS)[number];

/** The machine's named side effects; every other action it returns (assign) is applied inside. */
const EFFECTS = [
  'notifyReferrer',
  'notifySupervisor',
  'requestPlace',
  'releasePlace',
  'requestVolunteerMatch',
  'requestBefriending',
  'recordOutcome',
  'forgetPerson',
] as const;

const DEFAULT_LIMITS = {
  historyEvents: undefined as number | undefined,
  /** How long one side effect may keep failing before the case reports a delivery problem. */
  effectTimeout: '1 hour' as Duration,
  /** How long the case waits before it tries a failed delivery again. */
  effectRetryAfter: '10 minutes' as Duration,
};

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

export async function pathwayCase(input: CaseInput): Promise<CaseView> {
  const caseId = workflowInfo().workflowId;
  const { referral, policy } = input;
  const limits = { ...DEFAULT_LIMITS, ...input.limits };
  const activities = proxyActivities<PathwayActivities & CapacityActivities & PersonIndexActivities>({
    ...activityOptions,
    scheduleToCloseTimeout: limits.effectTimeout,
  });
  let deliveryProblems: DeliveryProblem[] = input.carried?.deliveryProblems ?? [];
  // The version the case started on: a case that began before a change keeps its old behaviour
  // where the change would have altered history.
  let pathwayVersion = input.carried?.pathwayVersion ?? 1;
  let snapshot: Snapshot;
  let timeline: TimelineEntry[];
  const timelineDropped: Record<string, number> | undefined = input.carried?.timelineDropped;
  // Commands applied under a host's command id, most recent last (bounded): a retry of one, even
  // in a later run, answers the first result instead of applying the command again.
  const recentCommands: RecentCommand[] = input.carried?.commands ?? [];
  let sequence: number;
  const effects: Effect[] = [];
  // A capacity answer the machine could not take yet (it arrived during a safeguarding hold raised
  // while the case waited for a place); kept until the hold ends or the case closes.
  let pendingCapacity: CapacityDecision | undefined;
  let lastAttributes: CaseSearchAttributes | undefined;
  const step = pathwayStepper({ referral, policy, at: Date.now() });

  const enqueue = (actions: ReadonlyArray<{ type: string; params?: unknown }>) => {
    actions.forEach((action, i) => {
      if ((EFFECTS as readonly string[]).includes(action.type)) {
        effects.push({
          type: action.type as EffectType,
          params: (action.params ?? {}) as Record<string, unknown>,
          key: `${caseId}:${sequence}:${i}:${action.type}`,
        });
      }
    });
  };

  const syncSearchAttributes = () => {
    const next = caseSearchAttributes(snapshot.context, stageOf(snapshot), deliveryProblems.length);
    const changed = next.filter((pair) => lastAttributes?.find((p) => p.key.name === pair.key.name)?.value?.toString() !== pair.value?.toString());
    if (changed.length > 0) upsertSearchAttributes(changed);
    lastAttributes = next;
  };

  const apply = (event: PathwayEvent) => {
    const from = stageOf(snapshot);
    const [next, actions] = step(snapshot, event);
    snapshot = next as Snapshot;
    sequence += 1;
    const actor = 'actor' in event ? event.actor : undefined;
    const detail = timelineDetail(event, snapshot.context);
    timeline.push({ seq: sequence, at: event.at, event: event.type, from, to: stageOf(snapshot), ...(actor && { actor }), ...(detail !== undefined && { detail }) });
    enqueue(actions);
    syncSearchAttributes();
  };

  // Deadlines that the machine refused when they fell due (a broken invariant): skipped rather
  // than retried in a busy loop, and logged.
  const skipped = new Set<string>();
  const armed = (s: Snapshot) => nextDue({ timers: s.context.timers.filter((t) => !skipped.has(`${t.key}@${t.dueAt}`)) });

  /** The deadline event of `s` that is due by `now` and that the pathway would take, if any. */
  const dueDeadline = (s: Snapshot, now: number): PathwayEvent | undefined => {
    const timer = armed(s);
    if (!timer || timer.dueAt > now) return undefined;
    const event = { ...timer.event, at: Math.max(timer.dueAt, now) } as PathwayEvent;
    return s.can(event) ? event : undefined;
  };

  // A command can meet a deadline whose timer fired in the same workflow task; the SDK runs the
  // command first. And a worker that answers a query while a task is retried (after a crash) may
  // apply that timer on its own before the command, where a later replay of the same history runs
  // both in one activation, command first. Applying every deadline already due before a command
  // makes both orders reach the same state through the same commands. Bounded: a case left for
  // months with a worker down catches up a finite run of re-escalations, not an endless one.
  let catchingUp: boolean | undefined;
  const catchUp = () => {
    for (let i = 0, event = dueDeadline(snapshot, Date.now()); event && i < 100; i++, event = dueDeadline(snapshot, Date.now())) {
      catchingUp ??= changed(CHANGES.deadlineAtDueTime);
      if (!catchingUp) return;
      apply(event);
    }
  };
  /** The snapshot a command would meet (see catchUp), computed without changing the case. */
  const caughtUp = (): Snapshot => {
    let s = snapshot;
    if (catchingUp === false) return s;
    for (let i = 0, event = dueDeadline(s, Date.now()); event && i < 100; i++, event = dueDeadline(s, Date.now())) s = step(s, event)[0];
    return s;
  };

  if (input.carried) {
    snapshot = pathwayMachine.resolveState({ value: input.carried.value as never, context: input.carried.context });
    timeline = input.carried.timeline;
    sequence = input.carried.sequence;
    pendingCapacity = input.carried.pendingCapacity;
    lastAttributes = caseSearchAttributes(snapshot.context, stageOf(snapshot), deliveryProblems.length);
  } else {
    const [first, actions] = initialTransition(pathwayMachine, { referral, policy, at: Date.now() });
    snapshot = first as Snapshot;
    sequence = 1;
    const detail = snapshot.context.discharge && timelineDetail({ type: 'REFERRAL' }, snapshot.context);
    timeline = [{ seq: 1, at: Date.now(), event: 'REFERRAL', from: 'referral', to: stageOf(snapshot), ...(detail && { detail }) }];
    if (changed(CHANGES.referralReceipt)) {
      pathwayVersion = 2;
      effects.push({ type: 'notifyReferrer', params: { kind: 'received' }, key: `${caseId}:1:receipt:notifyReferrer` });
    }
    enqueue(actions);
    syncSearchAttributes();
  }

  const view = (): CaseView => {
    const ctx = snapshot.context;
    const due = nextDue(ctx);
    return {
      caseId,
      referralId: ctx.referral.referralId,
      schemeId: ctx.referral.schemeId,
      stage: stageOf(snapshot),
      state: snapshot.value,
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
      timeline,
      sequence,
      pathwayVersion,
      ...(input.intakeDigest && { intakeDigest: input.intakeDigest }),
      deliveryProblems,
      ...(timelineDropped && { timelineDropped }),
    };
  };

  /** What a command answers: what it changed, small whatever the case holds (the view is a query). */
  const commandResult = (): CommandResult => {
    const ctx = snapshot.context;
    const due = nextDue(ctx);
    return {
      caseId,
      stage: stageOf(snapshot),
      sequence,
      ...(ctx.place.linkWorkerId && { linkWorkerId: ctx.place.linkWorkerId }),
      ...(due && { nextDueAt: due.dueAt }),
      ...(ctx.discharge && { discharge: ctx.discharge }),
    };
  };

  /** The command this update repeats (same host command id), if any; a different command under the id is refused. */
  const repeatOf = (type: CommandType, updateId: string | undefined): RecentCommand | undefined => {
    const command = parseCommandUpdateId(updateId);
    if (!command) return undefined;
    const prior = recentCommands.find((c) => c.id === command.id);
    if (prior && prior.digest !== command.digest) {
      throw ApplicationFailure.create({
        type: 'CommandConflict',
        message: `${type} refused: command id already used for a different command`,
        nonRetryable: true,
        details: [{ command: type, commandId: command.id }],
      });
    }
    return prior;
  };
  const remember = (updateId: string | undefined, result: CommandResult) => {
    const command = parseCommandUpdateId(updateId);
    if (!command) return;
    recentCommands.push({ ...command, result });
    if (recentCommands.length > KEPT.commands) recentCommands.splice(0, recentCommands.length - KEPT.commands);
  };

  setHandler(caseViewQuery, view);
  setHandler(outcomeRecordQuery, () => outcomeRecordFromCase({ caseId, context: snapshot.context, timeline, ...(timelineDropped && { timelineDropped }) }));

  // Signals and updates that reach a run before it starts (sent while the case continues as new)
  // wait in the SDK's buffer, and each handler takes its own as it is registered. A capacity answer
  // waiting beside a command must be taken first: a first contact sent once the place was granted
  // would otherwise be judged against a case still allocating, and refused.
  const capacityFirst = changed(CHANGES.capacityBeforeCommands);
  if (capacityFirst) registerCapacityAnswers();
  for (const type of COMMAND_TYPES) {
    registerCommand(type);
  }

  function registerCommand<K extends CommandType>(type: K) {
    const schema = commandSchemas[type];
    // One generic registration for every command; the per-command payload types live in
    // `commandUpdates` for callers, here each payload is checked by its zod schema instead.
    const update = commandUpdates[type] as unknown as ReturnType<typeof defineUpdate<CommandResult, [unknown]>>;
    setHandler(
      update,
      (payload: unknown): CommandResult => {
        const updateId = currentUpdateInfo()?.id;
        const prior = repeatOf(type, updateId);
        if (prior) return prior.result;
        // Parsed again (deterministically) so the handler applies exactly what the validator passed.
        const parsed = schema.parse(payload);
        catchUp();
        apply({ ...parsed, type, at: Date.now() } as PathwayEvent);
        const result = commandResult();
        remember(updateId, result);
        return result;
      },
      {
        // Synchronous by Temporal's rule: a throw here rejects the update and leaves no trace in history.
        validator: (payload: unknown) => validateCommand(type, payload, currentUpdateInfo()?.id),
      },
    );
  }

  function validateCommand(type: CommandType, payload: unknown, updateId: string | undefined): void {
    // A repeat of a command already applied is answered, not judged again: the case has moved on.
    if (repeatOf(type, updateId)) return;
    // Whatever the schema would make of it, the payload as sent is what history would keep.
    const bytes = jsonBytes(payload);
    if (bytes > COMMAND_BYTE_BUDGET) {
      throw ApplicationFailure.create({
        type: 'InvalidCommand',
        message: `${type} refused: the command is ${bytes} bytes encoded; at most ${COMMAND_BYTE_BUDGET}`,
        nonRetryable: true,
        details: [{ command: type, issues: [{ path: [], message: `is ${bytes} bytes encoded; a command may take at most ${COMMAND_BYTE_BUDGET}` }] }],
      });
    }
    const parsed = commandSchemas[type].safeParse(payload);
    if (!parsed.success) {
      throw ApplicationFailure.create({
        type: 'InvalidCommand',
        message: `${type} refused: ${describeIssues(parsed.error.issues)}`,
        nonRetryable: true,
        details: [{ command: type, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) }],
      });
    }
    const event = { ...parsed.data, type, at: Date.now() } as PathwayEvent;
    // Judged against the case as the handler will find it: with any deadline already due applied.
    // The stage, who sent it (machines/rules.ts: checked on new commands only, never on replay),
    // then the machine's guards; every refusal names its rule.
    const current = caughtUp();
    const refusal = commandRefusal(current, event, `case ${caseId}`);
    if (refusal) {
      throw ApplicationFailure.create({
        type: 'CommandNotAllowed',
        message: `${type} refused: ${refusal.reason}`,
        nonRetryable: true,
        details: [{ command: type, stage: stageOf(current), rule: refusal.rule }],
      });
    }
  }

  // Catching up happens only for a command that will be accepted: one the validator would refuse
  // leaves no trace in history, so neither may anything done on its account, or a replay (which
  // never sees it) would not match.
  beforeCommands((updates) => {
    const accepted = updates.some(({ id, name, args, validated }) => {
      if (!validated) return true;
      const isCommand = (COMMAND_TYPES as readonly string[]).includes(name);
      if (!isCommand && name !== flagDuplicatesUpdate.name) return false;
      try {
        if (isCommand) validateCommand(name as CommandType, args[0], id);
        else validateFlag(args[0]);
        return true;
      } catch {
        return false;
      }
    });
    if (accepted) catchUp();
  });

  if (!capacityFirst) registerCapacityAnswers();

  // The person index's answer, passed on by the client once the case has started. Refused (and so
  // kept out of history) when it brings nothing new or the case can no longer take it.
  setHandler(
    flagDuplicatesUpdate,
    (payload): CaseView => {
      const parsed = systemEventSchemas['DUPLICATES.FLAGGED'].parse(payload);
      catchUp();
      apply({ ...parsed, type: 'DUPLICATES.FLAGGED', at: Date.now() });
      return view();
    },
    { validator: validateFlag },
  );

  // Each connection to a community service tells its case of every change (workflows/connection.ts).
  // A signal cannot be refused: one that does not parse, or that a closed case cannot take, is ignored.
  setHandler(connectionChangedSignal, (summary) => {
    const parsed = connectionSummarySchema.safeParse(summary);
    if (!parsed.success || !parsed.data.connectionId.startsWith(`${caseId}:`)) return;
    catchUp();
    const event: PathwayEvent = { type: 'CONNECTION.CHANGED', connection: parsed.data, at: Date.now() };
    if (snapshot.can(event)) apply(event);
  });

  function validateFlag(payload: unknown): void {
    const parsed = systemEventSchemas['DUPLICATES.FLAGGED'].safeParse(payload);
    if (!parsed.success) {
      throw ApplicationFailure.create({ type: 'InvalidCommand', message: `DUPLICATES.FLAGGED refused: ${describeIssues(parsed.error.issues)}`, nonRetryable: true });
    }
    if (!caughtUp().can({ ...parsed.data, type: 'DUPLICATES.FLAGGED', at: Date.now() })) {
      throw ApplicationFailure.create({ type: 'CommandNotAllowed', message: 'DUPLICATES.FLAGGED refused: nothing new, or the case is closed', nonRetryable: true });
    }
  }

  function registerCapacityAnswers() {
    setHandler(capacityDecisionSignal, (decision) => {
      pendingCapacity = decision;
      tryCapacity();
    });
  }

  function tryCapacity() {
    if (!pendingCapacity) return;
    const event: PathwayEvent =
      pendingCapacity.kind === 'granted'
        ? { type: 'CAPACITY.GRANTED', linkWorkerId: pendingCapacity.linkWorkerId, at: Date.now() }
        : { type: 'CAPACITY.WAITLISTED', position: pendingCapacity.position, at: Date.now() };
    if (snapshot.can(event)) {
      pendingCapacity = undefined;
      apply(event);
    } else if (snapshot.status === 'done' || event.type === 'CAPACITY.WAITLISTED' || !awaitingPlace(snapshot.context)) {
      // A stale answer: the case no longer waits for it. The ledger answers every request it
      // receives, so a place request retried after a worker crash brings the same grant twice; the
      // repeat finds the place already held. A place granted to a closed case goes back.
      if (event.type === 'CAPACITY.GRANTED' && snapshot.status === 'done') {
        effects.push({ type: 'releasePlace', params: {}, key: `${caseId}:${sequence}:late-grant` });
      }
      pendingCapacity = undefined;
    }
  }

  const runEffect = async (effect: Effect) => {
    const envelope = { caseId, schemeId: referral.schemeId, idempotencyKey: effect.key };
    switch (effect.type) {
      case 'notifyReferrer':
        return activities.notifyReferrer({ ...envelope, notice: effect.params as never });
      case 'notifySupervisor':
        return activities.notifySupervisor({ ...envelope, notice: effect.params as never });
      case 'requestPlace':
        return activities.requestPlace({ ...envelope, caseloadCap: snapshot.context.policy.caseloadCap });
      case 'releasePlace':
        return activities.releasePlace({ ...envelope, caseloadCap: snapshot.context.policy.caseloadCap });
      case 'requestVolunteerMatch':
        return activities.requestVolunteerMatch(envelope);
      case 'requestBefriending':
        return activities.requestBefriending(envelope);
      case 'recordOutcome':
        return activities.recordOutcome({ ...envelope, context: snapshot.context, timeline, ...(timelineDropped && { timelineDropped }) });
      case 'forgetPerson':
        return activities.forgetPerson(envelope);
    }
  };

  // Side effects run in their own loop (the pump), one at a time in the order the pathway asked
  // for them, so a slow or broken sink never holds up the case's deadlines or commands.
  let pumping = false;
  const pump = async () => {
    pumping = true;
    try {
      while (effects.length > 0) {
        const effect = effects[0]!;
        try {
          await runEffect(effect);
          deliveryProblems = deliveryProblems.filter((p) => p.key !== effect.key);
          effects.shift();
        } catch (err) {
          const permanent = isPermanent(err);
          noteDeliveryProblem(effect, err, permanent);
          if (permanent) {
            // Never dropped silently: it stays in the view as a problem and the case shows as escalated.
            effects.shift();
          } else {
            // The activity's own retries ran out its schedule-to-close time: the sink is down. Keep
            // the effect at the head and try again later; the problem is visible meanwhile.
            syncSearchAttributes();
            await sleep(limits.effectRetryAfter);
          }
        }
        syncSearchAttributes();
      }
    } finally {
      pumping = false;
    }
  };

  const noteDeliveryProblem = (effect: Effect, err: unknown, permanent: boolean) => {
    const existing = deliveryProblems.find((p) => p.key === effect.key);
    const error = failureType(err);
    log.error('side effect failed', { caseId, effect: effect.type, key: effect.key, error, permanent });
    if (existing) {
      existing.attempts += 1;
      existing.permanent = permanent;
      return;
    }
    deliveryProblems.push({ key: effect.key, effect: effect.type, since: Date.now(), attempts: 1, error, permanent });
    if (effect.type !== 'notifySupervisor') {
      effects.push({
        type: 'notifySupervisor',
        params: {
          escalationId: `delivery-${deliveryProblems.length}`,
          type: 'DELIVERY_FAILED',
          level: 1,
          stage: stageOf(snapshot),
          audience: escalationAudience(snapshot.context.policy, 1),
        },
        key: `${effect.key}:failed`,
      });
    }
  };

  const effectsSettled = () => effects.length === 0 && !pumping;

  // The timer for the next deadline, kept across commands that leave its due time alone. It lives
  // in a scope of its own under the workflow's root, so ending a wait does not cancel it.
  const root = CancellationScope.current();
  let deadlineTimer: { dueAt: number; scope: CancellationScope; fired: Promise<boolean> } | undefined;
  const deadlineFired = (dueAt: number): Promise<boolean> => {
    if (deadlineTimer?.dueAt === dueAt) return deadlineTimer.fired;
    deadlineTimer?.scope.cancel();
    const scope = new CancellationScope({ cancellable: true, parent: root });
    const fired = scope.run(() => sleep(Math.max(1, dueAt - Date.now()))).then(
      () => true,
      () => false,
    );
    deadlineTimer = { dueAt, scope, fired };
    return fired;
  };
  const dropDeadlineTimer = () => {
    deadlineTimer?.scope.cancel();
    deadlineTimer = undefined;
  };
  let keepingTimer: boolean | undefined;
  let bounded: boolean | undefined;
  const startSequence = sequence;
  const carried = (): CarriedCase => ({
    value: snapshot.value,
    context: snapshot.context,
    timeline,
    sequence,
    pendingCapacity,
    deliveryProblems,
    pathwayVersion,
    ...(timelineDropped && { timelineDropped }),
    ...(recentCommands.length > 0 && { commands: recentCommands }),
  });
  /**
   * Continue as new before any of Temporal's limits is near, whatever commands arrive: when the
   * carried state or the history passes its budget, not only when Temporal suggests it. Only once
   * this run has applied something, so a state that cannot shrink further never loops.
   */
  const overBudget = (): boolean => {
    if (!bounded || sequence === startSequence) return false;
    const info = workflowInfo();
    return info.historyLength > HISTORY_EVENT_BUDGET || info.historySize > HISTORY_BYTE_BUDGET || jsonBytes(carried()) > CARRIED_BYTE_BUDGET;
  };

  for (;;) {
    if (effects.length > 0 && !pumping) void pump();
    tryCapacity();
    if (snapshot.status === 'done') {
      dropDeadlineTimer();
      await condition(effectsSettled);
      if (effects.length === 0) break;
      continue;
    }
    bounded ??= changed(CHANGES.boundedCarriedState);
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (limits.historyEvents ?? Infinity) || overBudget()) {
      await condition(allHandlersFinished);
      await condition(effectsSettled);
      await continueAsNew<typeof pathwayCase>({
        referral,
        policy,
        ...(input.limits && { limits: input.limits }),
        ...(input.intakeDigest && { intakeDigest: input.intakeDigest }),
        // Cases that began before the budget carry everything, as their recorded runs did.
        carried: bounded ? compactCarried(carried()) : { value: snapshot.value, context: snapshot.context, timeline, sequence, pendingCapacity, deliveryProblems, pathwayVersion },
      });
    }
    const timer = armed(snapshot);
    const seen = sequence;
    // A capacity answer kept for later is not news: the signal handler already tried it, and the
    // change that lets it apply (the hold clearing) moves `sequence`. Waking on it would spin.
    const somethingHappened = () => sequence !== seen || (effects.length > 0 && !pumping);
    if (!timer) {
      dropDeadlineTimer();
      await condition(somethingHappened);
      continue;
    }
    keepingTimer ??= changed(CHANGES.deadlineTimerKept);
    if (keepingTimer) {
      const due = await CancellationScope.cancellable(async () => {
        try {
          return await Promise.race([condition(somethingHappened).then(() => false), deadlineFired(timer.dueAt)]);
        } finally {
          // Ends the wait for news (the condition), not the kept timer, which has its own scope.
          CancellationScope.current().cancel();
        }
      });
      if (!due) continue;
      deadlineTimer = undefined;
    } else if (await condition(somethingHappened, Math.max(1, timer.dueAt - Date.now()))) continue;
    // The timer firing is what makes the deadline due; the workflow clock is not evidence of it (it
    // can lag the timer, see CHANGES.deadlineAtDueTime). Later deadlines still count from when the
    // case took this one, so a slow or long-stopped worker does not face a backlog of them.
    catchingUp ??= changed(CHANGES.deadlineAtDueTime);
    const at = catchingUp ? Math.max(timer.dueAt, Date.now()) : Date.now();
    const event = { ...timer.event, at } as PathwayEvent;
    if (snapshot.can(event)) apply(event);
    else {
      skipped.add(`${timer.key}@${timer.dueAt}`);
      log.warn('deadline refused by the pathway', { caseId, deadline: timer.event.type, stage: stageOf(snapshot) });
    }
  }

  await condition(allHandlersFinished);
  return view();
}
