// Engine overhead: the same update round trip (a check-in) against (a) a pathway case in support
// and (b) a bare workflow whose handler does nothing, on the same worker, bundle and converter,
// alternated one by one in one run so both see the same machine at the same moment. Also (a)
// through the client SDK, and all of it with the codec on and off (two workers side by side).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ensureWorkflowBundle } from '../worker/bundle';
import { commandUpdates } from '../workflows/definitions';
import { benchClients, benchCodec, serverFlags, startBenchServer, startBenchWorker, type BenchClients, type BenchWorker } from './harness';
import { later, openCasesInSupport } from './cohort';
import {
  cpuLine,
  cpuMonitor,
  environment,
  flags,
  fmt,
  goal,
  latencyLine,
  main,
  num,
  printEnvironment,
  printGoals,
  progress,
  root,
  str,
  summarize,
  writeResults,
  type Summary,
} from './support';
import { digitFree } from '../machines/ids';

const GOAL_RATIO = 1.15;

interface Setup {
  codec: string;
  clients: BenchClients;
  worker: BenchWorker;
  cases: string[];
  bare: string[];
}

/** Events a workflow's history gains per update, by type, from two readings of its history. */
async function eventsPerUpdate(client: Client, workflowId: string, send: () => Promise<unknown>, updates: number) {
  const count = async () => {
    const h = await client.workflow.getHandle(workflowId).fetchHistory();
    const byType: Record<string, number> = {};
    for (const e of h.events ?? []) {
      const t = String(temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? e.eventType).replace(/^EVENT_TYPE_/, '');
      byType[t] = (byType[t] ?? 0) + 1;
    }
    return { total: h.events?.length ?? 0, byType };
  };
  const before = await count();
  const size0 = (await client.workflow.getHandle(workflowId).describe()).historySize ?? 0;
  for (let i = 0; i < updates; i++) await send();
  const after = await count();
  const size1 = (await client.workflow.getHandle(workflowId).describe()).historySize ?? 0;
  const byType: Record<string, number> = {};
  for (const [t, n] of Object.entries(after.byType)) {
    const d = (n - (before.byType[t] ?? 0)) / updates;
    if (d) byType[t] = Number(d.toFixed(2));
  }
  return { events: (after.total - before.total) / updates, bytes: (size1 - size0) / updates, byType };
}

