// Codec server for the Temporal Web UI and CLI: POST {payloads: [...]} in proto3 JSON (every bytes
// field base64) to /encode or /decode, optionally under a namespace segment, the path the CLI's
// `--codec-endpoint http://host/{namespace}` template produces. It hands decrypted patient data to
// whoever can reach it, so it is private by default: a bearer token on every encode and decode
// (any local process can reach a loopback port and forge an Origin header, so neither is proof of
// anything alone), an origin allow-list rather than `*` for browsers, loopback unless it has TLS,
// and errors that repeat nothing a caller sent and name no key.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { isIP } from 'node:net';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { isEncrypted, PayloadDecryptionError } from './aes-gcm';

export interface CodecServerOptions {
  /** 0 picks a free port; read the chosen one from the returned handle. */
  port: number;
  /**
   * Defaults to 127.0.0.1: exposing decryption to the network is a decision, not a default, and
   * one the server refuses without `tls` (a token sent in clear over a network is no secret).
   */
  host?: string;
  /** Certificate and key (PEM) to serve HTTPS; required to listen beyond loopback. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  codec: PayloadCodec;
  /** Exact origins allowed to call from a browser, such as `http://localhost:8233` for the dev Web UI. */
  corsOrigins?: readonly string[];
  /**
   * Required: every encode/decode must carry `Authorization: Bearer <token>` (the CLI's
   * `--codec-auth "Bearer <token>"`, the Web UI's "pass access token"). At least
   * {@link MIN_TOKEN_LENGTH} characters. Preflights are exempt: browsers never send credentials on them.
   */
  authToken: string;
  /** Request bodies above this are refused with 413. Defaults to 32 MiB. */
  maxBodyBytes?: number;
  /** Told about failures that are not the caller's fault; never given payload contents. */
  onError?: (error: unknown) => void;
}

export interface CodecServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Proto3 JSON of a Payload: bytes as base64 strings. */
export interface JSONPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
/** A token shorter than this could be guessed by a process that can try it over and over. */
export const MIN_TOKEN_LENGTH = 16;
const ALLOWED_HEADERS = 'Content-Type, X-Namespace, Authorization';

// Proto3 JSON parsers accept standard and URL-safe base64, with or without padding; so does this.
const base64Field = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, { message: 'is not base64' });
const jsonPayloadSchema = z.object({
  metadata: z.record(z.string(), base64Field).nullish(),
  data: base64Field.nullish(),
});
// The CLI sends `{}` when a history has nothing to decode: proto3 JSON leaves out an empty list.
const requestSchema = z.object({ payloads: z.array(jsonPayloadSchema).default([]) }).strict();

export function payloadFromJSON(json: JSONPayload): Payload {
  const payload: Payload = {
    metadata: Object.fromEntries(
      Object.entries(json.metadata ?? {}).map(([key, value]) => [key, new Uint8Array(Buffer.from(value, 'base64'))]),
    ),
  };
  if (json.data !== undefined && json.data !== null) payload.data = new Uint8Array(Buffer.from(json.data, 'base64'));
  return payload;
}

export function payloadToJSON(payload: Payload): JSONPayload {
  const json: JSONPayload = {
    metadata: Object.fromEntries(
      Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')]),
    ),
  };
  if (payload.data !== undefined && payload.data !== null) json.data = Buffer.from(payload.data).toString('base64');
  return json;
}

type Operation = 'encode' | 'decode';

/** `/encode`, `/decode`, `/<namespace>/encode`, `/<namespace>/decode`; a trailing slash is tolerated. */
function routeOf(pathname: string): Operation | undefined {
  const segments = pathname.split('/').filter((s) => s !== '');
  const last = segments.at(-1);
  if (segments.length > 2 || (last !== 'encode' && last !== 'decode')) return undefined;
  return last;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `request body exceeds ${limit} bytes`, { Connection: 'close' });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  // Listened to rather than iterated: leaving a `for await` early destroys the request, and a
  // chunked upload that overruns would then see its connection reset instead of the 413.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.once('error', reject);
  });
}

function parseRequest(body: Buffer): JSONPayload[] {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not JSON; expected {"payloads": [...]}');
  }
  const parsed = requestSchema.safeParse(json, { reportInput: false });
  if (!parsed.success) {
    // Metadata keys are the caller's text: the path names them by position in the payload only.
    const where = (path: readonly PropertyKey[]): string =>
      path.map((p, i) => (path[i - 1] === 'metadata' ? '(key)' : String(p))).join('.') || '(root)';
    const issues = parsed.error.issues.map((i) => `${where(i.path)} ${i.code === 'unrecognized_keys' ? 'has fields other than "payloads"' : i.message}`);
    throw new HttpError(400, `request body is not {"payloads": [proto JSON Payload, ...]}: ${issues.join('; ')}`);
  }
  return parsed.data.payloads;
}

