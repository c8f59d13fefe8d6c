// What the client, CLI and report tests share: a pathway worker on the global dev server, a
// PathwayClient with the tests' codec, and host referrals with valid synthetic NHS numbers.
import { randomInt, randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { PathwayClient, PersonKey, type ConnectOptions, type HostReferral } from '../../client';
import { nhsCheckDigit } from '../../client/referral';
import { WEEK, parsePolicy, type SchemePolicy, type SchemePolicyInput } from '../../machines';
import { quietRuntime, uniqueTaskQueue } from '../support/temporal';
import { startPathwayWorker, testCodec } from '../support/pathway';
import { digitFree } from '../../machines/ids';

export interface ClientHarness {
  client: PathwayClient;
  taskQueue: string;
  address: string;
  namespace: string;
  personKey: PersonKey;
  /** Another client on the same server and key, for a second task queue (or other settings). */
  connect(options?: Partial<ConnectOptions>): Promise<PathwayClient>;
  /** Starts one more worker, on `taskQueue`; returns its shutdown. */
  startWorker(taskQueue: string): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export async function clientHarness(prefix: string): Promise<ClientHarness> {
  quietRuntime();
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  const taskQueue = uniqueTaskQueue(prefix);
  const personKey = PersonKey.generate();
  const codec = await testCodec();
  const clients: PathwayClient[] = [];
  const stops: Array<() => Promise<void>> = [];

  const startWorker = async (queue: string) => {
    const { worker, close } = await startPathwayWorker({ address, namespace, taskQueue: queue });
    const running = worker.run();
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      worker.shutdown();
      await running;
      await close();
    };
    stops.push(stop);
    return stop;
  };
  const connect = async (options: Partial<ConnectOptions> = {}) => {
    const c = await PathwayClient.connect({ address, namespace, taskQueue, codec, personKey, ...options });
    clients.push(c);
    return c;
  };

  await startWorker(taskQueue);
  const client = await connect();
  return {
    client,
    taskQueue,
    address,
    namespace,
    personKey,
    connect,
    startWorker,
    async close() {
      for (const c of clients) await c.close();
      for (const stop of stops) await stop();
    },
  };
}

/** A valid (modulus 11) NHS number in the 999 range NHS Digital keeps for testing. */
export function syntheticNhsNumber(): string {
  for (;;) {
    const digits = `999${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
    const check = nhsCheckDigit(digits);
    if (check !== undefined) return `${digits}${check}`;
  }
}

export function uniqueScheme(prefix: string): string {
  return `${prefix}-${digitFree(randomUUID().slice(0, 8))}`;
}

export function hostReferral(schemeId: string, overrides: Partial<HostReferral> = {}): HostReferral {
  return {
    referralId: `ref-${digitFree(randomUUID().slice(0, 12))}`,
    schemeId,
    route: 'GP',
    area: 'Bogside',
    needs: ['loneliness'],
    consent: true,
    person: { givenName: 'Test', familyName: `Person${randomInt(0, 1e9)}`, dateOfBirth: '1950-03-14', nhsNumber: syntheticNhsNumber() },
    ...overrides,
  };
}

/**
 * A policy for tests: one policy week is a second (so `extensionWeeks: 1` is one second), the
 * review falls due `reviewMs` after plan agreement, and every other deadline keeps its real length
 * so nothing escalates unless a test makes it.
 */
export function quickPolicy(schemeId: string, overrides: SchemePolicyInput = {}, reviewMs = 1500): SchemePolicy {
  return parsePolicy({
    schemeId,
    timeScale: WEEK / 1000,
    extension: { maxCount: 2, maxLength: 2000 },
    ...overrides,
    deadlines: { review: reviewMs, ...overrides.deadlines },
  });
}

export const lw = { role: 'linkWorker', id: 'lw-1' } as const;
/** The link worker a case is allocated to, who alone may act on it; `lw` before allocation. */
export const worker = (v: { linkWorkerId?: string }) => ({ role: 'linkWorker', id: v.linkWorkerId ?? lw.id }) as const;
export const sup = { role: 'supervisor', id: 'sup-1' } as const;
export const self = { role: 'person', id: 'self' } as const;
export const swemwbs = (answers: number[]) => ({ instrument: 'SWEMWBS' as const, answers });

export { poll } from '../support/temporal';
