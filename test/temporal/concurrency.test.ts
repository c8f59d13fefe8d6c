// Races on one case, through a real worker: two supervisors deciding the same extension at the
// same moment, two acknowledging the same escalation, and a deadline falling due just as an update
// arrives that would make it moot. Each time exactly one of the two takes effect, once, and the
// other is refused with a reason a host can show.
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CommandRefusedError, PathwayClient, PersonKey, type CaseView } from '../../client';
import type { MemorySink } from '../../activities/outbox';
import { mapLimit } from '../../client/pool';
import { parsePolicy, type SchemePolicy } from '../../machines';
import { quietRuntime, uniqueTaskQueue } from '../support/temporal';
import { startPathwayWorker, testCodec } from '../support/pathway';
import { driveCase, newStats, planCohort, rng, seededRng, sleep, type CohortCase, type Scenario } from '../support/faults';

const taskQueue = uniqueTaskQueue('race');
const schemeId = `race-${taskQueue.slice(-8)}`;
const supA = { role: 'supervisor', id: 'sup-a' } as const;
const supB = { role: 'supervisor', id: 'sup-b' } as const;
const lw = { role: 'linkWorker', id: 'lw-1' } as const;

let client: PathwayClient;
let sink: MemorySink;
let worker: Worker;
let closeWorker: () => Promise<void>;
let running: Promise<void>;
let serial = 0;

beforeAll(async () => {
  quietRuntime();
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  ({ worker, sink, close: closeWorker } = await startPathwayWorker({ address, namespace, taskQueue }));
  running = worker.run();
  client = await PathwayClient.connect({ address, namespace, taskQueue, codec: await testCodec(), personKey: PersonKey.generate() });
  await client.setRoster(schemeId, [{ id: 'lw-1', cap: 200 }]);
});
afterAll(async () => {
  await client?.close();
  worker?.shutdown();
  await running;
  await closeWorker?.();
});

/** `n` cases driven to where `until` holds under `policy`. */
async function casesAt(n: number, scenario: Scenario, policy: SchemePolicy, until: (v: CaseView) => boolean): Promise<Array<CohortCase & { view: CaseView }>> {
  const cases = planCohort(rng(serial), n, schemeId, `race-${taskQueue.slice(-8)}-${serial++}`);
  return mapLimit(cases, 10, async (c) => {
    await client.refer(c.referral, { policy });
    return { ...c, view: await driveCase(client.temporal, c.caseId, scenario, newStats(), { giveUpMs: 60_000, until }) };
  });
}

/** Both at once; exactly one must succeed and the other be refused by the pathway. */
async function race<T>(a: () => Promise<T>, b: () => Promise<T>): Promise<{ winner: 'a' | 'b'; won: T; refusal: CommandRefusedError }> {
  const [ra, rb] = await Promise.allSettled([a(), b()]);
  const outcomes = [ra, rb].map((r) => r.status);
  expect(outcomes.sort(), 'exactly one of the two succeeds').toEqual(['fulfilled', 'rejected']);
  const refused = (ra.status === 'rejected' ? ra.reason : (rb as PromiseRejectedResult).reason) as unknown;
  expect(refused).toBeInstanceOf(CommandRefusedError);
  return ra.status === 'fulfilled' ? { winner: 'a', won: ra.value, refusal: refused as CommandRefusedError } : { winner: 'b', won: (rb as PromiseFulfilledResult<T>).value, refusal: refused as CommandRefusedError };
}

const events = (v: CaseView, type: string) => v.timeline.filter((t) => t.event === type);
const messagesOf = (caseId: string) => sink.messages.filter((m) => m.caseId === caseId);

/**
 * The case's delivered messages once its effect pump has gone quiet: the pump runs apart from the
 * commands, so a notice of the step that brought the case here can still land after the stage shows.
 */
async function settledMessagesOf(caseId: string): Promise<number> {
  let count = messagesOf(caseId).length;
  for (let quiet = 0, waited = 0; quiet < 4 && waited < 15_000; waited += 250) {
    await sleep(250);
    const now = messagesOf(caseId).length;
    quiet = now === count ? quiet + 1 : 0;
    count = now;
  }
  return count;
}

