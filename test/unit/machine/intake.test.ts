import { describe, expect, it } from 'vitest';
import { parsePolicy, type SchemePolicy } from '../../../machines';
import { Case, DAY, LINK_WORKER, PERSON, SUPERVISOR, planDraft, types, visitRecord } from './driver';

describe('screening: appropriate-referral rules decided from the referral alone', () => {
  const older = parsePolicy({
    eligibility: { minAge: 50, maxAge: 100, areas: ['Whitehill', 'Bordon'], targetGroups: ['olderPeople'], routes: ['GP', 'self'] },
  });
  const eligible = { age: 70, area: 'Whitehill', targetGroups: ['olderPeople'], route: 'GP' as const };

  it.each([
    ['no consent', { consent: false }, 'consented'],
    ['another scheme', { schemeId: 'elsewhere' }, 'another scheme'],
    ['too young', { age: 49 }, 'age band'],
    ['too old', { age: 101 }, 'age band'],
    ['area not served', { area: 'Alton' }, 'area'],
    ['route not accepted', { route: 'pharmacist' as const }, 'route'],
    ['not in a target group', { targetGroups: ['carers'] }, 'group'],
  ])('%s → declined, referrer told why', (_, change, why) => {
    const c = new Case({ policy: older, referral: { ...eligible, ...change } });
    expect(c.stage).toBe('discharged');
    expect(c.dischargedAs).toBe('declined');
    expect(c.context.triage).toMatchObject({ decision: 'declined', automatic: true });
    expect(c.effects).toEqual([
      { type: 'notifyReferrer', params: { kind: 'declined', reason: expect.stringContaining(why) } },
      { type: 'recordOutcome' },
    ]);
    expect(c.context.timers).toEqual([]);
  });

  it('redirects a referral flagged for an excluded need, suggesting the service', () => {
    const c = new Case({ policy: older, referral: { ...eligible, flags: ['personalCare'] } });
    expect(c.dischargedAs).toBe('redirected');
    expect(c.effects[0]).toEqual({
      type: 'notifyReferrer',
      params: { kind: 'redirected', service: 'Adult social care needs assessment', reason: expect.any(String) },
    });
  });

  it('sends an eligible referral to triage with its deadline armed', () => {
    const c = new Case({ policy: older, referral: eligible });
    expect(c.stage).toBe('triage');
    expect(c.context.timers).toEqual([{ key: 'triage', dueAt: c.now + older.deadlines.triage, event: { type: 'DEADLINE.TRIAGE' } }]);
    expect(c.effects).toEqual([]);
  });

  it('serves any area and group when the policy lists none', () => {
    expect(new Case({ referral: { area: 'Anywhere', targetGroups: [] } }).stage).toBe('triage');
  });

  it('keeps no personal details even when the host passes them', () => {
    const c = new Case({ referral: { name: 'Jo Bloggs' } as never });
    expect(JSON.stringify(c.context)).not.toContain('Jo Bloggs');
  });
});

