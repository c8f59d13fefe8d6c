import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CodecKeyError,
  generateKey,
  generateKeyId,
  isValidKeyId,
  KEY_FILE_ENV,
  KEYS_ENV,
  loadKeyringFromEnv,
  parseKeyFile,
  parseKeysEnv,
} from '../../../codec/keys';

const dir = mkdtempSync(join(tmpdir(), 'codec-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error thrown by `fn`, checked to be a CodecKeyError and to leak none of `secrets`. */
function keyError(fn: () => unknown, ...secrets: string[]): string {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CodecKeyError);
  const message = (caught as Error).message;
  for (const secret of secrets) {
    // Any 8-character run of the key would already be a leak.
    for (let i = 0; i + 8 <= secret.length; i++) expect(message).not.toContain(secret.slice(i, i + 8));
  }
  return message;
}

describe('generateKey / generateKeyId', () => {
  it('mints 32 random bytes as canonical base64 under a valid id', () => {
    const key = generateKey();
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(Buffer.from(key, 'base64').toString('base64')).toBe(key);
    expect(generateKey()).not.toBe(key);
    expect(isValidKeyId(generateKeyId(new Date('2025-01-14T10:00:00Z')))).toBe(true);
    expect(generateKeyId(new Date('2025-01-14T10:00:00Z'))).toMatch(/^k20250114-[0-9a-f]{4}$/);
  });
});

describe(`${KEYS_ENV}`, () => {
  it('takes the first entry as active and keeps the rest for decryption', () => {
    const [k1, k2] = [generateKey(), generateKey()];
    const raw = parseKeysEnv(` k2:${k2} , k1:${k1} `);
    expect(raw.activeKeyId).toBe('k2');
    expect([...raw.keys.keys()]).toEqual(['k2', 'k1']);
    expect(Buffer.from(raw.keys.get('k1')!).toString('base64')).toBe(k1);
  });

  it('names the key that is the wrong length, without printing it', () => {
    const short = Buffer.alloc(16, 7).toString('base64');
    const message = keyError(() => parseKeysEnv(`k2:${generateKey()},k1:${short}`), short);
    expect(message).toContain(KEYS_ENV);
    expect(message).toMatch(/key "k1": key must decode to exactly 32 bytes/);
  });

  it('names the key that is not base64, without printing it', () => {
    const bad = `${generateKey().slice(0, 40)}!@#$`;
    expect(keyError(() => parseKeysEnv(`k1:${bad}`), bad)).toMatch(/key "k1": key is not valid standard base64/);
  });

  it('does not echo an entry that has no id, since it may be a bare key', () => {
    const key = generateKey();
    expect(keyError(() => parseKeysEnv(key), key)).toMatch(/entry 1: expected "<key id>:<base64 key>"/);
  });

  it('rejects unsafe ids, duplicates and empty values', () => {
    const key = generateKey();
    expect(keyError(() => parseKeysEnv(`k 1:${key}`), key)).toMatch(/entry 1: key id must be/);
    expect(keyError(() => parseKeysEnv(`k1:${key},k1:${key}`), key)).toMatch(/key "k1": listed more than once/);
    expect(keyError(() => parseKeysEnv('   '))).toMatch(/is set but empty/);
    expect(keyError(() => parseKeysEnv('k1:'))).toMatch(/key "k1": key is empty/);
  });

  it('lists every problem at once and says how to mint a key', () => {
    const message = keyError(() => parseKeysEnv('k1:abc,k2:def'));
    expect(message).toMatch(/key "k1"/);
    expect(message).toMatch(/key "k2"/);
    expect(message).toContain('scripts/codec-key.ts');
  });
});

describe('key file', () => {
  it('puts the active key first whatever the order in the file', () => {
    const raw = parseKeyFile(JSON.stringify({ active: 'k2', keys: { k1: generateKey(), k2: generateKey() } }), 'F');
    expect(raw.activeKeyId).toBe('k2');
    expect([...raw.keys.keys()]).toEqual(['k2', 'k1']);
  });

  it('names a missing active key', () => {
    const key = generateKey();
    const message = keyError(() => parseKeyFile(JSON.stringify({ active: 'k3', keys: { k1: key } }), 'F'), key);
    expect(message).toMatch(/active: the active key id is not one of the listed keys/);
    expect(keyError(() => parseKeyFile(JSON.stringify({ keys: { k1: key } }), 'F'), key)).toMatch(/active: /);
  });

  it('names the field of a bad key, without printing it', () => {
    const short = Buffer.alloc(31, 1).toString('base64');
    const bad = `${generateKey().slice(0, 43)}?`;
    const message = keyError(
      () => parseKeyFile(JSON.stringify({ active: 'k1', keys: { k1: short, k2: bad } }), 'F'),
      short,
      bad,
    );
    expect(message).toMatch(/keys\.k1: key must decode to exactly 32 bytes/);
    expect(message).toMatch(/keys\.k2: key is not valid standard base64/);
  });

  it('does not pass on JSON.parse messages, which quote the text', () => {
    const key = generateKey();
    const message = keyError(() => parseKeyFile(`{"active":"k1","keys":{"k1":"${key}"`, 'F'), key);
    expect(message).toMatch(/F is not valid JSON/);
  });

  it('rejects unknown fields and unsafe ids', () => {
    const key = generateKey();
    const message = keyError(
      () => parseKeyFile(JSON.stringify({ active: 'k1', keys: { k1: key, 'a/b': key }, activeKey: 'k1' }), 'F'),
      key,
    );
    expect(message).toMatch(/keys\.a\/b: key id must be/);
    expect(message).toMatch(/Unrecognized key: "activeKey"/);
  });
});

describe('loadKeyringFromEnv', () => {
  it('is undefined when nothing is configured', async () => {
    expect(await loadKeyringFromEnv({})).toBeUndefined();
  });

  it('loads inline keys as AES-256 secret keys', async () => {
    const keyring = await loadKeyringFromEnv({ [KEYS_ENV]: `k1:${generateKey()}` });
    const key = keyring!.keys.get('k1')!;
    expect(keyring!.activeKeyId).toBe('k1');
    expect(key.type).toBe('secret');
    expect(key.symmetricKeySize).toBe(32);
  });

  it('loads a key file', async () => {
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify({ active: 'k2', keys: { k1: generateKey(), k2: generateKey() } }));
    const keyring = await loadKeyringFromEnv({ [KEY_FILE_ENV]: file });
    expect(keyring!.activeKeyId).toBe('k2');
    expect([...keyring!.keys.keys()]).toEqual(['k2', 'k1']);
  });

  it('names the variable and the path of a missing key file', async () => {
    const file = join(dir, 'absent.json');
    await expect(loadKeyringFromEnv({ [KEY_FILE_ENV]: file })).rejects.toThrow(
      `${KEY_FILE_ENV} (${file}) does not exist`,
    );
  });

  it('names the file in validation errors', async () => {
    const file = join(dir, 'short.json');
    writeFileSync(file, JSON.stringify({ active: 'k1', keys: { k1: 'AAAA' } }));
    await expect(loadKeyringFromEnv({ [KEY_FILE_ENV]: file })).rejects.toThrow(`${KEY_FILE_ENV} (${file}) is invalid`);
  });

  it('refuses both sources at once, and empty values', async () => {
    await expect(loadKeyringFromEnv({ [KEYS_ENV]: `k1:${generateKey()}`, [KEY_FILE_ENV]: 'x' })).rejects.toThrow(
      /set only one of them/,
    );
    await expect(loadKeyringFromEnv({ [KEYS_ENV]: '' })).rejects.toThrow(/is set but empty/);
    await expect(loadKeyringFromEnv({ [KEY_FILE_ENV]: '' })).rejects.toThrow(/is set but empty/);
  });
});
