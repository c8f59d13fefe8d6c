// The one auth layer: a console session and a bearer token become the same Caller, and what a
// role may do through the console is decided once, from that Caller.
import { describe, expect, it } from 'vitest';
import { callerFromSession, mayCallerCommand, type Caller } from '../../../http/auth';

describe('callers from a console session', () => {
  it('carries the session\'s role, id and schemes, no FHIR scopes, and marks the credential', () => {
    expect(callerFromSession({ id: 'sup-1', role: 'supervisor', schemes: ['s1'] })).toEqual({ credential: 'session', actor: { role: 'supervisor', id: 'sup-1' }, scopes: [], schemes: ['s1'] });
    // A manager reads only: no actor, so no caller that could send a command.
    expect(callerFromSession({ id: 'mgr-1', role: 'manager', schemes: ['s1'] })).toBeUndefined();
  });

  it('lets a supervisor, not a link worker, make supervisor-only moves; a bearer caller makes none through the console', () => {
    const supervisor = callerFromSession({ id: 'sup-1', role: 'supervisor', schemes: ['s1'] });
    const linkWorker = callerFromSession({ id: 'lw-1', role: 'linkWorker', schemes: ['s1'] });
    expect(mayCallerCommand(supervisor, 'EXTENSION.APPROVE')).toBe(true);
    expect(mayCallerCommand(linkWorker, 'EXTENSION.APPROVE')).toBe(false);
    expect(mayCallerCommand(linkWorker, 'TRIAGE.ACCEPT')).toBe(true);
    expect(mayCallerCommand(undefined, 'DISCHARGE')).toBe(false);
    const bearer: Caller = { credential: 'bearer', actor: { role: 'supervisor', id: 'sup-1' }, scopes: ['system/*.*'], schemes: '*' };
    expect(mayCallerCommand(bearer, 'EXTENSION.APPROVE')).toBe(false);
  });
});
