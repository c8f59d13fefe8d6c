// Every path to every discharge reason our policy can reach, through the engine's real workflow
// and worker on Temporal's time-skipping test server.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkPolicy, dischargePaths, expectOutcome, expectStage, graphKey, parsePolicy, pathsFor, startBench, type PathwayBench } from 'social-prescribing-engine/testing';

const policy = parsePolicy(JSON.parse(readFileSync(join(__dirname, '..', 'scheme.json'), 'utf8')));
const paths = dischargePaths(pathsFor(policy));
let bench: PathwayBench;

beforeAll(async () => (bench = await startBench()));
afterAll(() => bench?.close());

it('has a path to every discharge reason the policy can reach', () => {
  const reasons = new Set(paths.map((p) => p.state.context.discharge!.reason));
  expect([...reasons].sort()).toEqual([...checkPolicy(policy).reachableDischargeReasons].sort());
});

it.each(paths.map((p) => [graphKey(p.state), p] as const))('%s', async (_key, path) => {
  const { view, outcome } = await bench.walk(path, policy);
  expectStage(view, 'discharged');
  expectOutcome(outcome, path.state.context.discharge!.reason);
});
