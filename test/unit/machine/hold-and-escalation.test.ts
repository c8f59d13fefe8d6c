import { afterEach, describe, expect, it, vi } from 'vitest';
import { transition } from 'xstate';
import { nextDue, openEscalations, parsePolicy, pathwayMachine, type PathwaySnapshot } from '../../../machines';
import { Case, DAY, LINK_WORKER, SUPERVISOR } from './driver';

const RAISE = { type: 'SAFEGUARDING.RAISE', category: 'financialAbuse', actor: LINK_WORKER } as const;
const CLEAR = { type: 'SAFEGUARDING.CLEAR', actor: SUPERVISOR } as const;

/** What the workflow does at continue-as-new: keep value and context as JSON, rebuild the snapshot. */
function carryOver(snapshot: PathwaySnapshot): PathwaySnapshot {
  const { value, context } = JSON.parse(JSON.stringify({ value: snapshot.value, context: snapshot.context }));
  return pathwayMachine.resolveState({ value, context });
}

describe('safeguarding hold', () => {
  it('can be raised in every active stage and returns the case to where it was', () => {
    const stages = [
      (c: Case) => c,
      (c: Case) => c.accept(),
      (c: Case) => c.accept().send({ type: 'CAPACITY.WAITLISTED', position: 1 }),
      (c: Case) => c.allocate(),
      (c: Case) => c.reach(),
      (c: Case) => c.visit(),
      (c: Case) => c.agreePlan({ volunteer: true }),
      (c: Case) => c.toReview(),
      (c: Case) => c.toReview().review('extend'),
      (c: Case) => c.toReview().review('befriend'),
    ];
    for (const reach of stages) {
      const c = new Case();
      reach(c);
      const before = { value: c.snapshot.value, stage: c.stage };
      c.send(RAISE);
      expect(c.stage).toBe('onHold');
      expect(c.can(CLEAR)).toBe(true);
      c.advance(DAY).send(CLEAR);
      expect({ value: c.snapshot.value, stage: c.stage }).toEqual(before);
    }
  });

  it('suspends stage deadlines while held and restores them shifted by the hold', () => {
    const c = new Case().allocate();
    const due = Object.fromEntries(c.context.timers.map((t) => [t.key, t.dueAt]));
    expect(c.send(RAISE)).toEqual([
      { type: 'notifySupervisor', params: { escalationId: 'esc-1', type: 'SAFEGUARDING', level: 1, stage: 'firstContact', audience: 'supervisor' } },
    ]);
    expect(c.context.timers.map((t) => t.key)).toEqual(['escalation:esc-1']);
    expect(c.context.suspendedTimers.map((t) => t.key).sort()).toEqual(['firstAttempt', 'firstContact']);
    c.advance(5 * DAY).send(CLEAR);
    expect(c.stage).toBe('firstContact');
    expect(c.timer('firstAttempt').dueAt).toBe(due.firstAttempt! + 5 * DAY);
    expect(c.timer('firstContact').dueAt).toBe(due.firstContact! + 5 * DAY);
    expect(c.context.suspendedTimers).toEqual([]);
    expect(c.context.escalations[0]).toMatchObject({ type: 'SAFEGUARDING', acknowledgedAt: c.now, acknowledgedBy: SUPERVISOR.id });
  });

  it('is held until a supervisor clears it; only a supervisor may discharge from it', () => {
    const c = new Case().agreePlan();
    c.send(RAISE);
    expect(c.can({ type: 'SAFEGUARDING.CLEAR', actor: LINK_WORKER })).toBe(false);
    expect(c.can({ type: 'SESSION.LOG', kind: 'phone', attended: true, durationMinutes: 5, withVolunteer: false, actor: LINK_WORKER })).toBe(false);
    expect(c.can({ type: 'DISCHARGE', reason: 'escalatedToStatutory', actor: LINK_WORKER })).toBe(false);
    c.send({ type: 'SAFEGUARDING.RAISE', category: 'selfNeglect', actor: LINK_WORKER });
    expect(c.context.safeguarding).toHaveLength(2);
    expect(openEscalations(c.context).map((e) => e.type)).toEqual(['SAFEGUARDING', 'SAFEGUARDING']);
    expect(c.send({ type: 'DISCHARGE', reason: 'escalatedToStatutory', actor: SUPERVISOR })[0]).toEqual({ type: 'releasePlace' });
    expect(c.dischargedAs).toBe('escalatedToStatutory');
    expect(c.context.timers).toEqual([]);
    expect(c.context.suspendedTimers).toEqual([]);
  });

  it('keeps escalation clocks running on hold', () => {
    const c = new Case();
    c.fire('triage');
    c.send(RAISE);
    expect(c.fire('escalation:esc-1')[0]).toMatchObject({ params: { escalationId: 'esc-1', level: 2 } });
    expect(c.stage).toBe('onHold');
  });

  it('acts on a capacity answer that arrives while held', () => {
    const c = new Case().accept();
    c.send(RAISE);
    c.send({ type: 'CAPACITY.GRANTED', linkWorkerId: 'lw-3' });
    c.advance(DAY).send(CLEAR);
    expect(c.stage).toBe('firstContact');
    expect(c.timer('firstAttempt').dueAt).toBe(c.now + c.policy.contact.firstAttemptWithin);
  });

  it('takes waitlist updates while held and resumes on the waitlist', () => {
    const c = new Case().accept();
    c.send(RAISE);
    c.send({ type: 'CAPACITY.WAITLISTED', position: 5 });
    c.send({ type: 'CAPACITY.WAITLISTED', position: 4 });
    c.advance(DAY).send(CLEAR);
    expect(c.stage).toBe('waitlisted');
    expect(c.context.place).toMatchObject({ status: 'waitlisted', position: 4 });
    expect(c.effects).toEqual([{ type: 'notifyReferrer', params: { kind: 'waitlisted' } }]);
    expect(c.timer('waitlist').dueAt).toBe(c.now + c.policy.deadlines.waitlistMax);
  });

  it('survives continue-as-new: rebuilt from value and context alone, it still returns to the held stage', () => {
    const c = new Case().agreePlan({ volunteer: true });
    c.session(false);
    c.session(false);
    const before = c.snapshot.value;
    c.send(RAISE);
    c.snapshot = carryOver(c.snapshot);
    c.advance(DAY).send(CLEAR);
    expect(c.snapshot.value).toEqual(before);
  });
});

