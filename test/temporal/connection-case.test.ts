// A whole case with two connections through the SDK, a real worker and the time-skipping server:
// one provider accepts at day 2 and the person attends three times; the other never answers, is
// nudged at days 7 and 12 and declined for at day 14, the link worker told with the next match.
// The review sees both, the case is discharged connected under a policy that needs an attended
// connection, and the report's connection figures equal the ones worked out by hand below.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { CommandRefusedError, ConnectionRefusedError, PathwayClient, PersonKey } from '../../client';
import { buildCohortReport } from '../../evidence/report';
import { DAY, WEEK } from '../../machines';
import { digitFree } from '../../machines/ids';
import { pathwayWorkerOnTimeSkipping, linkWorker, policy, refer, referral, setRoster, swemwbs, until } from '../support/pathway';
import { testDirectory } from '../support/directory';

describe('a case with two connections (time-skipping)', () => {
  const schemeId = `conn-${digitFree(randomUUID().slice(0, 8))}`;
  const h = pathwayWorkerOnTimeSkipping('conn-case', { directory: testDirectory(schemeId) });

  it('accepts and attends one, auto-declines the other at day 14 after two nudges, and reports both', async () => {
    const pol = policy({ schemeId, connections: { connectedNeedsAttendance: true } });
    await setRoster(h.env.client, h.taskQueue, schemeId, pol.caseloadCap, [{ id: 'lw-1' }]);
    const client = await PathwayClient.fromClient(h.env.client, { personKey: PersonKey.generate(), taskQueue: h.taskQueue, policies: { [schemeId]: pol } });
    const handle = await refer(h.env.client, h.taskQueue, referral({ schemeId }), pol);
    const caseId = handle.workflowId;
    await until(handle, (v) => v.stage === 'triage');
    await client.acceptReferral(caseId, { actor: linkWorker });
    await client.waitFor(caseId, 'firstContact');
    await client.recordContactAttempt(caseId, { outcome: 'reached', channel: 'phone', actor: linkWorker });
    await client.recordFirstVisit(caseId, { location: 'home', durationMinutes: 60, measures: [swemwbs([2, 2, 3, 2, 2, 3, 2])], barriers: [], actor: linkWorker });
    await client.draftPlan(caseId, {
      goals: [{ id: 'g1', text: 'Out of the house twice a week' }],
      activities: [
        { id: 'a1', category: 'connecting', name: 'Lunch club' },
        { id: 'a2', category: 'active', name: 'Walking group' },
      ],
      barrierActions: [],
      tier: 'standard',
      volunteer: false,
      actor: linkWorker,
    });
    await client.agreePlan(caseId, { party: 'person', actor: { role: 'person', id: 'self' } });
    await client.agreePlan(caseId, { party: 'linkWorker', actor: linkWorker });

    const lunch = await client.proposeConnection(caseId, { serviceId: 'svc-lunch-club', category: 'connecting', providerId: 'org-brandywell-ca', actor: linkWorker });
    const walk = await client.proposeConnection(caseId, { serviceId: 'svc-walking-group', category: 'active', providerId: 'org-walk-well', actor: linkWorker });
    expect([lunch.status, walk.status]).toEqual(['sent', 'sent']);
    await expect(client.proposeConnection(caseId, { serviceId: 'svc-lunch-club', category: 'connecting', actor: linkWorker })).rejects.toBeInstanceOf(ConnectionRefusedError);

    const provider = { role: 'provider', id: 'staff-bca' } as const;
    await h.env.sleep(2 * DAY);
    await client.respondToConnection(lunch.connectionId, { accept: true, actor: provider });
    // Attendance before acceptance is refused for the other, in words.
    await expect(client.recordAttendance(walk.connectionId, { actor: provider })).rejects.toThrow(/a connection that is sent takes RESPOND, not ATTEND/);
    for (const day of [5, 12, 19]) {
      await h.env.sleep(day * DAY - ((await h.env.currentTimeMs()) - lunch.sentAt!));
      await client.recordAttendance(lunch.connectionId, { actor: provider });
    }
    const walked = await client.getConnection(walk.connectionId);
    expect(walked).toMatchObject({ status: 'noResponse', autoDeclined: true, nudgesSent: 2 });
    // Nudged at days 7 and 12 and declined at 14, the link worker told with the next active service.
    const toWalk = h.sink.messages.filter((m) => m.key.startsWith(`${walk.connectionId}:`));
    expect(toWalk.filter((m) => m.channel === 'provider').map((m) => (m.body as { kind: string }).kind)).toEqual(['referral', 'nudge', 'nudge']);
    const told = toWalk.filter((m) => m.channel === 'supervisor').map((m) => m.body as { type: string; connection: { suggestions: Array<{ serviceId: string }> } });
    expect(told.map((t) => t.type)).toEqual(['CONNECTION_NO_RESPONSE']);
    expect(told[0]!.connection.suggestions.map((s) => s.serviceId)).toEqual(['svc-chair-yoga']);

    // The review sees both connections and where they stand.
    await h.env.sleep(12 * WEEK);
    const atReview = await client.waitFor(caseId, 'review');
    expect(atReview.connections?.map((c) => [c.serviceId, c.status, c.attendances])).toEqual([
      ['svc-lunch-club', 'attending', 3],
      ['svc-walking-group', 'noResponse', 0],
    ]);
    expect(await client.listConnections(caseId)).toEqual(atReview.connections);

    const review = { measures: [swemwbs([3, 3, 3, 3, 3, 3, 3])], goalsMet: 'all' as const, outcome: 'discharge' as const, actor: linkWorker };
    const discharged = await client.recordReview(caseId, review);
    expect(discharged.discharge?.reason).toBe('connected');
    await expect(client.recordReview(caseId, review)).rejects.toBeInstanceOf(CommandRefusedError);

    // The report's figures, by hand: the lunch club answered after 2 days, within its 14; the walking
    // group never did. One of two settled answers within the deadline; one accepted, attended.
    const record = await client.outcomeRecord(caseId);
    expect(record.connections).toHaveLength(2);
    const { connections: figures } = buildCohortReport([record], { schemeId });
    expect(figures.total).toBe(2);
    expect(figures.responseDays.n).toBe(1);
    expect(figures.responseDays.median).toBeCloseTo(2, 3);
    expect(figures.answered).toBe(1);
    expect(figures.withinDeadline).toBe(1);
    expect(figures.autoDeclined).toBe(1);
    expect(figures.withinDeadlineShare).toBe(0.5);
    expect(figures.attendance).toEqual({ accepted: 1, attended: 1, rate: 1, attendances: 3 });
    expect(figures.byCategory.filter((c) => c.proposed > 0)).toEqual([
      { category: 'connecting', proposed: 1, accepted: 1, attended: 1 },
      { category: 'active', proposed: 1, accepted: 0, attended: 0 },
    ]);
    expect(figures.providers.map((p) => [p.providerId, p.sent, p.answered, p.autoDeclined])).toEqual([
      ['org-brandywell-ca', 1, 1, 0],
      ['org-walk-well', 1, 0, 1],
    ]);

    // `RECORD_HISTORIES=1` keeps the declined connection's history and the whole case's for the replay test
    // (test/temporal/replay.test.ts replays every file in test/fixtures/histories).
    if (process.env.RECORD_HISTORIES === '1') {
      for (const [name, id] of [['connection-nudged-declined', walk.connectionId], ['case-with-connections', caseId]] as const) {
        const { events } = await h.env.client.workflow.getHandle(id).fetchHistory();
        writeFileSync(join(__dirname, '..', 'fixtures', 'histories', `${name}.history.bin`), temporal.api.history.v1.History.encode({ events }).finish());
      }
    }
  });

  it("takes a connection's deadline and nudges from the case's own policy, not the proposing client's", async () => {
    // Referred under a policy whose connections block differs from the default (14 days, nudges at 7 and 12)...
    const own = policy({ schemeId, connections: { responseDeadline: '3d', nudges: ['1d', '2d'] } });
    const handle = await refer(h.env.client, h.taskQueue, referral({ schemeId }), own);
    await until(handle, (v) => v.stage === 'triage');
    // ...and proposed by a client that has no policy for the scheme (it would use the defaults).
    const bare = await PathwayClient.fromClient(h.env.client, { personKey: PersonKey.generate(), taskQueue: h.taskQueue });
    expect(bare.policyFor(schemeId).connections.responseDeadline).toBe(14 * DAY);
    expect((await bare.getCase(handle.workflowId)).connectionTimes).toEqual({ responseDeadline: 3 * DAY, nudges: [DAY, 2 * DAY] });
    const c = await bare.proposeConnection(handle.workflowId, { serviceId: 'svc-lunch-club', category: 'connecting', actor: linkWorker });
    expect(c.responseDueAt! - c.sentAt!).toBe(3 * DAY);
    expect(c.nudgesDue).toEqual([c.sentAt! + DAY, c.sentAt! + 2 * DAY]);
    // The workflow keeps to it: nudged twice and declined for the provider at day 3, not 14.
    await h.env.sleep(3 * DAY + 60_000);
    const ended = await bare.getConnection(c.connectionId);
    expect(ended).toMatchObject({ status: 'noResponse', autoDeclined: true, nudgesSent: 2 });
    expect(ended.endedAt! - ended.sentAt!).toBeLessThan(4 * DAY);
  });
});
