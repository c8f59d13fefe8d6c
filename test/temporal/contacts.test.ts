// Every contact counted, through a real worker on the time-skipping server: an older person on the
// intensive tier with 8 home visits and 20 phone calls in twelve weeks (the kind of case seed 002
// describes). Before contacts and sessions were told apart, the 17th contact was refused, so the
// outcome record showed 19 contacts and 9.25 h of staff time instead of 28 and 15 h.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemorySink } from '../../activities/outbox';
import type { OutcomeRecord } from '../../evidence/outcomeRecord';
import { WEEK } from '../../machines';
import type { CaseView } from '../../workflows/definitions';
import { createTimeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { dataConverter, driveTo, linkWorker, openScheme, refer, referral, send, startPathwayWorker, swemwbs, until } from '../support/pathway';

describe('every contact counted (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let sink: MemorySink;
  let close: () => Promise<void>;
  let running: Promise<void>;
  const taskQueue = uniqueTaskQueue('contacts');

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

  const homeVisit = { kind: 'homeVisit', attended: true, durationMinutes: 60, withVolunteer: false, actor: linkWorker } as const;
  const phoneCall = { kind: 'phone', attended: true, durationMinutes: 21, withVolunteer: false, actor: linkWorker } as const;

  it('records 8 home visits and 20 phone calls on the intensive tier: 28 contacts, 900 minutes, and all staff time', async () => {
    const pol = await openScheme(env.client, taskQueue, 'contacts');
    const handle = await refer(env.client, taskQueue, referral({ schemeId: 'contacts', age: 81 }), pol);
    await until(handle, (v) => v.stage === 'triage');
    await send(handle, 'TRIAGE.ACCEPT', { actor: linkWorker });
    await until(handle, (v) => v.stage === 'firstContact');
    await send(handle, 'CONTACT.ATTEMPT', { outcome: 'noAnswer', channel: 'phone', durationMinutes: 5, actor: linkWorker });
    await send(handle, 'CONTACT.ATTEMPT', { outcome: 'reached', channel: 'phone', durationMinutes: 20, actor: linkWorker });
    await send(handle, 'VISIT.RECORD', { location: 'home', durationMinutes: 120, measures: [swemwbs([2, 2, 3, 2, 2, 3, 2])], barriers: ['mobility'], actor: linkWorker });
    await send(handle, 'PLAN.DRAFT', {
      goals: [{ id: 'g1', text: 'Get to the lunch club every week' }],
      activities: [{ id: 'a1', category: 'connecting', name: 'Lunch club' }],
      barrierActions: [{ barrier: 'mobility', action: 'transportArranged' }],
      tier: 'intensive',
      volunteer: false,
      actor: linkWorker,
    });
    await send(handle, 'PLAN.AGREE', { party: 'person', actor: { role: 'person', id: 'self' } });
    expect((await send(handle, 'PLAN.AGREE', { party: 'linkWorker', actor: linkWorker })).tier).toBe('intensive');

    // Twelve weeks: a home visit and two calls a week for eight weeks, then a call a week; a check-in
    // (with its minutes) each month.
    let last: CaseView | undefined;
    for (let week = 0; week < 12; week++) {
      if (week < 8) last = await send(handle, 'SESSION.LOG', homeVisit);
      for (let call = 0; call < (week < 8 ? 2 : 1); call++) last = await send(handle, 'SESSION.LOG', phoneCall);
      if (week === 3 || week === 7) await send(handle, 'CHECKIN.RECORD', { measures: [], durationMinutes: 30, actor: linkWorker });
      await env.sleep(week < 11 ? WEEK : WEEK + 60_000);
    }
    // Past the old cap of 16, nothing was refused, and the budget counted only the visits.
    expect(last!.sessions.byKind).toMatchObject({ homeVisit: { count: 8, attended: 8 }, phone: { count: 20, attended: 20 } });
    expect(last!.sessionBudget).toMatchObject({ tier: 'intensive', used: 8, cap: 16, exceeded: false });

    await until(handle, (v) => v.stage === 'review', env);
    await send(handle, 'REVIEW.RECORD', {
      measures: [swemwbs([3, 3, 3, 3, 3, 3, 3])],
      goalsMet: 'all',
      outcome: 'discharge',
      durationMinutes: 45,
      actor: linkWorker,
    });
    await handle.result();
    const outcomes = sink.messages.filter((m) => m.channel === 'outcome' && m.caseId === handle.workflowId);
    expect(outcomes).toHaveLength(1);
    const record = outcomes[0]!.body as OutcomeRecord;

    // The contacts logged during support: 28 of them, 900 minutes (8 × 60 + 20 × 21).
    const logged = ['homeVisit', 'phone'] as const;
    expect(record.sessions).toEqual({
      homeVisit: { count: 8, attended: 8, minutes: 480 },
      phone: { count: 20, attended: 20, minutes: 420 },
    });
    expect(logged.reduce((n, kind) => n + record.contactsByKind![kind]!, 0)).toBe(28);
    expect(logged.reduce((n, kind) => n + record.staffMinutesByKind![kind]!, 0)).toBe(900);
    expect(record.contactsByKind).toEqual({ firstContact: 1, firstVisit: 1, homeVisit: 8, phone: 20, checkIn: 2, review: 1 });
    expect(record.contactsTotal).toBe(33);

    // Staff time is all of it: the attempts (5 + 20), the first visit, two check-ins and the review too.
    expect(record.staffMinutesByKind).toEqual({ contactAttempts: 25, firstVisit: 120, homeVisit: 480, phone: 420, checkIn: 60, review: 45 });
    expect(record.staffMinutes).toBe(900 + 25 + 120 + 60 + 45);
  });

  it('records a visit past a light budget and asks the supervisor, once', async () => {
    const pol = await openScheme(env.client, taskQueue, 'contacts-light');
    const handle = await refer(env.client, taskQueue, referral({ schemeId: 'contacts-light' }), pol);
    await driveTo(handle, 'support', { tier: 'light' });
    for (let i = 0; i < 2; i++) await send(handle, 'SESSION.LOG', homeVisit);
    const past = await send(handle, 'SESSION.LOG', homeVisit);
    const further = await send(handle, 'SESSION.LOG', homeVisit);
    expect(further.sessions.byKind.homeVisit).toMatchObject({ count: 4, attended: 4 });
    expect(further.sessionBudget).toMatchObject({ used: 4, cap: 2, exceeded: true, overBudget: 'needsApproval' });
    expect(past.openEscalations.map((e) => e.type)).toEqual(['SESSION_BUDGET']);
    expect(further.escalations.filter((e) => e.type === 'SESSION_BUDGET')).toHaveLength(1);
    const notices = () => sink.messages.filter((m) => m.channel === 'supervisor' && m.caseId === handle.workflowId).map((m) => m.body);
    await expect.poll(notices).toEqual([expect.objectContaining({ type: 'SESSION_BUDGET', level: 1, audience: 'supervisor', stage: 'support' })]);
  });
});
