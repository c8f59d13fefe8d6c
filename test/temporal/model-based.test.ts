// Model-based: every shortest path the graph tools find to each state of the pathway machine is
// replayed against a real case workflow on the time-skipping server, by the driver the testing
// module exports to scheme developers (testing/index.ts): commands become updates, capacity
// answers come from the real ledger, deadlines fire by letting time pass; after each step the
// workflow's view must be at the stage the machine predicts.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { graphKey } from '../../machines/graph';
import { parsePolicy, stageOf } from '../../machines';
import { allPathsFor, expectStage, startBench, unrealisable, type PathwayBench } from '../../testing';
import { testCodec } from '../support/pathway';

let bench: PathwayBench;

const policy = parsePolicy({ schemeId: 'model' });
const paths = allPathsFor(policy);
const runnable = paths.filter((p) => !unrealisable(p));
const skipped = paths.length - runnable.length;

beforeAll(async () => {
  bench = await startBench({ testServerPath: inject('testServerPath'), workflowBundlePath: inject('workflowBundlePath'), codec: await testCodec() });
  console.log(`model-based: ${paths.length} shortest paths, ${runnable.length} replayed against the workflow, ${skipped} not realisable on demand`);
});
afterAll(async () => {
  await bench?.close();
});

describe('shortest paths of the pathway machine, replayed as updates against a real workflow', () => {
  it('leaves few paths unreplayed', () => {
    // Guard against the filter silently swallowing the graph.
    const reasons = new Map<string, number>();
    for (const p of paths) reasons.set(unrealisable(p) ?? 'replayed', (reasons.get(unrealisable(p) ?? 'replayed') ?? 0) + 1);
    console.log(`model-based paths: ${[...reasons].map(([r, n]) => `${r}: ${n}`).join('; ')}`);
    expect(runnable.length).toBeGreaterThan(paths.length * 0.85);
  });
  it.each(runnable.map((p) => [graphKey(p.state), p] as const))('%s', async (_key, path) => {
    const { view } = await bench.walk(path, policy);
    expectStage(view, stageOf(path.state));
  }, 120_000);
});
