// Determinism: case histories replay on the current workflow code without nondeterminism. Two
// sources: histories recorded in this run (representative journeys, including one that continued
// as new), and histories kept in test/fixtures/histories from earlier versions of the code, which
// is what catches a change that would break cases already running. `RECORD_HISTORIES=1` rewrites
// the fixtures from this run's histories.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { History } from '@temporalio/common/lib/proto-utils';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WEEK } from '../../machines';
import { flagDuplicatesUpdate } from '../../workflows/definitions';
import { createTimeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { dataConverter, driveTo, linkWorker, refer, referral, send, startPathwayWorker, supervisor, swemwbs, until, openScheme } from '../support/pathway';

const fixtures = join(__dirname, '..', 'fixtures', 'histories');
let env: TestWorkflowEnvironment;
const recorded: Array<{ name: string; history: History }> = [];

async function keep(name: string, handle: WorkflowHandle) {
  // Polled rather than awaited with result(): on the time-skipping server result() lets time run
  // freely, and with nothing else due it jumps ten years, timing out the scheme's ledger.
  while ((await handle.describe()).status.name !== 'COMPLETED') await new Promise((r) => setTimeout(r, 100));
  const { events } = await handle.fetchHistory();
  recorded.push({ name, history: { events } });
}

/**
 * Replays history files in a child process with a time limit: a workflow task that never ends
 * blocks the process replaying it, so in this one it would hang the suite instead of failing.
 */
function replayApart(files: string[], limitMs = 90_000): Promise<{ count: number; failures: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'support', 'replay-child.ts'), inject('workflowBundlePath'), ...files], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`replay of ${files.length} kept histories did not finish within ${limitMs / 1000} s: a workflow task never yields`));
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line));
      else reject(new Error(`replay process exited with ${code}: ${err.slice(-2000)}`));
    });
  });
}

beforeAll(async () => {
  env = await createTimeSkippingEnv({ dataConverter: await dataConverter() });
  const taskQueue = uniqueTaskQueue('replay');
  const { worker, close } = await startPathwayWorker({ address: env.address, namespace: env.namespace ?? 'default', taskQueue });
  await worker.runUntil(async () => {
    const pol = await openScheme(env.client, taskQueue, 'replay');

    // Twelve weeks of support, the review falling due on its own, discharge.
    const journey = await refer(env.client, taskQueue, referral({ schemeId: 'replay' }), pol);
    await driveTo(journey, 'support', { tier: 'intensive' });
    for (const attended of [true, true, false, true]) {
      await send(journey, 'SESSION.LOG', { kind: 'accompaniedActivity', attended, durationMinutes: 90, withVolunteer: false, actor: linkWorker });
    }
    await env.sleep(12 * WEEK + 60_000);
    await until(journey, (v) => v.stage === 'review');
    await send(journey, 'REVIEW.RECORD', { measures: [swemwbs([4, 4, 4, 4, 3, 3, 4])], goalsMet: 'all', outcome: 'discharge', actor: linkWorker });
    await keep('twelve-week-journey', journey);

    // A safeguarding hold, an escalation acknowledged, an extension, a befriending gap.
    const winding = await refer(env.client, taskQueue, referral({ schemeId: 'replay' }), pol);
    await driveTo(winding, 'firstVisit');
    const held = await send(winding, 'SAFEGUARDING.RAISE', { category: 'financialAbuse', actor: linkWorker });
    await send(winding, 'ESCALATION.ACK', { escalationId: held.openEscalations[0]!.id, actor: supervisor });
    await send(winding, 'SAFEGUARDING.CLEAR', { actor: supervisor });
    await driveTo(winding, 'review', { env, volunteer: true });
    await send(winding, 'REVIEW.RECORD', { measures: [], goalsMet: 'some', outcome: 'extend', extensionWeeks: 2, actor: linkWorker });
    await send(winding, 'EXTENSION.APPROVE', { actor: supervisor });
    await env.sleep(2 * WEEK + 60_000);
    await until(winding, (v) => v.stage === 'review');
    await send(winding, 'REVIEW.RECORD', { measures: [], goalsMet: 'some', outcome: 'befriend', actor: linkWorker });
    await send(winding, 'BEFRIENDING.RESULT', { result: 'unavailable', actor: linkWorker });
    await send(winding, 'REVIEW.RECORD', { measures: [], goalsMet: 'some', outcome: 'discharge', actor: linkWorker });
    await keep('hold-extension-befriending-gap', winding);

    // A case that continues as new twice before it closes.
    const facts = referral({ schemeId: 'replay' });
    const long = await env.client.workflow.start('pathwayCase', {
      taskQueue,
      workflowId: `case-${facts.referralId}`,
      args: [{ referral: facts, policy: pol, limits: { historyEvents: 50 } }],
    });
    await driveTo(long, 'support', { tier: 'intensive' });
    for (let i = 0; i < 10; i++) await send(long, 'SESSION.LOG', { kind: 'phone', attended: true, durationMinutes: 20, withVolunteer: false, actor: linkWorker });
    await send(long, 'DISCHARGE', { reason: 'goalsMet', actor: linkWorker });
    await keep('continued-as-new', long);

    // Flagged as a possible duplicate, cleared by a supervisor, then consent withdrawn: the flag's
    // search attribute and the person index being told to forget the case replay too.
    const flagged = await refer(env.client, taskQueue, referral({ schemeId: 'replay' }), pol);
    await until(flagged, (v) => v.stage === 'triage');
    await flagged.executeUpdate(flagDuplicatesUpdate, { args: [{ duplicates: [{ caseId: 'case-replay-earlier', match: 'nhsNumber' }] }] });
    await send(flagged, 'DUPLICATE.RESOLVE', { resolution: 'notDuplicate', actor: supervisor });
    await driveTo(flagged, 'firstVisit');
    await send(flagged, 'DISCHARGE', { reason: 'consentWithdrawn', actor: linkWorker });
    await keep('duplicate-flag-consent-withdrawn', flagged);
  });
  await close();
}, 300_000);

