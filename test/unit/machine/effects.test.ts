// The machine's effects are one typed map (machines/effects.ts): every side effect the pathway
// returns anywhere must be in it, with the params it names, and each must have its no-op action.
import { describe, expect, it } from 'vitest';
import { defaultPolicy, EFFECT_NAMES, isEffect, pathwayMachine, REFERRER_NOTICE_KINDS, type PathwaySnapshot } from '../../../machines';
import { exampleEvents, explorePathway, graphInput } from '../../../machines/graph';
import { pathwayStepper } from '../../../workflows/runtime/pathway-stepper';

describe('the effects map', () => {
  it('names exactly the machine effects the pathway returns, each with the params the map gives it', () => {
    const graph = explorePathway(defaultPolicy);
    const step = pathwayStepper(graphInput(defaultPolicy));
    const seen = new Set<string>();
    for (const { state } of Object.values(graph.adjacency) as Array<{ state: PathwaySnapshot }>) {
      const now = graph.clock.get(state) ?? graphInput(defaultPolicy).at;
      for (const event of exampleEvents(state, now)) {
        for (const action of step(state, event)[1]) {
          if (action.type.startsWith('xstate.')) continue;
          expect(isEffect(action), `${action.type} is not in machines/effects.ts`).toBe(true);
          if (!isEffect(action)) continue;
          seen.add(action.type);
          if (action.type === 'notifyReferrer') expect(REFERRER_NOTICE_KINDS).toContain(action.params.kind);
          else if (action.type === 'notifySupervisor') expect(action.params).toMatchObject({ escalationId: expect.any(String), level: expect.any(Number) });
          else expect(action.params).toBeUndefined();
        }
      }
    }
    // Every effect in the map is one the pathway can return, and has its action in the machine.
    expect([...seen].sort()).toEqual([...EFFECT_NAMES].sort());
    for (const name of EFFECT_NAMES) expect(Object.keys(pathwayMachine.implementations.actions)).toContain(name);
    expect(isEffect({ type: 'raiseEscalation' })).toBe(false);
    expect(isEffect({ type: 'toString' })).toBe(false);
  });
});
