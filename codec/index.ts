// The one place the worker, the client and the codec server get their codec from, so the rule
// "no key is an error, plaintext only when asked for by name" is decided once.
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { EncryptionCodec } from './aes-gcm';
import {
  assertPrivateKeyFile,
  CodecKeyError,
  generateKey,
  generateKeyId,
  importKeyring,
  KEY_FILE_ENV,
  KEYS_ENV,
  loadKeyringFromEnv,
  parseKeyFile,
  type Keyring,
} from './keys';

export {
  EncryptionCodec,
  PayloadDecryptionError,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  isEncrypted,
  encryptionKeyId,
} from './aes-gcm';
export {
  assertPrivateKeyFile,
  CodecKeyError,
  KEYS_ENV,
  KEY_FILE_ENV,
  KEY_BYTES,
  generateKey,
  generateKeyId,
  importKeyring,
  isValidKeyId,
  loadKeyringFromEnv,
  parseKeyFile,
  parseKeysEnv,
  readKeyFile,
  type Keyring,
  type RawKeyring,
} from './keys';
export {
  CodecServerConfigError,
  isLoopbackHost,
  MIN_TOKEN_LENGTH,
  startCodecServer,
  type CodecServer,
  type CodecServerOptions,
} from './server';

/** `PATHWAY_CODEC=off` is the only way to run without encryption, and only with no keys set. */
export const CODEC_SWITCH_ENV = 'PATHWAY_CODEC';

/** Git-ignored (the project ignores `.cache/`), so a dev key never lands in a commit. */
export const DEFAULT_DEV_KEY_DIR = resolve(__dirname, '..', '.cache', 'codec');

const DEV_KEY_FILE = 'dev-keys.json';

const NO_KEY_HELP =
  `No payload encryption key is configured, and patient data must not reach Temporal in plaintext.\n` +
  `Mint a key with \`npx tsx scripts/codec-key.ts\`, then set either\n` +
  `  ${KEYS_ENV}=<id>:<base64 key>[,<older id>:<older key>...]   (first = active)\n` +
  `or\n` +
  `  ${KEY_FILE_ENV}=/path/to/keys.json   ({ "active": "<id>", "keys": { "<id>": "<base64 key>" } })\n` +
  `To run without encryption on purpose (never with real data), set ${CODEC_SWITCH_ENV}=off.`;

export interface LoadCodecOptions {
  /**
   * For `npm start` and tests: when no key is configured (and encryption is not switched off), use
   * the dev key file in this folder, minting it on first use, instead of failing. Ignored in
   * production: a key nobody provisioned is a mistake there.
   */
  devKeyDir?: string;
  /**
   * Production mode, encrypted or refused: the codec cannot be switched off, a missing key is an
   * error, key files must be private (mode 600), and the codec refuses unencrypted payloads. Also
   * on whenever `NODE_ENV=production`. Callers set it for any Temporal target other than the local
   * dev server ({@link isProduction}).
   */
  production?: boolean;
}

/**
 * Whether this process runs in production mode: `NODE_ENV=production`, or a Temporal target that
 * is not the local dev server (the caller says which, since only it knows where it connects).
 */
export function isProduction(env: NodeJS.ProcessEnv = process.env, remoteTarget = false): boolean {
  return env['NODE_ENV'] === 'production' || remoteTarget;
}

/**
 * The codec for this process, or `undefined` only when `PATHWAY_CODEC=off` and no key is set.
 * Any other configuration problem throws a {@link CodecKeyError} meant to stop startup.
 */
export async function loadCodecFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  options: LoadCodecOptions = {},
): Promise<EncryptionCodec | undefined> {
  const switchValue = env[CODEC_SWITCH_ENV];
  if (switchValue !== undefined && switchValue !== 'off') {
    // A typo such as "of" or "false" must not be read as either on or off.
    throw new CodecKeyError(`${CODEC_SWITCH_ENV} may only be "off" (or unset); it is "${switchValue}".`);
  }
  const keysConfigured = env[KEYS_ENV] !== undefined || env[KEY_FILE_ENV] !== undefined;
  const production = isProduction(env, options.production ?? false);
  if (switchValue === 'off' && production) {
    throw new CodecKeyError(
      `${CODEC_SWITCH_ENV}=off is refused in production (NODE_ENV=production, or a Temporal server other than the local ` +
        `dev server): payloads there are encrypted or refused. Configure ${KEYS_ENV} or ${KEY_FILE_ENV}.`,
    );
  }
  if (switchValue === 'off') {
    if (keysConfigured) {
      throw new CodecKeyError(
        `${CODEC_SWITCH_ENV}=off is set together with ${env[KEYS_ENV] !== undefined ? KEYS_ENV : KEY_FILE_ENV}; ` +
          `unset one of them so it is clear whether payloads are to be encrypted.`,
      );
    }
    return undefined;
  }
  const keyFile = env[KEY_FILE_ENV];
  if (production && keyFile !== undefined && keyFile.trim() !== '') assertPrivateKeyFile(keyFile);
  const keyring = await loadKeyringFromEnv(env);
  if (keyring !== undefined) return new EncryptionCodec(keyring, { refusePlaintext: production });
  if (options.devKeyDir !== undefined && !production) return new EncryptionCodec((await devKeyring(options.devKeyDir)).keyring);
  throw new CodecKeyError(production ? `${NO_KEY_HELP.replace(/\nTo run without[^\n]*$/, '')}\nProduction mode: no dev key is minted, and encryption cannot be switched off.` : NO_KEY_HELP);
}

