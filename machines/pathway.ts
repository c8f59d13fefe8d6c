import { setup, type SnapshotFrom } from 'xstate';
import { createContext, type PathwayContext, type PathwayInput } from './context';
import type { PathwayEvent } from './events';
import { allocating, allocationActions, allocationGuards, waitlisted } from './stages/allocation';
import { befriendingActions, befriendingGuards, befriendingHandoff } from './stages/befriending';
import { dischargeActions, dischargeGuards, dischargeOnRequest, discharged } from './stages/discharge';
import { duplicateActions, duplicateGuards, duplicateHandling } from './stages/duplicates';
import { effectActions } from './stages/effects';
import { escalationActions, escalationGuards, escalationHandling } from './stages/escalation';
import { extensionActions, extensionGuards, extensionPending } from './stages/extension';
import { firstContact, firstContactActions, firstContactGuards } from './stages/first-contact';
import { firstVisit, firstVisitActions } from './stages/first-visit';
import { holdActions, holdGuards, onHold, resuming } from './stages/hold';
import { sharedGuards } from './stages/kit';
import { coProducedPlan, planActions, planGuards } from './stages/plan';
import { review, reviewActions, reviewGuards } from './stages/review';
import { screening, screeningActions, screeningGuards } from './stages/screening';
import { support, supportActions, supportGuards } from './stages/support';
import { triage, triageActions } from './stages/triage';

/*
 * The social prescribing pathway as a pure XState machine. The Temporal workflow drives it with
 * `transition()`: nothing here reads a clock, draws a random number or does I/O. Time arrives as
 * `event.at`; every deadline is an absolute due time in `context.timers` that the workflow sleeps
 * on; every side effect is a named no-op action returned as data for the workflow to run.
 *
 * Each stage lives in machines/stages/ with its guards and actions beside its state; this file
 * puts them together, so the whole pathway reads from the `states` below, in the order a case
 * goes through them.
 *
 * Stage timers are armed by the transitions that enter a stage, never by `entry` actions: a stage
 * is re-entered when a safeguarding hold is cleared, and that must restore its timers (shifted by
 * the hold) rather than start them again.
 */

export const pathwayMachine = setup({
  types: {
    context: {} as PathwayContext,
    events: {} as PathwayEvent,
    input: {} as PathwayInput,
  },
  guards: {
    ...sharedGuards,
    ...screeningGuards,
    ...allocationGuards,
    ...firstContactGuards,
    ...planGuards,
    ...supportGuards,
    ...reviewGuards,
    ...extensionGuards,
    ...befriendingGuards,
    ...holdGuards,
    ...escalationGuards,
    ...duplicateGuards,
    ...dischargeGuards,
  },
  actions: {
    ...effectActions,
    ...escalationActions,
    ...screeningActions,
    ...triageActions,
    ...allocationActions,
    ...firstContactActions,
    ...firstVisitActions,
    ...planActions,
    ...supportActions,
    ...reviewActions,
    ...extensionActions,
    ...befriendingActions,
    ...holdActions,
    ...duplicateActions,
    ...dischargeActions,
  },
}).createMachine({
  id: 'pathway',
  context: ({ input }) => createContext(input),
  initial: 'active',
  states: {
    active: {
      initial: 'screening',
      on: {
        DISCHARGE: dischargeOnRequest,
        ...duplicateHandling,
        ...escalationHandling,
      },
      states: {
        screening,
        triage,
        allocating,
        waitlisted,
        firstContact,
        firstVisit,
        coProducedPlan,
        support,
        review,
        extensionPending,
        befriendingHandoff,
        resuming,
      },
    },
    onHold,
    discharged,
  },
});

export type PathwayMachine = typeof pathwayMachine;
export type PathwaySnapshot = SnapshotFrom<typeof pathwayMachine>;
