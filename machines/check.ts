import { DISCHARGE_REASONS, type DischargeReason } from './context';
import { explorePathway, journeyKey, shortestPaths, summarizeGraph, type GraphSummary } from './graph';
import { toMermaid } from './mermaid';
import { maxExtensionWeeks, parsePolicy, PolicyError, type SchemePolicy } from './policy';

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

/** Stages a policy switch turns off on purpose, so their absence is a note, not a problem. */
function explainedUnreachable(policy: SchemePolicy): Map<string, string> {
  const explained = new Map<string, string>();
  if (policy.extension.maxCount === 0) {
    explained.set('pathway.active.extensionPending', 'extension.maxCount is 0, so no case waits for an extension decision');
  }
  return explained;
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
  const problems: string[] = deadlinesThatCannotFire(policy);
  const notes: string[] = [];
  const graph = explorePathway(policy);
  const summary = summarizeGraph(graph);
  for (const key of summary.deadEnds) {
    problems.push(`dead end: a case can reach a state with no way out (${key}); no command or deadline moves it on.`);
  }
  const explained = explainedUnreachable(policy);
  for (const id of summary.unreachableStateNodes) {
    const why = explained.get(id);
    if (why) notes.push(`stage ${stageName(id)} is never used: ${why}.`);
    else problems.push(`unreachable stage: no case can ever reach ${stageName(id)} under this policy.`);
  }
  const reached = new Set<DischargeReason>();
  for (const { state } of Object.values(graph.adjacency)) {
    if (state.status === 'done' && state.context.discharge) reached.add(state.context.discharge.reason);
  }
  const reachableDischargeReasons = DISCHARGE_REASONS.filter((r) => reached.has(r));
  for (const reason of DISCHARGE_REASONS.filter((r) => !reached.has(r))) {
    problems.push(`discharge reason "${reason}" can never be recorded: no case can be discharged that way under this policy.`);
  }
  const shortest = new Map<string, string[]>();
  for (const path of shortestPaths(graph)) {
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
    summary,
    diagram: toMermaid({ unreachable: summary.unreachableStateNodes }),
  };
}
