// The default sink: a durable, append-only outbox on local disk that a host reads (or tails) to
// pass notices on. One JSON object per line, in one file for every channel, so one key index and
// one append order cover them all; hosts filter by channel with readOutbox.
//
// Private on disk: the folder is 0700 and its files 0600, and with a codec (as the worker runs) each
// notice's body (free-text reasons, measures' answers, outcome records) is sealed with the payload
// key, so only ids, channels and times are readable without it. `pathway outbox read` opens it.
import { createHash } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { payloadFromJSON, payloadToJSON, type JSONPayload } from '../codec/server';
import {
  deliveryFingerprint,
  IdempotencyKeyConflictError,
  OUTBOX_CHANNELS,
  type OutboxChannel,
  type OutboxMessage,
  type Sink,
} from './sink';

export const OUTBOX_FILE = 'outbox.jsonl';
const LOCK_FILE = 'outbox.lock';
/** Written into every line, so a later format can still read earlier outboxes. */
const FORMAT_VERSION = 1;

/** `PATHWAY_OUTBOX_DIR`, else `.data/outbox` under the working directory (git-ignored). */
export function defaultOutboxDir(env: Record<string, string | undefined> = process.env, cwd: string = process.cwd()): string {
  return resolve(cwd, env.PATHWAY_OUTBOX_DIR || join('.data', 'outbox'));
}

/** A complete line that is not an outbox message: not a torn write, so nothing is guessed. */
export class OutboxCorruptError extends Error {
  constructor(readonly file: string, readonly line: number) {
    super(`${file} line ${line} is not an outbox message; the outbox needs repair before it can be used`);
    this.name = 'OutboxCorruptError';
  }
}

/** A sealed body and no codec, or not the key it was sealed with: the outbox cannot be read here. */
export class OutboxSealedError extends Error {
  constructor(readonly file: string, readonly line: number, why: string) {
    super(`${file} line ${line}: ${why}; read the outbox with the payload key (pathway outbox read, with PATHWAY_CODEC_KEYS or PATHWAY_CODEC_KEY_FILE set)`);
    this.name = 'OutboxSealedError';
  }
}

export class OutboxLockedError extends Error {
  constructor(readonly dir: string, holder: string) {
    super(`outbox ${dir} is in use by ${holder}; one writer per outbox directory (delete ${LOCK_FILE} there if that writer is gone)`);
    this.name = 'OutboxLockedError';
  }
}

function assertMessage(m: OutboxMessage): void {
  const nonEmpty = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (!nonEmpty(m.key) || !nonEmpty(m.caseId) || !nonEmpty(m.schemeId)) {
    throw new TypeError('an outbox message needs a key, a caseId and a schemeId');
  }
  if (!(OUTBOX_CHANNELS as readonly string[]).includes(m.channel)) throw new TypeError(`unknown outbox channel ${String(m.channel)}`);
  if (!Number.isFinite(m.at)) throw new TypeError('an outbox message needs a numeric time');
}

function toLine(m: OutboxMessage, sealed?: JSONPayload): Buffer {
  const { key, channel, caseId, schemeId, at, body } = m;
  const content = sealed === undefined ? { body: body ?? null } : { sealed };
  return Buffer.from(`${JSON.stringify({ v: FORMAT_VERSION, key, channel, caseId, schemeId, at, ...content })}\n`, 'utf8');
}

const utf8 = new TextEncoder();

/** The body as a JSON payload, encrypted by the codec: what a sealed line carries instead of `body`. */
async function seal(codec: PayloadCodec, body: unknown): Promise<JSONPayload> {
  const plain: Payload = { metadata: { [METADATA_ENCODING_KEY]: utf8.encode('json/plain') }, data: utf8.encode(JSON.stringify(body ?? null)) };
  const [sealed] = await codec.encode([plain]);
  return payloadToJSON(sealed!);
}

/** A line as read: a sealed one still has to be opened with the codec. */
type StoredMessage = OutboxMessage & { sealed?: JSONPayload; line: number };

/** Opens the sealed bodies in place; throws OutboxSealedError when that cannot be done. */
async function unseal(messages: StoredMessage[], file: string, codec: PayloadCodec | undefined): Promise<OutboxMessage[]> {
  const sealed = messages.filter((m) => m.sealed !== undefined);
  if (sealed.length > 0) {
    if (codec === undefined) throw new OutboxSealedError(file, sealed[0]!.line, 'the notice bodies are encrypted and no key was given');
    for (const m of sealed) {
      let opened: Payload;
      try {
        [opened] = (await codec.decode([payloadFromJSON(m.sealed!)])) as [Payload];
      } catch {
        throw new OutboxSealedError(file, m.line, 'the body cannot be decrypted with the keys given');
      }
      m.body = JSON.parse(Buffer.from(opened.data ?? new Uint8Array()).toString('utf8')) as unknown;
    }
  }
  return messages.map(({ key, channel, caseId, schemeId, at, body }) => ({ key, channel, caseId, schemeId, at, body }));
}

