import type { PathwayContext } from './context';
import type { SessionKind } from './events';
import { countedSessionKinds, overBudgetMode, tierOf, type OverBudgetMode } from './policy';

/** Where a case stands against its tier's session budget. */
export interface SessionBudgetState {
  tier?: string;
  /** Attended sessions of the counted kinds. */
  used: number;
  /** The tier's budget; 0 before a plan set a tier. */
  cap: number;
  /** The session kinds the scheme's policy counts against the budget. */
  counts: readonly SessionKind[];
  overBudget: OverBudgetMode;
  /** True once `used` has passed `cap` (a warning under `warn`). */
  exceeded: boolean;
}

type BudgetContext = Pick<PathwayContext, 'policy' | 'support'>;

/** Attended sessions of the counted kinds. */
function usedOf(support: BudgetContext['support'], counts: readonly SessionKind[]): number {
  let used = 0;
  for (const kind of counts) used += support.sessions.byKind[kind]?.attended ?? 0;
  return used;
}

const capOf = (context: BudgetContext): number => tierOf(context.policy, context.support.tier)?.sessionCap ?? 0;

/**
 * The tier's budget as the policy counts it: pure, so a refusal or a host can explain a decision
 * about a session from the context alone. Built as one literal or the other rather than by spreading
 * `tier !== undefined && { tier }` in: every logged session's guards asked this, and that spread
 * alone made a 12-week case's steps 1.6x dearer (docs/benchmarks.md, issue 23).
 */
export function sessionBudgetState(context: BudgetContext): SessionBudgetState {
  const { policy, support } = context;
  const counts = countedSessionKinds(policy);
  const used = usedOf(support, counts);
  const cap = capOf(context);
  const overBudget = overBudgetMode(policy);
  const exceeded = used > cap;
  return support.tier !== undefined
    ? { tier: support.tier, used, cap, counts, overBudget, exceeded }
    : { used, cap, counts, overBudget, exceeded };
}

/**
 * Whether logging this session would spend budget the tier has no more of. Counts only what the
 * answer needs, in the order it needs it: an unattended or uncounted session asks nothing more.
 */
export function sessionPastBudget(context: BudgetContext, session: { kind: SessionKind; attended: boolean }): boolean {
  if (!session.attended) return false;
  const counts = countedSessionKinds(context.policy);
  return counts.includes(session.kind) && usedOf(context.support, counts) >= capOf(context);
}
