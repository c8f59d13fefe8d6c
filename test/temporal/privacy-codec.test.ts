// The payload codec end to end, through the worker process as deployed (worker/main.ts): without a
// usable key it refuses to start, with a clear error and a non-zero exit, and never polls; a key
// rotated under a running case (k1, then k2 active with k1 kept) lets the case finish, and the
// history shows both; the codec server and the `temporal` CLI decrypt a real case's history for
// whoever holds the keys and the server's token, and nobody else. In production (NODE_ENV or a
// remote target) the worker cannot run without encryption, with a key file others can read, or
// take a payload that is not encrypted.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PathwayClient, PersonKey } from '../../client';
import { runCli } from '../../client/cli';
import { encryptionKeyId, isEncrypted, startCodecServer } from '../../codec';
import { payloadFromJSON, payloadToJSON, type JSONPayload } from '../../codec/server';
import { ensureWorkflowBundle } from '../../worker/bundle';
import { quietRuntime, uniqueTaskQueue } from '../support/temporal';
import {
  codecOf,
  cohortPolicy,
  driveCase,
  historyPayloads,
  isPlaintextByDesign,
  newKeys,
  newStats,
  planCohort,
  rng,
  spawnWorker,
  workerEnv,
  writeKeyFile,
  type WorkerProcess,
} from '../support/faults';

const run = promisify(execFile);
const TOKEN = 'codec-test-token-0123456789';
/** The rotation case's task queue and id, for the outbox its worker wrote. */
let rotationQueue: string;
let rotationCase: string;
const AUTH = { Authorization: `Bearer ${TOKEN}` };
let dir: string;
let connection: Connection;
/** Reads histories as the server stores them: no codec. */
let raw: Client;
const namespace = () => inject('temporalNamespace');

