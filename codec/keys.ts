// Keyring loading for the payload codec. Every error here is meant to be read by an operator at
// startup, so each one names the env var, the file and the key id it is about, and none of them ever
// contains key material: zod is told not to echo input, and JSON.parse's own message (which quotes
// a slice of the text) is never passed on.
import { readFileSync, statSync } from 'node:fs';
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export const KEYS_ENV = 'PATHWAY_CODEC_KEYS';
export const KEY_FILE_ENV = 'PATHWAY_CODEC_KEY_FILE';

/** AES-256: anything else is a misconfiguration, never a weaker cipher. */
export const KEY_BYTES = 32;

export interface Keyring {
  /** The id new payloads are encrypted with; it travels in each payload's metadata. */
  readonly activeKeyId: string;
  /** Every key this process can decrypt with, the active one included. */
  readonly keys: ReadonlyMap<string, KeyObject>;
}

/** Raised for any keyring problem; the message is meant for the operator as it stands. */
export class CodecKeyError extends Error {
  override readonly name = 'CodecKeyError';
}

const MINT_HINT = 'Mint a key with `npx tsx scripts/codec-key.ts`.';

// Ids end up in payload metadata and in error messages, so they are kept to characters that need
// no quoting in an env var, a JSON key or a log line.
const keyIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
    message: 'key id must be 1-64 characters of letters, digits, ".", "_" or "-", starting with a letter or digit',
  });

// Canonical padded base64 only: Buffer.from(..., 'base64') silently skips bad characters, which
// would turn a typo into a different key rather than an error.
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const keyMaterialSchema = z
  .string()
  .transform((s) => s.trim())
  .refine((s) => s.length > 0, { message: 'key is empty' })
  .refine((s) => s.length === 0 || CANONICAL_BASE64.test(s), {
    message: `key is not valid standard base64 (a ${KEY_BYTES}-byte key is 44 characters ending in "=")`,
    abort: true,
  })
  .transform((s) => Buffer.from(s, 'base64'))
  .refine((b) => b.length === KEY_BYTES, {
    message: `key must decode to exactly ${KEY_BYTES} bytes (AES-256)`,
  });

const keyFileSchema = z
  .object({
    active: keyIdSchema,
    keys: z.record(keyIdSchema, keyMaterialSchema),
  })
  .strict()
  .refine((f) => Object.keys(f.keys).length > 0, { message: 'no keys listed', path: ['keys'] })
  .refine((f) => Object.hasOwn(f.keys, f.active), {
    message: 'the active key id is not one of the listed keys',
    path: ['active'],
  });

/** Key bytes by id, before they are made into keys. */
export interface RawKeyring {
  readonly activeKeyId: string;
  readonly keys: ReadonlyMap<string, Uint8Array>;
}

function describeIssues(source: string, error: z.ZodError): string {
  const lines = error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    // A bad record key comes wrapped as "Invalid key in record"; the id rule inside says more.
    const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    return `  - ${where}: ${message}`;
  });
  return `${source} is invalid:\n${lines.join('\n')}`;
}

/**
 * Parses `PATHWAY_CODEC_KEYS`: comma-separated `<id>:<base64 key>` entries, the first one active.
 * Later entries are kept only to decrypt what older keys wrote.
 */
