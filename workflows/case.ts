// One referred person's journey, as one workflow. The workflow is a thin, durable driver of the
// pure pathway machine: it holds the snapshot, applies events with `transition()`, turns deadlines
// in the machine's context into durable waits, and runs the machine's side effects as activities.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineUpdate,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { initialTransition, transition } from 'xstate';
import {
  COMMAND_TYPES,
  commandSchemas,
  nextDue,
  openEscalations,
  pathwayMachine,
  stageOf,
  type CommandType,
  type PathwayEvent,
} from '../machines';
import { activityOptions } from '../activities/options';
import type { PathwayActivities } from '../activities';
import type { CapacityActivities } from '../activities/capacity';
import {
  capacityDecisionSignal,
  caseViewQuery,
  commandUpdates,
  outcomeRecordQuery,
  type CapacityDecision,
  type CaseInput,
  type CaseView,
  type TimelineEntry,
} from './definitions';
import { outcomeRecordFromCase } from '../evidence/from-case';
import { describeIssues, refusalReason } from './refusals';
import { caseSearchAttributes, type CaseSearchAttributes } from './case-search-attributes';

const activities = proxyActivities<PathwayActivities & CapacityActivities>(activityOptions);

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
] as const;

/** Bumped by each patched change to the pathway workflow; reported in the case view. */
export const PATHWAY_WORKFLOW_VERSION = 1;