function send(res: ServerResponse, status: number, body: string, contentType: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Decrypts what is encrypted and hands the rest back as it is: a history also holds payloads that
 * are plaintext by design (patch markers), which the CLI asks to decode too. A production worker's
 * codec refuses those, as it must; a viewer has nothing to protect by refusing them.
 */
async function decodeForViewing(codec: PayloadCodec, payloads: Payload[]): Promise<Payload[]> {
  const sealed = payloads.filter(isEncrypted);
  const opened = sealed.length === 0 ? [] : await codec.decode(sealed);
  let next = 0;
  return payloads.map((p) => (isEncrypted(p) ? opened[next++]! : p));
}

/** Raised for options that would expose decryption; the message is for the operator. */
export class CodecServerConfigError extends Error {
  override readonly name = 'CodecServerConfigError';
}

/** 127.0.0.0/8, ::1 and `localhost`: only this machine can connect. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1' || bare === '::ffff:127.0.0.1';
}

export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const host = options.host ?? '127.0.0.1';
  const origins = new Set(options.corsOrigins ?? []);
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (typeof options.authToken !== 'string' || options.authToken.length < MIN_TOKEN_LENGTH) {
    throw new CodecServerConfigError(`the codec server needs an access token of at least ${MIN_TOKEN_LENGTH} characters; it decrypts for whoever holds it`);
  }
  if (!isLoopbackHost(host) && options.tls === undefined) {
    throw new CodecServerConfigError(
      `refusing to serve decryption on ${host}, beyond this machine, over plain HTTP: give it a TLS certificate and key, or listen on 127.0.0.1`,
    );
  }
  const expectedAuth = `Bearer ${options.authToken}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      // A page from anywhere else gets nothing, not even the work done on its behalf. The origin
      // is not repeated: it is whatever the caller chose to send.
      if (!origins.has(origin)) throw new HttpError(403, 'this origin is not allowed to use this codec server');
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    res.setHeader('Vary', 'Origin');

    const operation = routeOf(new URL(req.url ?? '/', 'http://codec.invalid').pathname);
    if (operation === undefined) throw new HttpError(404, 'not found; POST to /encode or /decode (optionally /<namespace>/...)');

    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': ALLOWED_HEADERS,
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    if (req.method !== 'POST') throw new HttpError(405, 'method not allowed; use POST', { Allow: 'POST, OPTIONS' });

    if (!sameSecret(req.headers.authorization ?? '', expectedAuth)) {
      throw new HttpError(401, 'missing or wrong Authorization header', { 'WWW-Authenticate': 'Bearer' });
    }

    const payloads = parseRequest(await readBody(req, limit)).map(payloadFromJSON);
    let result: Payload[];
    try {
      result = operation === 'encode' ? await options.codec.encode(payloads) : await decodeForViewing(options.codec, payloads);
    } catch (err) {
      // The caller's payload cannot be read with these keys: a 400 rather than a bare 500, but
      // naming no key id, neither the payload's nor the ones held (the server's log has them).
      if (err instanceof PayloadDecryptionError) {
        options.onError?.(err);
        throw new HttpError(400, 'a payload cannot be decrypted with the keys this codec server holds');
      }
      throw err;
    }
    send(res, 200, JSON.stringify({ payloads: result.map(payloadToJSON) }), 'application/json');
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (err instanceof HttpError) {
        for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
        // Plain text, so the Web UI's JSON parse fails and it shows the payload as undecodable
        // instead of rendering an error object as if it were the decoded payloads.
        send(res, err.status, `${err.message}\n`, 'text/plain; charset=utf-8');
        // Unread body bytes would otherwise keep the socket busy.
        if (!req.complete) req.resume();
        return;
      }
      options.onError?.(err);
      send(res, 500, 'internal error\n', 'text/plain; charset=utf-8');
    });
  };
  const server = options.tls === undefined ? createServer(listener) : createTlsServer({ cert: options.tls.cert, key: options.tls.key }, listener);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => options.onError?.(err));

  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://${urlHost}:${port}`,
    host,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive connections from a browser would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
