/**
 * `social-prescribing-engine/testing`: graph-test a scheme's policy through the real workflow.
 *
 *   const bench = await startBench();
 *   for (const path of pathsFor(policy)) expectStage((await bench.walk(path, policy)).view, stageOf(path.state));
 *   await bench.close();
 *
 * `pathsFor` is the graph's shortest path to every state the pathway machine reaches under the
 * policy (the ones the real system can be made to take on demand); `walk` drives one of them
 * through a real case workflow and worker in Temporal's time-skipping environment on the
 * provisioned test server: commands become updates, capacity answers come from the real ledger,
 * deadlines fire by letting time pass, and after each step the workflow must be at the stage the
 * machine predicts. The project's own model-based test uses this same driver.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, makeTelemetryFilterString, type Worker } from '@temporalio/worker';
import { transition } from 'xstate';
import { MemorySink } from '../activities/outbox';
import { explorePathway, graphKey, journeyKey, LINK_WORKER, outgoing, shortestPaths, type PathwayPath } from '../machines/graph';
import {
  COMMAND_TYPES,
  pathwayMachine,
  stageOf,
  type CommandPayload,
  type CommandType,
  type DischargeReason,
  type PathwayEvent,
  type PathwaySnapshot,
  type ReferralFacts,
  type ReferralRoute,
  type SchemePolicy,
  type Stage,
} from '../machines';
import { createPathwayWorker, pathwayDataConverter } from '../worker/create';
import { registerSearchAttributes } from '../worker/search-attributes';
import {
  caseViewQuery,
  caseWorkflowId,
  commandUpdates,
  flagDuplicatesUpdate,
  ledgerWorkflowId,
  outcomeRecordQuery,
  type CaseInput,
  type CaseView,
} from '../workflows/definitions';
import { setRosterUpdate, type LinkWorker } from '../workflows/ledger-definitions';
import type { OutcomeRecord } from '../evidence/outcomeRecord';
import { digitFree } from '../machines/ids';

export type { PathwayPath } from '../machines/graph';
export type { CaseView } from '../workflows/definitions';
export type { OutcomeRecord } from '../evidence/outcomeRecord';
export { graphKey, journeyKey } from '../machines/graph';
export { parsePolicy, stageOf, type SchemePolicy } from '../machines';
export { checkPolicy, type PolicyCheck } from '../machines/check';

/**
 * Paths the real system cannot be made to take on demand, with why: the ledger answers a place
 * request at once, so nothing can happen between a triage acceptance and its answer; and time
 * only runs forward, so a later deadline cannot fire while an earlier one is armed.
 */
export function unrealisable(path: PathwayPath): string | undefined {
  for (let i = 1; i < path.steps.length; i++) {
    const { event } = path.steps[i]!;
    const before = path.steps[i - 1]!.state;
    if (stageOf(before) === 'allocating' && !event.type.startsWith('CAPACITY.')) return 'acts between a place request and its answer';
    if (event.type.startsWith('DEADLINE.') && !earlierDeadlinesKeepStage(before, event)) return 'an earlier deadline would change the stage first';
    if (event.type === 'CAPACITY.WAITLISTED' && path.steps.slice(i + 1).some((s) => s.event.type === 'CAPACITY.WAITLISTED')) return 'waitlisted twice';
    if (event.type === 'CAPACITY.WAITLISTED' && event.position > 1) {
      // The walk's ledger puts the case first on an empty list: only a policy that treats every
      // position alike (no cap, or a cap the position is within) can be walked.
      const cap = before.context.policy.waitlist?.cap;
      if (cap !== undefined && event.position > cap) return 'offered a place past the waiting list cap';
    }
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

/** Which referral the graph starts from: by default one by the first route the policy accepts. */
export interface PathOptions {
  route?: ReferralRoute;
}

/** Every shortest path of the policy's graph, realisable or not (see `pathsFor`). */
export function allPathsFor(policy: SchemePolicy, options: PathOptions = {}): PathwayPath[] {
  return shortestPaths(explorePathway(policy, options));
}

/**
 * The graph's shortest path to each state the policy reaches, that the real system can be made to
 * take; `route` picks the referral's route (e.g. 'self' under contact.selfReferralBooksVisit).
 */
export function pathsFor(policy: SchemePolicy, options: PathOptions = {}): PathwayPath[] {
  return allPathsFor(policy, options).filter((p) => !unrealisable(p));
}

/**
 * Every way a case can leave the pathway under the policy: for each stage (or hold) a discharge can
 * happen from, and each reason it can happen with there, the shortest path that ends so and that
 * the real system can be made to take. What a scheme's suite walks to see every discharge work.
 */
export function dischargeJourneys(policy: SchemePolicy, options: PathOptions = {}): PathwayPath[] {
  const graph = explorePathway(policy, options);
  const shortest = new Map(shortestPaths(graph).map((p) => [graphKey(p.state), p]));
  const best = new Map<string, PathwayPath>();
  for (const { state, transitions } of Object.values(graph.adjacency)) {
    const to = shortest.get(graphKey(state));
    if (!to || state.status === 'done') continue;
    for (const { event, state: next } of outgoing(transitions)) {
      if (next.status !== 'done') continue;
      const path: PathwayPath = { state: next, steps: [...to.steps, { state: next, event }], weight: to.weight + 1 };
      const key = `${journeyKey(state)} > ${journeyKey(next)}`;
      const known = best.get(key);
      if (unrealisable(path) || (known && known.steps.length <= path.steps.length)) continue;
      best.set(key, path);
    }
  }
  return [...best.values()];
}

/** Of `paths`, those ending in a discharge: one per discharge reason the policy reaches, at least. */
export function dischargePaths(paths: PathwayPath[]): PathwayPath[] {
  return paths.filter((p) => stageOf(p.state) === 'discharged');
}

export interface BenchOptions {
  /** The time-skipping test server; default the one `npm test` provisions (TEMPORAL_TEST_SERVER_PATH overrides). */
  testServerPath?: string;
  /** A prebuilt workflow bundle; default the engine's workflows, bundled once and cached. */
  workflowBundlePath?: string;
  /** Payload codec for worker and client alike; default none (synthetic data only). */
  codec?: PayloadCodec;
  taskQueue?: string;
}

export interface WalkResult {
  /** The case as the workflow shows it at the end of the path. */
  view: CaseView;
  /** The case's outcome record at that moment (final if the path ends in a discharge). */
  outcome: OutcomeRecord;
}

export interface PathwayBench {
  env: TestWorkflowEnvironment;
  taskQueue: string;
  /** Notices the worker's activities sent, in memory. */
  sink: MemorySink;
  /**
   * Drives `path` through a new case of `policy` (its own scheme, so paths do not share a
   * caseload) and returns the case's view at the end; throws, naming the step, if the workflow
   * ever stands at another stage than the machine predicts. The case is discharged afterwards
   * unless it already was, so no case keeps escalating through later paths' waits.
   */
  walk(path: PathwayPath, policy: SchemePolicy): Promise<WalkResult>;
  close(): Promise<void>;
}

let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
}

/** The engine's own folder (from its source or from dist/), whose git-ignored .cache holds the provisioned servers. */
function packageRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'social-prescribing-engine') return dir;
  }
  return resolve(__dirname, '..');
}

