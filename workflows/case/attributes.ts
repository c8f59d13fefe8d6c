// The search-attribute writer: publishes what visibility shows of a case (workflows/case-search-attributes.ts)
// and writes only the attributes that changed since it last wrote, so a command that moves nothing
// a supervisor filters by adds no event to history.
import { upsertSearchAttributes } from '@temporalio/workflow';
import { caseSearchAttributes, type CaseSearchAttributes } from '../case-search-attributes';
import type { CaseState } from './state';

export class SearchAttributeWriter {
  private last: CaseSearchAttributes | undefined;

  constructor(private readonly state: CaseState) {}

  private current(): CaseSearchAttributes {
    const { state } = this;
    return caseSearchAttributes(state.context, state.stage, state.deliveryProblems.length);
  }

  /** What a carried-over case already published in its previous run: nothing to write for it now. */
  alreadyPublished(): void {
    this.last = this.current();
  }

  sync(): void {
    const next = this.current();
    const last = this.last;
    const changed = next.filter((pair) => last?.find((p) => p.key.name === pair.key.name)?.value?.toString() !== pair.value?.toString());
    if (changed.length > 0) upsertSearchAttributes(changed);
    this.last = next;
  }
}
