// The case's carried state (what one run hands the next on continue-as-new) kept within a byte
// budget whatever valid commands arrive. Every list in the context that commands can grow without
// end (tier changes, check-ins, reviews and extensions looping, safeguarding raised and cleared,
// escalations) keeps its most recent entries, and the timeline keeps its most recent entries plus
// counts of the ones cut. Free text (tier change reasons, refused extensions' reasons) is not
// carried: it stays in the history of the run that received it. Pure, for the workflow and tests.
import type { PathwayContext } from '../machines';
import type { CarriedCase, TimelineEntry } from './definitions';

/** The case continues as new once its carried state passes this (far under the 2 MB input limit). */
export const CARRIED_BYTE_BUDGET = 256 * 1024;
/** ... or its history passes this many bytes or events (Temporal warns at 10 MB / 10,240 events). */
export const HISTORY_BYTE_BUDGET = 4 * 1024 * 1024;
export const HISTORY_EVENT_BUDGET = 8_000;

/** Kept entries: enough for any real case (a twelve-week case has about forty timeline entries). */
export const KEPT = {
  timeline: 200,
  tierHistory: 20,
  checkIns: 24,
  reviews: 10,
  extensions: 10,
  closedConcerns: 10,
  closedEscalations: 50,
  serviceGaps: 20,
  deliveryProblems: 50,
  commands: 100,
} as const;

const last = <T>(items: readonly T[], n: number): T[] => (items.length > n ? items.slice(items.length - n) : [...items]);

export function compactTimeline(timeline: readonly TimelineEntry[], dropped: Record<string, number> = {}): { timeline: TimelineEntry[]; dropped: Record<string, number> } {
  if (timeline.length <= KEPT.timeline) return { timeline: [...timeline], dropped };
  const cut = timeline.length - KEPT.timeline;
  const counts = { ...dropped };
  for (const entry of timeline.slice(0, cut)) counts[entry.event] = (counts[entry.event] ?? 0) + 1;
  return { timeline: timeline.slice(cut), dropped: counts };
}

export function compactContext(c: PathwayContext): PathwayContext {
  const openConcerns = c.safeguarding.filter((s) => s.clearedAt === undefined);
  const closedConcerns = last(c.safeguarding.filter((s) => s.clearedAt !== undefined), KEPT.closedConcerns);
  const isOpen = (e: PathwayContext['escalations'][number]) => e.acknowledgedAt === undefined && e.closedAt === undefined;
  const keptClosed = new Set(last(c.escalations.filter((e) => !isOpen(e)), KEPT.closedEscalations));
  const history = last(c.extension.history, KEPT.extensions);
  return {
    ...c,
    support: { ...c.support, tierHistory: last(c.support.tierHistory, KEPT.tierHistory).map(({ tier, at }) => ({ tier, at })) },
    // The first check-in stays: the outcome record measures change from it.
    checkIns: c.checkIns.length > KEPT.checkIns ? [c.checkIns[0]!, ...last(c.checkIns, KEPT.checkIns - 1)] : c.checkIns,
    priorReviews: last(c.priorReviews, KEPT.reviews),
    extension: { ...c.extension, history: history.map((h, i) => (i === history.length - 1 ? h : withoutReason(h))) },
    // Order kept: the machine reads the latest concern with `.at(-1)`.
    safeguarding: c.safeguarding.filter((s) => openConcerns.includes(s) || closedConcerns.includes(s)),
    escalations: c.escalations.filter((e) => isOpen(e) || keptClosed.has(e)),
    serviceGaps: last(c.serviceGaps, KEPT.serviceGaps),
  };
}

function withoutReason<T extends { reason?: string }>(item: T): T {
  const { reason: _reason, ...rest } = item;
  return rest as T;
}

/** The carried state with every growing part cut to its kept size. */
export function compactCarried(carried: CarriedCase): CarriedCase {
  const { timeline, dropped } = compactTimeline(carried.timeline, carried.timelineDropped);
  return {
    ...carried,
    context: compactContext(carried.context),
    timeline,
    ...(Object.keys(dropped).length > 0 && { timelineDropped: dropped }),
    ...(carried.deliveryProblems && { deliveryProblems: last(carried.deliveryProblems, KEPT.deliveryProblems) }),
    ...(carried.commands && { commands: last(carried.commands, KEPT.commands) }),
  };
}
