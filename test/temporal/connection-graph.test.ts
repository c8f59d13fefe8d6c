// Every path of the connection machine to every end state (machines/connection-graph.ts), each
// driven through the real connection workflow and worker on the time-skipping server: nudges at
// days 7 and 12 and the decline at day 14 fire as durable timers, commands go in as updates.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CONNECTION_END_STATUSES, type ConnectionEvent, type ConnectionStatus } from '../../machines/connection';
import { connectionPaths } from '../../machines/connection-graph';
import { digitFree } from '../../machines/ids';
import { DAY } from '../../machines/policy';
import { connectionCommandUpdate, connectionViewQuery, connectionWorkflowId, type ConnectionView, type ConnectionWorkflowInput } from '../../workflows/connection-definitions';
import type { pathwayConnection } from '../../workflows/connection';
import { pathwayWorkerOnTimeSkipping, openScheme, refer, referral, until, view } from '../support/pathway';
import { testDirectory } from '../support/directory';

describe('connection machine paths through the real workflow (time-skipping)', () => {
  const schemeId = `conn-${digitFree(randomUUID().slice(0, 8))}`;
  const h = pathwayWorkerOnTimeSkipping('conn-graph', { directory: testDirectory(schemeId) });

  it('reaches every end state by every simple path, with the provider nudged and the link worker told as the machine says', async () => {
    const pol = await openScheme(h.env.client, h.taskQueue, schemeId);
    const caseHandle = await refer(h.env.client, h.taskQueue, referral({ schemeId }), pol);
    const caseId = caseHandle.workflowId;
    await until(caseHandle, (v) => v.stage === 'triage');

    const paths = connectionPaths();
    expect(paths.length).toBe(19);
    const reached = new Set<ConnectionStatus>();
    for (const [index, path] of paths.entries()) {
      const serviceId = `svc-path-${digitFree(String(index).padStart(2, '0'))}`;
      const connectionId = connectionWorkflowId(caseId, serviceId);
      const input: ConnectionWorkflowInput = {
        connectionId,
        caseId,
        schemeId,
        serviceId,
        providerId: `org-${serviceId}`,
        category: 'connecting',
        responseDeadline: pol.connections.responseDeadline,
        nudges: pol.connections.nudges,
        match: { needs: ['connecting'] },
        tried: [],
        proposedBy: { role: 'linkWorker', id: 'lw-1' },
      };
      const handle = await h.env.client.workflow.start<typeof pathwayConnection>('pathwayConnection', { workflowId: connectionId, taskQueue: h.taskQueue, args: [input] });
      const read = () => handle.query(connectionViewQuery);
      const poll = async (done: (v: ConnectionView) => boolean) => {
        for (let i = 0; i < 200; i++) {
          const v = await read().catch(() => undefined);
          if (v && done(v)) return v;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`${connectionId} never got there: ${JSON.stringify(await read())}`);
      };
      const skipTo = async (at: number) => {
        const now = await h.env.currentTimeMs();
        if (at > now) await h.env.sleep(at - now + 1000);
      };

      for (const { event } of path.steps.slice(1) as Array<{ event: ConnectionEvent }>) {
        const before = await poll((v) => v.status !== 'proposed');
        switch (event.type) {
          case 'SEND':
            expect(before.status).toBe('sent');
            expect(before.responseDueAt! - before.sentAt!).toBe(14 * DAY);
            break;
          case 'NUDGE.DUE':
            await skipTo(before.nudgesDue[0]!);
            await poll((v) => v.nudgesSent === before.nudgesSent + 1);
            break;
          case 'DEADLINE.RESPONSE':
            await skipTo(before.responseDueAt!);
            await poll((v) => v.status === 'noResponse');
            break;
          default: {
            const { at: _at, ...command } = event;
            await handle.executeUpdate(connectionCommandUpdate, { args: [command] });
          }
        }
      }
      const final = await handle.result();
      expect(final.status, path.steps.map((s) => s.event.type).join(' > ')).toBe(path.state.value);
      expect(final.nudgesSent).toBe(path.state.context.nudgesSent);
      expect(final.attendances).toBe(path.state.context.attendances);
      reached.add(final.status);

      const mine = h.sink.messages.filter((m) => m.key.startsWith(`${connectionId}:`));
      const toProvider = mine.filter((m) => m.channel === 'provider').map((m) => (m.body as { kind: string }).kind);
      expect(toProvider).toEqual(['referral', ...Array<string>(final.nudgesSent).fill('nudge')]);
      const told = mine.filter((m) => m.channel === 'supervisor').map((m) => m.body as { type: string; audience: string; connection: { suggestions: Array<{ serviceId: string }> } });
      const expectedTold = { declined: 'CONNECTION_DECLINED', noResponse: 'CONNECTION_NO_RESPONSE', stopped: 'CONNECTION_STOPPED', completed: undefined }[final.status as (typeof CONNECTION_END_STATUSES)[number]];
      expect(told.map((t) => t.type)).toEqual(expectedTold ? [expectedTold] : []);
      if (final.status === 'declined' || final.status === 'noResponse') {
        // The next match leaves out the service just tried.
        expect(told[0]!.audience).toBe('linkWorker');
        expect(told[0]!.connection.suggestions.length).toBeGreaterThan(0);
        expect(told[0]!.connection.suggestions.map((s) => s.serviceId)).not.toContain(serviceId);
        expect(final.suggestions).toEqual(told[0]!.connection.suggestions);
      }
    }
    expect([...reached].sort()).toEqual([...CONNECTION_END_STATUSES].sort());
    // The case heard of every connection and where each ended.
    const known = await until(caseHandle, (v) => (v.connections ?? []).filter((c) => (CONNECTION_END_STATUSES as readonly string[]).includes(c.status)).length === paths.length);
    expect(new Set(known.connections!.map((c) => c.status))).toEqual(reached);
    expect((await view(caseHandle)).stage).toBe('triage');
  });
});
