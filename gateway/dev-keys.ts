// Local development only: an ES256 signing key minted once into a git-ignored folder, standing in
// for an authorisation server so `npm start` can print a token that works. Production configures
// the real server's JWKS URL instead (GATEWAY_JWKS_URL) and never has this key.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JSONWebKeySet, type JWK } from 'jose';

export const DEV_GATEWAY_KEY_DIR = join(__dirname, '..', '.cache', 'gateway');
export const DEV_ISSUER = 'https://dev-auth.social-prescribing.invalid';
export const DEV_AUDIENCE = 'social-prescribing-gateway';

export interface SigningKey {
  privateJwk: JWK;
  jwks: JSONWebKeySet;
}

export async function generateSigningKey(kid = `dev-${Date.now().toString(36)}`): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const pub = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return { privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'ES256' }, jwks: { keys: [pub] } };
}

/** The dev key in `dir`, minted (mode 600) on first use. */
export async function devSigningKey(dir = DEV_GATEWAY_KEY_DIR): Promise<SigningKey & { file: string }> {
  const file = join(dir, 'dev-signing-key.json');
  if (existsSync(file)) return { ...(JSON.parse(readFileSync(file, 'utf8')) as SigningKey), file };
  const key = await generateSigningKey();
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(key, null, 2)}\n`, { mode: 0o600 });
  return { ...key, file };
}

export interface TokenClaims {
  sub: string;
  scope: string;
  schemes?: string[] | string;
  role?: string;
  /** A provider token's organisation (its directory id). */
  organisation?: string;
  /** Seconds from now; an hour by default. Negative makes an expired token (tests). */
  expiresIn?: number;
  issuer?: string;
  audience?: string;
}

export async function signToken(key: SigningKey, claims: TokenClaims): Promise<string> {
  const privateKey = await importJWK(key.privateJwk, 'ES256');
  const now = Math.floor(Date.now() / 1000);
  const { sub, expiresIn = 3600, issuer = DEV_ISSUER, audience = DEV_AUDIENCE, ...rest } = claims;
  return new SignJWT({ ...rest })
    .setProtectedHeader({ alg: 'ES256', kid: key.privateJwk.kid!, typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt(now)
    .setExpirationTime(now + expiresIn)
    .sign(privateKey);
}
