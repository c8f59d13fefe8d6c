// A whole case through a real worker on the time-skipping server: the 12-week review fires by
// itself, weeks of waiting take seconds.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEEK } from '../../machines';
import { createTimeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { dataConverter, linkWorker, refer, referral, send, startPathwayWorker, swemwbs, until, view, openScheme } from '../support/pathway';
import type { MemorySink } from '../../activities/outbox';
import type { Worker } from '@temporalio/worker';

describe('a case from referral to discharge (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let sink: MemorySink;
  let close: () => Promise<void>;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('journey');

  beforeAll(async () => {
    env = await createTimeSkippingEnv({ dataConverter: await dataConverter() });
    ({ worker, sink, close } = await startPathwayWorker({ address: env.address, namespace: env.namespace ?? 'default', taskQueue }));
    running = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await close?.();
    await env?.teardown();
  });

  it('runs triage → first contact → visit → plan → support → review at week 12 → discharge', async () => {
    const client = env.client;
    const pol = await openScheme(client, taskQueue, 'journey');
    const handle = await refer(client, taskQueue, referral({ schemeId: 'journey' }), pol);

    expect((await until(handle, (v) => v.stage === 'triage')).stage).toBe('triage');
    await send(handle, 'TRIAGE.ACCEPT', { actor: linkWorker });
    const allocated = await until(handle, (v) => v.stage === 'firstContact');
    expect(allocated.linkWorkerId).toBe('lw-1');

    await send(handle, 'CONTACT.ATTEMPT', { outcome: 'reached', channel: 'phone', actor: linkWorker });
    await send(handle, 'VISIT.RECORD', {
      location: 'home',
      durationMinutes: 120,
      measures: [swemwbs([2, 2, 3, 2, 2, 3, 2])],
      barriers: ['transport'],
      actor: linkWorker,
    });
    await send(handle, 'PLAN.DRAFT', {
      goals: [{ id: 'g1', text: 'Get out of the house twice a week' }],
      activities: [{ id: 'a1', category: 'connecting', name: 'Lunch club' }],
      barrierActions: [{ barrier: 'transport', action: 'transportArranged' }],
      tier: 'intensive',
      volunteer: false,
      actor: linkWorker,
    });
    await send(handle, 'PLAN.AGREE', { party: 'person', actor: { role: 'person', id: 'self' } });
    const agreed = await send(handle, 'PLAN.AGREE', { party: 'linkWorker', actor: linkWorker });
    expect(agreed.stage).toBe('support');
    expect(agreed.tier).toBe('intensive');

    for (let i = 0; i < 3; i++) {
      await send(handle, 'SESSION.LOG', { kind: 'accompaniedActivity', attended: true, durationMinutes: 90, withVolunteer: false, actor: linkWorker });
    }
    // Nobody records a review: twelve weeks pass and the pathway asks for it on its own.
    await env.sleep(12 * WEEK + 60_000);
    const atReview = await until(handle, (v) => v.stage === 'review');
    expect(atReview.timeline.map((t) => t.event)).toContain('DEADLINE.REVIEW');

    const discharged = await send(handle, 'REVIEW.RECORD', {
      measures: [swemwbs([4, 4, 3, 4, 4, 3, 4])],
      goalsMet: 'all',
      outcome: 'discharge',
      actor: linkWorker,
    });
    expect(discharged.stage).toBe('discharged');
    expect(discharged.discharge?.reason).toBe('connected');
    await handle.result();
    const final = await view(handle);
    expect(final.stage).toBe('discharged');
    const outcome = sink.messages.filter((m) => m.channel === 'outcome' && m.caseId === handle.workflowId);
    expect(outcome).toHaveLength(1);
  });
});