afterAll(async () => env?.teardown());

describe('replay', () => {
  it('histories recorded in this run replay on the current code', async () => {
    // Binary protobuf: the SDK's JSON helpers trip over the two protobufjs copies installed here.
    // Written where the fixtures live when re-recording them, else to a scratch folder.
    const dir = process.env.RECORD_HISTORIES === '1' ? fixtures : mkdtempSync(join(tmpdir(), 'pathway-replay-'));
    mkdirSync(dir, { recursive: true });
    const files = recorded.map((r) => {
      const file = join(dir, `${r.name}.history.bin`);
      writeFileSync(file, temporal.api.history.v1.History.encode(r.history).finish());
      return file;
    });
    const { count, failures } = await replayApart(files);
    expect(failures).toEqual([]);
    expect(count).toBe(4);
    console.log(`replay: ${count} fresh histories, ${recorded.map((r) => r.history.events!.length).join('/')} events`);
  });

  it('histories kept from earlier versions of the code replay without nondeterminism', async () => {
    const files = readdirSync(fixtures).filter((f) => f.endsWith('.history.bin'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const histories = files.map((f) => {
      const history = temporal.api.history.v1.History.decode(readFileSync(join(fixtures, f)));
      const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
      return { workflowId: `fixture-${f}`, history, type: started.workflowType!.name };
    });
    // Cases, a scheme's ledger (its signals taken in arrival order since ledger-signals-in-order), and a connection.
    expect(histories.map((h) => h.type).filter((t) => t !== 'pathwayCase' && t !== 'capacityLedger' && t !== 'pathwayConnection')).toEqual([]);
    const { count, failures } = await replayApart(files.map((f) => join(fixtures, f)));
    expect(failures).toEqual([]);
    expect(count).toBe(files.length);
    console.log(`replay: ${count} kept histories (${files.join(', ')})`);
  });
});
