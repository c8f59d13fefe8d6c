// The worker's logs are JSON lines carrying the case id and workflow id on what is logged in a
// case's context, and only named, non-personal fields: run a case (with a delivery that fails and
// is retried, so warnings are logged too) and scan every line.
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client, Connection } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { MemorySink } from '../../activities/outbox';
import { createPathwayWorker } from '../../worker/create';
import { jsonLogger } from '../../worker/logger';
import { uniqueTaskQueue } from '../support/temporal';
import { dataConverter, driveTo, openScheme, refer, referral, testCodec } from '../support/pathway';
import { digitFree } from '../../machines/ids';

const lines: string[] = [];
const taskQueue = uniqueTaskQueue('logs');
const schemeId = `logs-${digitFree(randomUUID().slice(0, 8))}`;
let connection: Connection;
let client: Client;
let stop: () => Promise<void>;
const ALLOWED = new Set(['level', 'time', 'pid', 'msg', 'workflowId', 'runId', 'workflowType', 'activityId', 'activityType', 'attempt', 'taskQueue', 'namespace', 'sdkComponent', 'durationMs', 'isLocal', 'caseId', 'errorName']);

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  Runtime.install({ logger: jsonLogger({ level: 'debug', destination: sink }) });
  // Not connectDevServer: it installs the quiet runtime, and there is one runtime per process.
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  connection = await Connection.connect({ address });
  client = new Client({ connection, namespace, dataConverter: await dataConverter() });
  const { worker, close } = await createPathwayWorker({
    address,
    namespace,
    taskQueue,
    codec: await testCodec(),
    sink: new MemorySink(),
    workflowBundlePath: inject('workflowBundlePath'),
  });
  const running = worker.run();
  stop = async () => {
    worker.shutdown();
    await running;
    await close();
  };
});

afterAll(async () => {
  await stop?.();
  await connection?.close();
});

it('logs JSON lines with the case and workflow ids and nothing about the person', { timeout: 120_000 }, async () => {
  const pol = await openScheme(client, taskQueue, schemeId);
  const area = `Area${randomUUID().slice(0, 6)}`;
  const need = `need${randomUUID().slice(0, 6)}`;
  const handle = await refer(client, taskQueue, referral({ schemeId, area, needs: [need], age: 87 }), pol);
  await driveTo(handle, 'firstVisit');
  await new Promise((r) => setTimeout(r, 500));
  expect(lines.length).toBeGreaterThan(0);
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const ofCase = parsed.filter((o) => o.workflowId === handle.workflowId);
  expect(ofCase.length).toBeGreaterThan(0);
  for (const o of ofCase) expect(o.caseId).toBe(handle.workflowId);
  for (const o of parsed) for (const key of Object.keys(o)) expect(ALLOWED, `log field ${key}`).toContain(key);
  for (const l of lines) {
    expect(l).not.toContain(area);
    expect(l).not.toContain(need);
  }
});
