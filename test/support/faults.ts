// What the fault, privacy, fuzz and concurrency tests share: seeded randomness, a dev server of a
// test's own (a SQLite file it can stop, kill, restart and scan), the worker as a real process
// (worker/main.ts) that can be SIGKILLed and restarted, synthetic people, a case driver that keeps
// going through crashes, and an audit of the outbox against what each case should have sent.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { Connection, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, type Payload } from '@temporalio/common';
import { decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow';
import { Runtime, Worker, makeTelemetryFilterString } from '@temporalio/worker';
import { inject } from 'vitest';
import { temporal } from '@temporalio/proto';
import { EncryptionCodec, generateKey, importKeyring } from '../../codec';
import type { OutboxMessage } from '../../activities/sink';
import { readOutbox } from '../../activities/outbox';
import { PathwayError, PathwayClient, PersonKey, type HostReferral } from '../../client';
import { mapLimit } from '../../client/pool';
import { nhsCheckDigit } from '../../client/referral';
import { WEEK, parsePolicy, scalePolicy, type CommandPayload, type CommandType, type EscalationType, type SchemePolicy, type Stage } from '../../machines';
import { caseViewQuery, commandUpdates, type CaseView } from '../../workflows/definitions';
import { searchAttributeFlags } from '../../workflows/search-attributes';
import { ensureWorkflowBundle } from '../../worker/bundle';
import { pathwayDataConverter } from '../../codec/defaults';

export const ROOT = resolve(__dirname, '..', '..');
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---- Seeded randomness -------------------------------------------------------------------------

export interface Rng {
  readonly seed: number;
  /** [0, 1) */
  next(): number;
  /** A whole number in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: small, fast and the same on every machine, so a printed seed replays a run. */
export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}

/** `FAULTS_SEED` replays a run; otherwise a fresh seed, printed so a failure can be replayed. */
export function seededRng(label: string): Rng {
  const fromEnv = process.env.FAULTS_SEED;
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  console.log(`[${label}] seed ${seed} (replay with FAULTS_SEED=${seed})`);
  return rng(seed);
}

/**
 * Like quietRuntime (test/support/temporal.ts), but also drops the worker's warnings and errors that
 * a test provokes on purpose (a failing sink makes every attempt log "Activity failed"). Call it before
 * anything connects; it and quietRuntime are mutually exclusive within a test file.
 */
export function installQuietRuntime(expectedWarnings: RegExp): void {
  Runtime.install({
    logger: {
      log() {},
      trace() {},
      debug() {},
      info() {},
      warn: (message, meta) => {
        if (!expectedWarnings.test(message)) console.warn(message, meta);
      },
      error: (message, meta) => {
        if (!expectedWarnings.test(message)) console.error(message, meta);
      },
    },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
}

// ---- Ports, logs, processes ---------------------------------------------------------------------

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Appends a child's stdout and stderr to one file (for the privacy scan) and keeps a tail in memory. */
function captureOutput(child: ChildProcess, logFile: string | undefined, onText?: (tail: string) => void): () => string {
  let fd = logFile ? openSync(logFile, 'a') : undefined;
  let tail = '';
  const take = (chunk: Buffer) => {
    if (fd !== undefined) writeSync(fd, chunk);
    tail = (tail + chunk.toString('utf8')).slice(-20_000);
    onText?.(tail);
  };
  child.stdout?.on('data', take);
  child.stderr?.on('data', take);
  // 'close' comes after the pipes have delivered their last chunk ('exit' may come before).
  child.once('close', () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  });
  return () => tail;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
}

// ---- A dev server of the test's own --------------------------------------------------------------

export interface OwnDevServer {
  readonly address: string;
  readonly dbFile: string;
  readonly logFile: string;
  /** SIGTERM lets the server shut down; SIGKILL is a crash. Resolves once the process is gone. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same port and SQLite file. */
  start(): Promise<void>;
}

/**
 * The provisioned Temporal CLI's dev server on free ports with a SQLite file in `dir`, headless,
 * with the pathway's search attributes; its log goes to `dir/server.log`.
 */
export async function startOwnDevServer(dir: string): Promise<OwnDevServer> {
  await mkdir(dir, { recursive: true });
  const cli = inject('temporalCliPath');
  if (!cli) throw new Error('no Temporal CLI was provisioned (temporalCliPath is empty)');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const dbFile = join(dir, 'temporal.sqlite');
  const logFile = join(dir, 'server.log');
  let child: ChildProcess | undefined;

  const start = async () => {
    const uiPort = await freePort();
    const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--ui-port', String(uiPort), '--headless'];
    args.push('--db-filename', dbFile, '--log-level', 'warn', ...searchAttributeFlags());
    const proc = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    const output = captureOutput(proc, logFile);
    const until = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`the dev server exited (${proc.exitCode}):\n${output()}`);
      if (await answers(address)) return;
      if (Date.now() > until) throw new Error(`the dev server did not answer on ${address} within 60s:\n${output()}`);
      await sleep(200);
    }
  };
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    const gone = exited(proc);
    proc.kill(signal);
    // A server that does not finish shutting down in half a minute is killed: the test must go on.
    const done = await Promise.race([gone, sleep(30_000).then(() => undefined)]);
    if (!done) {
      proc.kill('SIGKILL');
      await gone;
    }
  };
  await start();
  return { address, dbFile, logFile, start, stop };
}