beforeAll(async () => {
  quietRuntime();
  dir = await mkdtemp(join(tmpdir(), 'pathway-codec-'));
  await ensureWorkflowBundle();
  connection = await Connection.connect({ address: inject('temporalAddress') });
  raw = new Client({ connection, namespace: namespace() });
});
afterAll(async () => {
  await connection?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const workerVars = (taskQueue: string, extra: Record<string, string> = {}) =>
  workerEnv({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: namespace(), PATHWAY_TASK_QUEUE: taskQueue, PATHWAY_OUTBOX_DIR: join(dir, `outbox-${taskQueue}`), ...extra });

describe('the worker process without a usable key', () => {
  it('refuses to start, exits non-zero with an error that says what to do, never echoes key material and never polls', { timeout: 120_000 }, async () => {
    const shortKey = Buffer.alloc(16, 7).toString('base64');
    await writeFile(join(dir, 'not-json.json'), 'k1=abc\n');
    const shared = join(dir, 'shared-keys.json');
    await writeKeyFile(shared, 'k1', newKeys('k1'));
    await chmod(shared, 0o644);
    const cases: Array<{ name: string; env: Record<string, string>; says: RegExp; secret?: string }> = [
      { name: 'no key at all', env: {}, says: /No payload encryption key is configured[\s\S]*PATHWAY_CODEC_KEY_FILE/ },
      { name: 'a key file that does not exist', env: { PATHWAY_CODEC_KEY_FILE: join(dir, 'missing.json') }, says: /PATHWAY_CODEC_KEY_FILE \(.*missing\.json\) does not exist/ },
      { name: 'a key file that is not JSON', env: { PATHWAY_CODEC_KEY_FILE: join(dir, 'not-json.json') }, says: /is not valid JSON/, secret: 'abc' },
      { name: 'a key that is not base64', env: { PATHWAY_CODEC_KEYS: 'k1:s3cr3t*not*base64' }, says: /key "k1": key is not valid standard base64/, secret: 's3cr3t' },
      { name: 'a 128-bit key', env: { PATHWAY_CODEC_KEYS: `k1:${shortKey}` }, says: /exactly 32 bytes \(AES-256\)/, secret: shortKey },
      { name: 'encryption "switched off" with a typo', env: { PATHWAY_CODEC: 'of' }, says: /PATHWAY_CODEC may only be "off"/ },
      { name: 'encryption switched off in production', env: { PATHWAY_CODEC: 'off', NODE_ENV: 'production' }, says: /PATHWAY_CODEC=off is refused in production/ },
      { name: 'encryption switched off for a cluster (an API key)', env: { PATHWAY_CODEC: 'off', TEMPORAL_API_KEY: 'not-a-real-key' }, says: /PATHWAY_CODEC=off is refused in production/ },
      { name: 'a key file others can read, in production', env: { PATHWAY_CODEC_KEY_FILE: shared, NODE_ENV: 'production' }, says: /shared-keys\.json[\s\S]*chmod 600 .*shared-keys\.json/ },
    ];
    const taskQueue = uniqueTaskQueue('nokey');
    const results = await Promise.all(
      cases.map(async (c) => {
        const proc: WorkerProcess = spawnWorker(workerVars(taskQueue, c.env));
        const exit = await Promise.race([proc.exit, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
        if (exit === 'hung') proc.kill('SIGKILL');
        return { ...c, exit, output: proc.output() };
      }),
    );
    for (const r of results) {
      expect(r.exit, r.name).not.toBe('hung');
      expect(r.exit === 'hung' ? undefined : r.exit.code, `${r.name}: exit code`).not.toBe(0);
      expect(r.output, r.name).toMatch(r.says);
      expect(r.output, r.name).not.toMatch(/worker ready/);
      if (r.secret) expect(r.output, `${r.name}: key material echoed`).not.toContain(r.secret);
    }
    // Not one of them got as far as polling: nothing could have been written in plaintext.
    const described = await raw.workflowService.describeTaskQueue({
      namespace: namespace(),
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    expect(described.pollers ?? []).toEqual([]);
  });
});

describe('a running case across a key rotation, then decrypted for people who hold the keys', () => {
  const taskQueue = (rotationQueue = uniqueTaskQueue('rotate'));
  const schemeId = `rotate-${taskQueue.slice(-8)}`;
  const keys = newKeys('k1', 'k2');
  const keyFile = () => join(dir, 'rotating-keys.json');
  let caseId: string;
  const workers: WorkerProcess[] = [];

  afterAll(async () => {
    for (const w of workers) {
      w.kill('SIGTERM');
      await w.exit;
    }
  });

  const startWorker = async () => {
    // In production mode, encrypted or refused: a whole case runs with nothing the worker must refuse.
    const w = spawnWorker(workerVars(taskQueue, { PATHWAY_CODEC_KEY_FILE: keyFile(), NODE_ENV: 'production' }));
    workers.push(w);
    await w.ready;
    return w;
  };

  it('a case started under k1 continues and finishes with k2 active and k1 still in the ring', { timeout: 120_000 }, async () => {
    const personKey = PersonKey.generate();
    const [c] = planCohort(rng(7), 1, schemeId, `rot-${taskQueue.slice(-8)}`);
    caseId = rotationCase = c!.caseId;
    const stats = newStats();

    await writeKeyFile(keyFile(), 'k1', { k1: keys.k1! });
    const first = await startWorker();
    const before = await PathwayClient.connect({ address: inject('temporalAddress'), namespace: namespace(), taskQueue, codec: await codecOf('k1', { k1: keys.k1! }), personKey });
    await before.setRoster(schemeId, [{ id: 'lw-1' }]);
    // Twelve weeks in 20 s: the worker is restarted in support, and the review must not fall due
    // before the new worker has started and the host has logged its sessions. With 3 s it did, once
    // in CI under load, and the host's session was refused at review.
    await before.refer(c!.referral, { policy: cohortPolicy(schemeId, 20_000) });
    const inSupport = await driveCase(before.temporal, caseId, 'extended', stats, { until: (v) => v.stage === 'support' });
    expect(inSupport.stage).toBe('support');
    await before.close();

    // The operator's rotation: a new active key, the old one kept to read what it wrote.
    first.kill('SIGTERM');
    expect((await first.exit).code).toBe(0);
    await writeKeyFile(keyFile(), 'k2', { k2: keys.k2!, k1: keys.k1! });
    await startWorker();
    const after = await PathwayClient.connect({ address: inject('temporalAddress'), namespace: namespace(), taskQueue, codec: await codecOf('k2', keys), personKey });
    const final = await driveCase(after.temporal, caseId, 'extended', stats);
    await after.close();
    expect(final.discharge?.reason).toBe('connected');
    expect(final.timeline.filter((t) => t.event === 'REVIEW.RECORD')).toHaveLength(2);
    expect(stats.refusals).toEqual([]);

    const found = historyPayloads(await raw.workflow.getHandle(caseId).fetchHistory());
    const encrypted = found.filter((p) => !isPlaintextByDesign(p));
    for (const p of found.filter(isPlaintextByDesign)) {
      expect(Buffer.from(p.payload.data ?? []).toString('utf8'), p.path).toMatch(/^("[A-Za-z0-9._:-]*"|true|false|null|\{"id":"[a-z0-9-]+","deprecated":(true|false)\}|\[[^\]]*\])$/);
    }
    expect(encrypted.filter((p) => !isEncrypted(p.payload)).map((p) => p.path)).toEqual([]);
    const ids = encrypted.map((p) => encryptionKeyId(p.payload));
    expect(ids[0], 'the referral was written under k1').toBe('k1');
    expect(ids.at(-1), 'the closing view was written under k2').toBe('k2');
    expect(new Set(ids)).toEqual(new Set(['k1', 'k2']));
    // Once k2 is active nothing new is written under k1.
    expect(ids.slice(ids.indexOf('k2'))).not.toContain('k1');

    // Both keys are needed to read it all: without k1 the first payload cannot be opened, and the error says which key is missing.
    await expect((await codecOf('k2', { k2: keys.k2! })).decode([encrypted[0]!.payload])).rejects.toThrow(/encrypted with key "k1", which is not in this keyring/);
    const decoded = await (await codecOf('k2', keys)).decode(encrypted.map((p) => p.payload));
    expect(decoded.every((p) => !isEncrypted(p))).toBe(true);
  });

  it('the codec server decrypts the real history fetched from the dev server, for the keyring that wrote it only', { timeout: 60_000 }, async () => {
    const found = historyPayloads(await raw.workflow.getHandle(caseId).fetchHistory()).filter((p) => !isPlaintextByDesign(p));
    const body = JSON.stringify({ payloads: found.map((p) => payloadToJSON(p.payload)) });
    const server = await startCodecServer({ port: 0, codec: await codecOf('k2', keys), authToken: TOKEN });
    const stranger = await startCodecServer({ port: 0, codec: await codecOf('k2', { k2: keys.k2! }), authToken: TOKEN });
    try {
      const anonymous = await fetch(`${server.url}/${namespace()}/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
      expect(anonymous.status).toBe(401);
      expect(await anonymous.text()).not.toContain('Bogside');
      const response = await fetch(`${server.url}/${namespace()}/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...AUTH }, body });
      expect(response.status).toBe(200);
      const decoded = ((await response.json()) as { payloads: JSONPayload[] }).payloads.map(payloadFromJSON);
      expect(decoded).toHaveLength(found.length);
      const input = defaultPayloadConverter.fromPayload(decoded[0]!) as { referral: { referralId: string; area: string }; policy: unknown };
      expect(input.referral.referralId).toBe(caseId.replace(/^case-/, ''));
      expect(input.referral.area).toBe('Bogside');
      // The person's identity never reached the case, decrypted or not.
      expect(JSON.stringify(input)).not.toMatch(/givenName|familyName|dateOfBirth|nhsNumber/);

      const refused = await fetch(`${stranger.url}/${namespace()}/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...AUTH }, body });
      expect(refused.status).toBe(400);
      const why = await refused.text();
      expect(why).toMatch(/cannot be decrypted with the keys this codec server holds/);
      expect(why).not.toMatch(/k1|k2/);
    } finally {
      await server.close();
      await stranger.close();
    }
  });

  it('the temporal CLI shows the decrypted history through the codec server, and only ciphertext without it', { timeout: 60_000 }, async () => {
    const cli = inject('temporalCliPath');
    if (!cli) return;
    const server = await startCodecServer({ port: 0, codec: await codecOf('k2', keys), authToken: TOKEN });
    try {
      const show = (...extra: string[]) =>
        run(cli, ['workflow', 'show', '--workflow-id', caseId, '--address', inject('temporalAddress'), '--namespace', namespace(), '--output', 'json', ...extra], { maxBuffer: 64 * 1024 * 1024 });
      // The CLI prints each payload as the codec server returned it: JSON, base64 in `data`.
      const startInput = (stdout: string) => {
        const history = JSON.parse(stdout) as { events: Array<{ workflowExecutionStartedEventAttributes?: { input: { payloads: JSONPayload[] } } }> };
        const payload = history.events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0]!;
        return { encoding: Buffer.from(payload.metadata!['encoding']!, 'base64').toString(), data: Buffer.from(payload.data!, 'base64').toString() };
      };
      const decoded = startInput((await show('--codec-endpoint', server.url, '--codec-auth', `Bearer ${TOKEN}`)).stdout);
      expect(decoded.encoding).toBe('json/plain');
      expect(JSON.parse(decoded.data)).toMatchObject({ referral: { referralId: caseId.replace(/^case-/, ''), area: 'Bogside' } });
      const stored = startInput((await show()).stdout);
      expect(stored.encoding).toBe('binary/encrypted');
      expect(stored.data).not.toContain('Bogside');
      // Without the token the CLI gets nothing decrypted.
      await expect(show('--codec-endpoint', server.url)).rejects.toThrow();
    } finally {
      await server.close();
    }
  });

  it('`temporal workflow query --codec-endpoint --codec-auth` reads the decrypted view of the real case', { timeout: 60_000 }, async () => {
    const cli = inject('temporalCliPath');
    if (!cli) return;
    const server = await startCodecServer({ port: 0, codec: await codecOf('k2', keys), authToken: TOKEN });
    try {
      // The query has no arguments, so the CLI posts `{}` (proto3 JSON leaves an empty list out) to encode them.
      const { stdout } = await run(
        cli,
        ['workflow', 'query', '--workflow-id', caseId, '--type', 'view', '--address', inject('temporalAddress'), '--namespace', namespace(), '--output', 'json',
          '--codec-endpoint', server.url, '--codec-auth', `Bearer ${TOKEN}`],
        { maxBuffer: 16 * 1024 * 1024 },
      );
      const answer = JSON.parse(stdout) as { queryResult: unknown[] };
      const view = answer.queryResult[0] as { stage: string; discharge?: { reason: string } };
      expect(view.stage).toBe('discharged');
      expect(view.discharge?.reason).toBe('connected');
    } finally {
      await server.close();
    }
  });
});

describe('the outbox the worker wrote for that case', () => {
  it('is private on disk (0700, 0600, bodies sealed), and `pathway outbox read` opens it for a holder of the keys', { timeout: 30_000 }, async () => {
    const taskQueue = rotationQueue;
    const outboxDir = join(dir, `outbox-${taskQueue}`);
    const file = join(outboxDir, 'outbox.jsonl');
    if (process.platform !== 'win32') {
      expect((await stat(outboxDir)).mode & 0o777).toBe(0o700);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    }
    const raw = await readFile(file, 'utf8');
    expect(raw).toContain(rotationCase);
    // The outcome record names the area; on disk it is ciphertext.
    expect(raw).not.toContain('Bogside');

    const out: string[] = [];
    const err: string[] = [];
    const read = (env: Record<string, string>) => runCli(['outbox', 'read', '--file', file, '--channel', 'outcome'], { out: (t) => out.push(t), err: (t) => err.push(t), env, cwd: dir });
    expect(await read({ PATHWAY_CODEC_KEY_FILE: join(dir, 'rotating-keys.json') })).toBe(0);
    const outcomes = out.map((line) => JSON.parse(line) as { caseId: string; body: { record?: { area?: string } } });
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.every((m) => m.caseId === rotationCase)).toBe(true);
    expect(JSON.stringify(outcomes)).toContain('Bogside');

    // Without the keys: a configuration error that says what is needed, and nothing of the bodies.
    out.length = 0;
    expect(await read({ PATHWAY_CODEC: 'off', TEMPORAL_ADDRESS: 'elsewhere.example:7233' })).not.toBe(0);
    expect(out.join('')).not.toContain('Bogside');
  });
});

describe('a production worker takes encrypted payloads or none', () => {
  it('refuses a case started by a client without the codec: the case never runs, and the worker says why', { timeout: 90_000 }, async () => {
    const taskQueue = uniqueTaskQueue('plain');
    const keyFile = join(dir, 'production-keys.json');
    await writeKeyFile(keyFile, 'k1', newKeys('k1'));
    const worker = spawnWorker(workerVars(taskQueue, { PATHWAY_CODEC_KEY_FILE: keyFile, NODE_ENV: 'production' }));
    try {
      await worker.ready;
      const [c] = planCohort(rng(11), 1, `plain-${taskQueue.slice(-8)}`, `pl-${taskQueue.slice(-8)}`);
      const handle = await raw.workflow.start('pathwayCase', {
        taskQueue,
        workflowId: c!.caseId,
        args: [{ referral: c!.referral, policy: cohortPolicy(c!.referral.schemeId, 20_000) }],
      });
      const deadline = Date.now() + 60_000;
      let failed: temporal.api.history.v1.IHistoryEvent | undefined;
      while (Date.now() < deadline && failed === undefined) {
        const history = await handle.fetchHistory();
        failed = history.events?.find((e) => e.workflowTaskFailedEventAttributes);
        if (failed === undefined) await new Promise((r) => setTimeout(r, 250));
      }
      expect(failed, 'a failed workflow task').toBeDefined();
      const events = (await handle.fetchHistory()).events ?? [];
      // Nothing the case would do (a timer, an activity) was ever scheduled from the plaintext input.
      expect(events.some((e) => e.activityTaskScheduledEventAttributes || e.timerStartedEventAttributes)).toBe(false);
      expect(worker.output()).toMatch(/Refusing an unencrypted payload/);
      await handle.terminate('test over');
    } finally {
      worker.kill('SIGTERM');
      await worker.exit;
    }
  });
});
