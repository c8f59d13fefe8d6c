// Builders for the pathway's temporal tests: a worker with a memory sink, referrals, commands.
import { randomUUID } from 'node:crypto';
import { Client as TemporalClient, type Client, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, inject } from 'vitest';
import { connectDevServer, createTimeSkippingEnv, poll, uniqueTaskQueue, type DevServerHarness } from './temporal';
import { MemorySink } from '../../activities/outbox';
import { EncryptionCodec, importKeyring, readKeyFile } from '../../codec';
import { parsePolicy, type CommandPayload, type CommandType, type ReferralFacts, type SchemePolicy, type SchemePolicyInput } from '../../machines';
import { caseViewQuery, caseWorkflowId, commandUpdates, ledgerWorkflowId, type CaseInput, type CaseView } from '../../workflows/definitions';
import { setRosterUpdate, type LinkWorker } from '../../workflows/ledger-definitions';
import { pathwayDataConverter } from '../../codec/defaults';
import { openConnectionsQuery } from '../../client/queries';
import { createPathwayWorker } from '../../worker/create';
import type { pathwayCase } from '../../workflows/case';
import type { capacityLedger } from '../../workflows/capacity-ledger';
import { join } from 'node:path';
import { digitFree } from '../../machines/ids';
import type { ServiceDirectory } from '../../directory/types';

let codec: Promise<EncryptionCodec> | undefined;

/**
 * Tests run with encryption on, as production does, under a key committed with the tests (it
 * protects synthetic data only): the replay fixtures recorded under it must decrypt on any machine.
 */
export function testCodec(): Promise<EncryptionCodec> {
  codec ??= Promise.resolve(new EncryptionCodec(importKeyring(readKeyFile(join(__dirname, '..', 'fixtures', 'codec-test-keys.json')))));
  return codec;
}

export async function startPathwayWorker(opts: { address: string; namespace: string; taskQueue: string; directory?: ServiceDirectory }) {
  const sink = new MemorySink();
  const { worker, close } = await createPathwayWorker({
    ...opts,
    codec: await testCodec(),
    sink,
    workflowBundlePath: inject('workflowBundlePath'),
  });
  return { worker, sink, close };
}

export async function dataConverter() {
  return pathwayDataConverter(await testCodec());
}

export const supervisor = { role: 'supervisor', id: 'sup-1' } as const;
export const linkWorker = { role: 'linkWorker', id: 'lw-1' } as const;

/** The link worker a case is allocated to (only they may act on it), or `linkWorker` before allocation. */
export function allocated(v: Pick<CaseView, 'linkWorkerId'>): { role: 'linkWorker'; id: string } {
  return v.linkWorkerId ? { role: 'linkWorker', id: v.linkWorkerId } : linkWorker;
}

export function referral(overrides: Partial<ReferralFacts> = {}): ReferralFacts {
  return {
    referralId: `ref-${digitFree(randomUUID().slice(0, 12))}`,
    schemeId: 'default',
    route: 'GP',
    age: 72,
    area: 'Bogside',
    targetGroups: [],
    needs: ['loneliness'],
    flags: [],
    consent: true,
    riskFlags: [],
    referredAt: Date.now(),
    ...overrides,
  };
}

export function policy(input: SchemePolicyInput = {}): SchemePolicy {
  return parsePolicy(input);
}