describe('triage', () => {
  it('accepts: the referrer is told and a place is requested from the capacity ledger', () => {
    const c = new Case();
    expect(c.send({ type: 'TRIAGE.ACCEPT', actor: LINK_WORKER })).toEqual([
      { type: 'notifyReferrer', params: { kind: 'accepted' } },
      { type: 'requestPlace' },
    ]);
    expect(c.stage).toBe('allocating');
    expect(c.context.timers).toEqual([]);
  });

  it('declines with a reason fed back to the referrer', () => {
    const c = new Case();
    const effects = c.send({ type: 'TRIAGE.DECLINE', reason: 'Already supported by the CMHT', actor: LINK_WORKER });
    expect(effects).toEqual([
      { type: 'notifyReferrer', params: { kind: 'declined', reason: 'Already supported by the CMHT' } },
      { type: 'recordOutcome' },
    ]);
    expect(c.dischargedAs).toBe('declined');
    expect(c.context.discharge).toEqual({ reason: 'declined', at: c.now, by: LINK_WORKER });
  });

  it('redirects with the suggested service', () => {
    const c = new Case();
    const effects = c.send({ type: 'TRIAGE.REDIRECT', service: 'Debt advice', reason: 'Debt only', actor: LINK_WORKER });
    expect(effects[0]).toEqual({ type: 'notifyReferrer', params: { kind: 'redirected', service: 'Debt advice', reason: 'Debt only' } });
    expect(c.dischargedAs).toBe('redirected');
  });

  it('escalates a missed triage deadline, and refuses the deadline before it is due', () => {
    const c = new Case();
    const due = c.timer('triage').dueAt;
    expect(c.snapshot.can({ type: 'DEADLINE.TRIAGE', at: due - 1 })).toBe(false);
    expect(c.fire('triage')).toEqual([
      { type: 'notifySupervisor', params: { escalationId: 'esc-1', type: 'TRIAGE_OVERDUE', level: 1, stage: 'triage', audience: 'supervisor' } },
    ]);
    expect(c.context.escalations).toEqual([
      { id: 'esc-1', type: 'TRIAGE_OVERDUE', stage: 'triage', raisedAt: due, ackDueAt: due + c.policy.deadlines.escalationAck, level: 1 },
    ]);
    expect(c.context.timers.map((t) => t.key)).toEqual(['escalation:esc-1']);
    expect(c.can({ type: 'DEADLINE.TRIAGE' })).toBe(false);
  });
});

describe('capacity', () => {
  it('waitlists when the service is full, and leaves the list when a place frees', () => {
    const c = new Case().accept();
    expect(c.send({ type: 'CAPACITY.WAITLISTED', position: 4 })).toEqual([{ type: 'notifyReferrer', params: { kind: 'waitlisted' } }]);
    expect(c.stage).toBe('waitlisted');
    expect(c.timer('waitlist').dueAt).toBe(c.now + c.policy.deadlines.waitlistMax);
    c.advance(DAY).send({ type: 'CAPACITY.WAITLISTED', position: 2 });
    expect(c.context.place).toMatchObject({ status: 'waitlisted', position: 2 });
    c.advance(DAY).send({ type: 'CAPACITY.GRANTED', linkWorkerId: 'lw-9' });
    expect(c.stage).toBe('firstContact');
    expect(c.context.place).toMatchObject({ status: 'held', linkWorkerId: 'lw-9' });
    expect(c.context.timers.map((t) => t.key)).toEqual(['firstAttempt', 'firstContact']);
  });

  it('escalates a wait that is too long', () => {
    const c = new Case().accept();
    c.send({ type: 'CAPACITY.WAITLISTED', position: 9 });
    expect(c.fire('waitlist')).toEqual([
      { type: 'notifySupervisor', params: { escalationId: 'esc-1', type: 'LONG_WAIT', level: 1, stage: 'waitlisted', audience: 'supervisor' } },
    ]);
    expect(c.stage).toBe('waitlisted');
  });

  it('gives the place back when a case that awaits one is discharged', () => {
    const c = new Case().accept();
    c.send({ type: 'CAPACITY.WAITLISTED', position: 9 });
    expect(types(c.send({ type: 'DISCHARGE', reason: 'movedAway', actor: LINK_WORKER }))).toEqual([
      'releasePlace',
      'notifyReferrer',
      'recordOutcome',
    ]);
  });

  it('has no place to give back for a case discharged before acceptance', () => {
    const c = new Case();
    expect(types(c.send({ type: 'DISCHARGE', reason: 'withdrew', actor: PERSON }))).toEqual(['notifyReferrer', 'recordOutcome']);
  });
});

