// Who the signed-in person is to the console, from their ID token's claims, and what each role may do.
import { safeIdSchema, type CommandType } from '../machines';

export const CONSOLE_ROLES = ['supervisor', 'linkWorker', 'manager'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

/** How an IdP's claims name roles and schemes; every IdP spells them its own way. */
export interface ClaimMapping {
  /** The claim holding the person's roles (a string or an array of strings). */
  rolesClaim: string;
  /** The claim holding the scheme ids they may see. */
  schemesClaim: string;
  /** The IdP's role names to the console's; a name not listed maps to itself if it is a console role. */
  roleNames: Record<string, ConsoleRole>;
}

export const DEFAULT_CLAIM_MAPPING: ClaimMapping = { rolesClaim: 'roles', schemesClaim: 'schemes', roleNames: {} };

export interface SignedInUser {
  /** The ID token's `sub`: the actor id every command carries. */
  id: string;
  role: ConsoleRole;
  schemes: string[];
}

// One role per session, the most able first: a supervisor who is also a link worker acts as supervisor.
const PRECEDENCE: ConsoleRole[] = ['supervisor', 'manager', 'linkWorker'];
const isSafeId = (v: string) => safeIdSchema.safeParse(v).success;

const strings = (v: unknown): string[] => (typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** The user the claims describe, or why the console refuses them. */
export function userFromClaims(claims: Record<string, unknown>, mapping: ClaimMapping = DEFAULT_CLAIM_MAPPING): SignedInUser | { refused: string } {
  const sub = claims.sub;
  if (typeof sub !== 'string' || !isSafeId(sub)) return { refused: 'the account id is not one the engine can record' };
  const roles = strings(claims[mapping.rolesClaim])
    .map((r) => mapping.roleNames[r] ?? ((CONSOLE_ROLES as readonly string[]).includes(r) ? (r as ConsoleRole) : undefined))
    .filter((r): r is ConsoleRole => r !== undefined);
  const role = PRECEDENCE.find((r) => roles.includes(r));
  if (!role) return { refused: 'the account has no console role' };
  const schemes = strings(claims[mapping.schemesClaim]).filter(isSafeId);
  if (schemes.length === 0) return { refused: 'the account may see no scheme' };
  return { id: sub, role, schemes };
}

/** The moves only a supervisor may make; the workflow refuses them too, this refuses them first. */
export const SUPERVISOR_COMMANDS: ReadonlySet<CommandType> = new Set(['EXTENSION.APPROVE', 'EXTENSION.REFUSE', 'SAFEGUARDING.CLEAR', 'ESCALATION.ACK', 'DUPLICATE.RESOLVE']);

/** Commands the console offers a link worker (on their own cases; the workflow checks ownership). */
export const LINK_WORKER_COMMANDS: ReadonlySet<CommandType> = new Set(['TRIAGE.ACCEPT', 'CONTACT.ATTEMPT', 'SAFEGUARDING.RAISE', 'DISCHARGE']);

export function mayCommand(role: ConsoleRole, type: CommandType): boolean {
  // The case's own work is its allocated link worker's (the workflow refuses anyone else); a
  // supervisor may still raise a concern or discharge.
  if (role === 'supervisor') return SUPERVISOR_COMMANDS.has(type) || type === 'SAFEGUARDING.RAISE' || type === 'DISCHARGE';
  if (role === 'linkWorker') return LINK_WORKER_COMMANDS.has(type);
  return false;
}

/** The engine's actor for a console user: always from the session, never from the request. */
export function actorOf(user: SignedInUser): { role: 'supervisor' | 'linkWorker'; id: string } | undefined {
  if (user.role === 'manager') return undefined;
  return { role: user.role, id: user.id };
}
