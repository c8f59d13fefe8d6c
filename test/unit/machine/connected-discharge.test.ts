// The case's side of connections: it keeps the latest word of each, and under
// connections.connectedNeedsAttendance a connected discharge needs an attended connection or a
// supervisor's override with a reason, refused in words otherwise.
import { describe, expect, it } from 'vitest';
import { parsePolicy, type PathwayEvent, type UnstampedEvent } from '../../../machines';
import { sampleMeasures } from '../../../machines/graph';
import type { ConnectionSummary } from '../../../machines/connection';
import { Case, LINK_WORKER, SUPERVISOR } from './driver';

const needsAttendance = parsePolicy({ connections: { connectedNeedsAttendance: true } });

function connection(over: Partial<ConnectionSummary> = {}): ConnectionSummary {
  return { connectionId: 'case-ref-graph:conn:svc-a', serviceId: 'svc-a', providerId: 'org-a', category: 'connecting', status: 'sent', proposedAt: 1, sentAt: 1, responseDueAt: 2, autoDeclined: false, nudgesSent: 0, attendances: 0, ...over };
}

const changed = (c: Case, summary: ConnectionSummary) => c.deliver({ type: 'CONNECTION.CHANGED', connection: summary, at: c.now } as PathwayEvent);

const discharge = (c: Case, extra: Partial<Extract<UnstampedEvent, { type: 'REVIEW.RECORD' }>> = {}) =>
  ({ type: 'REVIEW.RECORD', measures: sampleMeasures(c.policy), goalsMet: 'all', outcome: 'discharge', actor: LINK_WORKER, ...extra }) as UnstampedEvent;

describe('a case and its connections', () => {
  it('keeps the latest word of each connection, in any stage, and never lists the event to a host', () => {
    const c = new Case().accept();
    changed(c, connection());
    changed(c, connection({ status: 'accepted', respondedAt: 2 }));
    changed(c, connection({ connectionId: 'case-ref-graph:conn:svc-b', serviceId: 'svc-b' }));
    expect(c.context.connections?.map((x) => [x.serviceId, x.status])).toEqual([
      ['svc-a', 'accepted'],
      ['svc-b', 'sent'],
    ]);
    expect(c.refusal({ type: 'PLAN.DRAFT' } as never)?.reason).not.toContain('CONNECTION');
  });

  it('discharges as connected without attendance under the default policy', () => {
    const c = new Case().toReview();
    c.send(discharge(c));
    expect(c.dischargedAs).toBe('connected');
  });

  it('refuses a connected discharge without an attended connection when the policy asks for one, and says how to override', () => {
    const c = new Case({ policy: needsAttendance }).toReview();
    changed(c, connection({ status: 'noResponse', autoDeclined: true, nudgesSent: 2, endedAt: 3 }));
    expect(c.refusal(discharge(c))).toEqual({
      rule: 'connectedNeedsAttendance',
      reason: 'this scheme discharges as connected only once the person has attended a connection (none attended of 1); a supervisor may override with a reason (connectionOverride)',
    });
    // A link worker cannot override; a supervisor can, and the reason is kept with the review.
    expect(c.refusal(discharge(c, { connectionOverride: { reason: 'Joined a group on their own' } }))?.reason).toBe('only a supervisor may override the need for an attended connection');
    c.send(discharge(c, { connectionOverride: { reason: 'Joined a group on their own' }, actor: SUPERVISOR }));
    expect(c.dischargedAs).toBe('connected');
    expect(c.context.review?.connectionOverride).toEqual({ reason: 'Joined a group on their own', by: SUPERVISOR.id });
  });

  it('discharges as connected once the person attended one', () => {
    const c = new Case({ policy: needsAttendance }).toReview();
    changed(c, connection({ status: 'attending', respondedAt: 2, attendances: 1, firstAttendedAt: 3, lastAttendedAt: 3 }));
    expect(c.refusal(discharge(c))).toBeUndefined();
    c.send(discharge(c));
    expect(c.dischargedAs).toBe('connected');
  });
});
