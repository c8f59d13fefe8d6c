// What every temporal test needs: a client and a worker on the servers the global setup started.
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, makeTelemetryFilterString, type WorkerOptions } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { inject } from 'vitest';
import { registerSearchAttributes } from '../../worker/search-attributes';
import { digitFree } from '../../machines/ids';
import { WORKFLOW_SINKS_OFF } from '../../worker/create';

let runtimeInstalled = false;

/** Keeps the worker's own log lines out of test output unless something is wrong. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
}

/** One line the worker or a workflow logged (workflow lines only when run for real, never on replay). */
export interface RuntimeLogLine {
  level: 'warn' | 'info' | 'debug';
  message: string;
  meta?: Record<string, unknown>;
}

/**
 * The quiet runtime, keeping the worker's and workflows' info, warn and debug lines for a test to
 * read. There is one runtime per process (a test file): call it at the top of the file, before any
 * harness starts a worker.
 */
export function recordRuntimeLogs(): RuntimeLogLine[] {
  if (runtimeInstalled) throw new Error('the runtime is already installed: record its logs before any worker starts');
  runtimeInstalled = true;
  const lines: RuntimeLogLine[] = [];
  const keep = (level: RuntimeLogLine['level']) => (message: string, meta?: Record<string, unknown>) => void lines.push({ level, message, ...(meta && { meta }) });
  Runtime.install({
    logger: {
      log() {},
      trace() {},
      debug: keep('debug'),
      info: keep('info'),
      warn: (message, meta) => {
        keep('warn')(message, meta);
        console.warn(message, meta);
      },
      error: console.error,
    },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
  return lines;
}

export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${digitFree(randomUUID().slice(0, 8))}`;
}

export interface DevServerHarness {
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  namespace: string;
  close(): Promise<void>;
}

export async function connectDevServer(): Promise<DevServerHarness> {
  quietRuntime();
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace });
  return {
    client,
    connection,
    nativeConnection,
    namespace,
    async close() {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

export async function createTestWorker(
  options: Omit<WorkerOptions, 'workflowBundle' | 'workflowsPath'> & { connection: NativeConnection },
): Promise<Worker> {
  return Worker.create({
    workflowBundle: { codePath: inject('workflowBundlePath') },
    ...options,
    // The sinks every bundle's interceptors call (worker/create.ts), dropped unless a test gives its own.
    sinks: { ...WORKFLOW_SINKS_OFF, ...options.sinks },
  });
}

/** Reads until `done` holds (a read the system answers asynchronously), failing after the timeout with `what` was awaited. */
export async function poll<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Visibility is eventually consistent: poll a list query until it returns what we expect. */
export async function waitForList<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A time-skipping environment on the provisioned Java test server, with the pathway's search attributes. */
export async function createTimeSkippingEnv(options: { dataConverter?: DataConverter } = {}): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: inject('testServerPath') } },
    ...(options.dataConverter && { client: { dataConverter: options.dataConverter } }),
  });
  await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}