describe('two supervisors at once', () => {
  // Twelve weeks pass in three seconds; every other deadline is days of real time away.
  const policy = parsePolicy({ schemeId, deadlines: { review: 3000 } });

  it('approving the same extension: it is applied once, for one of them; the other is told the case has moved on', { timeout: 120_000 }, async () => {
    const cases = await casesAt(8, 'extended', policy, (v) => v.stage === 'extensionPending');
    const winners = { a: 0, b: 0 };
    const before = await Promise.all(cases.map((c) => settledMessagesOf(c.caseId)));
    for (const c of cases) {
      const { winner, refusal } = await race(
        () => client.approveExtension(c.caseId, { actor: supA }),
        () => client.approveExtension(c.caseId, { actor: supB }),
      );
      winners[winner] += 1;
      expect(refusal.stage).toBe('support');
      expect(refusal.reason).toMatch(/not a move the pathway allows at stage 'support'/);
      const v = await client.getCase(c.caseId);
      expect(events(v, 'EXTENSION.APPROVE')).toHaveLength(1);
      expect(events(v, 'EXTENSION.APPROVE')[0]!.actor?.id).toBe(winner === 'a' ? 'sup-a' : 'sup-b');
      const approval = v.escalations.find((e) => e.type === 'EXTENSION_APPROVAL')!;
      expect(approval.acknowledgedBy).toBe(winner === 'a' ? 'sup-a' : 'sup-b');
      // One new review date, not two: the second approval added no time.
      expect(v.deadlines.filter((d) => d.event.type === 'DEADLINE.REVIEW').length).toBeLessThanOrEqual(1);
    }
    // Approval sends nothing; a double one would show as a repeat here.
    expect(await Promise.all(cases.map((c) => settledMessagesOf(c.caseId)))).toEqual(before);
    console.log(`[race] extension approvals won by sup-a ${winners.a}, sup-b ${winners.b}`);
  });

  it('approving and refusing the same extension: one decision stands', { timeout: 120_000 }, async () => {
    const cases = await casesAt(6, 'extended', policy, (v) => v.stage === 'extensionPending');
    for (const c of cases) {
      const { winner, refusal } = await race(
        () => client.approveExtension(c.caseId, { actor: supA }),
        () => client.refuseExtension(c.caseId, { reason: 'Enough support', actor: supB }),
      );
      const v = await client.getCase(c.caseId);
      expect(events(v, 'EXTENSION.APPROVE').length + events(v, 'EXTENSION.REFUSE').length).toBe(1);
      expect(refusal.stage).toBe(winner === 'a' ? 'support' : 'review');
    }
  });

  it('acknowledging the same escalation: acknowledged once, by one of them', { timeout: 120_000 }, async () => {
    const cases = await casesAt(6, 'extended', policy, (v) => v.stage === 'extensionPending');
    for (const c of cases) {
      const escalationId = c.view.openEscalations[0]!.id;
      const { winner, refusal } = await race(
        () => client.acknowledgeEscalation(c.caseId, { escalationId, actor: supA }),
        () => client.acknowledgeEscalation(c.caseId, { escalationId, actor: supB }),
      );
      expect(refusal).toMatchObject({ rule: 'escalationNotOpen', reason: `escalation ${escalationId} is not open` });
      const v = await client.getCase(c.caseId);
      expect(events(v, 'ESCALATION.ACK')).toHaveLength(1);
      expect(v.escalations.find((e) => e.id === escalationId)!.acknowledgedBy).toBe(winner === 'a' ? 'sup-a' : 'sup-b');
    }
  });
});

