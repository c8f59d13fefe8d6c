// The pathway's cross-cutting rules through a real worker on the time-skipping server: missed
// deadlines escalate and re-escalate, extension and befriending paths, safeguarding holds, the
// scheme's waitlist, refused commands leave no history, and long cases continue as new.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemorySink } from '../../activities/outbox';
import { DAY, WEEK, type EscalationType } from '../../machines';
import { caseloadsQuery } from '../../workflows/ledger-definitions';
import { ledgerWorkflowId } from '../../workflows/definitions';
import { createTimeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { allocated, dataConverter, driveTo, refusalOf, linkWorker, refer, referral, send, startPathwayWorker, supervisor, swemwbs, until, view, openScheme } from '../support/pathway';

let env: TestWorkflowEnvironment;
let worker: Worker;
let sink: MemorySink;
let close: () => Promise<void>;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('rules');

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

const scheme = (schemeId: string, caseloadCap = 25, roster = [{ id: 'lw-1' }, { id: 'lw-2' }]) => openScheme(env.client, taskQueue, schemeId, { caseloadCap, roster });

const supervisorNotices = (caseId: string) => sink.messages.filter((m) => m.channel === 'supervisor' && m.caseId === caseId);

// First: its twelve-week time skip also fires every deadline of the cases that later tests leave
// open (escalations re-escalating for weeks), which made it slow enough on a loaded machine to
// time out. Run first, it skips time over its own case and the ledger only.
describe('long cases', () => {
  it('continue as new, carrying the snapshot, timeline and deadlines, and still finish', async () => {
    const pol = await scheme('long-case');
    const facts = referral({ schemeId: 'long-case' });
    const handle = await env.client.workflow.start('pathwayCase', {
      taskQueue,
      workflowId: `case-${facts.referralId}`,
      args: [{ referral: facts, policy: pol, limits: { historyEvents: 60 } }],
    });
    const firstRun = (await handle.describe()).runId;
    const inSupport = await driveTo(handle, 'support', { tier: 'intensive' });
    const lw = allocated(inSupport);
    for (let i = 0; i < 12; i++) {
      await send(handle, 'SESSION.LOG', { kind: 'phone', attended: true, durationMinutes: 30, withVolunteer: false, actor: lw });
    }
    const later = await until(handle, (v) => v.sequence >= inSupport.sequence + 12);
    expect((await handle.describe()).runId).not.toBe(firstRun);
    expect(later.timeline[0]!.event).toBe('REFERRAL');
    expect(later.timeline.map((t) => t.seq)).toEqual(later.timeline.map((_, i) => i + 1));
    expect(later.deadlines.find((d) => d.event.type === 'DEADLINE.REVIEW')!.dueAt).toBe(
      inSupport.deadlines.find((d) => d.event.type === 'DEADLINE.REVIEW')!.dueAt,
    );
    await env.sleep(12 * WEEK);
    await until(handle, (v) => v.stage === 'review');
    const done = await send(handle, 'REVIEW.RECORD', { measures: [], goalsMet: 'all', outcome: 'discharge', actor: lw });
    expect(done.stage).toBe('discharged');
    expect((await handle.result() as { sequence: number }).sequence).toBe(done.sequence);
  });
});

describe('deadlines', () => {
  it('every stage deadline escalates when missed, with the type of what stalled', async () => {
    const pol = await scheme('deadlines');
    const ask = async (target: Parameters<typeof driveTo>[1], opts: Parameters<typeof driveTo>[2] = {}) => {
      const handle = await refer(env.client, taskQueue, referral({ schemeId: 'deadlines' }), pol);
      await driveTo(handle, target, opts);
      return handle;
    };
    const cases: Array<[EscalationType, Awaited<ReturnType<typeof ask>>]> = [
      ['TRIAGE_OVERDUE', await ask('triage')],
      ['FIRST_CONTACT_OVERDUE', await ask('firstContact')],
      ['FIRST_VISIT_OVERDUE', await ask('firstVisit')],
      ['PLAN_OVERDUE', await ask('coProducedPlan')],
      ['CHECKIN_OVERDUE', await ask('support')],
      ['VOLUNTEER_WAIT', await ask('support', { volunteer: true })],
    ];
    // Past the longest of these (the first check-in and the volunteer wait, four weeks).
    await env.sleep(4 * WEEK + DAY);
    for (const [type, handle] of cases) {
      const v = await view(handle);
      expect(v.escalations.map((e) => e.type), `${type} at ${v.stage}`).toContain(type);
      expect(v.timeline.some((t) => t.event.startsWith('DEADLINE.'))).toBe(true);
      expect(supervisorNotices(handle.workflowId).length).toBeGreaterThan(0);
    }
  });

  it('an unacknowledged escalation escalates again; acknowledged, it stops', async () => {
    const pol = await scheme('reescalate');
    const handle = await refer(env.client, taskQueue, referral({ schemeId: 'reescalate' }), pol);
    await until(handle, (v) => v.stage === 'triage');
    await env.sleep(pol.deadlines.triage + 60_000);
    const raised = await until(handle, (v) => v.openEscalations.length === 1);
    const escalation = raised.openEscalations[0]!;
    expect(escalation).toMatchObject({ type: 'TRIAGE_OVERDUE', level: 1 });

    await env.sleep(pol.deadlines.escalationAck + 60_000);
    const again = await until(handle, (v) => v.openEscalations[0]?.level === 2);
    expect(again.openEscalations[0]!.id).toBe(escalation.id);
    const levels = supervisorNotices(handle.workflowId).map((m) => (m.body as { notice?: { level: number } }).notice?.level ?? (m.body as { level: number }).level);
    expect(levels).toEqual([1, 2]);
    // The ladder names its audience: the supervisor first, the scheme's manager a level up.
    expect(supervisorNotices(handle.workflowId).map((m) => (m.body as { audience?: string }).audience)).toEqual(['supervisor', 'manager']);

    const acked = await send(handle, 'ESCALATION.ACK', { escalationId: escalation.id, actor: supervisor });
    expect(acked.openEscalations).toEqual([]);
    const noticesBefore = supervisorNotices(handle.workflowId).length;
    await env.sleep(3 * pol.deadlines.escalationAck);
    // Triage is still overdue but was acknowledged: no further notices for it.
    expect(supervisorNotices(handle.workflowId).length).toBe(noticesBefore);
  });

  it('the twelve-week review that nobody records escalates as overdue', async () => {
    const pol = await scheme('review-grace');
    const handle = await refer(env.client, taskQueue, referral({ schemeId: 'review-grace' }), pol);
    await driveTo(handle, 'review', { env });
    await env.sleep(pol.deadlines.reviewGrace + 60_000);
    const v = await view(handle);
    expect(v.escalations.map((e) => e.type)).toContain('REVIEW_OVERDUE');
  });
});

describe('review outcomes', () => {
  it('an extension needs a supervisor, returns the case to support, and brings a second review', async () => {
    const pol = await scheme('extension');
    const handle = await refer(env.client, taskQueue, referral({ schemeId: 'extension' }), pol);
    const lw = allocated(await driveTo(handle, 'review', { env }));
    const pending = await send(handle, 'REVIEW.RECORD', {
      measures: [swemwbs([3, 3, 3, 3, 3, 3, 3])],
      goalsMet: 'some',
      outcome: 'extend',
      extensionWeeks: 4,
      actor: lw,
    });
    expect(pending.stage).toBe('extensionPending');
    expect(pending.openEscalations.map((e) => e.type)).toContain('EXTENSION_APPROVAL');
    expect((await refusalOf(send(handle, 'EXTENSION.APPROVE', { actor: lw }))).message).toMatch(/only a supervisor may approve an extension \(actor role was 'linkWorker'\)/);
    const extended = await send(handle, 'EXTENSION.APPROVE', { actor: supervisor });
    expect(extended.stage).toBe('support');
    const secondReview = extended.deadlines.find((d) => d.event.type === 'DEADLINE.REVIEW')!;
    expect(secondReview.dueAt - (await env.currentTimeMs())).toBeLessThanOrEqual(4 * WEEK + 60_000);
    await env.sleep(4 * WEEK + 60_000);
    await until(handle, (v) => v.stage === 'review');
    const done = await send(handle, 'REVIEW.RECORD', { measures: [], goalsMet: 'all', outcome: 'discharge', actor: lw });
    expect(done.discharge?.reason).toBe('connected');
  });

  it('no befriending service records a service gap and escalates; an accepted handoff discharges', async () => {
    const pol = await scheme('befriending');
    const handle = await refer(env.client, taskQueue, referral({ schemeId: 'befriending' }), pol);
    const lw = allocated(await driveTo(handle, 'review', { env }));
    const handoff = await send(handle, 'REVIEW.RECORD', { measures: [], goalsMet: 'some', outcome: 'befriend', actor: lw });
    expect(handoff.stage).toBe('befriendingHandoff');
    const gap = await send(handle, 'BEFRIENDING.RESULT', { result: 'unavailable', actor: lw });
    expect(gap.stage).toBe('review');
    expect(gap.serviceGaps.map((g) => g.kind)).toEqual(['befriending']);
    expect(gap.openEscalations.map((e) => e.type)).toContain('SERVICE_GAP');
    await send(handle, 'REVIEW.RECORD', { measures: [], goalsMet: 'some', outcome: 'befriend', actor: lw });
    const handedOff = await send(handle, 'BEFRIENDING.RESULT', { result: 'accepted', service: 'Age UK befriending', actor: lw });
    expect(handedOff.discharge?.reason).toBe('handedOff');
    expect(sink.messages.filter((m) => m.channel === 'befriending' && m.caseId === handle.workflowId)).toHaveLength(2);
  });
});

describe('safeguarding', () => {
  it('holds the case, stops its stage clocks, and returns it to where it was when a supervisor clears it', async () => {
    const pol = await scheme('safeguarding');
    const handle = await refer(env.client, taskQueue, referral({ schemeId: 'safeguarding' }), pol);
    const inVisit = await driveTo(handle, 'firstVisit');
    const lw = allocated(inVisit);
    const visitDue = inVisit.deadlines.find((d) => d.event.type === 'DEADLINE.FIRST_VISIT')!.dueAt;
    const held = await send(handle, 'SAFEGUARDING.RAISE', { category: 'selfNeglect', actor: lw });
    expect(held.stage).toBe('onHold');
    expect(held.openEscalations.map((e) => e.type)).toEqual(['SAFEGUARDING']);
    expect((await refusalOf(send(handle, 'VISIT.RECORD', { location: 'home', durationMinutes: 60, measures: [], barriers: [], actor: lw }))).message).toMatch(
      /not a move the pathway allows at stage 'onHold'/,
    );
    // A month on hold: the first-visit deadline must not fire meanwhile.
    await env.sleep(4 * WEEK);
    expect((await view(handle)).escalations.map((e) => e.type)).not.toContain('FIRST_VISIT_OVERDUE');
    expect((await refusalOf(send(handle, 'SAFEGUARDING.CLEAR', { actor: lw }))).message).toMatch(/only a supervisor may clear a safeguarding hold/);
    const back = await send(handle, 'SAFEGUARDING.CLEAR', { actor: supervisor });
    expect(back.stage).toBe('firstVisit');
    const shifted = back.deadlines.find((d) => d.event.type === 'DEADLINE.FIRST_VISIT')!.dueAt;
    expect(shifted - visitDue).toBeGreaterThanOrEqual(4 * WEEK);
  });
});

describe('capacity', () => {
  it('a full scheme waitlists the next referral and admits it when a case is discharged', async () => {
    const pol = await scheme('full', 1, [{ id: 'lw-solo' }]);
    const first = await refer(env.client, taskQueue, referral({ schemeId: 'full' }), pol);
    await driveTo(first, 'firstContact');
    const second = await refer(env.client, taskQueue, referral({ schemeId: 'full' }), pol);
    await until(second, (v) => v.stage === 'triage');
    await send(second, 'TRIAGE.ACCEPT', { actor: linkWorker });
    const waiting = await until(second, (v) => v.stage === 'waitlisted');
    expect(waiting.linkWorkerId).toBeUndefined();
    const ledger = env.client.workflow.getHandle(ledgerWorkflowId('full'));
    expect((await ledger.query(caseloadsQuery)).waitlist.map((w) => w.caseId)).toEqual([second.workflowId]);
    expect(sink.messages.some((m) => m.channel === 'supervisor' && (JSON.stringify(m.body).includes('CASELOAD_FULL')))).toBe(true);

    await send(first, 'DISCHARGE', { reason: 'movedAway', actor: allocated(await view(first)) });
    const admitted = await until(second, (v) => v.stage === 'firstContact');
    expect(admitted.linkWorkerId).toBe('lw-solo');
    const loads = await ledger.query(caseloadsQuery);
    expect(loads.linkWorkers).toEqual([{ id: 'lw-solo', open: 1, cap: 1, cases: [second.workflowId] }]);
    expect(loads.waitlist).toEqual([]);
  });

  it('a long wait on the waitlist escalates', async () => {
    const pol = await scheme('long-wait', 1, []);
    const handle = await refer(env.client, taskQueue, referral({ schemeId: 'long-wait' }), pol);
    await until(handle, (v) => v.stage === 'triage');
    await send(handle, 'TRIAGE.ACCEPT', { actor: linkWorker });
    await until(handle, (v) => v.stage === 'waitlisted');
    await env.sleep(pol.deadlines.waitlistMax + DAY);
    expect((await view(handle)).escalations.map((e) => e.type)).toContain('LONG_WAIT');
  });
});
