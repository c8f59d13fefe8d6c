// The pathway's shape varies by policy: each switch under both settings, over the graph of every
// state a case can reach (so a stage or transition present under one setting and absent under the
// other is seen in the paths themselves), and the combinations `pathway check` refuses.
import { describe, expect, it } from 'vitest';
import { checkPolicy } from '../../../machines/check';
import { activeNodeIds, explorePathway, journeyKey, shortestPaths, type PathwayPath } from '../../../machines/graph';
import { WEEK, commandRefusal, parsePolicy, type ReferralRoute, type SchemePolicyInput } from '../../../machines';
import { Case, LINK_WORKER } from './driver';

const GRAPH = { timeout: 120_000 };

/** What the graph under `input` reaches from a referral by `route`: stage nodes, journeys, a shortest path to each journey point. */
function reach(input: SchemePolicyInput, route?: ReferralRoute) {
  const graph = explorePathway(parsePolicy(input), route ? { route } : {});
  const nodes = new Set<string>();
  const journeys = new Set<string>();
  for (const { state } of Object.values(graph.adjacency)) {
    for (const id of activeNodeIds(state)) nodes.add(id);
    journeys.add(journeyKey(state));
  }
  const shortest = new Map<string, PathwayPath>();
  for (const path of shortestPaths(graph)) {
    const key = journeyKey(path.state);
    const known = shortest.get(key);
    if (!known || path.steps.length < known.steps.length) shortest.set(key, path);
  }
  const eventsTo = (key: string) => shortest.get(key)?.steps.slice(1).map((s) => s.event.type);
  return { nodes, journeys, eventsTo };
}

describe('self-referrals book their first visit directly (contact.selfReferralBooksVisit)', () => {
  const routes: ReferralRoute[] = ['self', 'GP'];
  it('off (the default): a self-referral gets the first-contact call like any other', GRAPH, () => {
    const self = reach({ eligibility: { routes } }, 'self');
    expect(self.nodes).toContain('pathway.active.firstContact');
    expect(self.eventsTo('firstVisit')).toEqual(['TRIAGE.ACCEPT', 'CAPACITY.GRANTED', 'CONTACT.ATTEMPT']);
    expect(self.journeys).toContain('discharged:unableToContact');
  });

  it('on: a self-referral goes from its place straight to the first visit; a GP referral still gets the call', GRAPH, () => {
    const policy = { eligibility: { routes }, contact: { selfReferralBooksVisit: true } };
    const self = reach(policy, 'self');
    expect(self.nodes).not.toContain('pathway.active.firstContact');
    expect(self.eventsTo('firstVisit')).toEqual(['TRIAGE.ACCEPT', 'CAPACITY.GRANTED']);
    expect(self.journeys).not.toContain('discharged:unableToContact');
    // Through the waiting list too: the place granted later books the visit.
    expect(self.eventsTo('waitlisted')).toEqual(['TRIAGE.ACCEPT', 'CAPACITY.WAITLISTED']);
    const gp = reach(policy, 'GP');
    expect(gp.eventsTo('firstVisit')).toEqual(['TRIAGE.ACCEPT', 'CAPACITY.GRANTED', 'CONTACT.ATTEMPT']);
    // `pathway check` explores both kinds of referral, so nothing is reported missing.
    expect(checkPolicy(policy).problems).toEqual([]);
  });

  it('on for a scheme of self-referrals only: first contact is a note, not a problem', GRAPH, () => {
    const result = checkPolicy({ eligibility: { routes: ['self'] }, contact: { selfReferralBooksVisit: true } });
    expect(result.problems).toEqual([]);
    expect(result.notes).toEqual([
      expect.stringContaining('stage active.firstContact is never used'),
      expect.stringContaining('discharge reason "unableToContact" is never recorded'),
    ]);
  });
});

describe('befriending handoff on or off (befriending.handoff)', () => {
  it('on (the default): a review can hand off, and a case can leave as handed off', GRAPH, () => {
    const on = reach({});
    expect(on.nodes).toContain('pathway.active.befriendingHandoff');
    expect(on.eventsTo('discharged:handedOff')?.slice(-2)).toEqual(['REVIEW.RECORD', 'BEFRIENDING.RESULT']);
  });

  it('off: no path reaches the handoff, the review refuses it in words, and check notes it', GRAPH, () => {
    const off = reach({ befriending: { handoff: false } });
    expect(off.nodes).not.toContain('pathway.active.befriendingHandoff');
    expect(off.journeys).not.toContain('discharged:handedOff');
    expect(off.journeys).toContain('discharged:connected');
    const c = new Case({ policy: parsePolicy({ befriending: { handoff: false } }) }).toReview();
    const refusal = commandRefusal(c.snapshot, c.stamp({ type: 'REVIEW.RECORD', measures: [], goalsMet: 'some', outcome: 'befriend', actor: LINK_WORKER }));
    expect(refusal).toMatchObject({ rule: 'befriendingOff' });
    const result = checkPolicy({ befriending: { handoff: false } });
    expect(result.problems).toEqual([]);
    expect(result.notes.join('\n')).toContain('befriending.handoff is false');
  });
});

