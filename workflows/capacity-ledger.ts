// The scheme's capacity ledger, an entity workflow: it grants places against each link worker's
// caseload cap, queues referrals when the scheme is full, admits them in order when a place frees,
// and answers caseload queries from its own state (consistent, unlike visibility).
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { PathwayActivities } from '../activities';
import { activityOptions } from '../activities/options';
import { CHANGES, changed } from './changes';
import { capacityDecisionSignal, type CapacityDecision } from './definitions';
import {
  caseloadsQuery,
  releasePlaceSignal,
  requestPlaceSignal,
  setRosterUpdate,
  type Caseloads,
  type LedgerInput,
  type LedgerState,
  type LinkWorker,
  type PlaceRequest,
} from './ledger-definitions';
import { route, setSignalHandlersInOrder } from './runtime/signals-in-order';

const { notifySupervisor } = proxyActivities<Pick<PathwayActivities, 'notifySupervisor'>>(activityOptions);

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export async function capacityLedger(input: LedgerInput): Promise<void> {
  const { schemeId, caseloadCap } = input;
  const state: LedgerState = input.state ?? { roster: [], holders: {}, waitlist: [], overloads: 0, full: false };
  const outbox: Array<{ caseId: string; decision: CapacityDecision }> = [];
  const overloadNotices: number[] = [];

  const capOf = (w: LinkWorker) => w.cap ?? caseloadCap;
  const loadOf = (id: string) => Object.values(state.holders).filter((h) => h.linkWorkerId === id).length;

  /** The least-loaded link worker with room; ties go to roster order so the choice is stable. */
  const withRoom = (): LinkWorker | undefined => {
    let best: LinkWorker | undefined;
    for (const w of state.roster) {
      const load = loadOf(w.id);
      if (load < capOf(w) && (!best || load < loadOf(best.id))) best = w;
    }
    return best;
  };

  const grant = (caseId: string, at: number) => {
    const worker = withRoom()!;
    state.holders[caseId] = { linkWorkerId: worker.id, since: at };
    outbox.push({ caseId, decision: { kind: 'granted', linkWorkerId: worker.id } });
  };

  const admitFromWaitlist = () => {
    while (state.waitlist.length > 0 && withRoom()) {
      const next = state.waitlist.shift()!;
      grant(next.caseId, Date.now());
    }
    // Those still waiting are not re-told their position: one signal per waiting case per release
    // would grow with the square of the queue. The caseloads query has the live order.
    noteFullness();
  };

  const noteFullness = () => {
    const full = state.waitlist.length > 0;
    if (full && !state.full) {
      state.overloads += 1;
      overloadNotices.push(state.overloads);
    }
    state.full = full;
  };

  const caseloads = (): Caseloads => ({
    schemeId,
    caseloadCap,
    linkWorkers: state.roster.map((w) => {
      const cases = Object.entries(state.holders)
        .filter(([, h]) => h.linkWorkerId === w.id)
        .map(([caseId]) => caseId)
        .sort();
      return { id: w.id, open: cases.length, cap: capOf(w), cases };
    }),
    waitlist: state.waitlist.map((w, i) => ({ caseId: w.caseId, since: w.since, position: i + 1 })),
    open: Object.keys(state.holders).length,
    full: state.full,
  });

  const onRequest = ({ caseId, at }: PlaceRequest) => {
    // Requests are retried by activities: answer a repeat with the decision already made.
    const held = state.holders[caseId];
    if (held) {
      outbox.push({ caseId, decision: { kind: 'granted', linkWorkerId: held.linkWorkerId } });
      return;
    }
    const queued = state.waitlist.findIndex((w) => w.caseId === caseId);
    if (queued >= 0) {
      outbox.push({ caseId, decision: { kind: 'waitlisted', position: queued + 1 } });
      return;
    }
    if (state.waitlist.length === 0 && withRoom()) {
      grant(caseId, at);
    } else {
      state.waitlist.push({ caseId, since: at });
      outbox.push({ caseId, decision: { kind: 'waitlisted', position: state.waitlist.length } });
      noteFullness();
    }
  };

  const onRelease = ({ caseId }: { caseId: string }) => {
    const wasHeld = delete state.holders[caseId];
    const before = state.waitlist.length;
    state.waitlist = state.waitlist.filter((w) => w.caseId !== caseId);
    if (wasHeld || state.waitlist.length !== before) admitFromWaitlist();
  };

  if (changed(CHANGES.ledgerSignalsInOrder)) {
    setSignalHandlersInOrder([route(requestPlaceSignal, onRequest), route(releasePlaceSignal, onRelease)]);
  } else {
    setHandler(requestPlaceSignal, onRequest);
    setHandler(releasePlaceSignal, onRelease);
  }

  setHandler(
    setRosterUpdate,
    (roster) => {
      // Cases of someone leaving the roster keep counting against them until reassigned: the
      // ledger never silently moves a person to a new link worker.
      state.roster = roster.map((w) => ({ id: w.id, ...(w.cap !== undefined && { cap: w.cap }) }));
      admitFromWaitlist();
      return caseloads();
    },
    {
      validator: (roster) => {
        if (!Array.isArray(roster)) throw ApplicationFailure.nonRetryable('roster must be a list of link workers', 'InvalidCommand');
        const seen = new Set<string>();
        roster.forEach((w, i) => {
          if (!w || typeof w.id !== 'string' || !SAFE_ID.test(w.id)) {
            throw ApplicationFailure.nonRetryable(`roster[${i}].id: must be a staff id of letters, digits, ".", "_", ":" or "-"`, 'InvalidCommand');
          }
          if (seen.has(w.id)) throw ApplicationFailure.nonRetryable(`roster[${i}].id: '${w.id}' appears twice`, 'InvalidCommand');
          seen.add(w.id);
          if (w.cap !== undefined && (!Number.isInteger(w.cap) || w.cap < 0 || w.cap > 1000)) {
            throw ApplicationFailure.nonRetryable(`roster[${i}].cap: must be a whole number from 0 to 1000`, 'InvalidCommand');
          }
        });
      },
    },
  );

  setHandler(caseloadsQuery, caseloads);

  for (;;) {
    await condition(
      () =>
        outbox.length > 0 ||
        overloadNotices.length > 0 ||
        workflowInfo().continueAsNewSuggested ||
        workflowInfo().historyLength > (input.limits?.historyEvents ?? Infinity),
    );
    while (overloadNotices.length > 0) {
      const n = overloadNotices.shift()!;
      await notifySupervisor({
        caseId: `scheme-${schemeId}`,
        schemeId,
        idempotencyKey: `ledger-${schemeId}:overload:${n}`,
        notice: { escalationId: `capacity-${schemeId}-${n}`, type: 'CASELOAD_FULL', level: 1, stage: 'capacity' },
      });
    }
    while (outbox.length > 0) {
      // All decisions due go out at once: one round trip per batch, not per case, when a busy
      // scheme's referrals arrive together.
      const batch = outbox.splice(0, outbox.length);
      await Promise.all(
        batch.map(({ caseId, decision }) =>
          getExternalWorkflowHandle(caseId)
            .signal(capacityDecisionSignal, decision)
            .catch((err: Error) => {
              // The case has closed since it asked; its own discharge releases anything it held.
              log.info('capacity decision not delivered', { caseId, error: err.message });
            }),
        ),
      );
    }
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > (input.limits?.historyEvents ?? Infinity)) {
      await condition(allHandlersFinished);
      if (outbox.length === 0 && overloadNotices.length === 0) {
        await continueAsNew<typeof capacityLedger>({ ...input, state });
      }
    }
  }
}
