// The pathway's shape varied by policy, through the real workflow and worker on the time-skipping
// server, by the driver the testing module exports to scheme developers: a self-referral booking
// its first visit directly, and a scheme with no befriending handoff. Each walk checks, step by
// step, that the workflow stands where the machine under that policy predicts.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { journeyKey, type PathwayPath } from '../../machines/graph';
import { parsePolicy, type SchemePolicyInput } from '../../machines';
import { dischargePaths, expectOutcome, expectStage, pathsFor, startBench, type PathOptions, type PathwayBench } from '../../testing';
import { testCodec } from '../support/pathway';

let bench: PathwayBench;

beforeAll(async () => {
  bench = await startBench({ testServerPath: inject('testServerPath'), workflowBundlePath: inject('workflowBundlePath'), codec: await testCodec() });
});
afterAll(async () => {
  await bench?.close();
});

/** The graph's shortest path under `input` to the journey point `key` (a stage, or `discharged:<reason>`). */
function pathTo(input: SchemePolicyInput, key: string, options: PathOptions = {}): PathwayPath {
  const found = pathsFor(parsePolicy(input), options)
    .filter((p) => journeyKey(p.state) === key)
    .sort((a, b) => a.steps.length - b.steps.length)[0];
  if (!found) throw new Error(`no path to ${key}`);
  return found;
}

const commandsOf = (path: PathwayPath) => path.steps.slice(1).map((s) => s.event.type);

/** Every message down an error's cause chain: an update's refusal arrives wrapped. */
function messages(error: unknown): string {
  const out: string[] = [];
  for (let e = error as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) out.push(e.message ?? '');
  return out.join(' / ');
}

const WALK = 180_000;

describe('self-referrals book their first visit directly (contact.selfReferralBooksVisit)', () => {
  const routes = ['self', 'GP'] as const;
  const direct = { schemeId: 'vary-direct', eligibility: { routes: [...routes] }, contact: { selfReferralBooksVisit: true } };

  it('on: a self-referral is at its first visit as soon as a place is held, with no contact call', { timeout: WALK }, async () => {
    const path = pathTo(direct, 'firstVisit', { route: 'self' });
    expect(commandsOf(path)).toEqual(['TRIAGE.ACCEPT', 'CAPACITY.GRANTED']);
    const { view } = await bench.walk(path, parsePolicy(direct));
    expectStage(view, 'firstVisit');
    expect(view.timeline.map((t) => t.event)).not.toContain('CONTACT.ATTEMPT');
  });

  it('on: a self-referral runs on from the direct booking to discharge as connected', { timeout: WALK }, async () => {
    const path = pathTo(direct, 'discharged:connected', { route: 'self' });
    expect(commandsOf(path)).not.toContain('CONTACT.ATTEMPT');
    const { view, outcome } = await bench.walk(path, parsePolicy(direct));
    expectStage(view, 'discharged');
    expectOutcome(outcome, 'connected');
  });

  it('on: a GP referral in the same scheme still gets the first-contact call', { timeout: WALK }, async () => {
    const path = pathTo(direct, 'firstVisit', { route: 'GP' });
    expect(commandsOf(path)).toContain('CONTACT.ATTEMPT');
    const { view } = await bench.walk(path, parsePolicy(direct));
    expectStage(view, 'firstVisit');
  });

  it('off (the default): a self-referral waits for the call at first contact', { timeout: WALK }, async () => {
    const call = { ...direct, schemeId: 'vary-call', contact: { selfReferralBooksVisit: false } };
    const path = pathTo(call, 'firstContact', { route: 'self' });
    const { view } = await bench.walk(path, parsePolicy(call));
    expectStage(view, 'firstContact');
  });
});

describe('a scheme with no befriending handoff (befriending.handoff: false)', () => {
  const off = { schemeId: 'vary-nobefriend', befriending: { handoff: false } };

  it('has no path to a handoff, and every path it has to a discharge ends as the machine says', { timeout: 20 * WALK }, async () => {
    const paths = dischargePaths(pathsFor(parsePolicy(off)));
    const reasons = new Set(paths.map((p) => p.state.context.discharge!.reason));
    expect(reasons).not.toContain('handedOff');
    expect(reasons).toContain('connected');
    for (const path of paths) {
      const { view, outcome } = await bench.walk(path, parsePolicy(off));
      expectStage(view, 'discharged');
      expectOutcome(outcome, path.state.context.discharge!.reason);
    }
  });

  it('refuses, in the real workflow, the review that would hand off where the default pathway takes it', { timeout: WALK }, async () => {
    // The default pathway's path to the handoff, walked under the policy without one.
    const path = pathTo({ schemeId: 'vary-nobefriend' }, 'befriendingHandoff');
    expect(commandsOf(path).at(-1)).toBe('REVIEW.RECORD');
    const walked = bench.walk(path, parsePolicy(off)).then(
      () => 'walked',
      (error: unknown) => messages(error),
    );
    expect(await walked).toContain('hands no one off to befriending');
  });
});
