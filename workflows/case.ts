// One referred person's journey, as one workflow. The workflow is a thin, durable driver of the
// pure pathway machine, wired here from small parts (workflows/case/):
//   state.ts            the snapshot, timeline and sequence; the one place an event is applied
//   command-gate.ts     commands from hosts: validated once, decided once, applied
//   deadlines.ts        the next deadline as a durable timer; catching up before a command
//   capacity-answers.ts the capacity ledger's answers
//   effect-pump.ts      the machine's side effects, run as activities in a loop of their own
//   attributes.ts       what visibility shows of the case, written only when it changes
//   continue-as-new.ts  when and what a run hands the next
//   connection-news.ts  what the case's connections to community services tell it
// The order below is part of the case's history (handlers registered, patches checked): a change
// to it is a change running cases notice (docs/versioning.md).
import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import { caseViewQuery, openCaseUpdate, outcomeRecordQuery, type CaseInput, type CaseView } from './definitions';
import { outcomeRecordFromCase } from '../evidence/from-case';
import { CHANGES, changed, startCaseRun } from './changes';
import { SearchAttributeWriter } from './case/attributes';
import { CapacityAnswers } from './case/capacity-answers';
import { CommandGate } from './case/command-gate';
import { registerConnectionNews, takeKeptBefriendingAnswer } from './case/connection-news';
import { RunHandover } from './case/continue-as-new';
import { Deadlines } from './case/deadlines';
import { EffectPump } from './case/effect-pump';
import { CaseState } from './case/state';
import { taskChangeAnnouncer } from './task-changes';

const DEFAULT_LIMITS = {
  historyEvents: undefined as number | undefined,
  /** How long one side effect may keep failing before the case reports a delivery problem. */
  effectTimeout: '1 hour' as Duration,
  /** How long the case waits before it tries a failed delivery again. */
  effectRetryAfter: '10 minutes' as Duration,
};

export async function pathwayCase(input: CaseInput): Promise<CaseView> {
  startCaseRun();
  const caseId = workflowInfo().workflowId;
  const limits = { ...DEFAULT_LIMITS, ...input.limits };
  const state = new CaseState(caseId, input);
  const attributes = new SearchAttributeWriter(state, changed(CHANGES.attributesOncePerActivation), changed(CHANGES.taskSearchAttributes));
  const effects = new EffectPump(state, limits, () => attributes.sync());
  const announce = taskChangeAnnouncer(caseId, state.schemeId);
  state.onApplied = (actions) => {
    effects.enqueue(actions);
    announce(state.timeline.at(-1)!).forEach((e) => effects.push(e));
    attributes.sync();
  };

  if (input.carried) attributes.alreadyPublished();
  else {
    if (changed(CHANGES.referralReceipt)) {
      state.pathwayVersion = 2;
      effects.push({ type: 'notifyReferrer', params: { kind: 'received' }, key: `${caseId}:1:receipt:notifyReferrer` });
    }
    effects.enqueue(state.initialActions);
    announce(state.timeline[0]!).forEach((e) => effects.push(e));
    attributes.sync();
  }

  const deadlines = new Deadlines(state);
  const gate = new CommandGate(state, deadlines);
  const capacity = new CapacityAnswers(state, effects);
  const handover = new RunHandover(input, state, limits.historyEvents);

  setHandler(caseViewQuery, () => state.view());
  setHandler(outcomeRecordQuery, () =>
    outcomeRecordFromCase({ caseId, context: state.context, timeline: state.timeline, ...(state.timelineDropped && { timelineDropped: state.timelineDropped }) }),
  );

  // Signals and updates that reach a run before it starts (sent while the case continues as new)
  // wait in the SDK's buffer, and each handler takes its own as it is registered. A capacity answer
  // waiting beside a command must be taken first: a first contact sent once the place was granted
  // would otherwise be judged against a case still allocating, and refused.
  const capacityFirst = changed(CHANGES.capacityBeforeCommands);
  if (capacityFirst) capacity.register();
  gate.registerCommands();
  gate.catchUpBeforeAcceptedCommands();
  if (!capacityFirst) capacity.register();
  // Refused (and so kept out of history) when it brings nothing new or the case can no longer take it.
  gate.registerFlag();
  // The referral's own answer: reads the case, changes nothing.
  setHandler(openCaseUpdate, ({ intakeId }) => ({ view: state.view(), created: input.intakeId !== undefined && input.intakeId === intakeId }));
  // Last, so no buffered signal or update of a running case is taken in another order than before.
  registerConnectionNews(state);

  // Every await below is one the loop always made, in the same order: where a wake's commands fall
  // among a task's others is recorded in history.
  for (;;) {
    effects.start();
    capacity.tryPending();
    takeKeptBefriendingAnswer(state);
    if (state.done) {
      deadlines.stop();
      await condition(() => effects.settled);
      if (effects.empty) break;
      continue;
    }
    if (handover.due()) {
      await condition(allHandlersFinished);
      await condition(() => effects.settled);
      await continueAsNew<typeof pathwayCase>(handover.nextInput());
    }
    const timer = deadlines.armed();
    const seen = state.sequence;
    // A capacity answer kept for later is not news: the signal handler already tried it, and the
    // change that lets it apply (the hold clearing) moves `sequence`. Waking on it would spin.
    const somethingHappened = () => state.sequence !== seen || effects.idle;
    if (!timer) {
      deadlines.stop();
      await condition(somethingHappened);
      continue;
    }
    if (await deadlines.newsOrDeadline(timer, somethingHappened)) continue;
    deadlines.take(timer);
  }

  await condition(allHandlersFinished);
  return state.view();
}