/** True once the frontend answers for the default namespace (a listening port is not enough). */
async function answers(address: string): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1000 });
    await connection.withDeadline(Date.now() + 2000, () => connection!.workflowService.describeNamespace({ namespace: 'default' }));
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

// ---- Payloads in a history --------------------------------------------------------------------------------

export interface FoundPayload {
  /** Where in the history, e.g. `events[0].workflowExecutionStartedEventAttributes.input.payloads[0]`. */
  path: string;
  payload: Payload;
}

/** Every Payload message in a (raw, undecoded) history, wherever it sits. */
export function historyPayloads(history: unknown): FoundPayload[] {
  const found: FoundPayload[] = [];
  const visit = (node: unknown, path: string) => {
    if (node === null || typeof node !== 'object' || node instanceof Uint8Array) return;
    if (Array.isArray(node)) return node.forEach((item, i) => visit(item, `${path}[${i}]`));
    const record = node as Record<string, unknown>;
    if (record.metadata && typeof record.metadata === 'object' && 'data' in record) {
      found.push({ path, payload: record as Payload });
      return;
    }
    for (const [key, value] of Object.entries(record)) visit(value, path ? `${path}.${key}` : key);
  };
  visit(history, '');
  return found;
}

/**
 * Payloads that never pass through a codec, by design: search attributes (the server indexes them)
 * and the SDK's patch markers (the patch id). The tests check what they hold; everything else must
 * be ciphertext.
 */
export const isPlaintextByDesign = (p: FoundPayload) => /searchAttributes\.indexedFields|markerRecordedEventAttributes\.details\.patch-data/.test(p.path);

// ---- Keys ------------------------------------------------------------------------------------------

export type KeySet = Record<string, string>;

export async function writeKeyFile(path: string, active: string, keys: KeySet): Promise<void> {
  await writeFile(path, `${JSON.stringify({ active, keys })}\n`, { mode: 0o600 });
}

export function newKeys(...ids: string[]): KeySet {
  return Object.fromEntries(ids.map((id) => [id, generateKey()]));
}

export async function codecOf(active: string, keys: KeySet): Promise<EncryptionCodec> {
  const raw = new Map(Object.entries(keys).map(([id, key]) => [id, new Uint8Array(Buffer.from(key, 'base64'))]));
  return new EncryptionCodec(importKeyring({ activeKeyId: active, keys: raw }));
}

// ---- The worker as a process -------------------------------------------------------------------------

export interface WorkerProcess {
  readonly pid: number;
  /** Resolves when the worker prints that it is ready; rejects if it exits first. */
  readonly ready: Promise<void>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  kill(signal: NodeJS.Signals): void;
}

/**
 * The environment a worker process gets: the test's own PATH and HOME, none of the TEMPORAL_* or
 * PATHWAY_* settings of the shell that ran the tests, and exactly the variables given.
 */
export function workerEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|PATHWAY_|VITEST|NODE_OPTIONS$)/.test(k)),
  );
  return { ...base, NODE_ENV: 'test', ...vars };
}

/** `worker/main.ts` under tsx's loader, as an operator would run it. */
export function spawnWorker(env: NodeJS.ProcessEnv, logFile?: string): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'main.ts')], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let readyNow: () => void = () => {};
  const ready = new Promise<void>((r) => (readyNow = r));
  const output = captureOutput(child, logFile, (tail) => {
    if (tail.includes('worker ready')) readyNow();
  });
  const exit = exited(child);
  const readyOrExit = Promise.race([ready, exit.then((e) => Promise.reject(new Error(`worker exited (${e.code ?? e.signal}) before it was ready:\n${output()}`)))]);
  // A worker meant to fail at start-up has nobody waiting for it to be ready.
  readyOrExit.catch(() => undefined);
  return {
    pid: child.pid!,
    ready: readyOrExit,
    exit,
    output,
    kill: (signal) => child.kill(signal),
  };
}

/**
 * One worker process kept running: `crash()` SIGKILLs it and starts another, and if it dies on its
 * own (its server went away) it is started again, as a process supervisor would.
 */
