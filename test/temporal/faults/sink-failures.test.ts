// A sink that fails, through a real worker: a blip is retried by the activity and delivered once; an
// outage longer than the case's effect timeout is kept at the head of the case's pump, shown as a
// delivery problem (and as escalated) and tried again after effectRetryAfter until it gets
// through; a message the sink can never take is escalated to a supervisor, never silently dropped.
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { MemorySink } from '../../../activities/outbox';
import { IdempotencyKeyConflictError, type OutboxChannel, type OutboxMessage, type Sink } from '../../../activities/sink';
import { createPathwayWorker } from '../../../worker/create';
import { caseWorkflowId, type CaseInput, type CaseView } from '../../../workflows/definitions';
import { escalatedKey } from '../../../workflows/search-attributes';
import type { pathwayCase } from '../../../workflows/case';
import { uniqueTaskQueue } from '../../support/temporal';
import { installQuietRuntime } from '../../support/faults';
import { dataConverter, linkWorker, policy, referral, send, setRoster, testCodec, until, view } from '../../support/pathway';

type Mode = { kind: 'ok' } | { kind: 'flaky'; failures: number } | { kind: 'down' } | { kind: 'reject'; channel: OutboxChannel };

/** A sink whose behaviour the test switches: healthy, failing each delivery's first tries, down, or refusing a channel for good. */
class FailingSink implements Sink {
  readonly delivered = new MemorySink();
  readonly attempts = new Map<string, number>();
  mode: Mode = { kind: 'ok' };

  async deliver(message: OutboxMessage): Promise<{ duplicate: boolean }> {
    const attempt = (this.attempts.get(message.key) ?? 0) + 1;
    this.attempts.set(message.key, attempt);
    const mode = this.mode;
    if (mode.kind === 'down' || (mode.kind === 'flaky' && attempt <= mode.failures)) {
      throw Object.assign(new Error('connection reset by the host system'), { code: 'ECONNRESET' });
    }
    // What a real store says when a key comes back with other content: retrying cannot help.
    if (mode.kind === 'reject' && message.channel === mode.channel) throw new IdempotencyKeyConflictError(message.key, message.channel);
    return this.delivered.deliver(message);
  }

  messagesOf(caseId: string): OutboxMessage[] {
    return this.delivered.messages.filter((m) => m.caseId === caseId);
  }
}

let connection: Connection;
let client: Client;
let worker: Worker;
let closeWorker: () => Promise<void>;
let running: Promise<void>;
const sink = new FailingSink();
const taskQueue = uniqueTaskQueue('sink');
const schemeId = `sink-${taskQueue.slice(-8)}`;
const pol = policy({ schemeId });

beforeAll(async () => {
  installQuietRuntime(/^(Activity failed|side effect failed)/);
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, namespace: inject('temporalNamespace'), dataConverter: await dataConverter() });
  ({ worker, close: closeWorker } = await createPathwayWorker({
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
    taskQueue,
    codec: await testCodec(),
    sink,
    workflowBundlePath: inject('workflowBundlePath'),
  }));
  running = worker.run();
  await setRoster(client, taskQueue, schemeId, pol.caseloadCap, [{ id: 'lw-1' }]);
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await closeWorker?.();
  await connection?.close();
});

async function openCase(limits?: CaseInput['limits']): Promise<WorkflowHandle<typeof pathwayCase>> {
  const facts = referral({ schemeId });
  const input: CaseInput = { referral: facts, policy: pol, ...(limits && { limits }) };
  const handle = await client.workflow.start<typeof pathwayCase>('pathwayCase', { taskQueue, workflowId: caseWorkflowId(facts.referralId), args: [input] });
  await until(handle, (v) => v.stage === 'triage');
  return handle;
}

async function escalated(handle: WorkflowHandle): Promise<boolean | undefined> {
  return (await handle.describe()).typedSearchAttributes.get(escalatedKey);
}

const kinds = (messages: OutboxMessage[]) => messages.map((m) => `${m.channel}:${(m.body as { kind?: string; type?: string }).kind ?? (m.body as { type?: string }).type ?? 'record'}`).sort();

