import { randomBytes } from 'node:crypto';
import { importKeyring, type Keyring } from '../../../codec/keys';

/** Raw key bytes by id, so a test can rebuild keyrings with the same keys in a new order. */
export function rawKeys(...ids: string[]): Map<string, Uint8Array> {
  return new Map(ids.map((id) => [id, new Uint8Array(randomBytes(32))]));
}

/** A keyring over `keys`, active `activeKeyId`, holding only the ids listed in `ids` (default all). */
export function keyringFrom(keys: Map<string, Uint8Array>, activeKeyId: string, ids?: string[]): Keyring {
  const chosen = new Map([...keys].filter(([id]) => ids === undefined || ids.includes(id)));
  return importKeyring({ activeKeyId, keys: chosen });
}

export const text = (bytes: Uint8Array | null | undefined): string => Buffer.from(bytes ?? []).toString('utf8');
