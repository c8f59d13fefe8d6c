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

/**
 * The tier's budget as the policy counts it: pure, so a refusal or a host can explain a decision
 * about a session from the context alone.
 */
export function sessionBudgetState(context: BudgetContext): SessionBudgetState {
  const { policy, support } = context;
  const counts = countedSessionKinds(policy);
  const used = counts.reduce((n, kind) => n + (support.sessions.byKind[kind]?.attended ?? 0), 0);
  const cap = tierOf(policy, support.tier)?.sessionCap ?? 0;
  return {
    ...(support.tier !== undefined && { tier: support.tier }),
    used,
    cap,
    counts,
    overBudget: overBudgetMode(policy),
    exceeded: used > cap,
  };
}

/** Whether logging this session would spend budget the tier has no more of. */
export function sessionPastBudget(context: BudgetContext, session: { kind: SessionKind; attended: boolean }): boolean {
  const budget = sessionBudgetState(context);
  return session.attended && budget.counts.includes(session.kind) && budget.used >= budget.cap;
}
