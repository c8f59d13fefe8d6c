// A host's retry of a command after the worker restarted: the new worker rebuilds the case from its
// history, the command ids it remembers included, so the retry answers the first result. On the
// dev server (the time-skipping server did not hand the case to a restarted worker).
import { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CommandConflictError, PathwayClient, PersonKey } from '../../client';
import { connectDevServer, uniqueTaskQueue, type DevServerHarness } from '../support/temporal';
import { dataConverter, driveTo, linkWorker, openScheme, refer, referral, startPathwayWorker, view } from '../support/pathway';

const taskQueue = uniqueTaskQueue('idem-restart');
let harness: DevServerHarness;
let temporal: Client;
let stop: (() => Promise<void>) | undefined;

async function startWorker() {
  const { worker, close } = await startPathwayWorker({ address: harness.connection.options.address, namespace: harness.namespace, taskQueue });
  const running = worker.run();
  stop = async () => {
    worker.shutdown();
    await running;
    await close();
  };
}

beforeAll(async () => {
  harness = await connectDevServer();
  temporal = new Client({ connection: harness.connection, namespace: harness.namespace, dataConverter: await dataConverter() });
  await startWorker();
});
afterAll(async () => {
  await stop?.();
  await harness?.close();
});

it('a command retried under its id after the worker restarted is applied once and answers the first result', { timeout: 120_000 }, async () => {
  const schemeId = `idem-${taskQueue.slice(-8)}`;
  const pol = await openScheme(temporal, taskQueue, schemeId);
  const handle = await refer(temporal, taskQueue, referral({ schemeId }), pol);
  await driveTo(handle, 'support', { tier: 'intensive' });
  const client = await PathwayClient.fromClient(temporal, { personKey: PersonKey.generate(), taskQueue });
  const session = { kind: 'phone' as const, attended: true, durationMinutes: 30, withVolunteer: false, actor: linkWorker };
  const first = await client.logSession(handle.workflowId, session, { commandId: 'host-session-1' });

  await stop!();
  await startWorker();
  // A command under a new id first, so the restarted worker has rebuilt the case before the retry.
  await client.logSession(handle.workflowId, session, { commandId: 'host-session-2' });
  expect(await client.logSession(handle.workflowId, session, { commandId: 'host-session-1' })).toEqual(first);
  await expect(client.logSession(handle.workflowId, { ...session, durationMinutes: 45 }, { commandId: 'host-session-1' })).rejects.toBeInstanceOf(CommandConflictError);
  expect((await view(handle)).sessions.byKind.phone?.count).toBe(2);
});
