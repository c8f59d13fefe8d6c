// The one auth layer of the HTTP app: a request becomes a `Caller` either from its bearer token
// (`/fhir`, host systems) or from its console session (`/console`, people signed in through OIDC).
// Each prefix accepts only its own credential, so a session cookie opens no FHIR endpoint and a
// token opens no console page. What a role may do is decided here, once, for both.
import type { CommandType } from '../machines';
import { actorOf, mayCommand, type SignedInUser } from '../console/roles';
import type { Caller } from '../gateway/auth';

export { authenticator, requireRole, requireScheme, requireScope, maySee, type AuthOptions, type Caller, type Credential } from '../gateway/auth';

/**
 * The caller a console session acts as, or undefined for a role that acts on no case (a manager
 * reads only). Scopes are the bearer world's; a session grants none, so no FHIR check passes on it.
 */
export function callerFromSession(user: SignedInUser): Caller | undefined {
  const actor = actorOf(user);
  return actor && { credential: 'session', actor, scopes: [], schemes: user.schemes };
}

/** May this caller send `command` through the console? Supervisor-only moves are refused here. */
export function mayCallerCommand(caller: Caller | undefined, command: CommandType): boolean {
  if (!caller || caller.credential !== 'session') return false;
  const role = caller.actor.role;
  return (role === 'supervisor' || role === 'linkWorker') && mayCommand(role, command);
}

