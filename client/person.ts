// Keyed fingerprints of a person's identifiers, for spotting a second referral of the same person
// without keeping their identifiers anywhere: HMAC-SHA256 under a secret key that only the client
// holds, so the index (and anyone who reads it) cannot recompute or test a guess against them.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { devKeyring, readKeyFile } from '../codec';
import type { PersonFingerprints } from '../workflows/person-index-definitions';
import { ConfigurationError } from './errors';
import type { Person } from './referral';

export const PERSON_KEY_ENV = 'PATHWAY_PERSON_KEY';
const KEY_BYTES = 32;

export class PersonKey {
  readonly #key: Buffer;
  private constructor(key: Buffer) {
    this.#key = key;
  }

  static fromBase64(text: string, source = PERSON_KEY_ENV): PersonKey {
    const key = Buffer.from(text.trim(), 'base64');
    if (key.length !== KEY_BYTES || key.toString('base64') !== text.trim()) {
      throw new ConfigurationError(`${source} must be ${KEY_BYTES} bytes in base64 (mint one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64'))")`);
    }
    return new PersonKey(key);
  }

  static fromBytes(key: Uint8Array): PersonKey {
    if (key.length !== KEY_BYTES) throw new ConfigurationError(`a person key must be ${KEY_BYTES} bytes`);
    return new PersonKey(Buffer.from(key));
  }

  static generate(): PersonKey {
    return new PersonKey(randomBytes(KEY_BYTES));
  }

  /** Domain-separated, so a digest made for one purpose never equals one made for another. */
  digest(purpose: string, text: string): string {
    return createHmac('sha256', this.#key).update(`${purpose}\u0000${text}`).digest('hex');
  }

  /** Never print the key: `console.log(key)` shows this. */
  toJSON(): string {
    return '[PersonKey]';
  }
}

/**
 * Folds the ways one name gets written into one form: case, accents, spaces, hyphens, apostrophes
 * and full stops (`O'Brien-Smith`, `o brien smith` and `OBRIEN SMITH` agree). Nicknames do not.
 */
export function normaliseName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

export function personFingerprints(key: PersonKey, person: Pick<Person, 'nhsNumber' | 'givenName' | 'familyName' | 'dateOfBirth'>): PersonFingerprints {
  const nameAndDob = [normaliseName(person.givenName), normaliseName(person.familyName), person.dateOfBirth].join('\u0000');
  return {
    ...(person.nhsNumber !== undefined && { nhsNumber: key.digest('nhsNumber', person.nhsNumber) }),
    nameAndDateOfBirth: key.digest('nameAndDateOfBirth', nameAndDob),
  };
}

/**
 * The key from `PATHWAY_PERSON_KEY`, else (local development only) one derived from the codec's dev
 * key in `devKeyDir`, so a dev setup has one secret to mint and every process of it agrees. Without
 * either it is an error: a key nobody provisioned would silently split the index.
 */
export async function loadPersonKey(env: NodeJS.ProcessEnv, devKeyDir?: string): Promise<PersonKey> {
  const fromEnv = env[PERSON_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return PersonKey.fromBase64(fromEnv);
  if (devKeyDir === undefined) {
    throw new ConfigurationError(
      `No person key: set ${PERSON_KEY_ENV} to 32 random bytes in base64. It keys the duplicate-person fingerprints, ` +
        'so every client of one deployment must share it.',
    );
  }
  const { keyFile } = await devKeyring(devKeyDir, env);
  const raw = readKeyFile(keyFile);
  const codecKey = raw.keys.get(raw.activeKeyId)!;
  // HKDF with its own label: the derived key says nothing about the codec key and is used for nothing else.
  return PersonKey.fromBytes(Buffer.from(hkdfSync('sha256', codecKey, Buffer.alloc(0), 'pathway person index v1', KEY_BYTES)));
}
