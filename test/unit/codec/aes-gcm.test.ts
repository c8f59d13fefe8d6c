import { webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { EncryptionCodec, ENCRYPTED_ENCODING, encryptionKeyId, KEY_ID_METADATA, PayloadDecryptionError } from '../../../codec/aes-gcm';
import { keyringFrom, rawKeys, text } from './support';

const SECRET = 'Jane Doe, NHS 943 476 5919, lives alone, low mood';

const samples: Record<string, Payload> = {
  json: defaultPayloadConverter.toPayload({ name: SECRET, score: 42, tags: ['isolation', 'housing'] }),
  binary: defaultPayloadConverter.toPayload(new Uint8Array([0, 1, 2, 253, 254, 255])),
  undefined: defaultPayloadConverter.toPayload(undefined),
  'empty data': { metadata: { encoding: new TextEncoder().encode('binary/plain') }, data: new Uint8Array(0) },
  'no metadata': { data: new TextEncoder().encode('bare') },
  unicode: defaultPayloadConverter.toPayload('Zoë — 患者 🩺 \u0000 ÿ'),
  'large (1 MiB)': defaultPayloadConverter.toPayload(new Uint8Array(1024 * 1024).map((_, i) => (i * 31) % 251)),
};

async function codecWith(ids: string[], active: string, keys = rawKeys(...ids)): Promise<EncryptionCodec> {
  return new EncryptionCodec(keyringFrom(keys, active, ids));
}

const bytes = (payload: Payload): Buffer => Buffer.from(payload.data ?? []);

describe('EncryptionCodec', () => {
  it.each(Object.entries(samples))('round-trips a %s payload', async (_name, payload) => {
    const codec = await codecWith(['k1'], 'k1');
    const [encoded] = await codec.encode([payload]);
    const [decoded] = await codec.decode([encoded!]);
    expect(Object.keys(decoded!.metadata ?? {}).sort()).toEqual(Object.keys(payload.metadata ?? {}).sort());
    for (const [key, value] of Object.entries(payload.metadata ?? {})) {
      expect(Buffer.from(decoded!.metadata![key]!).equals(Buffer.from(value))).toBe(true);
    }
    expect(bytes(decoded!).equals(bytes(payload))).toBe(true);
  });

  // Histories already written hold what webcrypto's AES-GCM sealed (IV, then ciphertext and tag);
  // the codec now uses node's synchronous cipher on the same keys, and must read and write that.
  it('reads what webcrypto sealed, and writes what webcrypto opens', async () => {
    const keys = rawKeys('k1');
    const codec = await codecWith(['k1'], 'k1', keys);
    const key = await webcrypto.subtle.importKey('raw', keys.get('k1')!, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
    const payload = samples.json!;
    const iv = webcrypto.getRandomValues(new Uint8Array(12));
    const sealed = new Uint8Array(await webcrypto.subtle.encrypt({ name: 'AES-GCM', iv, tagLength: 128 }, key, temporal.api.common.v1.Payload.encode(payload).finish()));
    const written: Payload = {
      metadata: { [METADATA_ENCODING_KEY]: new TextEncoder().encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: new TextEncoder().encode('k1') },
      data: new Uint8Array([...iv, ...sealed]),
    };
    const [read] = await codec.decode([written]);
    expect(bytes(read!).equals(bytes(payload))).toBe(true);

    const [encoded] = await codec.encode([payload]);
    const data = encoded!.data!;
    const opened = new Uint8Array(await webcrypto.subtle.decrypt({ name: 'AES-GCM', iv: data.subarray(0, 12), tagLength: 128 }, key, data.subarray(12)));
    expect(bytes(temporal.api.common.v1.Payload.decode(opened)).equals(bytes(payload))).toBe(true);
  });

  it('gives values back through the payload converter unchanged', async () => {
    const codec = await codecWith(['k1'], 'k1');
    const value = { patient: SECRET, nested: { list: [1, 'two', null] } };
    const [decoded] = await codec.decode(await codec.encode([defaultPayloadConverter.toPayload(value)]));
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(value);
  });

  it('keeps a batch in order', async () => {
    const codec = await codecWith(['k1'], 'k1');
    const values = Array.from({ length: 20 }, (_, i) => `value ${i}`);
    const decoded = await codec.decode(await codec.encode(values.map((v) => defaultPayloadConverter.toPayload(v))));
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(values);
  });

  it('stores neither the plaintext nor its original metadata', async () => {
    const codec = await codecWith(['k1'], 'k1');
    const [encoded] = await codec.encode([samples['json']!]);
    expect(bytes(encoded!).includes(Buffer.from('Jane Doe'))).toBe(false);
    expect(bytes(encoded!).includes(Buffer.from('json/plain'))).toBe(false);
    expect(Object.keys(encoded!.metadata!).sort()).toEqual(['encoding', KEY_ID_METADATA].sort());
    expect(text(encoded!.metadata!['encoding'])).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded!.metadata![KEY_ID_METADATA])).toBe('k1');
  });

  it('uses a fresh IV every time, so equal payloads never encrypt alike', async () => {
    const codec = await codecWith(['k1'], 'k1');
    const encoded = await codec.encode(Array.from({ length: 50 }, () => samples['json']!));
    const ivs = new Set(encoded.map((p) => bytes(p).subarray(0, 12).toString('hex')));
    const ciphertexts = new Set(encoded.map((p) => bytes(p).toString('hex')));
    expect(ivs.size).toBe(50);
    expect(ciphertexts.size).toBe(50);
  });

  it('rotates: the new active key encrypts, the old one still decrypts', async () => {
    const keys = rawKeys('k1', 'k2');
    const before = await codecWith(['k1'], 'k1', keys);
    const [old] = await before.encode([samples['json']!]);
    expect(encryptionKeyId(old!)).toBe('k1');

    const after = await codecWith(['k2', 'k1'], 'k2', keys);
    const [fresh] = await after.encode([samples['json']!]);
    expect(encryptionKeyId(fresh!)).toBe('k2');
    const decoded = await after.decode([old!, fresh!]);
    for (const payload of decoded) expect(bytes(payload).equals(bytes(samples['json']!))).toBe(true);
  });

  it('refuses a payload whose key is not in the keyring, naming the key', async () => {
    const keys = rawKeys('k1', 'k2');
    const [old] = await (await codecWith(['k1'], 'k1', keys)).encode([samples['json']!]);
    const retired = await codecWith(['k2'], 'k2', keys);
    const failure = retired.decode([old!]);
    await expect(failure).rejects.toBeInstanceOf(PayloadDecryptionError);
    await expect(failure).rejects.toThrow(/key "k1", which is not in this keyring \(known: k2\)/);
    await expect(failure).rejects.toThrow(/PATHWAY_CODEC_KEYS/);
  });

  it('refuses tampered ciphertext instead of returning it', async () => {
    const codec = await codecWith(['k1'], 'k1');
    const [encoded] = await codec.encode([samples['json']!]);
    for (const offset of [0, 12, bytes(encoded!).length - 1]) {
      const data = new Uint8Array(encoded!.data!);
      data[offset]! ^= 0x01;
      await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow(
        /key "k1": authentication failed.*altered/,
      );
    }
  });

  it('refuses a payload written under the same id with a different key', async () => {
    const [encoded] = await (await codecWith(['k1'], 'k1')).encode([samples['json']!]);
    const impostor = await codecWith(['k1'], 'k1');
    await expect(impostor.decode([encoded!])).rejects.toThrow(/is not the key it was written with/);
  });

  it('refuses truncated data and a missing key id', async () => {
    const codec = await codecWith(['k1'], 'k1');
    const [encoded] = await codec.encode([samples['json']!]);
    await expect(codec.decode([{ ...encoded!, data: bytes(encoded!).subarray(0, 20) }])).rejects.toThrow(/truncated/);
    const { [KEY_ID_METADATA]: _dropped, ...withoutId } = encoded!.metadata!;
    await expect(codec.decode([{ ...encoded!, metadata: withoutId }])).rejects.toThrow(
      new RegExp(`no "${KEY_ID_METADATA}" metadata`),
    );
  });

  it('passes unencrypted payloads through decode untouched', async () => {
    const codec = await codecWith(['k1'], 'k1');
    const plain = samples['json']!;
    const [decoded] = await codec.decode([plain]);
    expect(decoded).toBe(plain);
    expect(await codec.decode([])).toEqual([]);
  });

  it('will not start without its active key', async () => {
    const keyring = keyringFrom(rawKeys('k1'), 'k1');
    expect(() => new EncryptionCodec({ activeKeyId: 'k9', keys: keyring.keys })).toThrow(/"k9" is not in the keyring/);
  });
});
