import { appendFile, chmod, mkdir, mkdtemp, open, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  defaultOutboxDir,
  FileOutbox,
  MemorySink,
  OUTBOX_FILE,
  OutboxCorruptError,
  OutboxLockedError,
  OutboxSealedError,
  readOutbox,
} from '../../../activities/outbox';
import { EncryptionCodec } from '../../../codec/aes-gcm';
import { keyringFrom, rawKeys } from '../codec/support';
import { IdempotencyKeyConflictError, type OutboxMessage } from '../../../activities/sink';

let dir: string;
const outboxes: FileOutbox[] = [];

function outbox(): FileOutbox {
  const o = new FileOutbox({ dir });
  outboxes.push(o);
  return o;
}

function message(key: string, overrides: Partial<OutboxMessage> = {}): OutboxMessage {
  return { key, channel: 'referrer', caseId: 'case-r1', schemeId: 'north', at: 1_000, body: { kind: 'accepted' }, ...overrides };
}

async function lines(): Promise<string[]> {
  return (await readFile(join(dir, OUTBOX_FILE), 'utf8')).split('\n').filter((l) => l !== '');
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outbox-'));
});

afterEach(async () => {
  await Promise.all(outboxes.splice(0).map((o) => o.close()));
  await rm(dir, { recursive: true, force: true });
});

