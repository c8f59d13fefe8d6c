import { DISCHARGE_REASONS, type DischargeReason } from './context';
import { activeNodeIds, explorePathway, journeyKey, shortestPaths, summarizeGraph, type GraphSummary, type PathwayGraph } from './graph';
import { toMermaid } from './mermaid';
import { befriendingHandoff, booksVisitDirectly, MAX_REVIEW, maxExtensionWeeks, parsePolicy, PolicyError, type SchemePolicy } from './policy';

/*
 * `pathway check`: what a scheme developer needs to know about a policy before it ships, in words
 * a non-author understands. Pure: the command line reads the file and writes the diagram.
 */

const DAY = 24 * 60 * 60 * 1000;

export interface PolicyCheck {
  /** False when anything in `problems` would stop the policy shipping. */
  ok: boolean;
  policy?: SchemePolicy;
  /** Each one a sentence: what is wrong, and where in the policy file. */
  problems: string[];
  /** Things that follow from a deliberate policy choice (e.g. no extensions), for the record. */
  notes: string[];
  /** The fewest commands a case needs to reach each stage (and each discharge reason). */
  shortestPaths: Array<{ stage: string; steps: string[] }>;
  reachableDischargeReasons: DischargeReason[];
  summary?: GraphSummary;
  /** The machine drawn as Mermaid, with stages this policy cannot reach marked. */
  diagram?: string;
}

function days(ms: number): string {
  const d = ms / DAY;
  return Number.isInteger(d) ? `${d} days` : `${d.toFixed(2)} days`;
}

/**
 * Deadlines that are valid one by one but, set against each other, can never fall due: the
 * machine would carry a timer that a case always leaves the stage before.
 */
export function deadlinesThatCannotFire(policy: SchemePolicy): string[] {
  const d = policy.deadlines;
  const out: string[] = [];
  if (d.checkIn >= d.review) {
    out.push(
      `deadlines.checkIn (${days(d.checkIn)}) is not shorter than deadlines.review (${days(d.review)}): ` +
        'the monthly check-in would never fall due before the review ends support.',
    );
  }
  if (d.disengagement >= d.review + d.reviewGrace) {
    out.push(
      `deadlines.disengagement (${days(d.disengagement)}) is not shorter than the review plus its grace ` +
        `(${days(d.review + d.reviewGrace)}): a disengaged person would never be noticed before the review.`,
    );
  }
  if (policy.contact.maxAttempts > 1 && policy.contact.window <= policy.contact.firstAttemptWithin) {
    out.push(
      `contact.window (${days(policy.contact.window)}) is not longer than contact.firstAttemptWithin ` +
        `(${days(policy.contact.firstAttemptWithin)}): the later of the ${policy.contact.maxAttempts} contact attempts leave no time to be made.`,
    );
  }
  if (policy.extension.maxCount > 0 && maxExtensionWeeks(policy) < 1) {
    out.push(
      `extension.maxLength (${days(policy.extension.maxLength)}) is shorter than a week, and extensions are granted in whole weeks: ` +
        `none of the ${policy.extension.maxCount} extensions allowed could ever be granted (set extension.maxCount to 0 to mean "no extensions").`,
    );
  }
  return out;
}

/**
 * Switches set against each other so that one of them can never act (each valid alone): a
 * contradiction in the scheme's intent, reported before it ships. `raw` is the file as written, to
 * tell a setting written out from a default.
 */
export function contradictorySwitches(policy: SchemePolicy, raw: unknown): string[] {
  const out: string[] = [];
  if (policy.deadlines.review > MAX_REVIEW) {
    out.push(
      `deadlines.review (${days(policy.deadlines.review)}) is beyond the support period: support is time-limited and the review ` +
        `must fall due within ${days(MAX_REVIEW)} (26 weeks) of the plan being agreed; use extensions for the people who need longer.`,
    );
  }
  const written = (raw as { deadlines?: Record<string, unknown> } | null)?.deadlines ?? {};
  if (!befriendingHandoff(policy) && written.befriendingWait !== undefined) {
    out.push(
      'deadlines.befriendingWait is set but befriending.handoff is false: with no befriending handoff no one ever waits for a befriending ' +
        'service, so the wait can never apply (remove deadlines.befriendingWait, or turn the handoff on).',
    );
  }
  const { levels, intervals, audiences } = policy.escalation;
  if (levels !== undefined && audiences.length > levels) {
    out.push(
      `escalation.audiences names ${audiences.length} audiences but escalation.levels stops the ladder at level ${levels}: ` +
        `${audiences.slice(levels).join(', ')} would never hear of an escalation (drop them, or raise the levels).`,
    );
  }
  if (levels !== undefined && intervals !== undefined && intervals.length > levels) {
    out.push(
      `escalation.intervals gives ${intervals.length} waits but escalation.levels stops the ladder at level ${levels}: ` +
        'the waits past the top level would never be used.',
    );
  }
  if (policy.contact.selfReferralBooksVisit && !policy.eligibility.routes.includes('self')) {
    out.push(
      "contact.selfReferralBooksVisit is on but eligibility.routes does not accept self-referrals ('self'): no case could ever book its " +
        "first visit directly (add 'self' to the routes, or turn the switch off).",
    );
  }
  return out;
}