describe('first contact: bounded attempts', () => {
  it('closes as unable to contact after the attempt limit, telling the referrer', () => {
    const c = new Case().allocate();
    c.send({ type: 'CONTACT.ATTEMPT', outcome: 'noAnswer', channel: 'phone', actor: LINK_WORKER });
    c.advance(DAY).send({ type: 'CONTACT.ATTEMPT', outcome: 'leftMessage', channel: 'phone', actor: LINK_WORKER });
    const effects = c.advance(DAY).send({ type: 'CONTACT.ATTEMPT', outcome: 'wrongNumber', channel: 'letter', actor: LINK_WORKER });
    expect(effects).toEqual([
      { type: 'releasePlace' },
      { type: 'notifyReferrer', params: { kind: 'unableToContact' } },
      { type: 'recordOutcome' },
    ]);
    expect(c.dischargedAs).toBe('unableToContact');
    expect(c.context.contact.attempts).toHaveLength(3);
  });

  it('closes when the contact window ends unreached, whatever the attempts', () => {
    const c = new Case({ policy: parsePolicy({ contact: { maxAttempts: 10 } }) }).allocate();
    c.send({ type: 'CONTACT.ATTEMPT', outcome: 'noAnswer', channel: 'phone', actor: LINK_WORKER });
    expect(c.timer('contactWindow').dueAt).toBe(c.now + c.policy.contact.window);
    expect(c.context.timers.some((t) => t.key === 'firstAttempt')).toBe(false);
    c.fire('contactWindow');
    expect(c.dischargedAs).toBe('unableToContact');
  });

  it('escalates when no attempt is made in time, and again when the person is not reached in time', () => {
    const c = new Case().allocate();
    expect(c.fire('firstAttempt')[0]).toMatchObject({ params: { type: 'FIRST_CONTACT_OVERDUE', stage: 'firstContact' } });
    expect(c.fire('firstContact')[0]).toMatchObject({ params: { type: 'FIRST_CONTACT_OVERDUE', escalationId: 'esc-2' } });
    expect(c.stage).toBe('firstContact');
  });

  it('moves to the first visit once the person is reached', () => {
    const c = new Case().reach();
    expect(c.stage).toBe('firstVisit');
    expect(c.context.contact.reachedAt).toBe(c.now);
    expect(c.context.timers).toEqual([{ key: 'firstVisit', dueAt: c.now + c.policy.deadlines.firstVisit, event: { type: 'DEADLINE.FIRST_VISIT' } }]);
  });
});

describe('first visit', () => {
  it('records where, how long, barriers and scored baseline measures', () => {
    const c = new Case().visit();
    expect(c.stage).toBe('coProducedPlan');
    expect(c.context.firstVisit).toEqual({ at: c.now, location: 'cafe', durationMinutes: 110, barriers: ['transport', 'confidence'] });
    expect(c.context.baseline.map((m) => m.instrument)).toEqual(c.policy.measures);
    for (const m of c.context.baseline) expect(m).toMatchObject({ raw: expect.any(Number), score: expect.any(Number), band: expect.any(String) });
    expect(c.timer('plan').dueAt).toBe(c.now + c.policy.deadlines.planAgreement);
  });

  const swemwbsOnly: SchemePolicy = parsePolicy({ measures: ['SWEMWBS'] });

  it.each([
    ['an instrument the scheme does not use', [{ instrument: 'PHQ9', answers: [0, 0, 0, 0, 0, 0, 0, 0, 0] }]],
    ['an answer out of range', [{ instrument: 'SWEMWBS', answers: [1, 2, 3, 4, 5, 6, 1] }]],
    ['too few answers', [{ instrument: 'SWEMWBS', answers: [1, 2, 3] }]],
    [
      'the same instrument twice',
      [
        { instrument: 'SWEMWBS', answers: [3, 3, 3, 3, 3, 3, 3] },
        { instrument: 'SWEMWBS', answers: [3, 3, 3, 3, 3, 3, 3] },
      ],
    ],
  ])('refuses %s', (_, measures) => {
    const c = new Case({ policy: swemwbsOnly }).reach();
    expect(c.can({ ...visitRecord(swemwbsOnly), measures } as never)).toBe(false);
    expect(c.can({ ...visitRecord(swemwbsOnly), measures: [] } as never)).toBe(true);
  });

  it('escalates a late first visit', () => {
    const c = new Case().reach();
    expect(c.fire('firstVisit')[0]).toMatchObject({ params: { type: 'FIRST_VISIT_OVERDUE', stage: 'firstVisit' } });
  });
});