describe('escalations', () => {
  it('re-escalate a level each time the acknowledgement is late', () => {
    const c = new Case();
    c.fire('triage');
    const first = c.timer('escalation:esc-1').dueAt;
    expect(c.fire('escalation:esc-1')).toEqual([
      { type: 'notifySupervisor', params: { escalationId: 'esc-1', type: 'TRIAGE_OVERDUE', level: 2, stage: 'triage', audience: 'manager' } },
    ]);
    expect(c.timer('escalation:esc-1').dueAt).toBe(first + c.policy.deadlines.escalationAck);
    expect(c.context.escalations[0]).toMatchObject({ level: 2, ackDueAt: first + c.policy.deadlines.escalationAck });
  });

  it('name the audience the policy gives each level, the last one repeating above', () => {
    const ladder = (c: Case) => {
      const notices = [...c.fire('triage')];
      for (let i = 0; i < 3; i++) notices.push(...c.fire('escalation:esc-1'));
      return notices.map((e) => e.params as { level: number; audience: string }).map((n) => [n.level, n.audience]);
    };
    expect(ladder(new Case())).toEqual([
      [1, 'supervisor'],
      [2, 'manager'],
      [3, 'manager'],
      [4, 'manager'],
    ]);
    const policy = parsePolicy({ escalation: { audiences: ['teamLead', 'serviceManager', 'commissioner'] } });
    expect(ladder(new Case({ policy }))).toEqual([
      [1, 'teamLead'],
      [2, 'serviceManager'],
      [3, 'commissioner'],
      [4, 'commissioner'],
    ]);
  });

  it('are closed by a supervisor’s acknowledgement, once', () => {
    const c = new Case();
    c.fire('triage');
    expect(c.can({ type: 'ESCALATION.ACK', escalationId: 'esc-9', actor: SUPERVISOR })).toBe(false);
    expect(c.send({ type: 'ESCALATION.ACK', escalationId: 'esc-1', actor: SUPERVISOR })).toEqual([]);
    expect(c.context.escalations[0]).toMatchObject({ acknowledgedAt: c.now, acknowledgedBy: SUPERVISOR.id });
    expect(c.context.timers).toEqual([]);
    expect(c.can({ type: 'ESCALATION.ACK', escalationId: 'esc-1', actor: SUPERVISOR })).toBe(false);
    expect(c.can({ type: 'DEADLINE.ESCALATION', escalationId: 'esc-1' })).toBe(false);
  });

  it('take ids from a counter and are closed, not left ticking, at discharge', () => {
    const c = new Case();
    c.fire('triage');
    c.send({ type: 'TRIAGE.ACCEPT', actor: LINK_WORKER });
    c.send({ type: 'CAPACITY.GRANTED', linkWorkerId: 'lw-1' });
    c.fire('firstAttempt');
    expect(openEscalations(c.context).map((e) => e.id)).toEqual(['esc-1', 'esc-2']);
    c.send({ type: 'DISCHARGE', reason: 'withdrew', actor: LINK_WORKER });
    expect(openEscalations(c.context)).toEqual([]);
    expect(c.context.escalations.every((e) => e.closedAt === c.now)).toBe(true);
  });

  it('nextDue names the earliest armed deadline', () => {
    const c = new Case().allocate();
    expect(nextDue(c.context)?.key).toBe('firstAttempt');
    c.send({ type: 'CONTACT.ATTEMPT', outcome: 'noAnswer', channel: 'text', actor: LINK_WORKER });
    expect(nextDue(c.context)?.key).toBe('firstContact');
  });
});

describe('purity', () => {
  afterEach(() => vi.restoreAllMocks());

  it('never reads the clock or draws a random number', () => {
    vi.spyOn(Date, 'now').mockImplementation(() => {
      throw new Error('Date.now called');
    });
    vi.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('Math.random called');
    });
    const c = new Case().toReview({ volunteer: true });
    c.send(RAISE);
    c.advance(DAY).send(CLEAR);
    c.review('extend');
    c.send({ type: 'EXTENSION.APPROVE', actor: SUPERVISOR });
    c.fire('review');
    c.review('discharge');
    expect(c.stage).toBe('discharged');
  });

  it('keeps a JSON-only context that replays to the same result at every step', () => {
    const c = new Case();
    const steps = [
      () => c.accept(),
      () => c.send({ type: 'CAPACITY.GRANTED', linkWorkerId: 'lw-1' }),
      () => c.send({ type: 'CONTACT.ATTEMPT', outcome: 'reached', channel: 'visit', actor: LINK_WORKER }),
    ];
    for (const step of steps) {
      step();
      const json = JSON.stringify(c.context);
      expect(JSON.parse(json)).toEqual(c.context);
      const event = { type: 'SAFEGUARDING.RAISE', category: 'other', actor: LINK_WORKER, at: c.now } as const;
      const [direct] = transition(pathwayMachine, c.snapshot, event);
      const [rebuilt] = transition(pathwayMachine, carryOver(c.snapshot), event);
      expect(rebuilt.value).toEqual(direct.value);
      expect(rebuilt.context).toEqual(direct.context);
    }
  });
});