export function parseKeysEnv(value: string, source = KEYS_ENV): RawKeyring {
  if (value.trim() === '') {
    throw new CodecKeyError(`${source} is set but empty. ${MINT_HINT}`);
  }
  const entries = value.split(',').map((entry) => entry.trim());
  const keys = new Map<string, Uint8Array>();
  const problems: string[] = [];
  entries.forEach((entry, index) => {
    const position = `entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) {
      // The entry itself may well be a bare key, so it is not repeated here.
      problems.push(`  - ${position}: expected "<key id>:<base64 key>"`);
      return;
    }
    const id = keyIdSchema.safeParse(entry.slice(0, colon));
    if (!id.success) {
      problems.push(`  - ${position}: ${id.error.issues[0]?.message ?? 'invalid key id'}`);
      return;
    }
    const key = keyMaterialSchema.safeParse(entry.slice(colon + 1));
    if (!key.success) {
      problems.push(`  - key "${id.data}": ${key.error.issues[0]?.message ?? 'invalid key'}`);
      return;
    }
    if (keys.has(id.data)) {
      problems.push(`  - key "${id.data}": listed more than once`);
      return;
    }
    keys.set(id.data, new Uint8Array(key.data));
  });
  if (problems.length > 0) {
    throw new CodecKeyError(`${source} is invalid:\n${problems.join('\n')}\n${MINT_HINT}`);
  }
  const activeKeyId = keys.keys().next().value;
  if (activeKeyId === undefined) throw new CodecKeyError(`${source} lists no keys. ${MINT_HINT}`);
  return { activeKeyId, keys };
}

/** Parses the text of a key file: `{ "active": "<id>", "keys": { "<id>": "<base64 key>" } }`. */
export function parseKeyFile(text: string, source: string): RawKeyring {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CodecKeyError(
      `${source} is not valid JSON; expected { "active": "<key id>", "keys": { "<key id>": "<base64 key>" } }.`,
    );
  }
  const parsed = keyFileSchema.safeParse(json, { reportInput: false });
  if (!parsed.success) {
    throw new CodecKeyError(`${describeIssues(source, parsed.error)}\n${MINT_HINT}`);
  }
  const keys = new Map<string, Uint8Array>();
  // The active key goes first so that "first = active" holds for both sources.
  keys.set(parsed.data.active, new Uint8Array(parsed.data.keys[parsed.data.active]!));
  for (const [id, bytes] of Object.entries(parsed.data.keys)) {
    if (!keys.has(id)) keys.set(id, new Uint8Array(bytes));
  }
  return { activeKeyId: parsed.data.active, keys };
}

/** Reads and parses the key file named by `PATHWAY_CODEC_KEY_FILE`. */
export function readKeyFile(path: string): RawKeyring {
  const source = `${KEY_FILE_ENV} (${path})`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'does not exist'
        : code === 'EACCES'
          ? 'is not readable by this process'
          : `cannot be read (${code ?? 'unknown error'})`;
    throw new CodecKeyError(`${source} ${why}. ${MINT_HINT}`);
  }
  return parseKeyFile(text, source);
}

/**
 * Refuses a key file that anyone but its owner can read or write: a key readable by the group or
 * by everyone is a key already shared. Not checked on Windows, where modes do not say it.
 */
export function assertPrivateKeyFile(path: string, platform: NodeJS.Platform = process.platform): void {
  if (platform === 'win32') return;
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return; // readKeyFile says what is wrong with a file it cannot read.
  }
  if ((mode & 0o077) !== 0) {
    throw new CodecKeyError(
      `${KEY_FILE_ENV} (${path}) can be read or written by others (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); ` +
        `a key file must be private to the account that runs the engine: chmod 600 ${path}`,
    );
  }
}

/**
 * Makes raw keys into node secret keys for AES-256-GCM, once, when the keyring is loaded. Node's
 * synchronous cipher costs a worker a fraction of webcrypto's asynchronous one a payload, and reads
 * and writes the same format. A node key can be exported again, as the bytes it was made from could
 * be read: the keys are private to the process, not hidden within it.
 */
export function importKeyring(raw: RawKeyring): Keyring {
  if (!raw.keys.has(raw.activeKeyId)) {
    throw new CodecKeyError(`the active key "${raw.activeKeyId}" is not in the keyring`);
  }
  const keys = new Map<string, KeyObject>();
  for (const [id, bytes] of raw.keys) {
    if (bytes.length !== KEY_BYTES) {
      throw new CodecKeyError(`key "${id}" must be exactly ${KEY_BYTES} bytes (AES-256)`);
    }
    keys.set(id, createSecretKey(bytes));
  }
  return { activeKeyId: raw.activeKeyId, keys };
}

/**
 * Loads the keyring from `PATHWAY_CODEC_KEYS` or `PATHWAY_CODEC_KEY_FILE`; `undefined` when neither
 * is set. Setting both is an error, since which one wins would be a guess.
 */
export async function loadKeyringFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<Keyring | undefined> {
  const inline = env[KEYS_ENV];
  const file = env[KEY_FILE_ENV];
  if (inline !== undefined && file !== undefined) {
    throw new CodecKeyError(`Both ${KEYS_ENV} and ${KEY_FILE_ENV} are set; set only one of them.`);
  }
  if (inline !== undefined) return importKeyring(parseKeysEnv(inline));
  if (file !== undefined) {
    if (file.trim() === '') throw new CodecKeyError(`${KEY_FILE_ENV} is set but empty; give it the path of a key file.`);
    return importKeyring(readKeyFile(file));
  }
  return undefined;
}

/** 32 random bytes, base64: a new AES-256 key. */
export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** A dated id such as `k20250114-3f9a`, so a keyring shows which key is newer at a glance. */
export function generateKeyId(now: Date = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '');
  return `k${day}-${randomBytes(2).toString('hex')}`;
}

/** Checks an id against the same rule the keyring applies, for tools that mint keys. */
export function isValidKeyId(id: string): boolean {
  return keyIdSchema.safeParse(id).success;
}
