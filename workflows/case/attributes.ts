// The search-attribute writer: publishes what visibility shows of a case (workflows/case-search-attributes.ts)
// and writes only the attributes that changed since it last wrote, so a command that moves nothing
// a supervisor filters by adds no event to history, and (in cases begun on v8) at most one upsert
// per activation however many events it applied.
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { caseSearchAttributes, type CaseSearchAttributes } from '../case-search-attributes';
import { changedAtKey, taskStatusKey } from '../search-attributes';
import type { CaseState } from './state';

/** An attribute's value as a string that tells any two different values apart (times to the millisecond). */
function exactly(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (value instanceof Date) return `t${value.getTime()}`;
  return Array.isArray(value) ? `a${JSON.stringify(value)}` : `v${JSON.stringify(value)}`;
}

export class SearchAttributeWriter {
  private last: CaseSearchAttributes | undefined;
  private flushQueued = false;

  /**
   * `oncePerActivation` (CHANGES.attributesOncePerActivation): a sync only notes that something
   * changed, and what changed is written once, after the activation's jobs have run (in the
   * microtasks that follow them, before the task's commands are sent). Otherwise each sync writes.
   * `publishTask` (CHANGES.taskSearchAttributes): the case also publishes its FHIR Task status and
   * the time of its last change, for the gateway's Task search.
   */
  constructor(
    private readonly state: CaseState,
    private readonly oncePerActivation: boolean,
    private readonly publishTask = false,
  ) {}

  private current(): CaseSearchAttributes {
    const { state } = this;
    const last = state.timeline.at(-1);
    const task = this.publishTask && last !== undefined ? { changedAt: last.at } : undefined;
    return caseSearchAttributes(state.context, state.stage, state.deliveryProblems.length, task);
  }

  /**
   * What a carried-over case already published in its previous run: nothing to write for it now.
   * The Task attributes count only if the run inherited them: a previous run on older code did not
   * publish them, and this run writes them at its next change.
   */
  alreadyPublished(): void {
    const inherited = workflowInfo().typedSearchAttributes;
    const inheritedValue = (pair: SearchAttributeUpdatePair) => {
      const value = inherited.get(pair.key);
      return value instanceof Date ? value.getTime() : value;
    };
    const sameAsInherited = (pair: SearchAttributeUpdatePair) =>
      (pair.key.name !== taskStatusKey.name && pair.key.name !== changedAtKey.name) || inheritedValue(pair) === (pair.value instanceof Date ? pair.value.getTime() : pair.value);
    this.last = this.current().filter(sameAsInherited);
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
    // A time compared as `toString()` keeps whole seconds only: a case changing twice in one second
    // kept its earlier PathwayChangedAt, and a host polling `_lastUpdated` missed the change. Cases
    // that publish the Task attributes (the v8 set) compare milliseconds; a case begun before keeps
    // the comparison its history was written with.
    const asWritten = this.publishTask ? exactly : (v: unknown) => (v as { toString(): string } | undefined)?.toString();
    const changed = next.filter((pair) => asWritten(last?.find((p) => p.key.name === pair.key.name)?.value) !== asWritten(pair.value));
    if (changed.length > 0) upsertSearchAttributes(changed);
    this.last = next;
  }
}
