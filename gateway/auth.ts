// OAuth 2.0 bearer tokens as SMART backend services send them: a JWT signed by the authorisation
// server, verified here with `jose` against its JWKS. The token, never the body, says who acts
// (`sub` and a role claim), what they may touch (SMART scopes) and which schemes they may see.
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { safeIdSchema, type Actor } from '../machines';
import { FhirError } from './fhir/outcome';

/**
 * Who a token may act as: a pathway actor, or a provider (a community service's staff), who acts
 * only on the onward referrals (connections) sent to its organisation.
 */
export type ActorRole = Actor['role'] | 'provider';
export interface ProviderActor {
  role: 'provider';
  id: string;
}
export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

export interface AuthOptions {
  /** The authorisation server's JWKS URL, or a key set held locally (tests, `npm start`). */
  jwks: URL | string | JSONWebKeySet;
  issuer: string;
  audience: string;
  /** The claim carrying the caller's role; `role` by default. A token without it is a system (`host`). */
  roleClaim?: string;
  /** The claim's values and the pathway role each means; by default the pathway's own role names. */
  roles?: Record<string, ActorRole>;
  /** The claim listing the schemes a client may see (array or space-separated; `*` for all); `schemes` by default. */
  schemesClaim?: string;
  /** The claim naming a provider token's organisation (its directory id); `organisation` by default. */
  organisationClaim?: string;
  /** Seconds of clock difference tolerated on `exp`/`nbf`. */
  clockToleranceSeconds?: number;
}

/** How a caller proved who they are: a bearer token (`/fhir`) or a console session cookie (`/console`). */
export type Credential = 'bearer' | 'session';

/** Who is calling, from a verified token or a signed-in session (http/auth.ts makes both). */
export interface Caller {
  credential: Credential;
  actor: Actor | ProviderActor;
  /** A provider's organisation (from its token): the connections whose providerId it is are its own. */
  organisation?: string;
  scopes: string[];
  /** Schemes this client may see; `'*'` for every scheme. */
  schemes: readonly string[] | '*';
}

const DEFAULT_ROLES: Record<string, ActorRole> = { host: 'host', system: 'host', supervisor: 'supervisor', linkWorker: 'linkWorker', 'link-worker': 'linkWorker', provider: 'provider' };
const ALGORITHMS = ['ES256', 'ES384', 'RS256', 'RS384', 'PS256', 'EdDSA'];

const unauthorised = (diagnostics: string, error = 'invalid_token') =>
  new FhirError(401, { code: 'login', expression: 'Authorization', diagnostics }, { 'www-authenticate': `Bearer error="${error}"` });

export function forbidden(expression: string, diagnostics: string): FhirError {
  return new FhirError(403, { code: 'forbidden', expression, diagnostics });
}

export type Authenticator = (authorization: string | undefined) => Promise<Caller>;

export function authenticator(options: AuthOptions): Authenticator {
  const keys =
    typeof options.jwks === 'string' || options.jwks instanceof URL
      ? createRemoteJWKSet(new URL(options.jwks))
      : createLocalJWKSet(options.jwks);
  const roleClaim = options.roleClaim ?? 'role';
  const schemesClaim = options.schemesClaim ?? 'schemes';
  const organisationClaim = options.organisationClaim ?? 'organisation';
  const roles = options.roles ?? DEFAULT_ROLES;

  return async (authorization) => {
    if (!authorization) throw new FhirError(401, { code: 'login', expression: 'Authorization', diagnostics: 'a bearer token is required' }, { 'www-authenticate': 'Bearer' });
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(authorization);
    if (!match) throw unauthorised('the Authorization header must be "Bearer <token>"', 'invalid_request');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(match[1]!, keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ALGORITHMS,
        clockTolerance: options.clockToleranceSeconds ?? 30,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (err) {
      // The reason, never the token or its claims.
      if (err instanceof joseErrors.JWTExpired) throw unauthorised('the token has expired');
      if (err instanceof joseErrors.JWTClaimValidationFailed) throw unauthorised(`the token's ${err.claim} claim is not accepted`);
      throw unauthorised('the token could not be verified');
    }
    const sub = safeIdSchema.safeParse(payload.sub, { reportInput: false });
    if (!sub.success) throw unauthorised("the token's sub claim is not a usable actor id");
    const roleValue = payload[roleClaim];
    const role = roleValue === undefined ? 'host' : typeof roleValue === 'string' ? roles[roleValue] : undefined;
    if (!role || role === 'person') throw forbidden('Authorization', `the token's ${roleClaim} claim names no role this gateway accepts`);
    const scopes = typeof payload['scope'] === 'string' ? payload['scope'].split(' ').filter(Boolean) : Array.isArray(payload['scp']) ? (payload['scp'] as unknown[]).filter((s): s is string => typeof s === 'string') : [];
    const rawSchemes = payload[schemesClaim];
    const list = typeof rawSchemes === 'string' ? rawSchemes.split(' ').filter(Boolean) : Array.isArray(rawSchemes) ? rawSchemes.filter((s): s is string => typeof s === 'string') : [];
    const schemes = list.includes('*') ? '*' : list;
    if (role === 'provider') {
      const organisation = safeIdSchema.safeParse(payload[organisationClaim], { reportInput: false });
      if (!organisation.success) throw forbidden('Authorization', `a provider token needs its ${organisationClaim} claim: the organisation's id`);
      return { credential: 'bearer', actor: { role, id: sub.data }, organisation: organisation.data, scopes, schemes };
    }
    return { credential: 'bearer', actor: { role, id: sub.data }, scopes, schemes };
  };
}

/**
 * SMART scopes, v2 (`system/Task.cru`, `system/*.rs`) and v1 (`system/Task.read`, `.write`, `.*`):
 * does one of them grant `interaction` on `resourceType`?
 */
export function scopeGrants(scopes: readonly string[], resourceType: string, interaction: Interaction): boolean {
  return scopes.some((scope) => {
    const m = /^system\/([A-Za-z*]+)\.([a-z*]+)(\?.*)?$/.exec(scope);
    if (!m || (m[1] !== resourceType && m[1] !== '*')) return false;
    const perms = m[2]!;
    if (perms === '*') return true;
    if (perms === 'read') return interaction === 'r' || interaction === 's';
    if (perms === 'write') return interaction === 'c' || interaction === 'u' || interaction === 'd';
    return /^c?r?u?d?s?$/.test(perms) && perms.includes(interaction);
  });
}

export function requireScope(caller: Caller, resourceType: string, interaction: Interaction): void {
  if (!scopeGrants(caller.scopes, resourceType, interaction)) {
    const needed = `system/${resourceType}.${interaction}`;
    throw forbidden('Authorization', `the token's scopes do not include ${needed} (or a scope that covers it)`);
  }
}

export function maySee(caller: Caller, schemeId: string): boolean {
  return caller.schemes === '*' || caller.schemes.includes(schemeId);
}

export function requireScheme(caller: Caller, schemeId: string, expression: string): void {
  if (!maySee(caller, schemeId)) throw forbidden(expression, 'this client is not bound to that scheme');
}

export function requireRole<R extends ActorRole>(caller: Caller, roles: readonly R[], what: string): asserts caller is Caller & { actor: { role: R } } {
  if (!(roles as readonly ActorRole[]).includes(caller.actor.role)) throw forbidden('Authorization', `${what} is for ${roles.join(' or ')} tokens (this token's role is ${caller.actor.role})`);
}