describe('a deadline falling due as an update arrives', () => {
  /**
   * Sends `update` at the deadline plus an offset, from 1.2 s early to 1.2 s late, across the
   * cases, so that both orders happen; returns which came first in each case.
   */
  async function atTheDeadline(cases: Array<CohortCase & { view: CaseView }>, timerType: string, update: (caseId: string) => Promise<unknown>) {
    const r = seededRng(`race-${timerType}`);
    return mapLimit(cases, cases.length, async (c, i) => {
      const dueAt = c.view.deadlines.find((d) => d.event.type === timerType)!.dueAt;
      const offset = Math.round(-1200 + (2400 * i) / Math.max(1, cases.length - 1)) + r.int(-50, 50);
      await sleep(Math.max(0, dueAt + offset - Date.now()));
      const outcome = await update(c.caseId).then(
        (v) => ({ applied: true as const, view: v }),
        (err: unknown) => ({ applied: false as const, err }),
      );
      // Let the case finish whatever the winner started (the outcome record, the referrer's notice).
      const final = await client.waitFor(c.caseId, (v) => v.sequence > c.view.sequence && v.stage !== 'firstContact' && v.stage !== 'befriendingHandoff', { timeoutMs: 30_000 });
      await sleep(500);
      return { caseId: c.caseId, offset, outcome, final: await client.getCase(c.caseId).catch(() => final) };
    });
  }

  it('the contact window closing against the call that reaches the person: either unable to contact or a first visit, never both', { timeout: 120_000 }, async () => {
    const policy = parsePolicy({ schemeId, contact: { window: 8000 } });
    const cases = await casesAt(14, 'unableToContact', policy, (v) => v.stage === 'firstContact' && events(v, 'CONTACT.ATTEMPT').length === 1);
    const results = await atTheDeadline(cases, 'DEADLINE.CONTACT_WINDOW', (caseId) => client.recordContactAttempt(caseId, { outcome: 'reached', channel: 'phone', actor: lw }));
    const tally = { reached: 0, closed: 0 };
    for (const { caseId, outcome, final } of results) {
      const notices = messagesOf(caseId).filter((m) => m.channel === 'referrer' && (m.body as { kind: string }).kind === 'unableToContact');
      if (outcome.applied) {
        tally.reached += 1;
        expect(final.stage).toBe('firstVisit');
        expect(events(final, 'DEADLINE.CONTACT_WINDOW')).toEqual([]);
        expect(notices).toEqual([]);
      } else {
        tally.closed += 1;
        expect(outcome.err).toBeInstanceOf(CommandRefusedError);
        expect((outcome.err as CommandRefusedError).stage).toBe('discharged');
        expect(final.discharge?.reason).toBe('unableToContact');
        expect(events(final, 'DEADLINE.CONTACT_WINDOW')).toHaveLength(1);
        await client.temporal.workflow.getHandle(caseId).result();
        expect(messagesOf(caseId).filter((m) => m.channel === 'referrer' && (m.body as { kind: string }).kind === 'unableToContact')).toHaveLength(1);
        expect(messagesOf(caseId).filter((m) => m.channel === 'outcome')).toHaveLength(1);
      }
    }
    console.log(`[race] contact window: update first ${tally.reached}, deadline first ${tally.closed}`);
    // The spread of arrival times is wide enough that both orders happen.
    expect(tally.reached).toBeGreaterThan(0);
    expect(tally.closed).toBeGreaterThan(0);
  });

  it('the befriending wait running out against the service accepting: either handed off or a service gap, never both', { timeout: 120_000 }, async () => {
    const policy = parsePolicy({ schemeId, deadlines: { review: 1000, befriendingWait: 8000 } });
    const cases = await casesAt(10, 'befriended', policy, (v) => v.stage === 'befriendingHandoff');
    const results = await atTheDeadline(cases, 'DEADLINE.BEFRIENDING', (caseId) =>
      client.recordBefriendingResult(caseId, { result: 'accepted', service: 'Befrienders', actor: lw }),
    );
    const tally = { handedOff: 0, gap: 0 };
    for (const { outcome, final } of results) {
      if (outcome.applied) {
        tally.handedOff += 1;
        expect(final.discharge?.reason).toBe('handedOff');
        expect(final.serviceGaps).toEqual([]);
      } else {
        tally.gap += 1;
        expect(outcome.err).toBeInstanceOf(CommandRefusedError);
        expect((outcome.err as CommandRefusedError).stage).toBe('review');
        expect(final.stage).toBe('review');
        expect(final.serviceGaps.map((g) => g.kind)).toEqual(['befriending']);
        expect(final.openEscalations.map((e) => e.type)).toEqual(['SERVICE_GAP']);
      }
    }
    console.log(`[race] befriending wait: update first ${tally.handedOff}, deadline first ${tally.gap}`);
    expect(tally.handedOff).toBeGreaterThan(0);
    expect(tally.gap).toBeGreaterThan(0);
  });
});