function fromLine(line: string, file: string, lineNo: number): StoredMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new OutboxCorruptError(file, lineNo);
  }
  const m = parsed as Partial<OutboxMessage> & { v?: unknown; sealed?: JSONPayload };
  const ok =
    typeof m === 'object' &&
    m !== null &&
    m.v === FORMAT_VERSION &&
    typeof m.key === 'string' &&
    typeof m.caseId === 'string' &&
    typeof m.schemeId === 'string' &&
    typeof m.at === 'number' &&
    (OUTBOX_CHANNELS as readonly string[]).includes(m.channel as string);
  const sealedOk = m.sealed === undefined || (typeof m.sealed === 'object' && m.sealed !== null && typeof m.sealed.data === 'string');
  if (!ok || !sealedOk) throw new OutboxCorruptError(file, lineNo);
  return {
    key: m.key!,
    channel: m.channel!,
    caseId: m.caseId!,
    schemeId: m.schemeId!,
    at: m.at!,
    body: m.body,
    line: lineNo,
    ...(m.sealed !== undefined && { sealed: m.sealed }),
  };
}

/**
 * Every complete line, and where the last one ends. Bytes after the last newline are a write
 * that never finished (a crash before the fsync returned, so that delivery was never confirmed
 * and will be retried): readers skip them and the writer cuts them off.
 */
function parseOutbox(buf: Buffer, file: string): { messages: StoredMessage[]; complete: number } {
  const complete = buf.lastIndexOf(0x0a) + 1;
  const lines = buf.subarray(0, complete).toString('utf8').split('\n');
  const messages: StoredMessage[] = [];
  lines.forEach((line, i) => {
    if (line.trim() !== '') messages.push(fromLine(line, file, i + 1));
  });
  return { messages, complete };
}

export interface OutboxFilter {
  channel?: OutboxChannel;
  caseId?: string;
  /** Only messages delivered at or after this time (epoch ms). */
  since?: number;
}

export interface ReadOutboxOptions {
  /** The payload codec (its keys) that sealed the bodies; required when any line is sealed. */
  codec?: PayloadCodec;
}

/**
 * What a host reads: the outbox in delivery order, filtered, sealed bodies opened with the codec.
 * Safe while a writer is appending.
 */
export async function readOutbox(dir: string = defaultOutboxDir(), filter: OutboxFilter = {}, options: ReadOutboxOptions = {}): Promise<OutboxMessage[]> {
  return readOutboxFile(join(dir, OUTBOX_FILE), filter, options);
}

/** {@link readOutbox} for one file, wherever it is (a copy an operator was handed, say). */
export async function readOutboxFile(file: string, filter: OutboxFilter = {}, options: ReadOutboxOptions = {}): Promise<OutboxMessage[]> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const selected = parseOutbox(buf, file).messages.filter(
    (m) =>
      (filter.channel === undefined || m.channel === filter.channel) &&
      (filter.caseId === undefined || m.caseId === filter.caseId) &&
      (filter.since === undefined || m.at >= filter.since),
  );
  return unseal(selected, file, options.codec);
}

// The in-memory key index would go stale if two writers appended to one file, and dedupe with
// it; a lock file with the writer's pid refuses the second. Locks this process holds are kept
// here, because our own pid in a lock file may also be a previous run's (pid 1 in a container).
const locksHeld = new Set<string>();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function lockHolder(path: string): Promise<number | undefined> {
  try {
    const pid = Number(JSON.parse(await readFile(path, 'utf8')).pid);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function acquireLock(dir: string): Promise<string> {
  const path = join(dir, LOCK_FILE);
  if (locksHeld.has(path)) throw new OutboxLockedError(dir, 'another FileOutbox in this process');
  // Written aside and hard-linked into place: link fails if a lock exists, and a lock that
  // exists always has its pid in it.
  const temp = `${path}.${process.pid}`;
  await writeDurably(temp, JSON.stringify({ pid: process.pid }));
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(temp, path);
        locksHeld.add(path);
        return path;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = await lockHolder(path);
        if (holder !== undefined && holder !== process.pid && processAlive(holder)) {
          throw new OutboxLockedError(dir, `process ${holder}`);
        }
        await unlink(path).catch(ignoreMissing);
      }
    }
    throw new OutboxLockedError(dir, 'another process');
  } finally {
    await unlink(temp).catch(ignoreMissing);
  }
}

/** Owner only: the outbox holds health data. */
const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}

async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w', PRIVATE_FILE);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes a file's directory entry durable; some platforms cannot open a directory, and need not. */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // EISDIR/EPERM on Windows: directory entries are durable there without it.
  } finally {
    await handle?.close();
  }
}

interface OpenFile {
  handle: FileHandle;
  size: number;
  /** key → digest of what was delivered under it. */
  index: Map<string, string>;
}

function digest(m: Pick<OutboxMessage, 'channel' | 'caseId' | 'schemeId' | 'body'>): string {
  return createHash('sha256').update(deliveryFingerprint(m)).digest('base64');
}

