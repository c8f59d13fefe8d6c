// Every refusal names its rule: over every reachable state of the pathway, each command the pathway
// refuses (from the graph's own example events and from samples that break each rule) is refused
// with a reason that names the rule, is never the old generic wording, and quotes nothing about the
// person. Plus the ownership rules and the worded limits, on cases driven to where they apply.
import { describe, expect, it } from 'vitest';
import {
  COMMAND_TYPES,
  GENERIC_REFUSAL,
  REFUSAL_RULES,
  accessRefusal,
  commandRefusal,
  defaultPolicy,
  explainsGuard,
  maxExtensionWeeks,
  parsePolicy,
  stageOf,
  type PathwayEvent,
  type PathwaySnapshot,
  type RefusalRule,
  type UnstampedEvent,
} from '../../../machines';
import { LINK_WORKER, PERSON, SUPERVISOR, definedTransitions, exampleEvents, explorePathway, sampleMeasures } from '../../../machines/graph';
import { Case, planDraft } from './driver';

const graph = explorePathway(defaultPolicy);
const states = Object.values(graph.adjacency).map(({ state }) => state);
const HOST = { role: 'host', id: 'host-graph' } as const;
const OTHER_LW = { role: 'linkWorker', id: 'lw-other' } as const;

/** Commands that break one rule each, wherever the case is (most are refused for their stage too). */
function violations(s: PathwaySnapshot): UnstampedEvent[] {
  const { policy } = s.context;
  const measures = sampleMeasures(policy);
  const [swemwbs] = measures;
  const draft = planDraft(policy) as Extract<UnstampedEvent, { type: 'PLAN.DRAFT' }>;
  const goal = draft.goals[0]!;
  const activity = draft.activities[0]!;
  const tooLong = maxExtensionWeeks(policy) + 4;
  return [
    // Too long an extension, and one past the count (the default length once the count is used).
    { type: 'REVIEW.RECORD', measures, goalsMet: 'some', outcome: 'extend', extensionWeeks: tooLong, actor: LINK_WORKER },
    { type: 'REVIEW.RECORD', measures, goalsMet: 'some', outcome: 'extend', actor: LINK_WORKER },
    // Measures given twice, or with answers the instrument does not take (past the schema, as a replayed or hand-built event could be).
    { type: 'VISIT.RECORD', location: 'home', durationMinutes: 60, measures: [swemwbs!, swemwbs!], barriers: [], actor: LINK_WORKER },
    { type: 'CHECKIN.RECORD', measures: [swemwbs!, swemwbs!], actor: LINK_WORKER },
    { type: 'CHECKIN.RECORD', measures: [{ instrument: 'GAD7', answers: [1] } as never], actor: LINK_WORKER },
    { type: 'REVIEW.RECORD', measures: [swemwbs!, swemwbs!], goalsMet: 'all', outcome: 'discharge', actor: LINK_WORKER },
    // Drafts with duplicate ids, an unknown tier.
    { ...draft, goals: [goal, { ...goal, text: 'again' }] },
    { ...draft, activities: [activity, activity] },
    { ...draft, tier: 'platinum' },
    // Tier changes to the same tier or an unknown one.
    { type: 'TIER.CHANGE', tier: s.context.support.tier ?? policy.tiers[0]!.id, reason: 'same', actor: LINK_WORKER },
    { type: 'TIER.CHANGE', tier: 'platinum', reason: 'unknown', actor: LINK_WORKER },
    // A session with a volunteer nobody has matched (and every session once the tier's are used).
    { type: 'SESSION.LOG', kind: 'phone', attended: true, durationMinutes: 30, withVolunteer: true, actor: LINK_WORKER },
    // Wrong roles.
    { type: 'EXTENSION.APPROVE', actor: LINK_WORKER },
    { type: 'EXTENSION.REFUSE', reason: 'no', actor: LINK_WORKER },
    { type: 'SAFEGUARDING.CLEAR', actor: LINK_WORKER },
    { type: 'ESCALATION.ACK', escalationId: 'esc-1', actor: LINK_WORKER },
    { type: 'DISCHARGE', reason: 'withdrew', actor: LINK_WORKER },
    // An escalation that is not open.
    { type: 'ESCALATION.ACK', escalationId: 'esc-99', actor: SUPERVISOR },
    // Plan agreements: the person's side from staff, the link worker's from the person, one actor for both.
    { type: 'PLAN.AGREE', party: 'person', actor: LINK_WORKER },
    { type: 'PLAN.AGREE', party: 'linkWorker', actor: PERSON },
    { type: 'PLAN.AGREE', party: 'person', actor: HOST },
    { type: 'PLAN.AGREE', party: 'linkWorker', actor: HOST },
    // A link worker the case is not allocated to.
    { type: 'CONTACT.ATTEMPT', outcome: 'reached', channel: 'phone', actor: OTHER_LW },
    { type: 'SESSION.LOG', kind: 'phone', attended: true, durationMinutes: 30, withVolunteer: false, actor: OTHER_LW },
    { type: 'REVIEW.RECORD', measures, goalsMet: 'all', outcome: 'discharge', actor: OTHER_LW },
  ];
}