describe('the waiting list on, off or capped (waitlist)', () => {
  it('on (the default): a full scheme waitlists', GRAPH, () => {
    const on = reach({});
    expect(on.nodes).toContain('pathway.active.waitlisted');
  });

  it('off: a full scheme declines the referral, gives the place request back and tells the referrer why', GRAPH, () => {
    const off = reach({ waitlist: { enabled: false } });
    expect(off.nodes).not.toContain('pathway.active.waitlisted');
    const c = new Case({ policy: parsePolicy({ waitlist: { enabled: false } }) }).accept();
    const effects = c.send({ type: 'CAPACITY.WAITLISTED', position: 1 });
    expect(c.stage).toBe('discharged');
    expect(c.dischargedAs).toBe('declined');
    expect(effects.map((e) => e.type)).toContain('releasePlace');
    expect(effects).toContainEqual({ type: 'notifyReferrer', params: { kind: 'declined', reason: expect.stringContaining('no room on its waiting list') } });
    expect(checkPolicy({ waitlist: { enabled: false } }).notes.join('\n')).toContain('waitlist.enabled is false');
  });

  it('capped: a case within the cap waits, one past it is declined', GRAPH, () => {
    const capped = reach({ waitlist: { cap: 2 } });
    expect(capped.nodes).toContain('pathway.active.waitlisted');
    const within = new Case({ policy: parsePolicy({ waitlist: { cap: 2 } }) }).accept();
    within.send({ type: 'CAPACITY.WAITLISTED', position: 2 });
    expect(within.stage).toBe('waitlisted');
    const past = new Case({ policy: parsePolicy({ waitlist: { cap: 2 } }) }).accept();
    past.send({ type: 'CAPACITY.WAITLISTED', position: 3 });
    expect(past.dischargedAs).toBe('declined');
  });
});

describe('contact attempts: count and window (contact)', () => {
  it('one attempt: the first unanswered call closes the case; three: the third does', GRAPH, () => {
    expect(reach({ contact: { maxAttempts: 1 } }).eventsTo('discharged:unableToContact')).toEqual(['TRIAGE.ACCEPT', 'CAPACITY.GRANTED', 'CONTACT.ATTEMPT']);
    const three = reach({ contact: { maxAttempts: 3 } }).eventsTo('discharged:unableToContact')!;
    // Three unanswered calls, or one and the window closing: whichever is shorter.
    expect(three.filter((t) => t === 'CONTACT.ATTEMPT').length).toBeGreaterThanOrEqual(1);
    expect(three.length).toBeLessThanOrEqual(5);
  });

  it('the window closes from the first attempt, after the policy says', () => {
    for (const window of ['4d', '10d']) {
      const c = new Case({ policy: parsePolicy({ contact: { window } }) }).allocate();
      c.send({ type: 'CONTACT.ATTEMPT', outcome: 'noAnswer', channel: 'phone', actor: LINK_WORKER });
      expect(c.timer('contactWindow')!.dueAt - c.now).toBe(parsePolicy({ contact: { window } }).contact.window);
    }
  });
});

describe('review week (deadlines.review) and extensions (extension)', () => {
  it('the review falls due the policy’s weeks after the plan is agreed', () => {
    for (const weeks of [8, 12]) {
      const c = new Case({ policy: parsePolicy({ deadlines: { review: `${weeks}w` } }) }).agreePlan();
      expect(c.timer('review')!.dueAt - c.now).toBe(weeks * WEEK);
    }
  });

  it('approved by a supervisor (the default): the review waits for the decision; by the link worker: support resumes at once', GRAPH, () => {
    expect(reach({}).eventsTo('extensionPending')?.at(-1)).toBe('REVIEW.RECORD');
    const byReview = { extension: { approvedBy: 'linkWorker' as const } };
    expect(reach(byReview).nodes).not.toContain('pathway.active.extensionPending');
    const c = new Case({ policy: parsePolicy(byReview) }).toReview();
    c.review('extend', 2);
    expect(c.stage).toBe('support');
    expect(c.context.extension).toMatchObject({ count: 1, history: [{ weeks: 2, approved: true, by: LINK_WORKER.id }] });
    expect(c.timer('review').dueAt - c.now).toBe(2 * WEEK);
    expect(c.context.escalations.map((e) => e.type)).not.toContain('EXTENSION_APPROVAL');
    const result = checkPolicy(byReview);
    expect(result.problems).toEqual([]);
    expect(result.notes.join('\n')).toContain("extension.approvedBy is 'linkWorker'");
  });

  it('no extensions: no path waits for an extension decision; two: one does', GRAPH, () => {
    expect(reach({ extension: { maxCount: 0 } }).nodes).not.toContain('pathway.active.extensionPending');
    expect(reach({ extension: { maxCount: 2 } }).eventsTo('extensionPending')?.at(-1)).toBe('REVIEW.RECORD');
  });
});