describe('a failing sink', () => {
  it('a transient failure is retried by the activity and delivered once, with no problem left behind', { timeout: 60_000 }, async () => {
    sink.mode = { kind: 'flaky', failures: 2 };
    try {
      const handle = await openCase();
      await send(handle, 'TRIAGE.DECLINE', { reason: 'Not suitable', actor: linkWorker });
      const final = (await handle.result()) as CaseView;
      const messages = sink.messagesOf(handle.workflowId);
      expect(kinds(messages)).toEqual(expect.arrayContaining(['outcome:record', 'referrer:declined']));
      expect(new Set(messages.map((m) => m.key)).size).toBe(messages.length);
      // Every delivery failed twice and got through on the third try.
      for (const m of messages) expect(sink.attempts.get(m.key)).toBe(3);
      expect(final.deliveryProblems).toEqual([]);
      expect(await escalated(handle)).toBe(false);
    } finally {
      sink.mode = { kind: 'ok' };
    }
  });

  it('an outage past the effect timeout is shown as a delivery problem, retried after effectRetryAfter, and delivered once when the sink is back', { timeout: 90_000 }, async () => {
    sink.mode = { kind: 'down' };
    let handle: WorkflowHandle<typeof pathwayCase>;
    try {
      handle = await openCase({ effectTimeout: '3 seconds', effectRetryAfter: '2 seconds' });
      // The case takes commands while its first side effect is stuck.
      const declined = await send(handle, 'TRIAGE.DECLINE', { reason: 'Not suitable', actor: linkWorker });
      expect(declined.stage).toBe('discharged');
      const stuck = await until(handle, (v) => v.deliveryProblems.some((p) => p.attempts >= 2), undefined, 40_000);
      const problem = stuck.deliveryProblems[0]!;
      expect(problem).toMatchObject({ permanent: false, effect: 'notifyReferrer' });
      // The last attempt's failure type when the schedule-to-close time ran out; never its message.
      expect(problem.error).toBe('SinkUnavailable');
      expect(await escalated(handle)).toBe(true);
      expect(sink.messagesOf(handle.workflowId)).toEqual([]);
    } finally {
      sink.mode = { kind: 'ok' };
    }
    const final = (await handle.result()) as CaseView;
    const messages = sink.messagesOf(handle.workflowId);
    expect(final.deliveryProblems).toEqual([]);
    expect(new Set(messages.map((m) => m.key)).size).toBe(messages.length);
    const sent = kinds(messages);
    expect(sent.filter((k) => k === 'referrer:declined')).toHaveLength(1);
    expect(sent.filter((k) => k === 'outcome:record')).toHaveLength(1);
    // The supervisor heard about the outage once, when the sink came back.
    expect(sent.filter((k) => k === 'supervisor:DELIVERY_FAILED')).toHaveLength(1);
    expect(await escalated(handle)).toBe(false);
  });

  it('a message the sink can never take escalates: kept as a permanent problem, the supervisor told, the case escalated, nothing retried in a loop', { timeout: 60_000 }, async () => {
    sink.mode = { kind: 'reject', channel: 'referrer' };
    try {
      const handle = await openCase();
      await send(handle, 'TRIAGE.DECLINE', { reason: 'Not suitable', actor: linkWorker });
      const final = (await handle.result()) as CaseView;
      const referrerNotices = final.deliveryProblems.filter((p) => p.effect === 'notifyReferrer');
      expect(referrerNotices.length).toBeGreaterThanOrEqual(1);
      for (const p of final.deliveryProblems) expect(p).toMatchObject({ permanent: true, attempts: 1, error: 'IdempotencyKeyConflict' });
      const sent = kinds(sink.messagesOf(handle.workflowId));
      expect(sent).not.toContain('referrer:declined');
      expect(sent.filter((k) => k === 'supervisor:DELIVERY_FAILED')).toHaveLength(final.deliveryProblems.length);
      expect(sent.filter((k) => k === 'outcome:record')).toHaveLength(1);
      // Non-retryable: each rejected message was tried exactly once.
      for (const p of final.deliveryProblems) expect(sink.attempts.get(p.key)).toBe(1);
      expect(await escalated(handle)).toBe(true);
      expect((await view(handle)).deliveryProblems).toEqual(final.deliveryProblems);
    } finally {
      sink.mode = { kind: 'ok' };
    }
  });
});