main(async () => {
  const opts = flags('npm run bench:overhead -- [flags]', {
    rounds: num(2000, 'rounds; each sends one update to every arm, in a rotating order'),
    cases: num(100, 'pathway cases (and bare workflows) the rounds go round, per codec setting'),
    ...serverFlags,
    codec: str('both', 'on, off, or both (two workers side by side, alternated too)'),
  });
  const env = environment();
  const server = await startBenchServer({ name: 'overhead', address: opts.address || undefined, sqlite: opts.sqlite, keepDb: opts['keep-db'] });
  const bundle = await ensureWorkflowBundle(join(root, 'bench', 'workflows', 'index.ts'), 'bench-workflows');
  const modes = opts.codec === 'both' ? ['on', 'off'] : [opts.codec];
  const run = digitFree(randomUUID().slice(0, 6));
  const setups: Setup[] = [];
  for (const mode of modes) {
    const codec = await benchCodec(mode);
    const taskQueue = `bench-overhead-${mode}-${run}`;
    const worker = await startBenchWorker({ address: server.address, namespace: server.namespace, taskQueue, codecEnv: codec.env, workflowBundlePath: bundle });
    const clients = await benchClients({ address: server.address, namespace: server.namespace, taskQueue, codec: codec.codec });
    setups.push({ codec: mode, clients, worker, cases: [], bare: [] });
  }
  printEnvironment('overhead', env, [server.description, `codec: ${modes.join(' and ')}; one worker process per codec setting, default options`]);

  const allocatedTo = new Map<string, string>();
  for (const s of setups) {
    const cases = await openCasesInSupport(s.clients.pathway, `overhead-${s.codec}-${run}`, `${run}-${s.codec}`, opts.cases, 16);
    s.cases = [...cases.keys()];
    for (const [id, v] of cases) allocatedTo.set(id, v.linkWorkerId!);
    for (let i = 0; i < opts.cases; i++) {
      const id = `bare-${s.codec}-${run}-${i}`;
      await s.clients.temporal.workflow.start('bareCase', { workflowId: id, taskQueue: s.clients.pathway.taskQueue, args: [] });
      s.bare.push(id);
    }
  }

  const payload = { measures: later, actor: { role: 'linkWorker', id: 'lw-1' } as const };
  // A case takes commands only from the link worker it is allocated to.
  const payloadFor = (id: string) => ({ ...payload, actor: { ...payload.actor, id: allocatedTo.get(id)! } });
  const checkIn = commandUpdates['CHECKIN.RECORD'];
  type Arm = { name: string; send: (i: number) => Promise<unknown> };
  const arms: Arm[] = setups.flatMap((s) => [
    { name: `(a) pathway, codec ${s.codec}`, send: (i: number) => s.clients.temporal.workflow.getHandle(s.cases[i % s.cases.length]!).executeUpdate(checkIn, { args: [payloadFor(s.cases[i % s.cases.length]!)] }) },
    { name: `(a') pathway via PathwayClient, codec ${s.codec}`, send: (i: number) => s.clients.pathway.recordCheckIn(s.cases[i % s.cases.length]!, payloadFor(s.cases[i % s.cases.length]!)) },
    { name: `(b) bare, codec ${s.codec}`, send: (i: number) => s.clients.temporal.workflow.getHandle(s.bare[i % s.bare.length]!).executeUpdate(checkIn, { args: [payload] }) },
  ]);
  // One of each first: connections, sticky queues and caches warm for every arm alike.
  for (let i = 0; i < 3 * opts.cases; i++) await arms[i % arms.length]!.send(Math.floor(i / arms.length));

  const samples = arms.map(() => [] as number[]);
  let round = 0;
  const ticker = progress('overhead', () => `${round}/${opts.rounds} rounds; p50 so far: ${arms.map((a, k) => `${a.name.split(' ')[0]}${a.name.includes('off') ? '/off' : ''} ${fmt(summarize(samples[k]!).p50, 1)}`).join(', ')} ms`);
  const cpu = cpuMonitor({ server: server.pid, ...Object.fromEntries(setups.map((s) => [`worker(codec ${s.codec})`, s.worker.pid])), client: process.pid });
  for (; round < opts.rounds; round++) {
    for (let k = 0; k < arms.length; k++) {
      const j = (k + round) % arms.length;
      const t = performance.now();
      await arms[j]!.send(round);
      samples[j]!.push(performance.now() - t);
    }
  }
  const cpuShares = cpu.stop();
  ticker.stop();

  const summaries = Object.fromEntries(arms.map((a, k) => [a.name, summarize(samples[k]!)])) as Record<string, Summary>;
  for (const [name, s] of Object.entries(summaries)) console.log(`  ${name.padEnd(42)} ${latencyLine(s)}`);
  console.log(`    ${cpuLine(cpuShares)}`);

  const ratios: Record<string, { p50: number; mean: number; p99: number }> = {};
  const ratio = (a: Summary, b: Summary) => ({ p50: a.p50 / b.p50, mean: a.mean / b.mean, p99: a.p99 / b.p99 });
  for (const s of setups) {
    const a = summaries[`(a) pathway, codec ${s.codec}`]!;
    const ac = summaries[`(a') pathway via PathwayClient, codec ${s.codec}`]!;
    const b = summaries[`(b) bare, codec ${s.codec}`]!;
    ratios[`(a)/(b) codec ${s.codec}`] = ratio(a, b);
    ratios[`(a')/(b) codec ${s.codec}`] = ratio(ac, b);
  }
  if (setups.length === 2) {
    ratios['(a) codec on / (a) codec off'] = ratio(summaries['(a) pathway, codec on']!, summaries['(a) pathway, codec off']!);
    ratios['(b) codec on / (b) codec off'] = ratio(summaries['(b) bare, codec on']!, summaries['(b) bare, codec off']!);
  }
  for (const [name, r] of Object.entries(ratios)) console.log(`  ratio ${name.padEnd(34)} p50 ${fmt(r.p50, 3)}  mean ${fmt(r.mean, 3)}  p99 ${fmt(r.p99, 3)}`);

  // What each round trip writes: the explanation of the ratio.
  const s0 = setups[0]!;
  const history = {
    pathway: await eventsPerUpdate(s0.clients.temporal, s0.cases[0]!, () => arms[0]!.send(0), 5),
    bare: await eventsPerUpdate(s0.clients.temporal, s0.bare[0]!, () => arms[2]!.send(0), 5),
  };
  console.log(`  history per update (codec ${s0.codec}): pathway ${fmt(history.pathway.events, 1)} events, ${fmt(history.pathway.bytes, 0)} bytes ${JSON.stringify(history.pathway.byType)}`);
  console.log(`                              bare    ${fmt(history.bare.events, 1)} events, ${fmt(history.bare.bytes, 0)} bytes ${JSON.stringify(history.bare.byType)}`);

  const main = ratios[`(a)/(b) codec ${s0.codec}`]!;
  const goals = [goal(`overhead (a)/(b) p50, codec ${s0.codec}`, main.p50, '<=', GOAL_RATIO, 'x')];
  printGoals(goals);
  writeResults('overhead', { environment: env, params: { ...opts, server: server.description }, figures: { summaries, ratios, history, cpu: cpuShares }, goals });
  for (const s of setups) {
    for (const id of s.bare) await s.clients.temporal.workflow.getHandle(id).terminate('benchmark over').catch(() => undefined);
    await s.clients.close();
    await s.worker.stop();
  }
  await server.stop();
});