export interface FileOutboxOptions {
  /** Defaults to defaultOutboxDir(). */
  dir?: string;
  /**
   * Seals each body with this codec (the worker's payload codec, so the same keys read it). Without
   * one, bodies are written as plain JSON: for tests and `PATHWAY_CODEC=off` only.
   */
  codec?: PayloadCodec;
}

/**
 * Durable (each delivery is fsynced before it is confirmed), deduplicated by key across restarts
 * (the index is rebuilt from the file on open), and safe for concurrent deliveries within one
 * process (appends run one at a time). One writer process per directory, enforced by a lock file.
 */
export class FileOutbox implements Sink {
  readonly dir: string;
  readonly file: string;
  private opening: Promise<OpenFile> | undefined;
  private lock: Promise<string> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  private readonly codec: PayloadCodec | undefined;

  constructor(options: FileOutboxOptions = {}) {
    this.dir = resolve(options.dir ?? defaultOutboxDir());
    this.file = join(this.dir, OUTBOX_FILE);
    this.codec = options.codec;
  }

  async deliver(message: OutboxMessage): Promise<{ duplicate: boolean }> {
    assertMessage(message);
    // Serialised (and sealed) before queueing, so a body that is not JSON fails this call alone.
    const line = this.codec === undefined ? toLine(message) : toLine(message, await seal(this.codec, message.body));
    const id = digest(message);
    return this.serialized(async () => {
      if (this.closed) throw new Error(`outbox ${this.dir} is closed`);
      const state = await this.opened();
      const seen = state.index.get(message.key);
      if (seen !== undefined) {
        if (seen !== id) throw new IdempotencyKeyConflictError(message.key, message.channel);
        return { duplicate: true };
      }
      const before = state.size;
      try {
        await state.handle.appendFile(line);
        await state.handle.datasync();
      } catch (err) {
        await this.abandon(state, before);
        throw err;
      }
      state.size += line.byteLength;
      state.index.set(message.key, id);
      return { duplicate: false };
    });
  }

  /** Waits for deliveries under way, then releases the file and the lock. */
  async close(): Promise<void> {
    await this.serialized(async () => {
      this.closed = true;
      const state = await this.opening?.catch(() => undefined);
      this.opening = undefined;
      await state?.handle.close();
      const lock = await this.lock?.catch(() => undefined);
      if (lock) {
        locksHeld.delete(lock);
        await unlink(lock).catch(ignoreMissing);
      }
    });
  }

  private serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private opened(): Promise<OpenFile> {
    this.opening ??= this.open().catch((err: unknown) => {
      this.opening = undefined;
      throw err;
    });
    return this.opening;
  }

  private async open(): Promise<OpenFile> {
    await mkdir(this.dir, { recursive: true, mode: PRIVATE_DIR });
    // mkdir's mode applies to a folder it creates; one left by an older version is tightened too.
    await chmod(this.dir, PRIVATE_DIR);
    this.lock ??= acquireLock(this.dir).catch((err: unknown) => {
      this.lock = undefined;
      throw err;
    });
    await this.lock;
    const handle = await open(this.file, 'a+', PRIVATE_FILE);
    try {
      await handle.chmod(PRIVATE_FILE);
      const buf = await handle.readFile();
      const { messages: stored, complete } = parseOutbox(buf, this.file);
      // The index keys on what was delivered, so sealed bodies are opened to rebuild it.
      const messages = await unseal(stored, this.file, this.codec);
      if (complete < buf.length) {
        await handle.truncate(complete);
        await handle.datasync();
      }
      await syncDir(this.dir);
      const index = new Map<string, string>();
      for (const m of messages) if (!index.has(m.key)) index.set(m.key, digest(m));
      return { handle, size: complete, index };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /**
   * After a failed append the file may end in part of a line, or in a whole line whose fsync
   * failed (and may not be on disk): cut back to before it, so the retry writes it afresh, and
   * reopen next time so the index and size come from the file again.
   */
  private async abandon(state: OpenFile, size: number): Promise<void> {
    this.opening = undefined;
    try {
      await state.handle.truncate(size);
      await state.handle.datasync();
    } catch {
      // Reopening cuts any torn tail; a whole unsynced line left behind reads as delivered, which
      // the page cache holds it to be.
    }
    await state.handle.close().catch(() => undefined);
  }
}

/** For tests and embedding: the same contract as FileOutbox (dedupe, conflict), held in memory. */
export class MemorySink implements Sink {
  readonly messages: OutboxMessage[] = [];
  private readonly index = new Map<string, string>();

  async deliver(message: OutboxMessage): Promise<{ duplicate: boolean }> {
    assertMessage(message);
    // Stored as it would be read back from the file, so tests see JSON and nothing else.
    const stored = JSON.parse(toLine(message).toString('utf8')) as OutboxMessage & { v?: number; sealed?: unknown };
    delete stored.v;
    const id = deliveryFingerprint(stored);
    const seen = this.index.get(stored.key);
    if (seen !== undefined) {
      if (seen !== id) throw new IdempotencyKeyConflictError(stored.key, stored.channel);
      return { duplicate: true };
    }
    this.index.set(stored.key, id);
    this.messages.push(stored);
    return { duplicate: false };
  }
}
