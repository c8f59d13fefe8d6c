// AES-256-GCM payload codec. The whole Payload message (metadata included, since the encoding and
// type hints can say as much as the data) is serialized and encrypted; what Temporal stores is an
// envelope that names only the cipher and the key id.
import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { Keyring } from './keys';
import { KEY_FILE_ENV, KEYS_ENV } from './keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;

const ProtoPayload = temporal.api.common.v1.Payload;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A payload that cannot be decrypted. Thrown, never swallowed: handing ciphertext on as if it were
 * data would surface later as a baffling deserialization error, or worse, be stored again as-is.
 */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
  constructor(
    message: string,
    /** The key id the payload names, when it names one. */
    readonly keyId?: string,
  ) {
    super(message);
  }
}

function readMetadata(payload: Payload, key: string): string | undefined {
  const bytes = payload.metadata?.[key];
  if (bytes === undefined || bytes === null) return undefined;
  try {
    return fromUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function isEncrypted(payload: Payload): boolean {
  return readMetadata(payload, METADATA_ENCODING_KEY) === ENCRYPTED_ENCODING;
}

/** The key id an encrypted payload was written with, for tooling that audits rotation. */
export function encryptionKeyId(payload: Payload): string | undefined {
  return isEncrypted(payload) ? readMetadata(payload, KEY_ID_METADATA) : undefined;
}

// protobufjs puts defaults on the prototype (an empty *array* for absent bytes), so the decoded
// message is copied into a plain object that carries only the fields the writer actually set.
function toPlainPayload(message: temporal.api.common.v1.Payload): Payload {
  const payload: Payload = { metadata: { ...message.metadata } };
  if (Object.hasOwn(message, 'data')) payload.data = message.data;
  if (message.externalPayloads.length > 0) payload.externalPayloads = message.externalPayloads;
  return payload;
}

export interface EncryptionCodecOptions {
  /**
   * Encrypted or refused: decoding a payload that is not encrypted throws instead of passing it
   * on. Production workers run this way, so a client that skips the codec cannot hand a case
   * plaintext, and a history written before encryption must be dealt with deliberately.
   */
  refusePlaintext?: boolean;
}

export class EncryptionCodec implements PayloadCodec {
  private readonly refusePlaintext: boolean;
  constructor(
    private readonly keyring: Keyring,
    options: EncryptionCodecOptions = {},
  ) {
    this.refusePlaintext = options.refusePlaintext ?? false;
    if (!keyring.keys.has(keyring.activeKeyId)) {
      throw new Error(`EncryptionCodec: the active key "${keyring.activeKeyId}" is not in the keyring`);
    }
  }

  /** Whether decode refuses payloads that are not encrypted. */
  get refusesPlaintext(): boolean {
    return this.refusePlaintext;
  }

  get activeKeyId(): string {
    return this.keyring.activeKeyId;
  }

  get keyIds(): readonly string[] {
    return [...this.keyring.keys.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keyring.activeKeyId;
    const key = this.keyring.keys.get(keyId)!;
    return Promise.all(
      payloads.map(async (payload): Promise<Payload> => {
        const plaintext = ProtoPayload.encode(payload).finish();
        // A fresh random IV every time: reusing one under the same GCM key leaks the XOR of the
        // plaintexts and the authentication key.
        const iv = randomFillSync(new Uint8Array(IV_BYTES));
        const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
        const data = Buffer.concat([iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
        return {
          metadata: {
            [METADATA_ENCODING_KEY]: utf8.encode(ENCRYPTED_ENCODING),
            [KEY_ID_METADATA]: utf8.encode(keyId),
          },
          data,
        };
      }),
    );
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((payload) => this.decodeOne(payload)));
  }

  private async decodeOne(payload: Payload): Promise<Payload> {
    if (!isEncrypted(payload)) {
      if (this.refusePlaintext) {
        throw new PayloadDecryptionError(
          'Refusing an unencrypted payload: this process runs encrypted-or-refused (production), and every payload ' +
            'must be written by a client or worker with the payload codec on. Check that whoever wrote it has the keys configured.',
        );
      }
      // Outside production, histories written before encryption was switched on still replay.
      return payload;
    }

    const keyId = readMetadata(payload, KEY_ID_METADATA);
    if (keyId === undefined || keyId === '') {
      throw new PayloadDecryptionError(
        `Cannot decrypt payload: it is marked ${ENCRYPTED_ENCODING} but has no "${KEY_ID_METADATA}" metadata.`,
      );
    }
    const key = this.keyring.keys.get(keyId);
    if (key === undefined) {
      throw new PayloadDecryptionError(
        `Cannot decrypt payload: it was encrypted with key "${keyId}", which is not in this keyring ` +
          `(known: ${this.keyIds.join(', ')}). Keep retired keys listed after the active one in ` +
          `${KEYS_ENV} or in the key file named by ${KEY_FILE_ENV}.`,
        keyId,
      );
    }
    const data = payload.data ?? new Uint8Array(0);
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(
        `Cannot decrypt payload encrypted with key "${keyId}": its data is ${data.length} bytes, ` +
          `shorter than an IV and an authentication tag; it is truncated or not ciphertext.`,
        keyId,
      );
    }
    let plaintext: Uint8Array;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      plaintext = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      // GCM reports every failure alike ("unable to authenticate data"), so the likely causes are spelt out.
      throw new PayloadDecryptionError(
        `Cannot decrypt payload encrypted with key "${keyId}": authentication failed. Either the ` +
          `ciphertext was altered, or the key configured as "${keyId}" is not the key it was written with.`,
        keyId,
      );
    }
    try {
      return toPlainPayload(ProtoPayload.decode(plaintext));
    } catch {
      throw new PayloadDecryptionError(
        `Payload encrypted with key "${keyId}" decrypted, but the result is not a Temporal Payload message.`,
        keyId,
      );
    }
  }
}