export interface DevKeyring {
  /** Absolute path of the key file, to hand to child processes as `PATHWAY_CODEC_KEY_FILE`. */
  readonly keyFile: string;
  readonly keyring: Keyring;
  /** `{ PATHWAY_CODEC_KEY_FILE: keyFile }`, ready to merge into a child process's env. */
  readonly env: { readonly [KEY_FILE_ENV]: string };
}

/**
 * Returns the local dev keyring in `dir`, minting and persisting it on first use so that every
 * process of a dev setup (worker, client, codec server) shares it. `dir` must be git-ignored.
 * Refuses under `NODE_ENV=production`, where a key nobody provisioned is a mistake.
 */
export async function devKeyring(dir: string = DEFAULT_DEV_KEY_DIR, env: NodeJS.ProcessEnv = process.env): Promise<DevKeyring> {
  if (env['NODE_ENV'] === 'production') {
    throw new CodecKeyError(`Refusing to mint a dev codec key with NODE_ENV=production. ${NO_KEY_HELP}`);
  }
  const absoluteDir = resolve(dir);
  const keyFile = join(absoluteDir, DEV_KEY_FILE);
  await mkdir(absoluteDir, { recursive: true, mode: 0o700 });
  let text = await readIfExists(keyFile);
  if (text === undefined) {
    const keyId = generateKeyId();
    const body = `${JSON.stringify({ active: keyId, keys: { [keyId]: generateKey() } }, null, 2)}\n`;
    // Written whole to a private temp file, then hard-linked into place: link() fails if another
    // process got there first, so concurrent first runs agree on one key and nobody reads a
    // half-written file.
    const temp = join(absoluteDir, `.${DEV_KEY_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
    await writeFile(temp, body, { mode: 0o600, flag: 'wx' });
    try {
      await link(temp, keyFile);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await unlink(temp);
    }
    text = await readFile(keyFile, 'utf8');
  }
  const keyring = importKeyring(parseKeyFile(text, `dev key file (${keyFile})`));
  return { keyFile, keyring, env: { [KEY_FILE_ENV]: keyFile } };
}

const DEV_TOKEN_FILE = 'codec-server-token';
/** Where `npm start` keeps the local codec server's token, for the CLI's `--codec-auth`. */
export const DEV_CODEC_TOKEN_FILE = join(DEFAULT_DEV_KEY_DIR, DEV_TOKEN_FILE);

/**
 * The local codec server's access token, in the same git-ignored folder as the dev key (mode
 * 600), minted on first use so that `npm start`, the codec server script and whoever runs the
 * `temporal` CLI on this machine share it. Returns the token and the file it is kept in.
 */
export async function devCodecServerToken(dir: string = DEFAULT_DEV_KEY_DIR): Promise<{ token: string; file: string }> {
  const absoluteDir = resolve(dir);
  const file = join(absoluteDir, DEV_TOKEN_FILE);
  await mkdir(absoluteDir, { recursive: true, mode: 0o700 });
  let text = await readIfExists(file);
  if (text === undefined) {
    const temp = join(absoluteDir, `.${DEV_TOKEN_FILE}.${process.pid}.${randomBytes(4).toString('hex')}`);
    await writeFile(temp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
    try {
      await link(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await unlink(temp);
    }
    text = await readFile(file, 'utf8');
  }
  return { token: text.trim(), file };
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Path of the failure converter that moves error messages and stacks into encrypted payloads. */
export const ENCRYPTED_FAILURE_CONVERTER_PATH = join(__dirname, 'failure-converter.js');

/**
 * The data converter for `Worker.create`, `Client`/`Connection` options and `bundleWorkflowCode`:
 * payloads go through the codec, and failure messages and stack traces are encoded into payloads so
 * the codec covers them too. With no codec (`PATHWAY_CODEC=off`) it is the SDK default.
 */
export function dataConverterFor(codec: PayloadCodec | undefined): DataConverter {
  if (codec === undefined) return {};
  return { payloadCodecs: [codec], failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH };
}