export async function pathwayCase(input: CaseInput): Promise<CaseView> {
  const caseId = workflowInfo().workflowId;
  const { referral, policy } = input;
  let snapshot: Snapshot;
  let timeline: TimelineEntry[];
  let sequence: number;
  const effects: Effect[] = [];
  // A capacity answer that arrived while the machine could not take it (possible only in races
  // with discharge); kept until it can be applied or released.
  let pendingCapacity: CapacityDecision | undefined;
  let lastAttributes: CaseSearchAttributes | undefined;

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
    const next = caseSearchAttributes(snapshot.context, stageOf(snapshot));
    const changed = next.filter((pair) => lastAttributes?.find((p) => p.key.name === pair.key.name)?.value?.toString() !== pair.value?.toString());
    if (changed.length > 0) upsertSearchAttributes(changed);
    lastAttributes = next;
  };

  const apply = (event: PathwayEvent) => {
    const from = stageOf(snapshot);
    const [next, actions] = transition(pathwayMachine, snapshot, event);
    snapshot = next as Snapshot;
    sequence += 1;
    const actor = 'actor' in event ? event.actor : undefined;
    timeline.push({ seq: sequence, at: event.at, event: event.type, from, to: stageOf(snapshot), ...(actor && { actor }) });
    enqueue(actions);
    syncSearchAttributes();
  };

  if (input.carried) {
    snapshot = pathwayMachine.resolveState({ value: input.carried.value as never, context: input.carried.context });
    timeline = input.carried.timeline;
    sequence = input.carried.sequence;
    pendingCapacity = input.carried.pendingCapacity;
    lastAttributes = caseSearchAttributes(snapshot.context, stageOf(snapshot));
  } else {
    const [first, actions] = initialTransition(pathwayMachine, { referral, policy, at: Date.now() });
    snapshot = first as Snapshot;
    sequence = 1;
    timeline = [{ seq: 1, at: Date.now(), event: 'REFERRAL', from: 'referral', to: stageOf(snapshot) }];
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
      deadlines: ctx.timers,
      ...(due && { nextDueAt: due.dueAt }),
      escalations: ctx.escalations,
      openEscalations: openEscalations(ctx),
      measures: { baseline: ctx.baseline, checkIns: ctx.checkIns, ...(ctx.review && { review: ctx.review }) },
      plan: ctx.plan,
      ...(ctx.discharge && { discharge: ctx.discharge }),
      serviceGaps: ctx.serviceGaps,
      timeline,
      sequence,
      pathwayVersion: PATHWAY_WORKFLOW_VERSION,
      ...(input.intakeDigest && { intakeDigest: input.intakeDigest }),
    };
  };

  setHandler(caseViewQuery, view);
  setHandler(outcomeRecordQuery, () => outcomeRecordFromCase({ caseId, context: snapshot.context, timeline }));

  for (const type of COMMAND_TYPES) {
    registerCommand(type);
  }

  function registerCommand<K extends CommandType>(type: K) {
    const schema = commandSchemas[type];
    // One generic registration for every command; the per-command payload types live in
    // `commandUpdates` for callers, here each payload is checked by its zod schema instead.
    const update = commandUpdates[type] as unknown as ReturnType<typeof defineUpdate<CaseView, [unknown]>>;
    setHandler(
      update,
      (payload: unknown): CaseView => {
        // Parsed again (deterministically) so the handler applies exactly what the validator passed.
        const parsed = schema.parse(payload);
        apply({ ...parsed, type, at: Date.now() } as PathwayEvent);
        return view();
      },
      {
        // Synchronous by Temporal's rule: a throw here rejects the update and leaves no trace in history.
        validator: (payload: unknown) => {
          const parsed = schema.safeParse(payload);
          if (!parsed.success) {
            throw ApplicationFailure.create({
              type: 'InvalidCommand',
              message: `${type} refused: ${describeIssues(parsed.error.issues)}`,
              nonRetryable: true,
              details: [{ command: type, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })) }],
            });
          }
          const event = { ...parsed.data, type, at: Date.now() } as PathwayEvent;
          if (!snapshot.can(event)) {
            throw ApplicationFailure.create({
              type: 'CommandNotAllowed',
              message: `${type} refused: ${refusalReason(snapshot, event)}`,
              nonRetryable: true,
              details: [{ command: type, stage: stageOf(snapshot) }],
            });
          }
        },
      },
    );
  }

  setHandler(capacityDecisionSignal, (decision) => {
    pendingCapacity = decision;
    tryCapacity();
  });

  function tryCapacity() {
    if (!pendingCapacity) return;
    const event: PathwayEvent =
      pendingCapacity.kind === 'granted'
        ? { type: 'CAPACITY.GRANTED', linkWorkerId: pendingCapacity.linkWorkerId, at: Date.now() }
        : { type: 'CAPACITY.WAITLISTED', position: pendingCapacity.position, at: Date.now() };
    if (snapshot.can(event)) {
      pendingCapacity = undefined;
      apply(event);
    } else if (snapshot.status === 'done' || event.type === 'CAPACITY.WAITLISTED') {
      // A stale answer: the case no longer waits for it. A place granted to a closed case goes back.
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
        return activities.recordOutcome({ ...envelope, context: snapshot.context, timeline });
    }
  };

  const drainEffects = async () => {
    while (effects.length > 0) {
      const effect = effects[0]!;
      try {
        await runEffect(effect);
      } catch (err) {
        // Retries are exhausted or the failure is permanent: the case must not stall on a sink,
        // so it is logged (without patient data) and the supervisor channel hears of it.
        log.error('side effect failed', { caseId, effect: effect.type, key: effect.key, error: (err as Error).message });
        if (effect.type !== 'notifySupervisor') {
          effects.push({
            type: 'notifySupervisor',
            params: { escalationId: `effect-${effect.key}`, type: 'SIDE_EFFECT_FAILED', level: 1, stage: stageOf(snapshot) },
            key: `${effect.key}:failed`,
          });
        }
      }
      effects.shift();
    }
  };

  // Deadlines that the machine refused when they fell due (a broken invariant): skipped rather
  // than retried in a busy loop, and logged.
  const skipped = new Set<string>();

  for (;;) {
    await drainEffects();
    tryCapacity();
    if (snapshot.status === 'done' && effects.length === 0) break;
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.limits?.historyEvents ?? Infinity)) {
      await condition(allHandlersFinished);
      await drainEffects();
      await continueAsNew<typeof pathwayCase>({
        referral,
        policy,
        ...(input.limits && { limits: input.limits }),
        ...(input.intakeDigest && { intakeDigest: input.intakeDigest }),
        carried: { value: snapshot.value, context: snapshot.context, timeline, sequence, pendingCapacity },
      });
    }
    const timer = nextDue({ timers: snapshot.context.timers.filter((t) => !skipped.has(`${t.key}@${t.dueAt}`)) });
    const seen = sequence;
    const somethingHappened = () => sequence !== seen || effects.length > 0 || pendingCapacity !== undefined;
    if (!timer) {
      await condition(somethingHappened);
      continue;
    }
    if (await condition(somethingHappened, Math.max(1, timer.dueAt - Date.now()))) continue;
    const event = { ...timer.event, at: Date.now() } as PathwayEvent;
    if (snapshot.can(event)) apply(event);
    else {
      skipped.add(`${timer.key}@${timer.dueAt}`);
      log.warn('deadline refused by the pathway', { caseId, deadline: timer.event.type, stage: stageOf(snapshot) });
    }
  }

  await condition(allHandlersFinished);
  return view();
}
