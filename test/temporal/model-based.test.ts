// Model-based: every shortest path the graph tools find to each state of the pathway machine is
// replayed against a real case workflow on the time-skipping server. Commands become updates,
// capacity answers come from the real ledger, deadlines fire by letting time pass; after each step
// the workflow's view must be at the stage the machine predicts.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transition } from 'xstate';
import { explorePathway, graphKey, LINK_WORKER, shortestPaths, type PathwayPath } from '../../machines/graph';
import { COMMAND_TYPES, parsePolicy, pathwayMachine, stageOf, type CommandType, type PathwayEvent, type PathwaySnapshot } from '../../machines';
import { createTimeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { dataConverter, refer, referral, send, setRoster, startPathwayWorker, until, view } from '../support/pathway';
import { flagDuplicatesUpdate, type CaseView } from '../../workflows/definitions';

let env: TestWorkflowEnvironment;
let worker: Worker;
let close: () => Promise<void>;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('model');

const policyOf = (schemeId: string) => parsePolicy({ schemeId });
const graph = explorePathway(policyOf('default'));
const paths = shortestPaths(graph);

/**
 * Paths the real system cannot be made to take on demand, with why: the ledger answers a place
 * request at once, so nothing can happen between a triage acceptance and its answer; and time
 * only runs forward, so a later deadline cannot fire while an earlier one is armed.
 */
function unrealisable(path: PathwayPath): string | undefined {
  for (let i = 1; i < path.steps.length; i++) {
    const { event } = path.steps[i]!;
    const before = path.steps[i - 1]!.state;
    if (stageOf(before) === 'allocating' && !event.type.startsWith('CAPACITY.')) return 'acts between a place request and its answer';
    if (event.type.startsWith('DEADLINE.') && !earlierDeadlinesKeepStage(before, event)) return 'an earlier deadline would change the stage first';
    if (event.type === 'CAPACITY.WAITLISTED' && path.steps.slice(i + 1).some((s) => s.event.type === 'CAPACITY.WAITLISTED')) return 'waitlisted twice';
  }
  return undefined;
}

/**
 * Time only runs forward: waiting for this deadline lets every earlier one fire first. Replayable
 * if, in the model, those earlier ones leave the case at the same stage (re-escalations and
 * missed check-ins do; a closing contact window does not).
 */
function earlierDeadlinesKeepStage(before: PathwaySnapshot, event: PathwayEvent): boolean {
  let snapshot = before;
  const earlier = before.context.timers.filter((t) => t.dueAt < event.at).sort((a, b) => a.dueAt - b.dueAt);
  for (const timer of earlier) {
    const fired = { ...timer.event, at: timer.dueAt } as PathwayEvent;
    if (!snapshot.can(fired)) continue;
    snapshot = transition(pathwayMachine, snapshot, fired)[0] as PathwaySnapshot;
    if (stageOf(snapshot) !== stageOf(before)) return false;
  }
  return true;
}

const runnable = paths.filter((p) => !unrealisable(p));
const skipped = paths.length - runnable.length;

beforeAll(async () => {
  env = await createTimeSkippingEnv({ dataConverter: await dataConverter() });
  ({ worker, close } = await startPathwayWorker({ address: env.address, namespace: env.namespace ?? 'default', taskQueue }));
  running = worker.run();
  console.log(`model-based: ${paths.length} shortest paths, ${runnable.length} replayed against the workflow, ${skipped} not realisable on demand`);
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await close?.();
  await env?.teardown();
});

async function replay(path: PathwayPath, index: number): Promise<void> {
  const opened: WorkflowHandle[] = [];
  try {
    await replaySteps(path, index, opened);
  } finally {
    for (const handle of opened) await closeCase(handle);
  }
}

async function replaySteps(path: PathwayPath, index: number, opened: WorkflowHandle[]): Promise<void> {
  const schemeId = `model-${index}`;
  const policy = policyOf(schemeId);
  const waitlists = path.steps.some((s) => s.event.type === 'CAPACITY.WAITLISTED');
  // An empty roster makes the real ledger waitlist; filling it later admits.
  await setRoster(env.client, taskQueue, schemeId, policy.caseloadCap, waitlists ? [] : [{ id: LINK_WORKER.id }]);
  const handle: WorkflowHandle = await refer(env.client, taskQueue, referral({ schemeId, age: 40, area: 'anywhere', route: policy.eligibility.routes[0]! }), policy);
  opened.push(handle);
  let current: CaseView = await until(handle, (v) => v.stage === 'triage');
  // The model's escalation ids → their type: the workflow may have raised more (earlier deadlines
  // that fired while time passed), so a model escalation is matched to the workflow's open one of
  // the same type.
  const typeOf = new Map<string, string>();
  // Deadline entries of the workflow's timeline already matched to a path step, and where the last
  // command left the timeline: a deadline step is answered by an entry after it.
  const claimed = new Set<number>();
  let sinceCommand = 0;
  const workflowEscalation = (modelId: string) => current.openEscalations.find((e) => e.type === typeOf.get(modelId))?.id ?? modelId;
  for (const [i, step] of path.steps.entries()) {
    if (i === 0) continue; // the initial state: the referral itself
    const { event, state } = step;
    const expected = stageOf(state);
    const seq = current.sequence;
    if (event.type === 'CAPACITY.GRANTED') {
      if (waitlists) await setRoster(env.client, taskQueue, schemeId, policy.caseloadCap, [{ id: LINK_WORKER.id }]);
      current = await until(handle, (v) => v.timeline.some((t) => t.seq > seq - 1 && t.event === 'CAPACITY.GRANTED') || v.linkWorkerId !== undefined);
    } else if (event.type === 'CAPACITY.WAITLISTED') {
      current = await until(handle, (v) => v.timeline.some((t) => t.event === 'CAPACITY.WAITLISTED'));
    } else if (event.type.startsWith('DEADLINE.')) {
      const wanted = 'escalationId' in event ? workflowEscalation(event.escalationId) : undefined;
      const matches = (d: { event: { type: string; escalationId?: string } }) => d.event.type === event.type && (!wanted || d.event.escalationId === wanted);
      // Waiting for an earlier deadline may already have brought this one (the same due time).
      const unclaimed = (v: CaseView) => v.timeline.find((t) => t.seq > sinceCommand && t.event === event.type && !claimed.has(t.seq));
      if (!unclaimed(current)) {
        const timer = current.deadlines.find(matches);
        expect(timer, `step ${i}: ${event.type} armed in the workflow`).toBeDefined();
        await env.sleep(Math.max(1, timer!.dueAt - (await env.currentTimeMs())) + 1_000);
      }
      current = await until(handle, (v) => unclaimed(v) !== undefined);
      claimed.add(unclaimed(current)!.seq);
    } else if (event.type === 'DUPLICATES.FLAGGED') {
      // The person index's answer, as the client passes it on after a referral.
      current = await handle.executeUpdate(flagDuplicatesUpdate, { args: [{ duplicates: event.duplicates }] });
    } else if ((COMMAND_TYPES as readonly string[]).includes(event.type)) {
      const { type, at: _at, ...payload } = event as PathwayEvent & { type: CommandType };
      const mapped = type === 'ESCALATION.ACK' ? { ...payload, escalationId: workflowEscalation((payload as { escalationId: string }).escalationId) } : payload;
      current = await send(handle, type, mapped as never);
      sinceCommand = current.sequence;
    }
    for (const e of state.context.escalations) typeOf.set(e.id, e.type);
    expect(current.stage, `step ${i} (${event.type}) of path to ${graphKey(path.state)}`).toBe(expected);
  }
  expect(current.stage).toBe(stageOf(path.state));
}

/**
 * Closed through the pathway, not terminated: on the Java time-skipping server a terminated
 * workflow with an armed timer stops time skipping for every later test. Also after a failure, so
 * one broken path does not leave a case escalating through every later path's waits.
 */
async function closeCase(handle: WorkflowHandle): Promise<void> {
  const v = await view(handle).catch(() => undefined);
  if (v && v.stage !== 'discharged') {
    await send(handle, 'DISCHARGE', { reason: 'withdrew', actor: { role: 'supervisor', id: 'sup-model' } }).catch(() => undefined);
  }
}

describe('shortest paths of the pathway machine, replayed as updates against a real workflow', () => {
  it('leaves few paths unreplayed', () => {
    // Guard against the filter silently swallowing the graph.
    const reasons = new Map<string, number>();
    for (const p of paths) reasons.set(unrealisable(p) ?? 'replayed', (reasons.get(unrealisable(p) ?? 'replayed') ?? 0) + 1);
    console.log(`model-based paths: ${[...reasons].map(([r, n]) => `${r}: ${n}`).join('; ')}`);
    expect(runnable.length).toBeGreaterThan(paths.length * 0.85);
  });
  it.each(runnable.map((p, i) => [graphKey(p.state), p, i] as const))('%s', async (_key, path, index) => {
    await replay(path, index);
  }, 120_000);
});