export class KeptWorker {
  kills = 0;
  starts = 0;
  /** How long each start took until the worker said it was ready (ms). */
  readonly startTimes: number[] = [];
  private current: WorkerProcess | undefined;
  private stopping = false;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile?: string,
  ) {}

  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const began = Date.now();
      const proc = spawnWorker(this.env, this.logFile);
      this.current = proc;
      this.starts += 1;
      try {
        await proc.ready;
        this.startTimes.push(Date.now() - began);
        void proc.exit.then(() => this.revive(proc)).catch((err: unknown) => console.error('the worker could not be restarted', err));
        return;
      } catch (err) {
        if (attempt >= 10 || this.stopping) throw err;
        await sleep(1000);
      }
    }
  }

  private async revive(proc: WorkerProcess): Promise<void> {
    if (this.stopping || this.current !== proc) return;
    await sleep(500);
    if (this.stopping || this.current !== proc) return;
    await this.start();
  }

  /** SIGKILL at this moment; a new process starts after `downMs`. */
  async crash(downMs = 0): Promise<void> {
    const proc = this.current;
    if (!proc) return;
    this.current = undefined;
    proc.kill('SIGKILL');
    await proc.exit;
    this.kills += 1;
    await sleep(downMs);
    await this.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const proc = this.current;
    this.current = undefined;
    if (!proc) return;
    proc.kill('SIGTERM');
    const done = await Promise.race([proc.exit, sleep(15_000).then(() => undefined)]);
    if (!done) {
      proc.kill('SIGKILL');
      await proc.exit;
    }
  }
}

// ---- Synthetic people ---------------------------------------------------------------------------------

export interface SyntheticPerson {
  givenName: string;
  familyName: string;
  dateOfBirth: string;
  nhsNumber: string;
  phone: string;
  address: string;
}

const GIVEN = ['Winifred', 'Bartholomew', 'Philippa', 'Cornelius', 'Euphemia', 'Leopold', 'Rosamund', 'Ignatius', 'Clementine', 'Algernon'];
const SYLLABLES = ['quor', 'bel', 'dry', 'mox', 'tan', 'vel', 'strom', 'ank', 'pim', 'zeth', 'gorn', 'lum'];
const STREETS = ['Quillon Terrace', 'Marrowgate Row', 'Tibbermore Close', 'Pellinore Walk', 'Saxby Wynd'];

/**
 * A made-up person whose every identifier is distinctive enough to scan for: no name, street or
 * number here occurs by chance in a database file. NHS numbers are in the 999 range that is never
 * issued; phone numbers in Ofcom's drama range.
 */
export function syntheticPerson(r: Rng, index: number): SyntheticPerson {
  const family = Array.from({ length: 3 }, () => r.pick(SYLLABLES)).join('');
  const year = r.int(1930, 1970);
  const month = String(r.int(1, 12)).padStart(2, '0');
  const day = String(r.int(1, 28)).padStart(2, '0');
  let nhsNumber = '';
  while (!nhsNumber) {
    const digits = `999${String(r.int(0, 999_999)).padStart(6, '0')}`;
    const check = nhsCheckDigit(digits);
    if (check !== undefined) nhsNumber = `${digits}${check}`;
  }
  return {
    givenName: r.pick(GIVEN),
    familyName: `${family[0]!.toUpperCase()}${family.slice(1)}-${index}`,
    dateOfBirth: `${year}-${month}-${day}`,
    nhsNumber,
    phone: `07700 900${String(r.int(0, 999)).padStart(3, '0')}`,
    address: `${r.int(2, 299)} ${r.pick(STREETS)}, Derry BT48 ${r.int(1, 9)}${String.fromCharCode(65 + r.int(0, 25))}${String.fromCharCode(65 + r.int(0, 25))}`,
  };
}

/** The forms each identifier might be written in, for the plaintext scans. */
export function identifierForms(p: SyntheticPerson): string[] {
  const nhs = p.nhsNumber;
  const [y, m, d] = p.dateOfBirth.split('-');
  return [
    `${p.givenName} ${p.familyName}`,
    p.givenName,
    p.familyName,
    p.dateOfBirth,
    `${d}/${m}/${y}`,
    nhs,
    `${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}`,
    p.phone,
    p.phone.replace(/\s/g, ''),
    p.address,
    p.address.split(',')[0]!,
  ];
}

// ---- Driving a case through crashes ---------------------------------------------------------------------

/** What a case is meant to go through; the driver reads the case's view and sends the next command. */
export const SCENARIOS = ['declined', 'redirected', 'unableToContact', 'connected', 'befriended', 'extended', 'overdueTriage', 'safeguarding'] as const;
export type Scenario = (typeof SCENARIOS)[number];

/** The link worker on duty acts before a case is allocated; afterwards its own link worker does. */
const duty = { role: 'linkWorker', id: 'lw-duty' } as const;
const sup = { role: 'supervisor', id: 'sup-duty' } as const;
const self = { role: 'person', id: 'self' } as const;

export type Step = { type: CommandType; payload: CommandPayload<CommandType> } | 'wait' | 'done';

const count = (v: CaseView, event: string) => v.timeline.filter((t) => t.event === event).length;
const cmd = <K extends CommandType>(type: K, payload: CommandPayload<K>): Step => ({ type, payload: payload as CommandPayload<CommandType> });

/**
 * The next command for `scenario` given the case as it stands, decided from the case's own view
 * only, so a driver that crashed or lost a reply picks up where the case really is.
 */
