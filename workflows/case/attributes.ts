// The search-attribute writer: publishes what visibility shows of a case (workflows/case-search-attributes.ts)
// and writes only the attributes that changed since it last wrote, so a command that moves nothing
// a supervisor filters by adds no event to history, and (in cases begun on v8) at most one upsert
// per activation however many events it applied.
import { upsertSearchAttributes } from '@temporalio/workflow';
import { caseSearchAttributes, type CaseSearchAttributes } from '../case-search-attributes';
import type { CaseState } from './state';

export class SearchAttributeWriter {
  private last: CaseSearchAttributes | undefined;
  private flushQueued = false;

  /**
   * `oncePerActivation` (CHANGES.attributesOncePerActivation): a sync only notes that something
   * changed, and what changed is written once, after the activation's jobs have run (in the
   * microtasks that follow them, before the task's commands are sent). Otherwise each sync writes.
   */
  constructor(
    private readonly state: CaseState,
    private readonly oncePerActivation: boolean,
  ) {}

  private current(): CaseSearchAttributes {
    const { state } = this;
    return caseSearchAttributes(state.context, state.stage, state.deliveryProblems.length);
  }

  /** What a carried-over case already published in its previous run: nothing to write for it now. */
  alreadyPublished(): void {
    this.last = this.current();
  }

  sync(): void {
    if (!this.oncePerActivation) return this.write();
    if (this.flushQueued) return;
    this.flushQueued = true;
    void Promise.resolve().then(() => {
      this.flushQueued = false;
      this.write();
    });
  }

  private write(): void {
    const next = this.current();
    const last = this.last;
    const changed = next.filter((pair) => last?.find((p) => p.key.name === pair.key.name)?.value?.toString() !== pair.value?.toString());
    if (changed.length > 0) upsertSearchAttributes(changed);
    this.last = next;
  }
}
