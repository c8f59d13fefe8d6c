// The capacity ledger's answers (a place granted, or a position on the waitlist), which arrive as
// signals. One the machine cannot take yet (during a safeguarding hold raised while the case waited
// for a place) is kept until it can, or until the case no longer waits for it.
import { setHandler } from '@temporalio/workflow';
import { awaitingPlace, type PathwayEvent } from '../../machines';
import { capacityDecisionSignal } from '../definitions';
import type { EffectPump } from './effect-pump';
import type { CaseState } from './state';

export class CapacityAnswers {
  constructor(
    private readonly state: CaseState,
    private readonly pump: EffectPump,
  ) {}

  register(): void {
    setHandler(capacityDecisionSignal, (decision) => {
      this.state.pendingCapacity = decision;
      this.tryPending();
    });
  }

  /** Applies the kept answer if the case can take it now; drops it if the case no longer waits for it. */
  tryPending(): void {
    const { state } = this;
    const pending = state.pendingCapacity;
    if (!pending) return;
    const event: PathwayEvent =
      pending.kind === 'granted'
        ? { type: 'CAPACITY.GRANTED', linkWorkerId: pending.linkWorkerId, at: Date.now() }
        : { type: 'CAPACITY.WAITLISTED', position: pending.position, at: Date.now() };
    if (state.snapshot.can(event)) {
      state.pendingCapacity = undefined;
      state.apply(event);
    } else if (state.done || event.type === 'CAPACITY.WAITLISTED' || !awaitingPlace(state.context)) {
      // A stale answer: the case no longer waits for it. The ledger answers every request it
      // receives, so a place request retried after a worker crash brings the same grant twice; the
      // repeat finds the place already held. A place granted to a closed case goes back.
      if (event.type === 'CAPACITY.GRANTED' && state.done) {
        this.pump.push({ type: 'releasePlace', params: undefined, key: `${state.caseId}:${state.sequence}:late-grant` });
      }
      state.pendingCapacity = undefined;
    }
  }
}
