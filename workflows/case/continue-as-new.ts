// When a run hands the case on to a new one: before any of Temporal's limits is near, whatever
// commands arrive, and with what. The new run takes the carried state (workflows/carried-state.ts)
// and rebuilds the snapshot from it; the case's loop lets in-flight handlers and side effects finish first.
import { workflowInfo } from '@temporalio/workflow';
import { jsonBytes } from '../../machines';
import type { CaseInput } from '../definitions';
import { CARRIED_BYTE_BUDGET, HISTORY_BYTE_BUDGET, HISTORY_EVENT_BUDGET, compactCarried } from '../carried-state';
import { CHANGES, changed } from '../changes';
import type { CaseState } from './state';

export class RunHandover {
  private bounded: boolean | undefined;
  private readonly startSequence: number;

  constructor(
    private readonly input: CaseInput,
    private readonly state: CaseState,
    private readonly historyEvents: number | undefined,
  ) {
    this.startSequence = state.sequence;
  }

  /**
   * Continue as new before any of Temporal's limits is near: when the carried state or the history
   * passes its budget, not only when Temporal suggests it. Only once this run has applied
   * something, so a state that cannot shrink further never loops.
   */
  private overBudget(): boolean {
    if (!this.bounded || this.state.sequence === this.startSequence) return false;
    const info = workflowInfo();
    return info.historyLength > HISTORY_EVENT_BUDGET || info.historySize > HISTORY_BYTE_BUDGET || jsonBytes(this.state.carried()) > CARRIED_BYTE_BUDGET;
  }

  /** Whether this run should hand the case on now. */
  due(): boolean {
    this.bounded ??= changed(CHANGES.boundedCarriedState);
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > (this.historyEvents ?? Infinity) || this.overBudget();
  }

  /** The next run's input. */
  nextInput(): CaseInput {
    const { input, state } = this;
    return {
      referral: input.referral,
      policy: input.policy,
      ...(input.limits && { limits: input.limits }),
      ...(input.intakeDigest && { intakeDigest: input.intakeDigest }),
      ...(input.intakeId && { intakeId: input.intakeId }),
      // Cases that began before the budget carry everything, as their recorded runs did.
      carried: this.bounded ? compactCarried(state.carried()) : state.carriedWhole(),
    };
  }
}