describe('FileOutbox', () => {
  it('appends one JSON line per delivery, with the format version', async () => {
    const o = outbox();
    expect(await o.deliver(message('k1'))).toEqual({ duplicate: false });
    expect(await o.deliver(message('k2', { channel: 'supervisor', at: 2_000, body: { escalationId: 'esc-1' } }))).toEqual({ duplicate: false });
    expect((await lines()).map((l) => JSON.parse(l))).toEqual([
      { v: 1, key: 'k1', channel: 'referrer', caseId: 'case-r1', schemeId: 'north', at: 1_000, body: { kind: 'accepted' } },
      { v: 1, key: 'k2', channel: 'supervisor', caseId: 'case-r1', schemeId: 'north', at: 2_000, body: { escalationId: 'esc-1' } },
    ]);
  });

  it('writes nothing for a key delivered before, even with a later timestamp', async () => {
    const o = outbox();
    await o.deliver(message('k1'));
    expect(await o.deliver(message('k1', { at: 9_999 }))).toEqual({ duplicate: true });
    expect(await lines()).toHaveLength(1);
  });

  it('still knows its keys after the process restarts and reopens the file', async () => {
    const first = outbox();
    await first.deliver(message('k1'));
    await first.close();
    const second = outbox();
    expect(await second.deliver(message('k1', { at: 5_000 }))).toEqual({ duplicate: true });
    expect(await second.deliver(message('k2'))).toEqual({ duplicate: false });
    expect((await lines()).map((l) => JSON.parse(l).key)).toEqual(['k1', 'k2']);
  });

  it('cuts off a torn last line left by a crash, and takes the retried delivery', async () => {
    const first = outbox();
    await first.deliver(message('k1'));
    await first.close();
    // The crash: half of k2's line reached the disk, its fsync never returned.
    await appendFile(join(dir, OUTBOX_FILE), '{"v":1,"key":"k2","channel":"refe');
    expect((await readOutbox(dir)).map((m) => m.key)).toEqual(['k1']);

    const second = outbox();
    expect(await second.deliver(message('k2'))).toEqual({ duplicate: false });
    expect(await second.deliver(message('k1'))).toEqual({ duplicate: true });
    expect((await lines()).map((l) => JSON.parse(l).key)).toEqual(['k1', 'k2']);
  });

  it('treats a complete line without its newline as torn too: its delivery was never confirmed', async () => {
    await writeFile(join(dir, OUTBOX_FILE), JSON.stringify({ v: 1, ...message('k1') }));
    const o = outbox();
    expect(await o.deliver(message('k1'))).toEqual({ duplicate: false });
    expect(await lines()).toHaveLength(1);
  });

  it('refuses to guess when a complete line in the middle is not a message', async () => {
    await writeFile(join(dir, OUTBOX_FILE), `${JSON.stringify({ v: 1, ...message('k1') })}\nnot json\n`);
    await expect(outbox().deliver(message('k2'))).rejects.toThrow(OutboxCorruptError);
    await expect(readOutbox(dir)).rejects.toThrow(/line 2/);
  });

  it('serialises concurrent deliveries: every line whole, each key once', async () => {
    const o = outbox();
    const keys = Array.from({ length: 60 }, (_, i) => `k${i % 20}`);
    const body = { reason: 'x'.repeat(5_000) };
    const results = await Promise.all(keys.map((k) => o.deliver(message(k, { body }))));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(20);
    const written = (await lines()).map((l) => JSON.parse(l) as OutboxMessage);
    expect(written).toHaveLength(20);
    expect(new Set(written.map((m) => m.key)).size).toBe(20);
    expect(written.every((m) => (m.body as typeof body).reason.length === 5_000)).toBe(true);
  });

  it('refuses a key reused for a different message rather than swallow it', async () => {
    const o = outbox();
    await o.deliver(message('k1'));
    await expect(o.deliver(message('k1', { body: { kind: 'declined' } }))).rejects.toThrow(IdempotencyKeyConflictError);
    await o.close();
    await expect(outbox().deliver(message('k1', { channel: 'supervisor' }))).rejects.toThrow(IdempotencyKeyConflictError);
  });

  it('rejects a malformed message or a body that is not JSON, and writes nothing for it', async () => {
    const o = outbox();
    await expect(o.deliver(message('k1', { channel: 'fax' as never }))).rejects.toThrow(TypeError);
    await expect(o.deliver(message('', {}))).rejects.toThrow(TypeError);
    await expect(o.deliver(message('k1', { body: { n: 1n } }))).rejects.toThrow(TypeError);
    expect(await o.deliver(message('k1'))).toEqual({ duplicate: false });
    expect(await lines()).toHaveLength(1);
  });

  it('lets one writer at a time hold a directory', async () => {
    const first = outbox();
    await first.deliver(message('k1'));
    await expect(outbox().deliver(message('k2'))).rejects.toThrow(OutboxLockedError);
    await first.close();
    expect(await outbox().deliver(message('k2'))).toEqual({ duplicate: false });
  });

  it('takes over a lock left by a writer that is gone', async () => {
    await writeFile(join(dir, 'outbox.lock'), JSON.stringify({ pid: 2 ** 22 + 17 }));
    expect(await outbox().deliver(message('k1'))).toEqual({ duplicate: false });
  });

  it('rejects a delivery whose append failed half way, cuts the half line off, and takes the retry', async () => {
    const o = outbox();
    await o.deliver(message('k1'));
    // A disk that fills mid-write: half the line lands, then ENOSPC.
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { appendFile(this: FileHandle, data: Buffer): Promise<void> };
    await probe.close();
    const real = proto.appendFile;
    const spy = vi.spyOn(proto, 'appendFile').mockImplementationOnce(async function (this: FileHandle, data: Buffer) {
      await real.call(this, data.subarray(0, data.length >> 1));
      throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    });
    try {
      await expect(o.deliver(message('k2'))).rejects.toMatchObject({ code: 'ENOSPC' });
      expect((await readFile(join(dir, OUTBOX_FILE), 'utf8')).endsWith('\n')).toBe(true);
      expect(await o.deliver(message('k2'))).toEqual({ duplicate: false });
    } finally {
      spy.mockRestore();
    }
    expect((await lines()).map((l) => JSON.parse(l).key)).toEqual(['k1', 'k2']);
  });
});

