// Applies events to a case's pathway snapshot, as xstate's pure `transition()` does, with one
// actor scope per case instead of one per event. Kept apart from the workflow so a unit test can
// hold it to `transition()`'s results over every explored state and example event.
import { createActor, type AnyActorScope } from 'xstate';
import { pathwayMachine, type PathwayEvent, type PathwayInput } from '../../machines';

type Snapshot = ReturnType<typeof pathwayMachine.resolveState>;

/**
 * xstate's `transition()` without its per-call cost: that builds a throwaway actor each time, whose
 * eager initial snapshot runs the context factory with no input, which throws (and in the workflow
 * sandbox every thrown error formats a source-mapped stack): about 40% of a worker's CPU per
 * command. The pathway machine invokes and spawns nothing, so one scope per case, made once from
 * the case's own input, serves every transition with the same results (docs/benchmarks.md).
 */
export function pathwayStepper(input: PathwayInput) {
  const actions: Array<{ type: string; params?: unknown }> = [];
  const self = createActor(pathwayMachine, { input });
  const scope = {
    self,
    defer: () => {},
    id: '',
    logger: () => {},
    sessionId: '',
    stopChild: () => {},
    system: self.system,
    emit: () => {},
    actionExecutor: (action: { type: string; params?: unknown }) => void actions.push(action),
  } as unknown as AnyActorScope;
  return (snapshot: Snapshot, event: PathwayEvent): [Snapshot, Array<{ type: string; params?: unknown }>] => {
    actions.length = 0;
    const next = pathwayMachine.transition(snapshot, event, scope) as Snapshot;
    return [next, [...actions]];
  };
}