/** Everything about the person the graph's referral carries, as text a reason must not contain. */
function personalText(s: PathwaySnapshot): string[] {
  const r = s.context.referral;
  return [r.referralId, r.area, String(r.age), ...r.needs, ...r.targetGroups, PERSON.id].filter((t) => t.length >= 2);
}

const hit = new Map<RefusalRule, number>();
const judged: Array<{ state: PathwaySnapshot; event: PathwayEvent }> = [];
for (const state of states) {
  const now = graph.clock.get(state) ?? graph.traversalOptions.input.at;
  const events = [...exampleEvents(state, now), ...violations(state).map((e) => ({ ...e, at: now }) as PathwayEvent)];
  for (const event of events) if ((COMMAND_TYPES as readonly string[]).includes(event.type)) judged.push({ state, event });
}

describe('every refusal names its rule, in every reachable state', () => {
  it('judges a broad sample', () => {
    expect(states.length).toBeGreaterThan(50);
    expect(judged.length).toBeGreaterThan(states.length * 40);
  });

  it.each(states.map((s) => [JSON.stringify(s.value), s] as const))('%s', (_, state) => {
    const personal = personalText(state);
    for (const { event } of judged.filter((j) => j.state === state)) {
      const refusal = commandRefusal(state, event, 'case case-graph');
      const taken = state.can(event) && accessRefusal(state.context, event) === undefined;
      // Refused exactly when the machine (or who may act) refuses: the explanation never decides.
      expect(refusal === undefined, `${event.type} ${JSON.stringify(event)}`).toBe(taken);
      if (!refusal) continue;
      hit.set(refusal.rule, (hit.get(refusal.rule) ?? 0) + 1);
      const what = `${event.type} at ${stageOf(state)}: ${refusal.reason}`;
      expect(refusal.reason, what).not.toContain(GENERIC_REFUSAL);
      expect(REFUSAL_RULES, what).toContain(refusal.rule);
      expect(refusal.rule, what).not.toBe('pathwayRules');
      for (const text of personal) expect(refusal.reason, `${what} quotes '${text}'`).not.toContain(text);
    }
  });

  it('reaches every rule the samples break', () => {
    const expected: RefusalRule[] = [
      'notAtThisStage',
      'caseOwnership',
      'supervisorOnly',
      'escalationNotOpen',
      'measureRepeated',
      'measureAnswers',
      'unknownTier',
      'uniqueIds',
      'planNoDraft',
      'planAlreadyAgreed',
      'planAgreementParty',
      'planAgreementDistinctActors',
      'volunteerNotMatched',
      'tierUnchanged',
      'extensionMaxCount',
      'extensionMaxLength',
    ];
    expect([...hit.keys()].sort()).toEqual(expect.arrayContaining(expected.sort()));
  });

  it('words every guard that can refuse a command, or knows it only routes', () => {
    // These choose a branch for an event another branch takes: they never refuse one alone.
    const routing = new Set(['holdsPlace', 'contactReached', 'contactAttemptsExhausted', 'befriendingAccepted', 'befriendingWaiting', 'befriendingUnavailable']);
    const guards = new Set(
      definedTransitions()
        .filter((t) => (COMMAND_TYPES as readonly string[]).includes(t.event) && t.guard)
        .map((t) => t.guard!),
    );
    expect([...guards].filter((g) => !explainsGuard(g) && !routing.has(g))).toEqual([]);
  });
});

