// Every way a case can leave our pathway (each stage or hold it can be discharged from, with each
// reason it can be discharged with there), through the engine's real workflow and worker on
// Temporal's time-skipping test server.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  checkPolicy,
  dischargeJourneys,
  expectOutcome,
  expectStage,
  journeyKey,
  parsePolicy,
  startBench,
  type PathwayBench,
} from 'social-prescribing-engine/testing';

const policy = parsePolicy(JSON.parse(readFileSync(join(__dirname, '..', 'scheme.json'), 'utf8')));
const journeys = dischargeJourneys(policy);
let bench: PathwayBench;

beforeAll(async () => (bench = await startBench()));
afterAll(() => bench?.close());

it('reaches every discharge reason the policy can, and waits for no extension decision (no extensions)', () => {
  const reasons = new Set(journeys.map((p) => p.state.context.discharge!.reason));
  expect([...reasons].sort()).toEqual([...checkPolicy(policy).reachableDischargeReasons].sort());
  expect(journeys.some((p) => p.steps.some((s) => journeyKey(s.state) === 'extensionPending'))).toBe(false);
  // Review at week 8: the review deadline on every path that reaches it falls 8 weeks after the plan.
  const toReview = journeys.find((p) => p.steps.some((s) => s.event.type === 'DEADLINE.REVIEW'))!;
  const agreed = toReview.steps.findLast((s) => s.event.type === 'PLAN.AGREE')!.event.at;
  const due = toReview.steps.find((s) => s.event.type === 'DEADLINE.REVIEW')!.event.at;
  expect(due - agreed).toBe(8 * 7 * 24 * 60 * 60 * 1000);
});

it.each(journeys.map((p) => [`${journeyKey(p.steps.at(-2)!.state)} > ${journeyKey(p.state)}`, p] as const))('%s', async (_key, path) => {
  const { view, outcome } = await bench.walk(path, policy);
  expectStage(view, 'discharged');
  expectOutcome(outcome, path.state.context.discharge!.reason);
});
