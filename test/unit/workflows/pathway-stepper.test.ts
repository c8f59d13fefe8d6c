// The case workflow applies events through its own stepper rather than xstate's transition(); it
// must give exactly transition()'s next snapshot and actions, everywhere the pathway can go.
import { describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import { defaultPolicy, pathwayMachine, type PathwaySnapshot } from '../../../machines';
import { exampleEvents, explorePathway, graphInput } from '../../../machines/graph';
import { pathwayStepper } from '../../../workflows/runtime/pathway-stepper';

describe('pathway stepper', () => {
  it("matches transition()'s snapshot and actions for every explored state and example event", () => {
    const graph = explorePathway(defaultPolicy);
    const step = pathwayStepper(graphInput(defaultPolicy));
    const strip = (actions: ReadonlyArray<{ type: string; params?: unknown }>) =>
      actions.map((a) => ({ type: a.type, params: a.params ?? {} })).filter((a) => !a.type.startsWith('xstate.'));
    let compared = 0;
    for (const { state } of Object.values(graph.adjacency) as Array<{ state: PathwaySnapshot }>) {
      const now = graph.clock.get(state) ?? graphInput(defaultPolicy).at;
      for (const event of exampleEvents(state, now)) {
        const [expected, expectedActions] = transition(pathwayMachine, state, event);
        const [actual, actualActions] = step(state, event);
        expect(actual.value).toEqual(expected.value);
        expect(actual.context).toEqual(expected.context);
        expect(actual.status).toBe(expected.status);
        expect(strip(actualActions)).toEqual(strip(expectedActions as never));
        compared += 1;
      }
    }
    console.log(`pathway stepper: ${compared} (state, event) pairs identical to transition()`);
    expect(compared).toBeGreaterThan(1000);
  });
});