export async function setRoster(client: Client, taskQueue: string, schemeId: string, caseloadCap: number, roster: LinkWorker[]) {
  const handle = await client.workflow.start<typeof capacityLedger>('capacityLedger', {
    workflowId: ledgerWorkflowId(schemeId),
    taskQueue,
    args: [{ schemeId, caseloadCap }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return handle.executeUpdate(setRosterUpdate, { args: [roster] });
}

/** A scheme of the test's own: its policy, with the ledger's roster set under the policy's cap. */
export async function openScheme(
  client: Client,
  taskQueue: string,
  schemeId: string,
  { caseloadCap, roster = [{ id: 'lw-1' }] }: { caseloadCap?: number; roster?: LinkWorker[] } = {},
): Promise<SchemePolicy> {
  const pol = policy({ schemeId, ...(caseloadCap !== undefined && { caseloadCap }) });
  await setRoster(client, taskQueue, schemeId, pol.caseloadCap, roster);
  return pol;
}

export async function refer(client: Client, taskQueue: string, facts: ReferralFacts, pol: SchemePolicy): Promise<WorkflowHandle<typeof pathwayCase>> {
  const input: CaseInput = { referral: facts, policy: pol };
  return client.workflow.start<typeof pathwayCase>('pathwayCase', { taskQueue, workflowId: caseWorkflowId(facts.referralId), args: [input] });
}

/** Sends a command and reads the case after it: a command answers only what changed (CommandResult). */
export async function send<K extends CommandType>(handle: WorkflowHandle, type: K, payload: CommandPayload<K>): Promise<CaseView> {
  await handle.executeUpdate(commandUpdates[type] as never, { args: [payload] });
  return handle.query(caseViewQuery);
}

export function view(handle: WorkflowHandle): Promise<CaseView> {
  return handle.query(caseViewQuery);
}

/** Polls the case view until `done` holds: capacity answers and deadlines arrive asynchronously. */
export async function until(handle: WorkflowHandle, done: (v: CaseView) => boolean, env?: TestWorkflowEnvironment, timeoutMs = 20_000): Promise<CaseView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await view(handle);
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`case never reached the expected state; now at ${v.stage}: ${JSON.stringify(v.timeline.slice(-3))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const swemwbs = (answers: number[]) => ({ instrument: 'SWEMWBS' as const, answers });

export type DriveTarget = 'triage' | 'firstContact' | 'firstVisit' | 'coProducedPlan' | 'support' | 'review';

/** Moves a case forward with ordinary commands until it reaches `target` (and no further). */
export async function driveTo(handle: WorkflowHandle, target: DriveTarget, opts: { tier?: string; volunteer?: boolean; env?: TestWorkflowEnvironment } = {}): Promise<CaseView> {
  const order: DriveTarget[] = ['triage', 'firstContact', 'firstVisit', 'coProducedPlan', 'support', 'review'];
  // From wherever the case is now (a fresh referral first settles in triage).
  let v = await until(handle, (x) => (order as string[]).includes(x.stage));
  for (const step of order.slice(order.indexOf(v.stage as DriveTarget), order.indexOf(target))) {
    switch (step) {
      case 'triage':
        await send(handle, 'TRIAGE.ACCEPT', { actor: allocated(v) });
        v = await until(handle, (x) => x.stage === 'firstContact');
        break;
      case 'firstContact':
        v = await send(handle, 'CONTACT.ATTEMPT', { outcome: 'reached', channel: 'phone', actor: allocated(v) });
        break;
      case 'firstVisit':
        v = await send(handle, 'VISIT.RECORD', { location: 'cafe', durationMinutes: 100, measures: [swemwbs([3, 3, 3, 3, 3, 3, 3])], barriers: [], actor: allocated(v) });
        break;
      case 'coProducedPlan':
        await send(handle, 'PLAN.DRAFT', {
          goals: [{ id: 'g1', text: 'Meet people nearby' }],
          activities: [{ id: 'a1', category: 'active', name: 'Walking group' }],
          barrierActions: [],
          tier: opts.tier ?? 'standard',
          volunteer: opts.volunteer ?? false,
          actor: allocated(v),
        });
        await send(handle, 'PLAN.AGREE', { party: 'person', actor: { role: 'person', id: 'self' } });
        v = await send(handle, 'PLAN.AGREE', { party: 'linkWorker', actor: allocated(v) });
        break;
      case 'support':
        if (!opts.env) throw new Error('driving to review needs the time-skipping env');
        await opts.env.sleep(v.deadlines.find((d) => d.event.type === 'DEADLINE.REVIEW')!.dueAt - (await opts.env.currentTimeMs()) + 1000);
        v = await until(handle, (x) => x.stage === 'review');
        break;
    }
  }
  if (v.stage !== target) throw new Error(`expected ${target}, case is at ${v.stage}`);
  return v;
}

/**
 * Polls visibility, which lags a connection's start and its close, until the workflow ids it lists
 * among the scheme's open connections on the task queue are as `done` wants them.
 */
export function waitForOpenConnections(client: Client, schemeId: string, taskQueue: string, done: (workflowIds: string[]) => boolean, what: string): Promise<string[]> {
  return poll(
    async () => {
      const ids: string[] = [];
      for await (const info of client.workflow.list({ query: openConnectionsQuery(schemeId, taskQueue) })) ids.push(info.workflowId);
      return ids;
    },
    done,
    what,
  );
}

/** The validator's failure behind a refused update: its type and the message that names why. */
export async function refusalOf(promise: Promise<unknown>): Promise<{ type?: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    const cause = (err as { cause?: { type?: string; message: string } }).cause;
    if (!cause) throw err;
    return { type: cause.type, message: cause.message };
  }
  throw new Error('the update was accepted but should have been refused');
}

/**
 * A test file's dev-server client and running pathway worker on a task queue of its own, set up
 * before the file's tests and shut down after them. Read `client` inside tests, not at load time.
 */
export function pathwayWorkerOnDevServer(
  name: string,
  /**
   * `directory` is read when the worker starts: a file that opens its directory in a `beforeAll`
   * registered before this call has it open by then (and, closing it in an `afterAll` registered
   * before too, closes it after the worker stops).
   */
  extra: { directory?: () => ServiceDirectory } = {},
): {
  readonly taskQueue: string;
  readonly client: Client;
  /** Where a test's own extra worker connects. */
  readonly server: { address: string; namespace: string };
  /** The worker's notices. */
  readonly sink: MemorySink;
} {
  const taskQueue = uniqueTaskQueue(name);
  let harness: DevServerHarness | undefined;
  let client: Client | undefined;
  let sink: MemorySink | undefined;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    harness = await connectDevServer();
    client = new TemporalClient({ connection: harness.connection, namespace: harness.namespace, dataConverter: await dataConverter() });
    const started = await startPathwayWorker({ address: harness.connection.options.address, namespace: harness.namespace, taskQueue, directory: extra.directory?.() });
    const { worker, close } = started;
    sink = started.sink;
    const running = worker.run();
    stop = async () => {
      worker.shutdown();
      await running;
      await close();
    };
  });
  afterAll(async () => {
    await stop?.();
    await harness?.close();
  });
  return {
    taskQueue,
    get client() {
      if (!client) throw new Error('the dev-server client is ready only inside tests');
      return client;
    },
    get server() {
      if (!harness) throw new Error('the dev server is ready only inside tests');
      return { address: harness.connection.options.address, namespace: harness.namespace };
    },
    get sink() {
      if (!sink) throw new Error('the worker is ready only inside tests');
      return sink;
    },
  };
}

/**
 * A test file's time-skipping server and running pathway worker on a task queue of its own, set up
 * before the file's tests and shut down after them (the sibling of `pathwayWorkerOnDevServer`).
 * Read `env` and `sink` inside tests, not at load time.
 */
export function pathwayWorkerOnTimeSkipping(
  name: string,
  extra: { directory?: ServiceDirectory } = {},
): { readonly taskQueue: string; readonly env: TestWorkflowEnvironment; readonly sink: MemorySink } {
  const taskQueue = uniqueTaskQueue(name);
  let env: TestWorkflowEnvironment | undefined;
  let sink: MemorySink | undefined;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    env = await createTimeSkippingEnv({ dataConverter: await dataConverter() });
    const started = await startPathwayWorker({ address: env.address, namespace: env.namespace ?? 'default', taskQueue, ...extra });
    sink = started.sink;
    const running = started.worker.run();
    stop = async () => {
      started.worker.shutdown();
      await running;
      await started.close();
    };
  });
  afterAll(async () => {
    await stop?.();
    await env?.teardown();
  });
  return {
    taskQueue,
    get env() {
      if (!env) throw new Error('the time-skipping server is ready only inside tests');
      return env;
    },
    get sink() {
      if (!sink) throw new Error('the worker is ready only inside tests');
      return sink;
    },
  };
}
