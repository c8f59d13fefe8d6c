// Builders for the pathway's temporal tests: a worker with a memory sink, referrals, commands.
import { randomUUID } from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { inject } from 'vitest';
import { MemorySink } from '../../activities/outbox';
import { devKeyring, EncryptionCodec } from '../../codec';
import { parsePolicy, type CommandPayload, type CommandType, type ReferralFacts, type SchemePolicy, type SchemePolicyInput } from '../../machines';
import { caseViewQuery, caseWorkflowId, commandUpdates, ledgerWorkflowId, type CaseInput, type CaseView } from '../../workflows/definitions';
import { setRosterUpdate, type LinkWorker } from '../../workflows/ledger-definitions';
import { createPathwayWorker, pathwayDataConverter } from '../../worker/create';
import type { pathwayCase } from '../../workflows/case';
import type { capacityLedger } from '../../workflows/capacity-ledger';
import { join } from 'node:path';

let codec: Promise<EncryptionCodec> | undefined;

/** Tests run with encryption on, as production does, with a key of their own. */
export function testCodec(): Promise<EncryptionCodec> {
  codec ??= devKeyring(join(__dirname, '..', '..', '.cache', 'codec-test')).then((k) => new EncryptionCodec(k.keyring));
  return codec;
}

export async function startPathwayWorker(opts: { address: string; namespace: string; taskQueue: string }) {
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

export function referral(overrides: Partial<ReferralFacts> = {}): ReferralFacts {
  return {
    referralId: `ref-${randomUUID().slice(0, 12)}`,
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

export async function refer(client: Client, taskQueue: string, facts: ReferralFacts, pol: SchemePolicy): Promise<WorkflowHandle<typeof pathwayCase>> {
  const input: CaseInput = { referral: facts, policy: pol };
  return client.workflow.start<typeof pathwayCase>('pathwayCase', { taskQueue, workflowId: caseWorkflowId(facts.referralId), args: [input] });
}

export function send<K extends CommandType>(handle: WorkflowHandle, type: K, payload: CommandPayload<K>): Promise<CaseView> {
  return handle.executeUpdate(commandUpdates[type] as never, { args: [payload] }) as Promise<CaseView>;
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