describe('co-produced plan', () => {
  it('is agreed only when both the person and the link worker agree', () => {
    const c = new Case().visit().draft();
    c.send({ type: 'PLAN.AGREE', party: 'person', actor: PERSON });
    expect(c.stage).toBe('coProducedPlan');
    c.send({ type: 'PLAN.AGREE', party: 'linkWorker', actor: LINK_WORKER });
    expect(c.stage).toBe('support');
    expect(c.context.plan.agreedAt).toBe(c.now);
    expect(c.context.support.tier).toBe(c.policy.tiers[1]!.id);
  });

  it('needs both agreements on the current draft: a new draft clears them', () => {
    const c = new Case().visit().draft();
    c.send({ type: 'PLAN.AGREE', party: 'person', actor: PERSON });
    c.draft({ tier: 'intensive' });
    expect(c.context.plan).toMatchObject({ version: 2, agreedBy: {} });
    c.send({ type: 'PLAN.AGREE', party: 'linkWorker', actor: LINK_WORKER });
    expect(c.stage).toBe('coProducedPlan');
    c.send({ type: 'PLAN.AGREE', party: 'person', actor: PERSON });
    expect(c.stage).toBe('support');
    expect(c.context.support.tier).toBe('intensive');
  });

  it('refuses agreement with no draft, twice by one party, or by the person for the link worker', () => {
    const c = new Case().visit();
    expect(c.can({ type: 'PLAN.AGREE', party: 'person', actor: PERSON })).toBe(false);
    c.draft();
    expect(c.can({ type: 'PLAN.AGREE', party: 'linkWorker', actor: PERSON })).toBe(false);
    c.send({ type: 'PLAN.AGREE', party: 'person', actor: PERSON });
    expect(c.can({ type: 'PLAN.AGREE', party: 'person', actor: LINK_WORKER })).toBe(false);
  });

  it.each([
    ['an unknown tier', { tier: 'platinum' }],
    ['no goal', { goals: [] }],
    ['no activity', { activities: [] }],
    [
      'duplicate goal ids',
      {
        goals: [
          { id: 'g1', text: 'a' },
          { id: 'g1', text: 'b' },
        ],
      },
    ],
  ])('refuses a draft with %s', (_, change) => {
    const c = new Case().visit();
    expect(c.can({ ...planDraft(c.policy), ...change } as never)).toBe(false);
  });

  it('escalates a plan not agreed in time', () => {
    const c = new Case().visit();
    expect(c.fire('plan')[0]).toMatchObject({ params: { type: 'PLAN_OVERDUE', stage: 'coProducedPlan' } });
  });
});

describe('roles', () => {
  it('refuses supervisor-only commands from anyone else', () => {
    const c = new Case().toReview();
    c.review('extend', 2);
    for (const actor of [LINK_WORKER, PERSON, { role: 'host' as const, id: 'gp-system' }]) {
      expect(c.can({ type: 'EXTENSION.APPROVE', actor })).toBe(false);
      expect(c.can({ type: 'EXTENSION.REFUSE', reason: 'no', actor })).toBe(false);
      expect(c.can({ type: 'ESCALATION.ACK', escalationId: 'esc-1', actor })).toBe(false);
    }
    expect(c.can({ type: 'EXTENSION.APPROVE', actor: SUPERVISOR })).toBe(true);
  });
});