/** Stages and discharge reasons a policy switch turns off on purpose, so their absence is a note, not a problem. */
function explainedUnreachable(policy: SchemePolicy): Map<string, string> {
  const explained = new Map<string, string>();
  if (policy.extension.maxCount === 0) {
    explained.set('pathway.active.extensionPending', 'extension.maxCount is 0, so no case waits for an extension decision');
  }  else if (policy.extension.approvedBy === 'linkWorker') {
    explained.set('pathway.active.extensionPending', "extension.approvedBy is 'linkWorker', so the review grants an extension itself");
  }
  if (!befriendingHandoff(policy)) {
    const why = 'befriending.handoff is false, so no review hands the person off to befriending';
    explained.set('pathway.active.befriendingHandoff', why);
    explained.set('handedOff', why);
  }
  if (!policy.waitlist.enabled) {
    explained.set('pathway.active.waitlisted', 'waitlist.enabled is false, so a full scheme declines instead of waitlisting');
  }
  if (policy.eligibility.routes.every((route) => booksVisitDirectly(policy, route))) {
    const why = 'the scheme takes only self-referrals and contact.selfReferralBooksVisit is on, so every first visit is booked directly';
    explained.set('pathway.active.firstContact', why);
    explained.set('unableToContact', why);
  }
  return explained;
}

/**
 * The graph from the first route the scheme accepts and, when the policy routes self-referrals
 * differently (contact.selfReferralBooksVisit), from one of the other kind too: what either reaches.
 */
function graphsOf(policy: SchemePolicy): PathwayGraph[] {
  const { routes } = policy.eligibility;
  const first = booksVisitDirectly(policy, routes[0]!);
  const other = routes.find((route) => booksVisitDirectly(policy, route) !== first);
  const main = explorePathway(policy);
  return other === undefined ? [main] : [main, explorePathway(policy, { route: other })];
}

function stageName(id: string): string {
  return id.replace(/^pathway\./, '');
}

/** Checks a policy as read from a scheme's file (unparsed); never throws on bad input. */
export function checkPolicy(raw: unknown): PolicyCheck {
  let policy: SchemePolicy;
  try {
    policy = parsePolicy(raw);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    return {
      ok: false,
      problems: error.issues.map((issue) => `the policy file is invalid at ${issue}`),
      notes: [],
      shortestPaths: [],
      reachableDischargeReasons: [],
    };
  }
  const problems: string[] = [...deadlinesThatCannotFire(policy), ...contradictorySwitches(policy, raw)];
  const notes: string[] = [];
  const [graph, ...others] = graphsOf(policy);
  const summary = summarizeGraph(graph!);
  for (const key of summary.deadEnds) {
    problems.push(`dead end: a case can reach a state with no way out (${key}); no command or deadline moves it on.`);
  }
  const reachedNodes = new Set<string>();
  const reached = new Set<DischargeReason>();
  for (const g of [graph!, ...others]) {
    for (const { state } of Object.values(g.adjacency)) {
      for (const id of activeNodeIds(state)) reachedNodes.add(id);
      if (state.status === 'done' && state.context.discharge) reached.add(state.context.discharge.reason);
    }
  }
  const explained = explainedUnreachable(policy);
  const unreachable = summary.unreachableStateNodes.filter((n) => !reachedNodes.has(n));
  for (const id of unreachable) {
    const why = explained.get(id);
    if (why) notes.push(`stage ${stageName(id)} is never used: ${why}.`);
    else problems.push(`unreachable stage: no case can ever reach ${stageName(id)} under this policy.`);
  }
  const reachableDischargeReasons = DISCHARGE_REASONS.filter((r) => reached.has(r));
  for (const reason of DISCHARGE_REASONS.filter((r) => !reached.has(r))) {
    const why = explained.get(reason);
    if (why) notes.push(`discharge reason "${reason}" is never recorded: ${why}.`);
    else problems.push(`discharge reason "${reason}" can never be recorded: no case can be discharged that way under this policy.`);
  }
  const shortest = new Map<string, string[]>();
  for (const path of [graph!, ...others].flatMap(shortestPaths)) {
    const stage = journeyKey(path.state);
    const steps = path.steps.slice(1).map((step) => step.event.type);
    const known = shortest.get(stage);
    if (!known || steps.length < known.length) shortest.set(stage, steps);
  }
  return {
    ok: problems.length === 0,
    policy,
    problems,
    notes,
    shortestPaths: [...shortest].map(([stage, steps]) => ({ stage, steps })).sort((a, b) => a.steps.length - b.steps.length),
    reachableDischargeReasons,
    summary: { ...summary, unreachableStateNodes: unreachable },
    diagram: toMermaid({ unreachable }),
  };
}