/** The test server `npm test` provisions (fetched and cached on first use, as there). */
async function provisionedTestServer(): Promise<string> {
  const url = pathToFileURL(join(packageRoot(), 'scripts', 'provision.mjs')).href;
  const provision = (await import(url)) as { ensureTestServer(): Promise<string> };
  return provision.ensureTestServer();
}

/** A time-skipping environment, the engine's search attributes, and a worker running the real workflow. */
export async function startBench(options: BenchOptions = {}): Promise<PathwayBench> {
  quietRuntime();
  const dataConverter = pathwayDataConverter(options.codec);
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: options.testServerPath ?? (await provisionedTestServer()) } },
    client: { dataConverter },
  });
  await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  const taskQueue = options.taskQueue ?? `bench-${digitFree(randomUUID().slice(0, 8))}`;
  const sink = new MemorySink();
  let worker: Worker | undefined;
  let closeWorker: (() => Promise<void>) | undefined;
  let running: Promise<void> | undefined;
  try {
    ({ worker, close: closeWorker } = await createPathwayWorker({
      address: env.address,
      namespace: env.namespace ?? 'default',
      taskQueue,
      codec: options.codec,
      sink,
      ...(options.workflowBundlePath && { workflowBundlePath: options.workflowBundlePath }),
    }));
    running = worker.run();
  } catch (err) {
    await env.teardown();
    throw err;
  }
  let walks = 0;
  return {
    env,
    taskQueue,
    sink,
    async walk(path, policy) {
      walks += 1;
      return walkPath(env, taskQueue, path, { ...policy, schemeId: `${policy.schemeId}-${walks}` });
    },
    async close() {
      worker?.shutdown();
      await running;
      await closeWorker?.();
      await env.teardown();
    },
  };
}

