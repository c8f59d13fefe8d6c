// The console's pure parts: claims to a signed-in user, what each role may do, and pages that
// escape what they show and keep lists to case ids, ages and stages.
import { describe, expect, it } from 'vitest';
import type { CaseSummary } from '../../../client';
import { actorOf, mayCommand, userFromClaims } from '../../../console/roles';
import { caseListTable, measureChart } from '../../../console/views';

describe('console roles', () => {
  it('maps ID token claims to one role and the schemes named, most able role first', () => {
    expect(userFromClaims({ sub: 'sup-1', roles: ['linkWorker', 'supervisor'], schemes: ['a', 'b'] })).toEqual({ id: 'sup-1', role: 'supervisor', schemes: ['a', 'b'] });
    expect(userFromClaims({ sub: 'x', groups: 'sp-leads', sp: 'a' }, { rolesClaim: 'groups', schemesClaim: 'sp', roleNames: { 'sp-leads': 'supervisor' } })).toEqual({
      id: 'x',
      role: 'supervisor',
      schemes: ['a'],
    });
  });

  it('refuses accounts without a usable id, a role or a scheme', () => {
    expect(userFromClaims({ sub: 'has space', roles: ['supervisor'], schemes: ['a'] })).toHaveProperty('refused');
    expect(userFromClaims({ sub: 'u', roles: ['admin'], schemes: ['a'] })).toHaveProperty('refused');
    expect(userFromClaims({ sub: 'u', roles: ['supervisor'], schemes: [] })).toHaveProperty('refused');
  });

  it('keeps the supervisor-only moves from link workers and every command from managers', () => {
    for (const t of ['EXTENSION.APPROVE', 'EXTENSION.REFUSE', 'SAFEGUARDING.CLEAR', 'ESCALATION.ACK', 'DUPLICATE.RESOLVE'] as const) {
      expect(mayCommand('supervisor', t)).toBe(true);
      expect(mayCommand('linkWorker', t)).toBe(false);
      expect(mayCommand('manager', t)).toBe(false);
    }
    expect(mayCommand('linkWorker', 'CONTACT.ATTEMPT')).toBe(true);
    expect(mayCommand('supervisor', 'CONTACT.ATTEMPT')).toBe(false);
    expect(actorOf({ id: 'lw-1', role: 'linkWorker', schemes: ['a'] })).toEqual({ role: 'linkWorker', id: 'lw-1' });
    expect(actorOf({ id: 'm', role: 'manager', schemes: ['a'] })).toBeUndefined();
  });
});

describe('console views', () => {
  it('escapes what it shows', () => {
    const c: CaseSummary = { caseId: 'case-<b>"x"', referralId: 'r', escalated: false, possibleDuplicate: false, overdue: false, open: true, startedAt: 0 };
    const html = caseListTable({ base: '/console', now: 86_400_000 * 3 }, [c], 'Cases');
    expect(html).not.toContain('<b>');
    expect(html).toContain('case-&#60;b&#62;&#34;x&#34;');
    expect(html).toContain('3 d');
    expect(measureChart('SWEMWBS', [{ at: 0, score: 15, label: '<baseline>' }])).not.toContain('<baseline>');
  });
});