describe('the worded limits', () => {
  const extend = (weeks?: number): UnstampedEvent => ({
    type: 'REVIEW.RECORD',
    measures: [],
    goalsMet: 'some',
    outcome: 'extend',
    ...(weeks !== undefined && { extensionWeeks: weeks }),
    actor: LINK_WORKER,
  });

  it('names the maximum length and the count used', () => {
    const c = new Case({ policy: parsePolicy({ extension: { maxCount: 1, maxLength: '6w' } }) }).toReview();
    expect(c.refusal(extend(10))).toEqual({ rule: 'extensionMaxLength', reason: "an extension of 10 weeks is longer than this scheme's maximum of 6" });
    c.review('extend', 4);
    c.send({ type: 'EXTENSION.APPROVE', actor: SUPERVISOR });
    c.fire('review');
    expect(c.refusal(extend(2))).toEqual({ rule: 'extensionMaxCount', reason: 'this case has used 1 of 1 extensions' });
  });

  it('names the role, the escalation, the draft and the duplicate', () => {
    const c = new Case().toReview();
    c.review('extend', 2);
    expect(c.refusal({ type: 'EXTENSION.APPROVE', actor: LINK_WORKER })).toEqual({
      rule: 'supervisorOnly',
      reason: "only a supervisor may approve an extension (actor role was 'linkWorker')",
    });
    expect(c.refusal({ type: 'ESCALATION.ACK', escalationId: 'esc-3', actor: SUPERVISOR })?.reason).toBe('escalation esc-3 is not open');
    const p = new Case().visit();
    expect(p.refusal({ type: 'PLAN.AGREE', party: 'linkWorker', actor: LINK_WORKER })?.reason).toBe('the plan has no draft to agree to');
    const draft = planDraft(p.policy) as Extract<UnstampedEvent, { type: 'PLAN.DRAFT' }>;
    expect(p.refusal({ ...draft, goals: [draft.goals[0]!, draft.goals[0]!] })?.reason).toBe('goal ids must be unique (g1 appears twice)');
    expect(p.refusal({ type: 'VISIT.RECORD', location: 'home', durationMinutes: 5, measures: [], barriers: [], actor: LINK_WORKER })?.rule).toBe('notAtThisStage');
  });

  it('names the tier whose sessions are used, where the scheme refuses more', () => {
    // Under the default policy (needsApproval) a session past the budget is taken and escalated;
    // only a scheme that chose `refuse` turns one away, so the graph walk above never meets it.
    const c = new Case({ policy: parsePolicy({ sessions: { overBudget: 'refuse' } }) }).agreePlan({ tier: 'light' });
    c.session(true);
    c.session(true);
    const visit = { type: 'SESSION.LOG', kind: 'homeVisit', attended: true, durationMinutes: 30, withVolunteer: false, actor: LINK_WORKER } as const;
    expect(c.refusal(visit)).toEqual({
      rule: 'sessionBudget',
      reason: "this tier's 2 sessions are used; the scheme refuses more without a change of tier",
    });
    // A phone call is contact, not a counted session: it is recorded whatever the budget.
    expect(c.refusal({ ...visit, kind: 'phone' })).toBeUndefined();
  });

  it('names measures given twice', () => {
    const c = new Case().reach();
    const [swemwbs] = sampleMeasures(c.policy);
    expect(c.refusal({ type: 'VISIT.RECORD', location: 'home', durationMinutes: 5, measures: [swemwbs!, swemwbs!], barriers: [], actor: LINK_WORKER })?.reason).toBe(
      'measure SWEMWBS is given twice',
    );
  });
});

describe('case ownership', () => {
  const contact = (actor: { role: 'linkWorker' | 'supervisor' | 'host' | 'person'; id: string }) =>
    ({ type: 'CONTACT.ATTEMPT', outcome: 'noAnswer', channel: 'phone', actor }) as const;

  it('lets any link worker act before the case is allocated', () => {
    const c = new Case();
    expect(c.refusal({ type: 'TRIAGE.ACCEPT', actor: OTHER_LW })).toBeUndefined();
  });

  it("refuses a colleague's contact attempt on an allocated case, naming the rule", () => {
    const c = new Case().allocate();
    expect(c.refusal(contact(OTHER_LW), 'case case-x')).toEqual({ rule: 'caseOwnership', reason: 'case case-x is allocated to another link worker' });
    expect(c.refusal(contact(LINK_WORKER))).toBeUndefined();
    expect(c.refusal(contact({ role: 'supervisor', id: 'sup-any' }))).toBeUndefined();
    expect(c.refusal(contact({ role: 'host', id: 'host-1' }))).toBeUndefined();
    // A risk seen by anyone is never turned away.
    expect(c.refusal({ type: 'SAFEGUARDING.RAISE', category: 'selfNeglect', actor: OTHER_LW })).toBeUndefined();
  });

  it('lets a covering colleague the policy names act, and no one else', () => {
    const policy = parsePolicy({ ownership: { covering: { [LINK_WORKER.id]: ['lw-c'] } } });
    const c = new Case({ policy }).allocate();
    expect(c.refusal(contact({ role: 'linkWorker', id: 'lw-c' }))).toBeUndefined();
    expect(c.refusal(contact(OTHER_LW))?.rule).toBe('caseOwnership');
  });

  it('takes a case whose policy predates ownership as allocated-only', () => {
    const { ownership: _, ...older } = defaultPolicy;
    const c = new Case({ policy: older as typeof defaultPolicy }).allocate();
    expect(c.refusal(contact(OTHER_LW))?.rule).toBe('caseOwnership');
    expect(c.refusal(contact(LINK_WORKER))).toBeUndefined();
  });

  it('needs two different actors for the two sides of a plan', () => {
    const c = new Case().visit().draft();
    c.send({ type: 'PLAN.AGREE', party: 'person', actor: HOST });
    expect(c.refusal({ type: 'PLAN.AGREE', party: 'linkWorker', actor: HOST })).toEqual({
      rule: 'planAgreementDistinctActors',
      reason: 'the same actor cannot agree both sides of the plan',
    });
    expect(c.refusal({ type: 'PLAN.AGREE', party: 'linkWorker', actor: LINK_WORKER })).toBeUndefined();
    const d = new Case().visit().draft();
    expect(d.refusal({ type: 'PLAN.AGREE', party: 'person', actor: LINK_WORKER })?.rule).toBe('planAgreementParty');
    expect(d.refusal({ type: 'PLAN.AGREE', party: 'person', actor: PERSON })).toBeUndefined();
  });
});