export function nextStep(scenario: Scenario, v: CaseView): Step {
  const lw = v.linkWorkerId ? ({ role: 'linkWorker', id: v.linkWorkerId } as const) : duty;
  switch (v.stage as Stage) {
    case 'discharged':
      return 'done';
    case 'triage': {
      if (scenario === 'declined') return cmd('TRIAGE.DECLINE', { reason: 'Not suitable for this scheme', actor: lw });
      if (scenario === 'redirected') return cmd('TRIAGE.REDIRECT', { service: 'Community mental health team', reason: 'Needs clinical care', actor: lw });
      if (scenario === 'overdueTriage') {
        const overdue = v.escalations.find((e) => e.type === 'TRIAGE_OVERDUE');
        if (!overdue) return 'wait';
        if (overdue.acknowledgedAt === undefined) return cmd('ESCALATION.ACK', { escalationId: overdue.id, actor: sup });
        return cmd('TRIAGE.DECLINE', { reason: 'Declined after review', actor: lw });
      }
      return cmd('TRIAGE.ACCEPT', { actor: lw });
    }
    case 'allocating':
    case 'waitlisted':
      return 'wait';
    case 'firstContact':
      if (scenario === 'unableToContact' || count(v, 'CONTACT.ATTEMPT') === 0) {
        return cmd('CONTACT.ATTEMPT', { outcome: scenario === 'unableToContact' ? 'noAnswer' : 'leftMessage', channel: 'phone', actor: lw });
      }
      return cmd('CONTACT.ATTEMPT', { outcome: 'reached', channel: 'phone', actor: lw });
    case 'firstVisit':
      if (scenario === 'safeguarding') {
        if (count(v, 'SAFEGUARDING.RAISE') === 0) return cmd('SAFEGUARDING.RAISE', { category: 'selfNeglect', actor: lw });
        return cmd('DISCHARGE', { reason: 'withdrew', actor: lw });
      }
      return cmd('VISIT.RECORD', {
        location: 'cafe',
        durationMinutes: 110,
        measures: [{ instrument: 'SWEMWBS', answers: [3, 2, 3, 3, 2, 3, 3] }],
        barriers: ['transport'],
        actor: lw,
      });
    case 'onHold':
      return cmd('SAFEGUARDING.CLEAR', { actor: sup });
    case 'coProducedPlan':
      if (!v.plan.draft) {
        return cmd('PLAN.DRAFT', {
          goals: [{ id: 'g1', text: 'Get out of the house twice a week' }],
          activities: [{ id: 'a1', category: 'connecting', name: 'Community lunch club' }],
          barrierActions: [{ barrier: 'transport', action: 'transportArranged' }],
          tier: 'standard',
          volunteer: scenario === 'connected',
          actor: lw,
        });
      }
      if (v.plan.agreedBy.person === undefined) return cmd('PLAN.AGREE', { party: 'person', actor: self });
      return cmd('PLAN.AGREE', { party: 'linkWorker', actor: lw });
    case 'support': {
      if (JSON.stringify(v.state).includes('"volunteer":"waiting"')) return cmd('VOLUNTEER.MATCHED', { volunteerId: 'vol-1', actor: lw });
      if (count(v, 'SESSION.LOG') < 2) {
        return cmd('SESSION.LOG', { kind: 'accompaniedActivity', attended: true, durationMinutes: 60, withVolunteer: false, actor: lw });
      }
      return 'wait';
    }
    case 'review':
      if (scenario === 'befriended') return cmd('REVIEW.RECORD', { measures: [], goalsMet: 'some', outcome: 'befriend', actor: lw });
      if (scenario === 'extended' && count(v, 'REVIEW.RECORD') === 0) {
        return cmd('REVIEW.RECORD', { measures: [], goalsMet: 'some', outcome: 'extend', extensionWeeks: 1, actor: lw });
      }
      return cmd('REVIEW.RECORD', { measures: [{ instrument: 'SWEMWBS', answers: [4, 3, 4, 4, 3, 4, 4] }], goalsMet: 'all', outcome: 'discharge', actor: lw });
    case 'extensionPending':
      return cmd('EXTENSION.APPROVE', { actor: sup });
    case 'befriendingHandoff':
      return cmd('BEFRIENDING.RESULT', { result: 'accepted', service: 'Befriending service', actor: lw });
  }
}

export const EXPECTED_DISCHARGE: Record<Scenario, string> = {
  declined: 'declined',
  redirected: 'redirected',
  unableToContact: 'unableToContact',
  connected: 'connected',
  befriended: 'handedOff',
  extended: 'connected',
  overdueTriage: 'declined',
  safeguarding: 'withdrew',
};

const EXPECTED_ESCALATIONS: Record<Scenario, EscalationType[]> = {
  declined: [],
  redirected: [],
  unableToContact: [],
  connected: [],
  befriended: [],
  extended: ['EXTENSION_APPROVAL'],
  overdueTriage: ['TRIAGE_OVERDUE'],
  safeguarding: ['SAFEGUARDING'],
};

export interface DriveStats {
  /** Cases driven to their end so far. */
  finished: number;
  commands: number;
  /** Calls that failed for a reason other than the pathway's answer (worker or server down) and were tried again. */
  transientErrors: number;
  /** Commands the pathway refused: the driver read a view that an async event then overtook. */
  refusals: Array<{ caseId: string; command: string; message: string }>;
}

