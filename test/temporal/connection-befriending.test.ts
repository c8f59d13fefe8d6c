// The befriending handoff as a connection, through the SDK, a real worker and the time-skipping
// server: a review hands the person off, the befriending request starts a connection to the
// scheme's befriending service that the case lists among its connections, and the provider's
// answer there is the case's BEFRIENDING.RESULT: an acceptance hands the person off (a host's own
// result after it changes nothing), a decline sends the case back to review with a service gap,
// and a provider who never answers leaves the case to its own befriending deadline, as before.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { CommandRefusedError, PathwayClient, PersonKey } from '../../client';
import { DEFAULT_BEFRIENDING_SERVICE, WEEK, type SchemePolicy } from '../../machines';
import { digitFree } from '../../machines/ids';
import { allocated, driveTo, pathwayWorkerOnTimeSkipping, policy, refer, referral, send, setRoster, until } from '../support/pathway';
import { recordRuntimeLogs } from '../support/temporal';

// Before the harness starts its worker: what the connections log, read by the last test.
const logs = recordRuntimeLogs();

describe('the befriending handoff as a connection (time-skipping)', () => {
  const schemeId = `befr-${digitFree(randomUUID().slice(0, 8))}`;
  const h = pathwayWorkerOnTimeSkipping('conn-befriend');
  const provider = { role: 'provider', id: 'staff-befriend' } as const;
  let pol: SchemePolicy | undefined;
  let sdk: PathwayClient | undefined;

  /** A case of the scheme handed off to befriending at its review, and its befriending connection's id. */
  const handedOff = async () => {
    if (!pol || !sdk) {
      pol = policy({ schemeId });
      await setRoster(h.env.client, h.taskQueue, schemeId, pol.caseloadCap, [{ id: 'lw-1' }]);
      sdk = await PathwayClient.fromClient(h.env.client, { personKey: PersonKey.generate(), taskQueue: h.taskQueue, policies: { [schemeId]: pol } });
    }
    const client = sdk;
    const handle = await refer(h.env.client, h.taskQueue, referral({ schemeId }), pol);
    const lw = allocated(await driveTo(handle, 'review', { env: h.env }));
    const v = await send(handle, 'REVIEW.RECORD', { measures: [], goalsMet: 'some', outcome: 'befriend', actor: lw });
    expect(v.stage).toBe('befriendingHandoff');
    const connectionId = `${handle.workflowId}:conn:${DEFAULT_BEFRIENDING_SERVICE}`;
    // The request goes out and the connection tells the case it was sent.
    const listed = await until(handle, (x) => (x.connections ?? []).some((c) => c.connectionId === connectionId && c.status === 'sent'));
    expect(listed.connections?.map((c) => [c.serviceId, c.category, c.status])).toEqual([[DEFAULT_BEFRIENDING_SERVICE, 'connecting', 'sent']]);
    expect(h.sink.messages.filter((m) => m.caseId === handle.workflowId && m.channel === 'befriending')).toHaveLength(1);
    expect(h.sink.messages.some((m) => m.key === `${connectionId}:referral-0` && m.channel === 'provider')).toBe(true);
    return { client, handle, lw, connectionId };
  };

  it('hands the person off when the befriending provider accepts; a host result after that changes nothing', async () => {
    const { client, handle, lw, connectionId } = await handedOff();
    await client.respondToConnection(connectionId, { accept: true, actor: provider });
    const done = await until(handle, (v) => v.stage === 'discharged');
    expect(done.discharge?.reason).toBe('handedOff');
    expect(done.serviceGaps).toEqual([]);
    const result = done.timeline.filter((t) => t.event === 'BEFRIENDING.RESULT');
    expect(result.map((t) => t.actor)).toEqual([{ role: 'host', id: DEFAULT_BEFRIENDING_SERVICE }]);
    expect(done.connections?.find((c) => c.connectionId === connectionId)?.status).toBe('accepted');

    // The host's own answer comes second: refused as for any closed case, the case as it was.
    await expect(client.recordBefriendingResult(handle.workflowId, { result: 'unavailable', actor: lw })).rejects.toBeInstanceOf(CommandRefusedError);
    const after = await client.getCase(handle.workflowId);
    expect([after.stage, after.discharge?.reason, after.sequence]).toEqual(['discharged', 'handedOff', done.sequence]);

    // `RECORD_HISTORIES=1` keeps this case's history for the replay test: a handoff answered by its
    // connection, under the `befriending-connection` patch.
    if (process.env.RECORD_HISTORIES === '1') {
      const { events } = await handle.fetchHistory();
      writeFileSync(join(__dirname, '..', 'fixtures', 'histories', 'befriending-connection-accepted.history.bin'), temporal.api.history.v1.History.encode({ events }).finish());
    }
  });

  it('returns the case to review with a befriending service gap when the provider declines', async () => {
    const { client, handle, connectionId } = await handedOff();
    await client.respondToConnection(connectionId, { accept: false, reason: 'No volunteers in this area', actor: provider });
    const back = await until(handle, (v) => v.stage === 'review');
    expect(back.serviceGaps.map((g) => g.kind)).toEqual(['befriending']);
    expect(back.openEscalations.map((e) => e.type)).toContain('SERVICE_GAP');
    expect(back.timeline.filter((t) => t.event === 'BEFRIENDING.RESULT')).toHaveLength(1);
    // The link worker hears of the decline as from any connection.
    expect(h.sink.messages.filter((m) => m.key.startsWith(`${connectionId}:`) && m.channel === 'supervisor').map((m) => (m.body as { type: string }).type)).toEqual([
      'CONNECTION_DECLINED',
    ]);
  });

  it('leaves a provider who never answers to the befriending deadline: a service gap, once', async () => {
    const { client, handle, connectionId } = await handedOff();
    const due = (await client.getCase(handle.workflowId)).deadlines.find((d) => d.event.type === 'DEADLINE.BEFRIENDING')!.dueAt;
    expect(due - (await h.env.currentTimeMs())).toBeLessThanOrEqual(pol!.deadlines.befriendingWait);
    await h.env.sleep(pol!.deadlines.befriendingWait + WEEK);
    const gap = await until(handle, (v) => v.stage === 'review' && v.connections?.find((c) => c.connectionId === connectionId)?.status === 'noResponse');
    expect(gap.timeline.map((t) => t.event)).toContain('DEADLINE.BEFRIENDING');
    // The case's own deadline came first: the connection's lapse after it is not a second answer.
    expect(gap.timeline.filter((t) => t.event === 'BEFRIENDING.RESULT')).toEqual([]);
    expect(gap.serviceGaps.map((g) => g.kind)).toEqual(['befriending']);
    const connection = await client.getConnection(connectionId);
    expect(connection).toMatchObject({ status: 'noResponse', autoDeclined: true, nudgesSent: 2 });
  });

  it('takes the provider\'s answer given during a safeguarding hold once the hold is cleared', async () => {
    const { client, handle, lw, connectionId } = await handedOff();
    const held = await send(handle, 'SAFEGUARDING.RAISE', { category: 'selfNeglect', actor: lw });
    expect(held.stage).toBe('onHold');
    await client.respondToConnection(connectionId, { accept: true, actor: provider });
    // The case hears of it while held, and keeps it: a held case takes no befriending result.
    const heard = await until(handle, (v) => v.connections?.find((c) => c.connectionId === connectionId)?.status === 'accepted');
    expect(heard.stage).toBe('onHold');
    expect(heard.timeline.filter((t) => t.event === 'BEFRIENDING.RESULT')).toEqual([]);
    await send(handle, 'SAFEGUARDING.CLEAR', { actor: { role: 'supervisor', id: 'sup-1' } });
    const done = await until(handle, (v) => v.stage === 'discharged');
    expect(done.discharge?.reason).toBe('handedOff');
    expect(done.serviceGaps).toEqual([]);
  });

  it("gives the handoff's connection the host's own answer, so its provider is not nudged for a person already handed off", async () => {
    const { client, handle, lw, connectionId } = await handedOff();
    await client.recordBefriendingResult(handle.workflowId, { result: 'accepted', service: 'Befriending service', actor: lw });
    const done = await until(handle, (v) => v.stage === 'discharged');
    expect(done.discharge?.reason).toBe('handedOff');
    expect(await client.getConnection(connectionId)).toMatchObject({ status: 'accepted', nudgesSent: 0 });
    // Past every nudge and the provider's deadline: nothing more goes to the provider or the link worker.
    await h.env.sleep(pol!.deadlines.befriendingWait + WEEK);
    const later = h.sink.messages.filter((m) => m.key.startsWith(`${connectionId}:`)).map((m) => `${m.channel}:${m.key.slice(connectionId.length + 1)}`);
    expect(later).toEqual(['provider:referral-0']);
  });

  it('notes once, without a warning, that the case it outlived has closed, and stops telling it', async () => {
    const { client, handle, connectionId } = await handedOff();
    await client.respondToConnection(connectionId, { accept: true, actor: provider });
    // The acceptance hands the person off: the case is discharged and its workflow closes. Asked
    // without awaiting its result, which would let the test server skip time and the connection lapse.
    expect((await until(handle, (v) => v.stage === 'discharged')).discharge?.reason).toBe('handedOff');
    for (let i = 0; (await handle.describe()).status.name === 'RUNNING'; i++) {
      if (i > 600) throw new Error('the discharged case did not close');
      await new Promise((r) => setTimeout(r, 100));
    }
    // The connection goes on: two attendances and its completion, none of which the case can hear.
    await client.recordAttendance(connectionId, { actor: provider });
    await client.recordAttendance(connectionId, { actor: provider });
    await client.completeConnection(connectionId, { actor: provider });
    const connection = h.env.client.workflow.getHandle(connectionId);
    expect((await connection.result()).status).toBe('completed');
    const events = (await connection.fetchHistory()).events ?? [];

    // `RECORD_HISTORIES=1` keeps the connection's history for the replay test (written before the
    // `connection-case-closed` patch, it told the closed case of every change).
    if (process.env.RECORD_HISTORIES === '1') {
      writeFileSync(join(__dirname, '..', 'fixtures', 'histories', 'connection-outlived-case.history.bin'), temporal.api.history.v1.History.encode({ events }).finish());
    }

    // Told of the referral going out and of the acceptance while the case ran; the first attendance
    // found it closed, and nothing after that was sent to it.
    const signals = events.filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes).length;
    const failed = events.filter((e) => e.signalExternalWorkflowExecutionFailedEventAttributes).length;
    expect([signals, failed]).toEqual([3, 1]);
    const about = logs.filter((l) => l.meta?.['connectionId'] === connectionId);
    expect(about.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([]);
    expect(about.filter((l) => /case/.test(l.message)).map((l) => [l.level, l.message])).toEqual([['info', 'connection stops telling its case: the case has closed']]);
  });
});
