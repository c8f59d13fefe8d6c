// A hostile host with valid commands only: the largest payloads the schemas allow, sent again and
// again, must leave a case answering reads and commands, its deadlines firing, no workflow task
// failed and its history under Temporal's 10 MB warning. Before commands were bounded, two plan
// drafts of 3,600 goals (each goal within its 500 characters) made every workflow task fail with
// `grpc: received message larger than max`, and the case never answered again while Temporal
// still showed it running. And a command sent twice under one host command id is applied once.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandConflictError, InvalidInputError, PathwayClient, PersonKey } from '../../client';
import { COMMAND_BYTE_BUDGET, MAX_ACTIVITIES, MAX_BARRIER_ACTIONS, MAX_GOALS, MAX_TEXT, WEEK, jsonBytes, type CommandPayload } from '../../machines';
import { commandUpdates } from '../../workflows/definitions';
import { createTimeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { dataConverter, driveTo, linkWorker, openScheme, refer, referral, refusalOf, send, startPathwayWorker, supervisor, swemwbs, view } from '../support/pathway';

let env: TestWorkflowEnvironment;
let worker: Worker;
let close: () => Promise<void>;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('bounds');

beforeAll(async () => {
  env = await createTimeSkippingEnv({ dataConverter: await dataConverter() });
  ({ worker, close } = await startPathwayWorker({ address: env.address, namespace: env.namespace ?? 'default', taskQueue }));
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await close?.();
  await env?.teardown();
});

const words = (n: number, seed: string) => (seed + ' ').repeat(Math.ceil(n / (seed.length + 1))).slice(0, n);

/** The largest plan the schema allows, in plain text: about 45 KB, under the command budget. */
function largestDraft(tier = 'intensive'): CommandPayload<'PLAN.DRAFT'> {
  return {
    goals: Array.from({ length: MAX_GOALS }, (_, i) => ({ id: `g${i}`, text: words(MAX_TEXT, `goal${i}`) })),
    activities: Array.from({ length: MAX_ACTIVITIES }, (_, i) => ({ id: `a${i}`, category: 'connecting' as const, name: words(MAX_TEXT, `act${i}`), provider: words(MAX_TEXT, `prov${i}`) })),
    barrierActions: Array.from({ length: MAX_BARRIER_ACTIONS }, () => ({ barrier: 'transport' as const, action: 'transportArranged' as const, note: words(MAX_TEXT, 'note') })),
    tier,
    volunteer: false,
    actor: linkWorker,
  };
}

/** Every workflow task failure across every run of the case (each continue-as-new starts a run). */
async function historyFigures(handle: WorkflowHandle, firstRunId: string): Promise<{ runs: number; failedTasks: number; largestRunBytes: number }> {
  let runId: string | undefined = firstRunId;
  let runs = 0;
  let failedTasks = 0;
  let largestRunBytes = 0;
  while (runId) {
    const history: History = await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    runs++;
    const events = history.events ?? [];
    failedTasks += events.filter((e) => e.workflowTaskFailedEventAttributes).length;
    largestRunBytes = Math.max(largestRunBytes, Buffer.byteLength(JSON.stringify(history)));
    runId = events.find((e) => e.workflowExecutionContinuedAsNewEventAttributes)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return { runs, failedTasks, largestRunBytes };
}

describe('bounded by design', () => {
  it('refuses the two 3,600-goal drafts that froze a case (grpc: message larger than max), and the case goes on', { timeout: 120_000 }, async () => {
    const pol = await openScheme(env.client, taskQueue, 'bounds-freeze');
    const handle = await refer(env.client, taskQueue, referral({ schemeId: 'bounds-freeze' }), pol);
    const firstRun = (await handle.describe()).runId;
    await driveTo(handle, 'coProducedPlan');
    const huge = { ...largestDraft(), goals: Array.from({ length: 3600 }, (_, i) => ({ id: `g${i}`, text: words(MAX_TEXT, `goal${i}`) })) };
    for (let i = 0; i < 2; i++) {
      const refused = await refusalOf(handle.executeUpdate(commandUpdates['PLAN.DRAFT'] as never, { args: [huge] }));
      expect(refused.type).toBe('InvalidCommand');
      expect(refused.message).toMatch(/goals|bytes/);
    }
    // Within every list's maximum but over the byte budget (three-byte characters): refused by size.
    const heavy = largestDraft();
    heavy.goals = heavy.goals.map((g) => ({ ...g, text: '€'.repeat(MAX_TEXT) }));
    heavy.activities = heavy.activities.map((a) => ({ ...a, name: '€'.repeat(MAX_TEXT), provider: '€'.repeat(MAX_TEXT) }));
    expect(jsonBytes(heavy)).toBeGreaterThan(COMMAND_BYTE_BUDGET);
    const bySize = await refusalOf(handle.executeUpdate(commandUpdates['PLAN.DRAFT'] as never, { args: [heavy] }));
    expect(bySize.type).toBe('InvalidCommand');
    expect(bySize.message).toMatch(/bytes encoded; at most 65536/);
    // The client refuses it before sending, naming the limit.
    const client = await PathwayClient.fromClient(env.client, { personKey: PersonKey.generate(), taskQueue });
    await expect(client.draftPlan(handle.workflowId, heavy)).rejects.toBeInstanceOf(InvalidInputError);
    await expect(client.draftPlan(handle.workflowId, huge)).rejects.toThrow(/goals: a plan has at most 20 goals/);
    // Still answering reads and commands.
    const after = await send(handle, 'PLAN.DRAFT', largestDraft());
    expect(after.stage).toBe('coProducedPlan');
    expect((await historyFigures(handle, firstRun)).failedTasks).toBe(0);
  });

  it('the largest payload of every support command, sent repeatedly, leaves the case answering, its deadlines firing and its history small', { timeout: 1_800_000 }, async () => {
    const pol = await openScheme(env.client, taskQueue, 'bounds-flood');
    const handle = await refer(env.client, taskQueue, referral({ schemeId: 'bounds-flood' }), pol);
    const firstRun = (await handle.describe()).runId;
    await driveTo(handle, 'coProducedPlan');
    const started = Date.now();
    for (let i = 0; i < 40; i++) await handle.executeUpdate(commandUpdates['PLAN.DRAFT'] as never, { args: [largestDraft()] });
    await send(handle, 'PLAN.AGREE', { party: 'person', actor: { role: 'person', id: 'self' } });
    const inSupport = await send(handle, 'PLAN.AGREE', { party: 'linkWorker', actor: linkWorker });
    expect(inSupport.stage).toBe('support');
    const reviewDue = inSupport.deadlines.find((d) => d.event.type === 'DEADLINE.REVIEW')!.dueAt;
    const fullMeasures = [
      swemwbs([3, 3, 3, 3, 3, 3, 3]),
      { instrument: 'GAD7' as const, answers: [1, 1, 1, 1, 1, 1, 1] },
      { instrument: 'PHQ9' as const, answers: [1, 1, 1, 1, 1, 1, 1, 1, 1] },
      { instrument: 'UCLA3' as const, answers: [2, 2, 2] },
      { instrument: 'ONS4' as const, answers: [7, 7, 7, 3] },
    ];
    // 400 rounds (about 1,250 commands, some 20 s) in every run; `npm run test:flood` sends 5,000
    // (15,000 tier changes, check-ins and sessions), a few minutes on two cores.
    const n = Number(process.env.BOUNDS_FLOOD ?? 400);
    for (let i = 0; i < n; i++) {
      const tier = i % 2 ? 'intensive' : 'standard';
      await handle.executeUpdate(commandUpdates['TIER.CHANGE'] as never, { args: [{ tier, reason: words(MAX_TEXT, `reason${i}`), actor: linkWorker }] });
      await handle.executeUpdate(commandUpdates['CHECKIN.RECORD'] as never, { args: [{ measures: fullMeasures, actor: linkWorker }] });
      // A counted session past the tier's budget every round: recorded, and at most one open
      // escalation asks for approval however often the tier changes.
      await handle.executeUpdate(commandUpdates['SESSION.LOG'] as never, {
        args: [{ kind: 'homeVisit', channel: 'visit', attended: true, durationMinutes: 24 * 60, withVolunteer: false, actor: linkWorker }],
      });
      if (i % 100 === 0) {
        await handle.executeUpdate(commandUpdates['SAFEGUARDING.RAISE'] as never, { args: [{ category: 'other', actor: linkWorker }] });
        await handle.executeUpdate(commandUpdates['SAFEGUARDING.CLEAR'] as never, { args: [{ actor: supervisor }] });
      }
    }
    const floodMs = Date.now() - started;
    const v = await view(handle);
    expect(v.stage).toBe('support');
    expect(v.sequence).toBeGreaterThan(3 * n);
    expect(v.openEscalations.filter((e) => e.type === 'SESSION_BUDGET').length).toBeLessThanOrEqual(1);
    // Carried state stays small: the kept timeline, tier history and check-ins are cut to size.
    expect(jsonBytes(v)).toBeLessThan(512 * 1024);
    const figures = await historyFigures(handle, firstRun);
    expect(figures.failedTasks).toBe(0);
    expect(figures.runs).toBeGreaterThan(1);
    expect(figures.largestRunBytes).toBeLessThan(10 * 1024 * 1024);
    // Its deadlines still fire: the review falls due on time.
    await env.sleep(Math.max(0, reviewDue - (await env.currentTimeMs())) + WEEK / 7);
    const atReview = await view(handle);
    expect(atReview.stage).toBe('review');
    console.log(`[bounds] ${3 * n + 40 + 14} commands in ${(floodMs / 1000).toFixed(1)} s; ${figures.runs} runs, largest run history ${(figures.largestRunBytes / 1024).toFixed(0)} KiB; view ${(jsonBytes(v) / 1024).toFixed(0)} KiB`);
  });
});

describe('idempotent commands', () => {
  it('a command sent again under the same id is applied once and answers the first result, across a continue-as-new; another command under it is a conflict', { timeout: 180_000 }, async () => {
    const pol = await openScheme(env.client, taskQueue, 'bounds-idem');
    const facts = referral({ schemeId: 'bounds-idem' });
    const handle = await env.client.workflow.start('pathwayCase', {
      taskQueue,
      workflowId: `case-${facts.referralId}`,
      args: [{ referral: facts, policy: pol, limits: { historyEvents: 80 } }],
    });
    await driveTo(handle, 'support', { tier: 'intensive' });
    const client = await PathwayClient.fromClient(env.client, { personKey: PersonKey.generate(), taskQueue });
    const session = { kind: 'phone' as const, attended: true, durationMinutes: 30, withVolunteer: false, actor: linkWorker };
    const first = await client.logSession(handle.workflowId, session, { commandId: 'host-session-1' });
    const again = await client.logSession(handle.workflowId, session, { commandId: 'host-session-1' });
    expect(again).toEqual(first);
    expect((await view(handle)).sessions.byKind.phone?.count).toBe(1);
    await expect(client.logSession(handle.workflowId, { ...session, durationMinutes: 45 }, { commandId: 'host-session-1' })).rejects.toBeInstanceOf(CommandConflictError);

    // Enough commands to continue as new (limits.historyEvents), then the retry again.
    const firstRun = (await handle.describe()).runId;
    for (let i = 0; i < 12; i++) await client.recordCheckIn(handle.workflowId, { measures: [swemwbs([3, 3, 3, 3, 3, 3, 3])], actor: linkWorker });
    for (let i = 0; i < 50 && (await handle.describe()).runId === firstRun; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await handle.describe()).runId).not.toBe(firstRun);
    const afterRun = await client.logSession(handle.workflowId, session, { commandId: 'host-session-1' });
    expect(afterRun).toEqual(first);
    expect((await view(handle)).sessions.byKind.phone?.count).toBe(1);
    await expect(client.logSession(handle.workflowId, { ...session, durationMinutes: 45 }, { commandId: 'host-session-1' })).rejects.toBeInstanceOf(CommandConflictError);
    // A new id is a new command.
    await client.logSession(handle.workflowId, session, { commandId: 'host-session-2' });
    expect((await view(handle)).sessions.byKind.phone?.count).toBe(2);
    await expect(client.logSession(handle.workflowId, { ...session, durationMinutes: 45 }, { commandId: 'host-session-1' })).rejects.toBeInstanceOf(CommandConflictError);
    await expect(client.logSession(handle.workflowId, session, { commandId: 'not safe!' })).rejects.toBeInstanceOf(InvalidInputError);
  });
});