export function newStats(): DriveStats {
  return { finished: 0, commands: 0, transientErrors: 0, refusals: [] };
}

function refusalOf(err: unknown): ApplicationFailure | undefined {
  if (!(err instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = err.cause;
  return cause instanceof ApplicationFailure && (cause.type === 'InvalidCommand' || cause.type === 'CommandNotAllowed') ? cause : undefined;
}

/**
 * Why each of a workflow's failed workflow tasks failed, decoded (failure messages are encrypted).
 * A killed worker or a restarted server times tasks out; a task that *fails* is a bug, or code that
 * changed under a running case.
 */
export async function workflowTaskFailures(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const failures: string[] = [];
  for (const event of history.events ?? []) {
    const failure = event.workflowTaskFailedEventAttributes?.failure;
    if (!event.workflowTaskFailedEventAttributes) continue;
    const error = await decodeOptionalFailureToOptionalError(client.options.loadedDataConverter, failure).catch((err: unknown) => err as Error);
    failures.push(`event ${event.eventId}: ${error?.name}: ${error?.message}`);
  }
  return failures;
}

/** Writes a case's history as it stands (encrypted, as stored) to a file, to be replayed offline. */
async function keepHistory(client: Client, workflowId: string): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const file = join(process.env.FAULTS_HISTORY_DIR ?? tmpdir(), `${workflowId}-${Date.now()}.history.bin`);
  await writeFile(file, temporal.api.history.v1.History.encode(history).finish());
  return file;
}

/** A query or result that may meet a dead worker or a restarting server: bounded, then tried again. */
export async function persistently<T>(client: Client, what: string, fn: () => Promise<T>, stats?: DriveStats, giveUpMs = 240_000): Promise<T> {
  const giveUp = Date.now() + giveUpMs;
  for (let attempt = 0; ; attempt++) {
    try {
      // Generous: under load a short deadline only turns slow answers into retries that add more load.
      return await client.withDeadline(Date.now() + 30_000, fn);
    } catch (err) {
      if (Date.now() > giveUp) throw new Error(`${what}: still failing after ${giveUpMs} ms`, { cause: err });
      // Not a fault that passes: the workflow code no longer replays its own history.
      const id = /case-\S+/.exec(what)?.[0];
      if (/Nondeterminism/i.test((err as Error).message ?? '')) {
        const kept = id ? await keepHistory(client, id).catch(() => undefined) : undefined;
        throw new Error(`${what}: nondeterminism${kept ? ` (its history at that moment: ${kept})` : ''}`, { cause: err });
      }
      if (/Workflow Task in failed state/.test((err as Error).message ?? '') && attempt % 20 === 0) {
        if (id) console.error(`${what}: a workflow task failed`, await workflowTaskFailures(client, id).catch(() => []));
      }
      if (stats) stats.transientErrors += 1;
      await sleep(Math.min(2000, 100 * 2 ** attempt));
    }
  }
}

/**
 * Drives one case to discharge. Every command carries an update id made of its type and the
 * sequence number the decision was made at: if a reply is lost (worker killed, server restarted)
 * the same command is sent again under the same id, and the server answers it once.
 */
export async function driveCase(
  client: Client,
  caseId: string,
  scenario: Scenario,
  stats: DriveStats,
  { giveUpMs = 240_000, until }: { giveUpMs?: number; until?: (v: CaseView) => boolean } = {},
): Promise<CaseView> {
  const handle = client.workflow.getHandle(caseId);
  const giveUp = Date.now() + giveUpMs;
  for (;;) {
    if (Date.now() > giveUp) throw new Error(`${caseId} (${scenario}) did not finish within ${giveUpMs} ms`);
    const v = await persistently(client, `view of ${caseId}`, () => handle.query(caseViewQuery), stats, giveUpMs);
    // Stopping part-way, for a test that changes something under a running case.
    if (until?.(v)) return v;
    const step = nextStep(scenario, v);
    if (step === 'done') break;
    if (step === 'wait') {
      await sleep(300);
      continue;
    }
    try {
      stats.commands += 1;
      await client.withDeadline(Date.now() + 30_000, () =>
        handle.executeUpdate(commandUpdates[step.type] as never, { args: [step.payload], updateId: `${step.type}@${v.sequence}` }),
      );
    } catch (err) {
      const refused = refusalOf(err);
      if (refused) stats.refusals.push({ caseId, command: step.type, message: refused.message });
      else stats.transientErrors += 1;
      await sleep(refused ? 100 : 500);
    }
  }
  // The workflow ends once every side effect of the discharge has been delivered.
  return persistently(client, `result of ${caseId}`, () => handle.result() as Promise<CaseView>, stats, giveUpMs);
}

// ---- Auditing the outbox -------------------------------------------------------------------------------

export interface CaseAudit {
  caseId: string;
  scenario: Scenario;
  final: CaseView;
}

export interface OutboxAudit {
  messages: number;
  duplicateKeys: string[];
  /** One line per case whose messages differ from what it should have sent. */
  mismatches: string[];
}

const tally = (items: string[]) => items.reduce<Record<string, number>>((acc, k) => ((acc[k] = (acc[k] ?? 0) + 1), acc), {});
const sorted = (t: Record<string, number>) => JSON.stringify(Object.entries(t).sort(([a], [b]) => (a < b ? -1 : 1)));

/** What the case should have sent on each channel, as `channel:kind` counts. */
export function expectedMessages(scenario: Scenario, final: CaseView): Record<string, number> {
  const referrer: string[] = [];
  if (final.pathwayVersion >= 2) referrer.push('received');
  if (!['declined', 'redirected', 'overdueTriage'].includes(scenario)) referrer.push('accepted');
  const closing: Partial<Record<Scenario, string>> = { declined: 'declined', overdueTriage: 'declined', redirected: 'redirected', unableToContact: 'unableToContact' };
  referrer.push(closing[scenario] ?? 'dischargeSummary');
  const supervisor = final.escalations.flatMap((e) => Array.from({ length: e.level }, () => e.type));
  return tally([
    ...referrer.map((k) => `referrer:${k}`),
    ...supervisor.map((t) => `supervisor:${t}`),
    ...(scenario === 'connected' ? ['volunteer:volunteerMatchRequested'] : []),
    // The befriending request also starts a connection to the befriending service, which sends its provider the referral.
    ...(scenario === 'befriended' ? ['befriending:befriendingRequested', 'provider:referral'] : []),
    'outcome:record',
  ]);
}

/**
 * The befriending connection's nudges, and its lapse told to the link worker: these scenarios answer
 * the handoff with BEFRIENDING.RESULT sent straight to the case, not through the client (which
 * would give the connection the same answer), so the connection runs on and how many nudges fall
 * due before the run ends is a matter of timing. Each is still keyed once (the duplicate-key check).
 */
function isBefriendingConnectionAfterthought(m: OutboxMessage): boolean {
  if (!m.key.includes(':conn:')) return false;
  return (m.channel === 'provider' && kindOf(m) === 'nudge') || (m.channel === 'supervisor' && kindOf(m).startsWith('CONNECTION_'));
}

function kindOf(m: OutboxMessage): string {
  const body = (m.body ?? {}) as { kind?: string; type?: string };
  if (m.channel === 'outcome') return 'record';
  return (m.channel === 'supervisor' ? body.type : body.kind) ?? '?';
}

/**
 * Exactly once, as the sink saw it: no idempotency key twice, and for every case precisely the
 * messages its scenario and final state call for (a lost one shows as missing, a repeat under a
 * new key as one too many). Also checks each case ended as its scenario says.
 */
export function auditOutbox(messages: OutboxMessage[], cases: CaseAudit[]): OutboxAudit {
  const keys = tally(messages.map((m) => m.key));
  const duplicateKeys = Object.entries(keys).filter(([, n]) => n > 1).map(([k]) => k);
  const byCase = new Map<string, OutboxMessage[]>();
  for (const m of messages) byCase.set(m.caseId, [...(byCase.get(m.caseId) ?? []), m]);
  const mismatches: string[] = [];
  for (const { caseId, scenario, final } of cases) {
    const got = tally((byCase.get(caseId) ?? []).filter((m) => !(scenario === 'befriended' && isBefriendingConnectionAfterthought(m))).map((m) => `${m.channel}:${kindOf(m)}`));
    const want = expectedMessages(scenario, final);
    if (sorted(got) !== sorted(want)) mismatches.push(`${caseId} (${scenario}): sent ${sorted(got)}, expected ${sorted(want)}`);
    if (final.discharge?.reason !== EXPECTED_DISCHARGE[scenario]) mismatches.push(`${caseId} (${scenario}): discharged as ${final.discharge?.reason}`);
    const escalations = final.escalations.map((e) => e.type).sort();
    if (JSON.stringify(escalations) !== JSON.stringify([...EXPECTED_ESCALATIONS[scenario]].sort())) {
      mismatches.push(`${caseId} (${scenario}): escalations ${escalations.join(',') || 'none'}`);
    }
    if (final.deliveryProblems.length > 0) mismatches.push(`${caseId} (${scenario}): delivery problems ${JSON.stringify(final.deliveryProblems)}`);
  }
  const known = new Set(cases.map((c) => c.caseId));
  for (const caseId of byCase.keys()) if (!known.has(caseId)) mismatches.push(`${caseId}: messages from a case the run did not start`);
  return { messages: messages.length, duplicateKeys, mismatches };
}

// ---- A cohort ------------------------------------------------------------------------------------------

const LONG = '1000w';

/**
 * A scheme policy in which the twelve-week review falls due `reviewMs` after plan agreement and
 * every other deadline lies far beyond the run (so a case stalled by a fault escalates nothing it
 * should not), except the triage deadline when a scenario wants it missed.
 */
export function cohortPolicy(schemeId: string, reviewMs: number, triage = LONG): SchemePolicy {
  const policy = parsePolicy({
    schemeId,
    caseloadCap: 1000,
    deadlines: {
      triage,
      firstContact: LONG,
      firstVisit: LONG,
      planAgreement: LONG,
      checkIn: LONG,
      review: '12w',
      reviewGrace: LONG,
      waitlistMax: LONG,
      volunteerWait: LONG,
      befriendingWait: LONG,
      escalationAck: LONG,
      disengagement: LONG,
      disengagementCheck: LONG,
    },
    contact: { window: LONG, firstAttemptWithin: LONG },
  });
  return scalePolicy(policy, (12 * WEEK) / reviewMs);
}

export interface CohortCase {
  scenario: Scenario;
  person: SyntheticPerson;
  referral: HostReferral;
  caseId: string;
}

/** `n` referrals with seeded scenarios and people; ids carry the run and an index, nothing else. */
export function planCohort(r: Rng, n: number, schemeId: string, runId: string): CohortCase[] {
  return Array.from({ length: n }, (_, i) => {
    const scenario = SCENARIOS[i % SCENARIOS.length]!;
    const person = syntheticPerson(r, i);
    const referralId = `${runId}-${String(i).padStart(4, '0')}`;
    const referral: HostReferral = {
      referralId,
      schemeId,
      route: r.pick(['GP', 'pharmacist', 'self', 'vcs'] as const),
      area: 'Bogside',
      needs: ['loneliness'],
      consent: true,
      person: {
        givenName: person.givenName,
        familyName: person.familyName,
        dateOfBirth: person.dateOfBirth,
        nhsNumber: person.nhsNumber,
        contact: { phone: person.phone, address: person.address, preferred: 'phone' },
      },
    };
    return { scenario, person, referral, caseId: PathwayClient.caseIdFor(referralId) };
  });
}

/**
 * Refers through the client SDK, again and again while the worker or server is down: `refer` is
 * idempotent on the referral id, so a repeat finds the case the lost attempt opened.
 */
export async function referPersistently(client: PathwayClient, c: CohortCase, policy: SchemePolicy, stats: DriveStats, giveUpMs = 240_000): Promise<void> {
  const giveUp = Date.now() + giveUpMs;
  for (let attempt = 0; ; attempt++) {
    try {
      await client.temporal.withDeadline(Date.now() + 30_000, () => client.refer(c.referral, { policy }));
      return;
    } catch (err) {
      // The SDK's own errors are answers (a bad referral, a conflict): a bug in the test, not a fault.
      if (err instanceof PathwayError || Date.now() > giveUp) throw err;
      stats.transientErrors += 1;
      await sleep(Math.min(2000, 200 * 2 ** attempt));
    }
  }
}

/** Refers and drives every case to its end, `concurrency` at a time; returns each case's final view. */
export async function runCohort(
  client: PathwayClient,
  cases: CohortCase[],
  policyFor: (c: CohortCase) => SchemePolicy,
  stats: DriveStats,
  concurrency = 40,
): Promise<CaseAudit[]> {
  return mapLimit(cases, concurrency, async (c) => {
    await referPersistently(client, c, policyFor(c), stats);
    const final = await driveCase(client.temporal, c.caseId, c.scenario, stats);
    stats.finished += 1;
    return { caseId: c.caseId, scenario: c.scenario, final };
  });
}

/** Prints how a long run is going every `everyMs`, until the returned stop is called. */
export function progress(label: string, report: () => string, everyMs = 15_000): () => void {
  const started = Date.now();
  const timer = setInterval(() => console.log(`[${label}] +${Math.round((Date.now() - started) / 1000)}s ${report()}`), everyMs);
  return () => clearInterval(timer);
}

// ---- The rig the cohort fault tests share ------------------------------------------------------------

export interface CohortRig {
  /** Where the worker's log, the outbox and the keys live. */
  dir: string;
  worker: KeptWorker;
  /** The codec the worker and client encrypt with, for replaying the cases' histories. */
  codec: EncryptionCodec;
  /** The workflow bundle the worker processes load (see auditRun). */
  bundle: string;
  client: PathwayClient;
  outboxDir: string;
  close(): Promise<void>;
}

/**
 * A worker process (kept running) on `address` with a key file and an outbox under `dir`, a client
 * with the same key, and a roster for `schemeId` large enough that nobody is waitlisted.
 */
export async function cohortRig(dir: string, address: string, namespace: string, taskQueue: string, schemeId: string): Promise<CohortRig> {
  const keys = newKeys('k1');
  const keyFile = join(dir, 'keys.json');
  const outboxDir = join(dir, 'outbox');
  await writeKeyFile(keyFile, 'k1', keys);
  // Built once here: restarted workers then load it rather than race each other to write it.
  const bundle = await ensureWorkflowBundle();
  const env = { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, PATHWAY_TASK_QUEUE: taskQueue, PATHWAY_OUTBOX_DIR: outboxDir, PATHWAY_CODEC_KEY_FILE: keyFile };
  const worker = new KeptWorker(workerEnv(env), join(dir, 'worker.log'));
  await worker.start();
  const codec = await codecOf('k1', keys);
  const client = await PathwayClient.connect({ address, namespace, taskQueue, codec, personKey: PersonKey.generate() });
  await client.setRoster(schemeId, Array.from({ length: 10 }, (_, i) => ({ id: `lw-${i}`, cap: 200 })));
  return {
    dir,
    worker,
    codec,
    bundle,
    client,
    outboxDir,
    async close() {
      await worker.stop();
      await client.close();
    },
  };
}

/** Audits the outbox against the cases and prints the run's figures on one line. */
export async function auditRun(
  label: string,
  rig: CohortRig,
  audits: CaseAudit[],
  stats: DriveStats,
  extra: string,
): Promise<OutboxAudit & { failedTasks: string[]; refusedTasks: string[]; replayFailures: string[] }> {
  const audit = auditOutbox(await readOutbox(rig.outboxDir, {}, { codec: rig.codec }), audits);
  const allFailed = (
    await mapLimit(audits, 16, async ({ caseId }) => (await workflowTaskFailures(rig.client.temporal, caseId)).map((f) => `${caseId} ${f}`))
  ).flat();
  // A task the case refused on purpose (workflows/runtime/unsent-commands.ts) so the worker replays it is
  // the protection working, counted apart. So is a completion the server turned back because a signal
  // arrived while the task ran (UnhandledCommand: a connection telling a case of a nudge just as the
  // case closes); the worker then runs the task again with the signal. Any other failed task is a fault.
  const refusedTasks = allFailed.filter(isTurnedBackTask);
  const failedTasks = allFailed.filter((f) => !refusedTasks.includes(f));
  const replayFailures = await replayCases(rig, audits.map((a) => a.caseId));
  // A case started on one build and resumed on another fails its tasks for a reason no fault
  // explains: say so, since other people's edits reach a worker that restarts mid-run.
  if ((await ensureWorkflowBundle()) !== rig.bundle) console.warn(`[${label}] the workflow code changed during the run`);
  const starts = rig.worker.startTimes;
  console.log(
    `[${label}] ${audits.length} cases, ${extra}, ${rig.worker.kills} worker SIGKILLs, ${rig.worker.starts} worker starts ` +
      `(ready in ${Math.round(starts.reduce((a, b) => a + b, 0) / Math.max(1, starts.length))} ms on average), ${stats.commands} commands, ` +
      `${stats.transientErrors} calls retried, ${stats.refusals.length} refusals, ${audit.messages} outbox messages, ` +
      `${audit.duplicateKeys.length} duplicate keys, ${audit.mismatches.length} mismatches, ${failedTasks.length} failed workflow tasks, ` +
      `${refusedTasks.length} tasks turned back to run again (refused for unsent commands, or a signal arrived meanwhile), ` +
      `${audits.length - replayFailures.length}/${audits.length} histories replayed`,
  );
  // A refusal is the pathway answering a command that a deadline overtook (a session logged as the
  // review fell due): expected now and then, and shown so that a pattern would be noticed.
  for (const r of stats.refusals.slice(0, 5)) console.log(`[${label}] refused: ${r.caseId} ${r.message}`);
  for (const r of refusedTasks.slice(0, 5)) console.log(`[${label}] task turned back: ${r}`);
  return { ...audit, failedTasks, refusedTasks, replayFailures };
}

/**
 * Each case's history replayed on the workflow code the worker ran: a case can finish although its
 * history no longer replays (the worker kept, in its cache, state a replay would not reach), and
 * then the next restart would stop it. Returns one line per history that does not replay.
 */
/**
 * A workflow task failure that is a protection working, not a fault: the case refused a task on
 * purpose for unsent commands (workflows/runtime/unsent-commands.ts), or the server turned back a
 * completion because new events arrived while the task ran (UnhandledCommand), and the worker runs
 * the task again with them.
 */
export function isTurnedBackTask(failure: string): boolean {
  return failure.includes('UnsentCommandsError') || failure.includes('ServerFailure: UnhandledCommand');
}

export async function replayCases(rig: CohortRig, caseIds: string[]): Promise<string[]> {
  const histories = await mapLimit(caseIds, 16, async (workflowId) => ({ workflowId, history: await rig.client.temporal.workflow.getHandle(workflowId).fetchHistory() }));
  const failures: string[] = [];
  const results = Worker.runReplayHistories({ workflowBundle: { codePath: rig.bundle }, dataConverter: pathwayDataConverter(rig.codec) }, histories);
  for await (const r of results) {
    if (!r.error) continue;
    failures.push(`${r.workflowId}: ${r.error.name}: ${r.error.message}`);
    // Kept (encrypted, as stored) beside the run's logs, to be replayed and read offline.
    const history = histories.find((h) => h.workflowId === r.workflowId)!.history;
    await writeFile(join(rig.dir, `${r.workflowId}.history.bin`), temporal.api.history.v1.History.encode(history).finish());
  }
  return failures;
}