async function setRoster(env: TestWorkflowEnvironment, taskQueue: string, schemeId: string, caseloadCap: number, roster: LinkWorker[]) {
  const handle = await env.client.workflow.start('capacityLedger', {
    workflowId: ledgerWorkflowId(schemeId),
    taskQueue,
    args: [{ schemeId, caseloadCap }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  await handle.executeUpdate(setRosterUpdate, { args: [roster] });
}

function view(handle: WorkflowHandle): Promise<CaseView> {
  return handle.query(caseViewQuery);
}

async function send<K extends CommandType>(handle: WorkflowHandle, type: K, payload: CommandPayload<K>): Promise<CaseView> {
  await handle.executeUpdate(commandUpdates[type] as never, { args: [payload] });
  return view(handle);
}

/** Polls the case view until `done` holds: capacity answers and deadlines arrive asynchronously. */
async function until(handle: WorkflowHandle, done: (v: CaseView) => boolean, timeoutMs = 30_000): Promise<CaseView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await view(handle);
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`case never reached the expected state; now at ${v.stage}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function referralFor(policy: SchemePolicy, route: ReferralRoute): ReferralFacts {
  return {
    referralId: `ref-${digitFree(randomUUID())}`,
    schemeId: policy.schemeId,
    route,
    age: Math.max(policy.eligibility.minAge, Math.min(40, policy.eligibility.maxAge)),
    area: policy.eligibility.areas[0] ?? 'anywhere',
    targetGroups: policy.eligibility.targetGroups.slice(0, 1),
    needs: ['loneliness'],
    flags: [],
    consent: true,
    riskFlags: [],
    referredAt: Date.now(),
  };
}

class PathDivergedError extends Error {
  override name = 'PathDivergedError';
}

function expectAt(current: CaseView, expected: Stage, what: string): void {
  if (current.stage !== expected) throw new PathDivergedError(`${what}: the workflow is at ${current.stage}, the machine predicts ${expected}`);
}

/** One path through a real case workflow; see PathwayBench.walk. */
export async function walkPath(env: TestWorkflowEnvironment, taskQueue: string, path: PathwayPath, policy: SchemePolicy): Promise<WalkResult> {
  const schemeId = policy.schemeId;
  const waitlists = path.steps.some((s) => s.event.type === 'CAPACITY.WAITLISTED');
  // An empty roster makes the real ledger waitlist; filling it later admits.
  await setRoster(env, taskQueue, schemeId, policy.caseloadCap, waitlists ? [] : [{ id: LINK_WORKER.id }]);
  // The route the path's referral came by: the policy may route it differently (self-referrals).
  const facts = referralFor(policy, path.steps[0]!.state.context.referral.route);
  const input: CaseInput = { referral: facts, policy };
  const handle: WorkflowHandle = await env.client.workflow.start('pathwayCase', { taskQueue, workflowId: caseWorkflowId(facts.referralId), args: [input] });
  try {
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
      const seq = current.sequence;
      if (event.type === 'CAPACITY.GRANTED') {
        if (waitlists) await setRoster(env, taskQueue, schemeId, policy.caseloadCap, [{ id: LINK_WORKER.id }]);
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
          if (!timer) throw new PathDivergedError(`step ${i}: ${event.type} is not armed in the workflow`);
          await env.sleep(Math.max(1, timer.dueAt - (await env.currentTimeMs())) + 1_000);
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
      expectAt(current, stageOf(state), `step ${i} (${event.type}) of the path to ${graphKey(path.state)}`);
    }
    return { view: current, outcome: await handle.query(outcomeRecordQuery) };
  } finally {
    await closeCase(handle);
  }
}

/**
 * Closed through the pathway, not terminated: on the Java time-skipping server a terminated
 * workflow with an armed timer stops time skipping for every later test.
 */
async function closeCase(handle: WorkflowHandle): Promise<void> {
  const v = await view(handle).catch(() => undefined);
  if (v && v.stage !== 'discharged') {
    await send(handle, 'DISCHARGE', { reason: 'withdrew', actor: { role: 'supervisor', id: 'sup-bench' } }).catch(() => undefined);
  }
}

/* Assertions: plain functions that throw an Error saying what differs, usable with any runner. */

export function expectStage(view: CaseView, stage: Stage): void {
  if (view.stage !== stage) throw new Error(`expected the case at ${stage}; it is at ${view.stage}`);
}

/** A deadline of this type is armed (e.g. `DEADLINE.REVIEW`), optionally due no later than `by`. */
export function expectDeadline(view: CaseView, type: string, by?: number): void {
  const timer = view.deadlines.find((d) => d.event.type === type);
  if (!timer) throw new Error(`expected a ${type} deadline; armed: ${view.deadlines.map((d) => d.event.type).join(', ') || 'none'}`);
  if (by !== undefined && timer.dueAt > by) throw new Error(`expected ${type} due by ${new Date(by).toISOString()}; it is due ${new Date(timer.dueAt).toISOString()}`);
}

/** An escalation of this type is open (or, with `open: false`, none is). */
export function expectEscalation(view: CaseView, type: string, open = true): void {
  const found = view.openEscalations.some((e) => e.type === type);
  if (found !== open) throw new Error(`expected ${open ? 'an' : 'no'} open ${type} escalation; open: ${view.openEscalations.map((e) => e.type).join(', ') || 'none'}`);
}

/** The outcome record says the case was discharged with this reason, on a date. */
export function expectOutcome(outcome: OutcomeRecord, reason: DischargeReason): void {
  if (outcome.status !== 'discharged' || outcome.dischargeReason !== reason || outcome.dates.dischargedAt === undefined) {
    throw new Error(`expected an outcome record of a discharge as ${reason}; it is ${outcome.status}${outcome.dischargeReason ? ` (${outcome.dischargeReason})` : ''}`);
  }
}