describe('readOutbox', () => {
  it('filters by channel, case and time, in delivery order', async () => {
    const o = outbox();
    await o.deliver(message('a', { at: 1 }));
    await o.deliver(message('b', { at: 2, channel: 'outcome' }));
    await o.deliver(message('c', { at: 3, caseId: 'case-r2' }));
    await o.deliver(message('d', { at: 4, caseId: 'case-r2', channel: 'outcome' }));
    const keys = async (f: Parameters<typeof readOutbox>[1]) => (await readOutbox(dir, f)).map((m) => m.key);
    expect(await keys({})).toEqual(['a', 'b', 'c', 'd']);
    expect(await keys({ channel: 'outcome' })).toEqual(['b', 'd']);
    expect(await keys({ caseId: 'case-r2' })).toEqual(['c', 'd']);
    expect(await keys({ since: 3 })).toEqual(['c', 'd']);
    expect(await keys({ channel: 'referrer', caseId: 'case-r1', since: 1 })).toEqual(['a']);
  });

  it('reads an outbox nobody has written to as empty', async () => {
    expect(await readOutbox(join(dir, 'nothing-here'))).toEqual([]);
  });

  it('defaults to PATHWAY_OUTBOX_DIR, else .data/outbox under the working directory', () => {
    expect(defaultOutboxDir({ PATHWAY_OUTBOX_DIR: '/srv/outbox' }, '/app')).toBe('/srv/outbox');
    expect(defaultOutboxDir({ PATHWAY_OUTBOX_DIR: 'rel' }, '/app')).toBe('/app/rel');
    expect(defaultOutboxDir({}, '/app')).toBe('/app/.data/outbox');
  });
});

describe('private on disk', () => {
  const keys = rawKeys('k1', 'k0');
  const codecOf = async (id: string) => new EncryptionCodec(keyringFrom(keys, id, [id]));

  it.skipIf(process.platform === 'win32')('keeps the folder 0700 and its files 0600, tightening ones an older version left open', async () => {
    const where = join(dir, 'box');
    await mkdir(where, { mode: 0o755 });
    await writeFile(join(where, OUTBOX_FILE), '', { mode: 0o644 });
    await chmod(where, 0o755);
    await chmod(join(where, OUTBOX_FILE), 0o644);
    const o = new FileOutbox({ dir: where });
    outboxes.push(o);
    await o.deliver(message('k1'));
    expect((await stat(where)).mode & 0o777).toBe(0o700);
    expect((await stat(join(where, OUTBOX_FILE))).mode & 0o777).toBe(0o600);
    const fresh = new FileOutbox({ dir: join(dir, 'new', 'box') });
    outboxes.push(fresh);
    await fresh.deliver(message('k1'));
    expect((await stat(join(dir, 'new', 'box'))).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, 'new', 'box', OUTBOX_FILE))).mode & 0o777).toBe(0o600);
  });

  it('seals each body with the codec: ids, channel and time stay readable, the reason does not', async () => {
    const codec = await codecOf('k1');
    const o = new FileOutbox({ dir, codec });
    outboxes.push(o);
    const body = { kind: 'declined', reason: 'Lives alone since her husband died; wants a walking group' };
    await o.deliver(message('k1', { body }));
    const raw = await readFile(join(dir, OUTBOX_FILE), 'utf8');
    expect(raw).not.toMatch(/husband|walking|declined/);
    expect(JSON.parse(raw)).toMatchObject({ v: 1, key: 'k1', channel: 'referrer', caseId: 'case-r1', at: 1_000 });

    expect(await readOutbox(dir, {}, { codec })).toEqual([message('k1', { body })]);
    await expect(readOutbox(dir)).rejects.toBeInstanceOf(OutboxSealedError);
    await expect(readOutbox(dir, {}, { codec: await codecOf('k0') })).rejects.toThrow(/cannot be decrypted/);

    // A restart reads the sealed bodies back to know what it delivered.
    await o.close();
    const again = new FileOutbox({ dir, codec });
    outboxes.push(again);
    expect(await again.deliver(message('k1', { body, at: 5 }))).toEqual({ duplicate: true });
    await expect(again.deliver(message('k1', { body: { kind: 'accepted' } }))).rejects.toBeInstanceOf(IdempotencyKeyConflictError);
  });
});

describe('MemorySink', () => {
  it('keeps the same contract in memory: JSON only, dedupe and conflicts', async () => {
    const sink = new MemorySink();
    expect(await sink.deliver(message('k1', { body: { kind: 'accepted', dropped: undefined } }))).toEqual({ duplicate: false });
    expect(await sink.deliver(message('k1', { at: 7 }))).toEqual({ duplicate: true });
    await expect(sink.deliver(message('k1', { body: { kind: 'declined' } }))).rejects.toThrow(IdempotencyKeyConflictError);
    expect(sink.messages).toEqual([message('k1')]);
  });
});