describe('the escalation ladder: levels, audiences, intervals (escalation)', () => {
  const triageMissed = (input: SchemePolicyInput) => {
    const c = new Case({ policy: parsePolicy(input) });
    const notices = c.fire('triage').filter((e) => e.type === 'notifySupervisor');
    return { c, notices };
  };

  it('by default: every level waits deadlines.escalationAck and goes up, the last audience hearing of each', () => {
    const { c, notices } = triageMissed({});
    expect(notices).toEqual([{ type: 'notifySupervisor', params: expect.objectContaining({ level: 1, audience: 'supervisor' }) }]);
    const ack = parsePolicy({}).deadlines.escalationAck;
    expect(c.timer('escalation:esc-1').dueAt - c.now).toBe(ack);
    for (const level of [2, 3]) {
      expect(c.fire('escalation:esc-1')).toContainEqual({ type: 'notifySupervisor', params: expect.objectContaining({ level, audience: 'manager' }) });
      expect(c.timer('escalation:esc-1').dueAt - c.now).toBe(ack);
    }
  });

  it('with intervals and a top level: each level waits its own interval, and the top is not raised further', () => {
    const { c } = triageMissed({ escalation: { audiences: ['supervisor', 'manager', 'director'], intervals: ['1d', '3d'], levels: 3 } });
    expect(c.timer('escalation:esc-1').dueAt - c.now).toBe(parsePolicy({ deadlines: { escalationAck: '1d' } }).deadlines.escalationAck);
    c.fire('escalation:esc-1');
    expect(c.timer('escalation:esc-1').dueAt - c.now).toBe(3 * parsePolicy({ deadlines: { escalationAck: '1d' } }).deadlines.escalationAck);
    expect(c.fire('escalation:esc-1')).toContainEqual({ type: 'notifySupervisor', params: expect.objectContaining({ level: 3, audience: 'director' }) });
    expect(() => c.timer('escalation:esc-1')).toThrow(/no timer/);
    expect(c.context.escalations[0]).toMatchObject({ level: 3 });
  });

  it('a one-level ladder: no path ever raises an escalation a level; the default ladder does', GRAPH, () => {
    const raisesLevel = (input: SchemePolicyInput) =>
      Object.values(explorePathway(parsePolicy(input)).adjacency).some(({ transitions }) =>
        Object.values(transitions).some((t) => (t as { event: { type: string } }).event.type === 'DEADLINE.ESCALATION'),
      );
    expect(raisesLevel({})).toBe(true);
    expect(raisesLevel({ escalation: { audiences: ['supervisor'], levels: 1 } })).toBe(false);
  });
});

describe('running cases keep the policy they started with', () => {
  it('a policy carried from before the switches existed runs as today’s default pathway', () => {
    const { waitlist: _w, befriending: _b, ...older } = parsePolicy({});
    const { selfReferralBooksVisit: _s, ...contact } = older.contact;
    const carried = { ...older, contact } as unknown as ReturnType<typeof parsePolicy>;
    const c = new Case({ policy: carried, referral: { route: 'self' } }).accept();
    c.send({ type: 'CAPACITY.WAITLISTED', position: 40 });
    expect(c.stage).toBe('waitlisted');
    c.send({ type: 'CAPACITY.GRANTED', linkWorkerId: LINK_WORKER.id });
    expect(c.stage).toBe('firstContact');
    const r = new Case({ policy: carried }).toReview();
    r.review('befriend');
    expect(r.stage).toBe('befriendingHandoff');
  });
});

describe('combinations `pathway check` refuses, in words', () => {
  it('a waiting-list cap with the waiting list off', () => {
    expect(checkPolicy({ waitlist: { enabled: false, cap: 10 } }).problems).toEqual([
      expect.stringContaining('waitlist.cap: is set but waitlist.enabled is false: a scheme that keeps no waiting list has no cap to apply'),
    ]);
  });

  it('a review week beyond the support period', GRAPH, () => {
    expect(checkPolicy({ deadlines: { review: '30w' } }).problems).toContainEqual(
      expect.stringContaining('deadlines.review (210 days) is beyond the support period'),
    );
  });

  it('a befriending wait with the befriending handoff off', GRAPH, () => {
    expect(checkPolicy({ befriending: { handoff: false }, deadlines: { befriendingWait: '6w' } }).problems).toEqual([
      expect.stringContaining('deadlines.befriendingWait is set but befriending.handoff is false'),
    ]);
  });

  it('an escalation ladder whose audiences or intervals reach past its top level', GRAPH, () => {
    const problems = checkPolicy({ escalation: { audiences: ['supervisor', 'manager', 'director'], intervals: ['1d', '2d', '3d'], levels: 2 } }).problems;
    expect(problems).toEqual([
      expect.stringContaining('director would never hear of an escalation'),
      expect.stringContaining('the waits past the top level would never be used'),
    ]);
  });

  it('direct booking for self-referrals when the scheme takes none', GRAPH, () => {
    expect(checkPolicy({ eligibility: { routes: ['GP'] }, contact: { selfReferralBooksVisit: true } }).problems).toEqual([
      expect.stringContaining("eligibility.routes does not accept self-referrals ('self')"),
    ]);
  });
});
