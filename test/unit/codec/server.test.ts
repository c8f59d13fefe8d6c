import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec, KEY_ID_METADATA } from '../../../codec/aes-gcm';
import { request as httpRequest } from 'node:http';
import { CodecServerConfigError, payloadFromJSON, payloadToJSON, startCodecServer, type CodecServer, type JSONPayload } from '../../../codec/server';
import { keyringFrom, rawKeys } from './support';

const UI = 'http://localhost:8233';
const TOKEN = 'a-long-enough-token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const b64 = (s: string): string => Buffer.from(s).toString('base64');
const jsonPayload = (value: unknown): JSONPayload => payloadToJSON(defaultPayloadConverter.toPayload(value));

let codec: EncryptionCodec;
let server: CodecServer;

beforeAll(async () => {
  codec = new EncryptionCodec(keyringFrom(rawKeys('k1'), 'k1'));
  server = await startCodecServer({ port: 0, codec, authToken: TOKEN, corsOrigins: [UI, 'http://127.0.0.1:8233'] });
});
afterAll(() => server.close());

function post(path: string, body: unknown, headers: Record<string, string> = {}, target = server): Promise<Response> {
  return fetch(`${target.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...AUTH, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function payloadsOf(response: Response): Promise<JSONPayload[]> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json');
  return ((await response.json()) as { payloads: JSONPayload[] }).payloads;
}

describe('codec server', () => {
  it('listens on loopback on the port it was given (0 = any free one)', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('encodes and decodes proto-JSON payloads (base64 metadata and data)', async () => {
    const value = { name: 'Jane Doe', notes: 'pañuelo 🧣' };
    const encoded = await payloadsOf(await post('/encode', { payloads: [jsonPayload(value), jsonPayload(null)] }));
    expect(encoded).toHaveLength(2);
    expect(encoded[0]!.metadata!['encoding']).toBe(b64('binary/encrypted'));
    expect(encoded[0]!.metadata![KEY_ID_METADATA]).toBe(b64('k1'));
    expect(Buffer.from(encoded[0]!.data!, 'base64').includes(Buffer.from('Jane'))).toBe(false);

    const decoded = await payloadsOf(await post('/decode', { payloads: encoded }));
    expect(decoded[0]).toEqual(jsonPayload(value));
    expect(defaultPayloadConverter.fromPayload(payloadFromJSON(decoded[0]!))).toEqual(value);
    expect(defaultPayloadConverter.fromPayload(payloadFromJSON(decoded[1]!))).toBeNull();
  });

  it('decodes what the worker codec wrote, and the worker reads what it encodes', async () => {
    const [fromWorker] = await codec.encode([defaultPayloadConverter.toPayload('from the worker')]);
    const [decoded] = await payloadsOf(await post('/decode', { payloads: [payloadToJSON(fromWorker!)] }));
    expect(defaultPayloadConverter.fromPayload(payloadFromJSON(decoded!))).toBe('from the worker');

    const [encoded] = await payloadsOf(await post('/encode', { payloads: [jsonPayload('from the CLI')] }));
    const [back] = await codec.decode([payloadFromJSON(encoded!)]);
    expect(defaultPayloadConverter.fromPayload(back!)).toBe('from the CLI');
  });

  it('serves the namespace paths the CLI endpoint template produces', async () => {
    const encoded = await payloadsOf(await post('/default/encode', { payloads: [jsonPayload(1)] }));
    const decoded = await payloadsOf(await post('/my-namespace/decode/', { payloads: encoded }));
    expect(decoded).toEqual([jsonPayload(1)]);
  });

  it('passes unencrypted payloads through decode', async () => {
    const plain = jsonPayload({ recorded: 'before encryption' });
    expect(await payloadsOf(await post('/decode', { payloads: [plain] }))).toEqual([plain]);
    expect(await payloadsOf(await post('/decode', { payloads: [] }))).toEqual([]);
  });

  it('accepts URL-safe, unpadded base64 as proto3 JSON allows', async () => {
    const data = Buffer.from([0xfb, 0xff, 0xfe]);
    const payload = { metadata: { encoding: b64('binary/plain').replace(/=+$/, '') }, data: data.toString('base64url') };
    const [decoded] = await payloadsOf(await post('/decode', { payloads: [payload] }));
    expect(Buffer.from(decoded!.data!, 'base64').equals(data)).toBe(true);
  });

  it('answers a CORS preflight from an allowed Web UI origin', async () => {
    const response = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: UI,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type,x-namespace,authorization',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(UI);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-methods')).toMatch(/POST/);
    const allowed = response.headers.get('access-control-allow-headers')!.toLowerCase().split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(['content-type', 'x-namespace', 'authorization']));
    expect(response.headers.get('vary')).toMatch(/Origin/);
  });

  it('sends CORS headers on the POST itself, as the browser checks them again', async () => {
    const response = await post('/decode', { payloads: [] }, { Origin: 'http://127.0.0.1:8233', 'X-Namespace': 'default' });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
  });

  it('refuses other origins, preflight and request alike', async () => {
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload('secret')]);
    const request = await post('/decode', { payloads: [payloadToJSON(encrypted!)] }, { Origin: 'https://evil.example' });
    expect(request.status).toBe(403);
    expect(await request.text()).not.toContain('secret');
  });

  it('answers unknown paths with 404 and other methods with 405', async () => {
    expect((await post('/decrypt', { payloads: [] })).status).toBe(404);
    expect((await post('/a/b/decode', { payloads: [] })).status).toBe(404);
    const get = await fetch(`${server.url}/decode`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
  });

  it('says what is wrong with a malformed body', async () => {
    const notJson = await post('/decode', '{payloads:');
    expect(notJson.status).toBe(400);
    expect(await notJson.text()).toMatch(/not JSON/);
    const wrongShape = await post('/decode', { payloads: [{ data: 'not base64!' }] });
    expect(wrongShape.status).toBe(400);
    expect(await wrongShape.text()).toMatch(/payloads\.0\.data is not base64/);
    expect((await post('/encode', { payload: [] })).status).toBe(400);
  });

  it('reports an undecryptable payload as a 400 that names no key, never as data', async () => {
    const other = new EncryptionCodec(keyringFrom(rawKeys('k0'), 'k0'));
    const [foreign] = await other.encode([defaultPayloadConverter.toPayload('elsewhere')]);
    const response = await post('/decode', { payloads: [payloadToJSON(foreign!)] });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/cannot be decrypted with the keys this codec server holds/);
    // Neither the payload's key id nor the ones held: a caller learns nothing about the keyring.
    expect(text).not.toMatch(/k0|k1/);
  });

  it('accepts {} and an empty list, as the CLI sends for nothing to decode (proto3 JSON drops empty lists)', async () => {
    expect(await payloadsOf(await post('/decode', {}))).toEqual([]);
    expect(await payloadsOf(await post('/ns/encode', { payloads: [] }))).toEqual([]);
  });

  it('repeats nothing the caller sent in an error: not an origin, not a metadata key', async () => {
    const origin = await post('/decode', { payloads: [] }, { Origin: 'https://jane-doe-9434765919.example' });
    expect(origin.status).toBe(403);
    expect(await origin.text()).not.toMatch(/jane|9434765919/i);
    const key = await post('/decode', { payloads: [{ metadata: { 'Jane Doe': '***' } }] });
    expect(key.status).toBe(400);
    expect(await key.text()).not.toMatch(/Jane/);
  });
});

describe('codec server limits and auth', () => {
  it('refuses bodies over maxBodyBytes with 413', async () => {
    const small = await startCodecServer({ port: 0, codec, authToken: TOKEN, maxBodyBytes: 1024 });
    try {
      const response = await post('/encode', { payloads: [jsonPayload('x'.repeat(4096))] }, {}, small);
      expect(response.status).toBe(413);
      // Chunked, so no Content-Length to refuse up front: the overrun is found while reading.
      const chunked = await new Promise<number>((resolve, reject) => {
        const url = new URL(`${small.url}/decode`);
        const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...AUTH, 'Transfer-Encoding': 'chunked' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        for (let i = 0; i < 8; i++) req.write('x'.repeat(512));
        req.end();
      });
      expect(chunked).toBe(413);
    } finally {
      await small.close();
    }
  });

  it('will not start without a token of 16+ characters, nor beyond loopback without TLS', async () => {
    await expect(startCodecServer({ port: 0, codec } as never)).rejects.toThrow(CodecServerConfigError);
    await expect(startCodecServer({ port: 0, codec, authToken: 'short' })).rejects.toThrow(/at least 16/);
    await expect(startCodecServer({ port: 0, codec, authToken: TOKEN, host: '0.0.0.0' })).rejects.toThrow(/TLS/);
  });

  it('requires the bearer token on every encode and decode, with or without an allowed origin, but not on preflights', async () => {
    const guarded = await startCodecServer({ port: 0, codec, corsOrigins: [UI], authToken: TOKEN });
    try {
      expect((await post('/decode', { payloads: [] }, { Authorization: '' }, guarded)).status).toBe(401);
      expect((await post('/encode', { payloads: [] }, { Authorization: '', Origin: UI }, guarded)).status).toBe(401);
      expect((await post('/decode', { payloads: [] }, { Authorization: 'Bearer wrong' }, guarded)).status).toBe(401);
      const ok = await post('/decode', { payloads: [] }, { Authorization: 'Bearer a-long-enough-token' }, guarded);
      expect(ok.status).toBe(200);
      const preflight = await fetch(`${guarded.url}/decode`, {
        method: 'OPTIONS',
        headers: { Origin: UI, 'Access-Control-Request-Method': 'POST' },
      });
      expect(preflight.status).toBe(204);
    } finally {
      await guarded.close();
    }
  });

  it('closes promptly with a keep-alive connection still open', async () => {
    const closing = await startCodecServer({ port: 0, codec, authToken: TOKEN });
    expect((await post('/decode', { payloads: [] }, { Connection: 'keep-alive' }, closing)).status).toBe(200);
    await closing.close();
    await expect(fetch(`${closing.url}/decode`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});

describe('codec server over a production keyring', () => {
  it('still hands back payloads that are plaintext by design (patch markers), decrypting the rest', async () => {
    const strict = new EncryptionCodec(keyringFrom(rawKeys('k9'), 'k9'), { refusePlaintext: true });
    const viewer = await startCodecServer({ port: 0, codec: strict, authToken: TOKEN });
    try {
      const marker = jsonPayload({ id: 'deadline-timer-kept', deprecated: false });
      const [sealed] = await strict.encode([defaultPayloadConverter.toPayload('sealed')]);
      const decoded = await payloadsOf(await post('/decode', { payloads: [marker, payloadToJSON(sealed!), marker] }, {}, viewer));
      expect(decoded[0]).toEqual(marker);
      expect(defaultPayloadConverter.fromPayload(payloadFromJSON(decoded[1]!))).toBe('sealed');
      expect(decoded[2]).toEqual(marker);
    } finally {
      await viewer.close();
    }
  });
});
