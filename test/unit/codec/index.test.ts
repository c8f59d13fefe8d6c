import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import {
  decodeOptionalFailureToOptionalError,
  encodeErrorToFailure,
} from '@temporalio/common/lib/internal-non-workflow/codec-helpers';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow/data-converter-helpers';
import { temporal } from '@temporalio/proto';
import {
  CODEC_SWITCH_ENV,
  CodecKeyError,
  dataConverterFor,
  DEFAULT_DEV_KEY_DIR,
  devCodecServerToken,
  devKeyring,
  EncryptionCodec,
  generateKey,
  KEY_FILE_ENV,
  KEYS_ENV,
  loadCodecFromEnv,
} from '../../../codec';

const root = mkdtempSync(join(tmpdir(), 'codec-index-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (): string => join(root, `dev-${dirs++}`);

describe('loadCodecFromEnv', () => {
  it('refuses to start with no key, saying how to make one', async () => {
    const failure = loadCodecFromEnv({});
    await expect(failure).rejects.toBeInstanceOf(CodecKeyError);
    await expect(failure).rejects.toThrow(/scripts\/codec-key\.ts/);
    await expect(failure).rejects.toThrow(new RegExp(`${KEYS_ENV}=.*\\n.*\\n.*${KEY_FILE_ENV}=`));
    await expect(failure).rejects.toThrow(`${CODEC_SWITCH_ENV}=off`);
  });

  it('runs without encryption only when told so by name', async () => {
    expect(await loadCodecFromEnv({ [CODEC_SWITCH_ENV]: 'off' })).toBeUndefined();
    for (const value of ['of', 'false', '0', 'OFF', '']) {
      await expect(loadCodecFromEnv({ [CODEC_SWITCH_ENV]: value })).rejects.toThrow(/may only be "off"/);
    }
  });

  it('refuses "off" alongside keys, since the intent is unclear', async () => {
    await expect(
      loadCodecFromEnv({ [CODEC_SWITCH_ENV]: 'off', [KEYS_ENV]: `k1:${generateKey()}` }),
    ).rejects.toThrow(new RegExp(`${CODEC_SWITCH_ENV}=off is set together with ${KEYS_ENV}`));
  });

  it('builds a codec from the configured keys', async () => {
    const codec = await loadCodecFromEnv({ [KEYS_ENV]: `k2:${generateKey()},k1:${generateKey()}` });
    expect(codec).toBeInstanceOf(EncryptionCodec);
    expect(codec!.activeKeyId).toBe('k2');
    expect(codec!.keyIds).toEqual(['k2', 'k1']);
  });

  it('lets a key problem stop startup even when a dev fallback is offered', async () => {
    await expect(loadCodecFromEnv({ [KEYS_ENV]: 'k1:short' }, { devKeyDir: freshDir() })).rejects.toThrow(
      /key "k1"/,
    );
  });

  it('falls back to the dev key only when asked to', async () => {
    const dir = freshDir();
    const codec = await loadCodecFromEnv({}, { devKeyDir: dir });
    const dev = await devKeyring(dir);
    expect(codec!.activeKeyId).toBe(dev.keyring.activeKeyId);
  });
});

describe('devKeyring', () => {
  it('mints a private key file once and reuses it', async () => {
    const dir = freshDir();
    const first = await devKeyring(dir);
    expect(first.keyFile).toBe(join(dir, 'dev-keys.json'));
    expect(first.env).toEqual({ [KEY_FILE_ENV]: first.keyFile });
    expect(statSync(first.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o077).toBe(0);

    const second = await devKeyring(dir);
    expect(second.keyring.activeKeyId).toBe(first.keyring.activeKeyId);
    const [encoded] = await new EncryptionCodec(first.keyring).encode([defaultPayloadConverter.toPayload('hi')]);
    const [decoded] = await new EncryptionCodec(second.keyring).decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toBe('hi');
  });

  it('is a key file that PATHWAY_CODEC_KEY_FILE can load in another process', async () => {
    const dev = await devKeyring(freshDir());
    const codec = await loadCodecFromEnv({ ...dev.env });
    expect(codec!.activeKeyId).toBe(dev.keyring.activeKeyId);
  });

  it('settles on one key when several processes start at once', async () => {
    const dir = freshDir();
    const rings = await Promise.all(Array.from({ length: 8 }, () => devKeyring(dir)));
    expect(new Set(rings.map((r) => r.keyring.activeKeyId)).size).toBe(1);
    const [encoded] = await new EncryptionCodec(rings[0]!.keyring).encode([defaultPayloadConverter.toPayload(1)]);
    for (const ring of rings) await expect(new EncryptionCodec(ring.keyring).decode([encoded!])).resolves.toHaveLength(1);
  });

  it('reports a damaged dev key file by path', async () => {
    const dir = freshDir();
    const { keyFile } = await devKeyring(dir);
    writeFileSync(keyFile, '{"active": "k1", "keys": {}}');
    await expect(devKeyring(dir)).rejects.toThrow(`dev key file (${keyFile}) is invalid`);
  });

  it('refuses to mint a key in production', async () => {
    await expect(devKeyring(freshDir(), { NODE_ENV: 'production' })).rejects.toThrow(/NODE_ENV=production/);
  });

  it('defaults to the git-ignored .cache folder', () => {
    expect(DEFAULT_DEV_KEY_DIR.endsWith(`${sep}.cache${sep}codec`)).toBe(true);
    const ignore = readFileSync(join(DEFAULT_DEV_KEY_DIR, '..', '..', '.gitignore'), 'utf8');
    expect(ignore.split('\n')).toContain('.cache/');
  });
});

describe('dataConverterFor', () => {
  it('is the SDK default when encryption is off', () => {
    expect(dataConverterFor(undefined)).toEqual({});
  });

  it('puts the codec on payloads and encrypts failure messages and stacks too', async () => {
    const codec = (await loadCodecFromEnv({ [KEYS_ENV]: `k1:${generateKey()}` }))!;
    const converter = dataConverterFor(codec);
    expect(converter.payloadCodecs).toEqual([codec]);

    // Loaded the way Worker.create and the Client load it: require() of failureConverterPath.
    const loaded = loadDataConverter(converter);
    const error = ApplicationFailure.nonRetryable('referral for Jane Doe rejected', 'Rejected', { nhs: '9434765919' });
    const failure = await encodeErrorToFailure(loaded, error);
    const stored = Buffer.from(temporal.api.failure.v1.Failure.encode(failure).finish());
    expect(failure.message).not.toContain('Jane');
    for (const secret of ['Jane Doe', '9434765919', 'index.test']) expect(stored.includes(Buffer.from(secret))).toBe(false);

    const decoded = await decodeOptionalFailureToOptionalError(loaded, failure);
    expect(decoded?.message).toBe('referral for Jane Doe rejected');
    expect((decoded as ApplicationFailure).details).toEqual([{ nhs: '9434765919' }]);
  });
});

describe('production mode: encrypted or refused', () => {
  const keyFile = (mode: number): string => {
    const path = join(root, `keys-${mode.toString(8)}-${dirs++}.json`);
    writeFileSync(path, JSON.stringify({ active: 'k1', keys: { k1: generateKey() } }), { mode });
    return path;
  };

  it('refuses PATHWAY_CODEC=off under NODE_ENV=production or for a remote target', async () => {
    await expect(loadCodecFromEnv({ [CODEC_SWITCH_ENV]: 'off', NODE_ENV: 'production' })).rejects.toThrow(/refused in production/);
    await expect(loadCodecFromEnv({ [CODEC_SWITCH_ENV]: 'off' }, { production: true })).rejects.toThrow(/refused in production/);
  });

  it('mints no dev key: a missing key is a startup error naming the variables', async () => {
    const failure = loadCodecFromEnv({}, { production: true, devKeyDir: freshDir() });
    await expect(failure).rejects.toBeInstanceOf(CodecKeyError);
    await expect(failure).rejects.toThrow(new RegExp(`${KEYS_ENV}[\\s\\S]*${KEY_FILE_ENV}`));
    await expect(loadCodecFromEnv({}, { production: true })).rejects.not.toThrow(/PATHWAY_CODEC=off\./);
  });

  it.skipIf(process.platform === 'win32')('refuses a key file the group or others can read, naming it and the chmod that fixes it', async () => {
    const open = keyFile(0o644);
    const failure = loadCodecFromEnv({ [KEY_FILE_ENV]: open }, { production: true });
    await expect(failure).rejects.toThrow(open);
    await expect(failure).rejects.toThrow(`chmod 600 ${open}`);
    // Outside production the committed fixture key (checked out 644) still works.
    expect(await loadCodecFromEnv({ [KEY_FILE_ENV]: open })).toBeInstanceOf(EncryptionCodec);
    expect(await loadCodecFromEnv({ [KEY_FILE_ENV]: keyFile(0o600) }, { production: true })).toBeInstanceOf(EncryptionCodec);
  });

  it('decodes only encrypted payloads: plaintext is a clear error, not data', async () => {
    const codec = (await loadCodecFromEnv({ [KEY_FILE_ENV]: keyFile(0o600), NODE_ENV: 'production' }))!;
    expect(codec.refusesPlaintext).toBe(true);
    const plain = defaultPayloadConverter.toPayload({ area: 'Bogside' });
    await expect(codec.decode([plain])).rejects.toThrow(/Refusing an unencrypted payload/);
    const [sealed] = await codec.encode([plain]);
    expect(defaultPayloadConverter.fromPayload((await codec.decode([sealed!]))[0]!)).toEqual({ area: 'Bogside' });
    // A dev setup still replays histories written before encryption was on.
    const dev = (await loadCodecFromEnv({ [KEY_FILE_ENV]: keyFile(0o600) }))!;
    expect(await dev.decode([plain])).toEqual([plain]);
  });
});

describe('devCodecServerToken', () => {
  it('mints one private token on first use and hands every later caller the same one', async () => {
    const dir = freshDir();
    const [a, b] = await Promise.all([devCodecServerToken(dir), devCodecServerToken(dir)]);
    expect(a.token).toBe(b.token);
    expect(a.token.length).toBeGreaterThanOrEqual(32);
    expect((await devCodecServerToken(dir)).token).toBe(a.token);
    if (process.platform !== 'win32') expect(statSync(a.file).mode & 0o777).toBe(0o600);
  });
});
