// A directory re-import that drops a service while connections to it are open, through the real
// path: the sample directory imported into a SQLite file with `pathway directory import`, a worker
// reading that file, connections proposed through the SDK on the dev server (the connections are
// found by a visibility query), then a re-import without two of the services. The link worker of
// each open connection to a removed service is told with the next match; the one still waiting
// for its provider stops, the accepted one stays open; another scheme's connection to a service of
// the same id, and a connection to a service still listed, hear nothing.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathwayClient } from '../../client';
import { EXIT, runCli } from '../../client/cli';
import { openDirectory, type SqlDirectory } from '../../directory';
import { parsePolicy } from '../../machines';
import { SERVICE_REMOVED_REASON } from '../../machines/connection';
import { CONNECTION_NOTICE_TYPES } from '../../machines/notices';
import { pathwayWorkerOnDevServer, waitForOpenConnections } from '../support/pathway';
import { hostReferral, lw, poll, uniqueScheme } from './client.harness';

const SAMPLE = join(__dirname, '../../directory/sample/services.json');

describe('a service removed from the directory while connections to it are open', () => {
  const scheme = uniqueScheme('removed');
  const other = uniqueScheme('removedelse');
  const personKey = randomBytes(32).toString('base64');
  const policies = { [scheme]: parsePolicy({ schemeId: scheme }), [other]: parsePolicy({ schemeId: other }) };
  const dir = mkdtempSync(join(tmpdir(), 'pathway-removed-'));
  const db = join(dir, 'directory.sqlite');
  let directory: SqlDirectory;
  let env: Record<string, string>;

  // The directory opens before the worker starts and closes after it stops (hooks registered before the worker's).
  beforeAll(async () => {
    directory = await openDirectory(db);
  });
  afterAll(async () => {
    await directory?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const dev = pathwayWorkerOnDevServer('conn-removed', { directory: () => directory });
  const { taskQueue } = dev;
  beforeAll(() => {
    env = {
      TEMPORAL_ADDRESS: dev.server.address,
      TEMPORAL_NAMESPACE: dev.server.namespace,
      PATHWAY_TASK_QUEUE: taskQueue,
      PATHWAY_CODEC_KEY_FILE: join(__dirname, '..', 'fixtures', 'codec-test-keys.json'),
      PATHWAY_PERSON_KEY: personKey,
      PATHWAY_DIRECTORY_DB: db,
    };
  });

  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (s) => out.push(s), err: (s) => err.push(s), env, cwd: dir, connect: (o) => PathwayClient.connect({ ...o, policies }) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  /** Waits until the connection's workflow has taken `n` serviceRemoved signals in a completed task. */
  const tookSignals = (workflowId: string, n: number) =>
    poll(
      async () => (await dev.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [],
      (events) => {
        const signals = events.flatMap((e, i) => (e.workflowExecutionSignaledEventAttributes?.signalName === 'serviceRemoved' ? [i] : []));
        const last = signals[n - 1];
        return last !== undefined && events.slice(last).some((e) => e.workflowTaskCompletedEventAttributes);
      },
      `${n} serviceRemoved signals taken`,
    );

  it('tells the link worker with the next match, stops the connection still waiting and keeps the accepted one', async () => {
    for (const s of [scheme, other]) {
      const imported = await cli('directory', 'import', SAMPLE, '--scheme', s);
      expect(imported.code, imported.err).toBe(EXIT.ok);
    }
    // Three services meeting the same need: two to remove, one that stays listed.
    const [waiting, going, staying] = (await directory.match({ schemeId: scheme, needs: ['connecting'], limit: 3, recordUnmet: false })).map((m) => m.serviceId);
    expect(staying).toBeDefined();

    const client = await PathwayClient.connect({ env, taskQueue, policies });
    await client.setRoster(scheme, [{ id: lw.id }]);
    await client.setRoster(other, [{ id: lw.id }]);
    const { case: c } = await client.refer(hostReferral(scheme));
    const { case: elsewhere } = await client.refer(hostReferral(other));
    const propose = (caseId: string, serviceId: string) => client.proposeConnection(caseId, { serviceId, category: 'connecting', actor: lw });
    const toWaiting = await propose(c.caseId, waiting!);
    const toGoing = await propose(c.caseId, going!);
    const toStaying = await propose(c.caseId, staying!);
    const otherScheme = await propose(elsewhere.caseId, waiting!);
    await client.respondToConnection(toGoing.connectionId, { accept: true, actor: { role: 'provider', id: 'staff-1' } });
    await client.recordAttendance(toGoing.connectionId, { actor: { role: 'provider', id: 'staff-1' } });

    // The import finds open connections through visibility, which lags their start.
    const listed = [toWaiting.connectionId, toGoing.connectionId, toStaying.connectionId];
    await waitForOpenConnections(dev.client, scheme, taskQueue, (ids) => listed.every((id) => ids.includes(id)), 'the connections listed as open');

    // The council's next export no longer lists two of them.
    const services = JSON.parse(readFileSync(SAMPLE, 'utf8')) as Array<{ id: string }>;
    writeFileSync(join(dir, 'next.json'), JSON.stringify(services.filter((s) => s.id !== waiting && s.id !== going)));
    const reimported = await cli('directory', 'import', 'next.json', '--scheme', scheme);
    expect(reimported.code, reimported.err).toBe(EXIT.ok);
    expect(reimported.out).toContain(`2 removed`);
    expect(reimported.out).toContain('told 2 open connection(s) their service was removed:');
    expect(reimported.out.split('\n').filter((l) => l.startsWith('  case-')).sort()).toEqual([`  ${toGoing.connectionId}`, `  ${toWaiting.connectionId}`].sort());

    const stopped = await poll(() => client.getConnection(toWaiting.connectionId), (v) => v.status === 'stopped', 'the waiting connection stops');
    expect(stopped).toMatchObject({ stopReason: SERVICE_REMOVED_REASON, nudgesDue: [] });
    expect(stopped.serviceRemovedAt).toBeDefined();
    const kept = await poll(() => client.getConnection(toGoing.connectionId), (v) => v.serviceRemovedAt !== undefined, 'the accepted connection hears');
    expect(kept.status).toBe('attending');

    type Told = { type: string; audience: string; connection: { connectionId: string; serviceId: string; suggestions: Array<{ serviceId: string }> } };
    const told = await poll(
      async () => dev.sink.messages.filter((m) => m.channel === 'supervisor').map((m) => m.body as Told),
      (t) => t.filter((n) => n.type === CONNECTION_NOTICE_TYPES.serviceRemoved).length >= 2,
      'the link worker of each is told',
    );
    const removedNotices = told.filter((n) => n.type === 'CONNECTION_SERVICE_REMOVED');
    expect(removedNotices.map((n) => n.connection.connectionId).sort()).toEqual([toGoing.connectionId, toWaiting.connectionId].sort());
    for (const n of removedNotices) {
      expect(n.audience).toBe('linkWorker');
      // The next match: a listed service of the same need, never a removed one or one already tried.
      const suggested = n.connection.suggestions.map((s) => s.serviceId);
      expect(suggested.length).toBeGreaterThan(0);
      expect(suggested).not.toContain(waiting);
      expect(suggested).not.toContain(going);
    }
    // The case hears of the stop like any other.
    await poll(
      () => client.listConnections(c.caseId),
      (l) => l.find((x) => x.connectionId === toWaiting.connectionId)?.status === 'stopped',
      'the case hears the connection stopped',
    );

    // Told once only; the other scheme's connection and the still-listed service hear nothing.
    await waitForOpenConnections(dev.client, scheme, taskQueue, (ids) => !ids.includes(toWaiting.connectionId), 'the stopped connection closes');
    expect(await client.serviceRemoved(scheme, [waiting!, going!])).toEqual([{ connectionId: toGoing.connectionId, serviceId: going }]);
    await tookSignals(toGoing.connectionId, 2);
    expect((await client.getConnection(toGoing.connectionId)).status).toBe('attending');
    const again = dev.sink.messages.filter((m) => m.channel === 'supervisor').map((m) => m.body as Told);
    expect(again.filter((n) => n.connection.connectionId === toGoing.connectionId && n.type === 'CONNECTION_SERVICE_REMOVED')).toHaveLength(1);
    expect((await client.getConnection(otherScheme.connectionId)).status).toBe('sent');
    expect((await client.getConnection(toStaying.connectionId)).status).toBe('sent');
    expect(told.some((n) => [otherScheme.connectionId, toStaying.connectionId].includes(n.connection.connectionId))).toBe(false);
    await client.close();
  });
});
