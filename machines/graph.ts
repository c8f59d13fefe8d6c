import {
  getAdjacencyMap,
  getShortestPaths,
  getSimplePaths,
  type AdjacencyMap,
  type StatePath,
  type TraversalOptions,
} from 'xstate/graph';
import { fromTransition, initialTransition, type AnyStateNode } from 'xstate';
import { openConcerns, possibleDuplicate, type PathwayInput } from './context';
import { sessionBudgetState } from './sessions';
import { openEscalations } from './escalations';
import {
  COMMAND_TYPES,
  dischargeRequestReasonSchema,
  type Actor,
  type PathwayEvent,
  type PathwayEventType,
  type UnstampedEvent,
} from './events';
import type { MeasureSubmission } from './measures';
import { pathwayMachine, type PathwaySnapshot } from './pathway';
import { accessRefusal } from './rules';
import type { SchemePolicy } from './policy';
import type { ReferralFacts, ReferralRoute } from './referral';
import { stageOf, type ActiveStage } from './stage';
import { isEscalationTimer } from './timers';

/*
 * The pathway as a graph, for the graph tests and `npm run graph`. The machine's context is rich
 * (times, counters, lists), so states are compared by an abstraction (graphKey) that keeps what
 * changes which events a stage accepts, and journeys (simple paths) by the coarser stage sequence.
 */

export const LINK_WORKER: Actor = { role: 'linkWorker', id: 'lw-graph' };
export const SUPERVISOR: Actor = { role: 'supervisor', id: 'sup-graph' };
export const PERSON: Actor = { role: 'person', id: 'person-graph' };

/** 6 January 2025, 09:00 UTC: any fixed instant will do, the machine only adds durations to it. */
export const GRAPH_START = Date.UTC(2025, 0, 6, 9);

/** A referral every rule of `policy` accepts, so traversal starts at triage; by the first route it accepts unless told. */
export function eligibleReferral(policy: SchemePolicy, at = GRAPH_START, route: ReferralRoute = policy.eligibility.routes[0]!): ReferralFacts {
  const { eligibility } = policy;
  return {
    referralId: 'ref-graph',
    schemeId: policy.schemeId,
    route,
    age: eligibility.minAge,
    area: eligibility.areas[0] ?? 'anywhere',
    targetGroups: eligibility.targetGroups.slice(0, 1),
    needs: ['loneliness'],
    flags: [],
    consent: true,
    riskFlags: [],
    referredAt: at,
  };
}

export function graphInput(policy: SchemePolicy, at = GRAPH_START, route?: ReferralRoute): PathwayInput {
  return { referral: eligibleReferral(policy, at, route), policy, at };
}

/** Valid answers for every instrument the scheme uses (mid-scale, so any band will do). */
export function sampleMeasures(policy: SchemePolicy): MeasureSubmission[] {
  const answers = { SWEMWBS: [3, 3, 3, 3, 3, 3, 3], GAD7: [1, 1, 1, 1, 1, 1, 1], PHQ9: [1, 1, 1, 1, 1, 1, 1, 1, 1], UCLA3: [2, 2, 2], ONS4: [6, 6, 6, 4] };
  return policy.measures.map((instrument) => ({ instrument, answers: answers[instrument] }) as MeasureSubmission);
}

/**
 * Example payloads of every event, as they could arrive in `snapshot` at time `now`: commands from
 * the roles that may send them (and supervisor-only ones from a link worker too, to be refused),
 * capacity answers, an acknowledgement per open escalation, and each armed timer's deadline event
 * at its due time. Traversal keeps those `snapshot.can` accepts.
 */
export function exampleEvents(snapshot: PathwaySnapshot, now: number): PathwayEvent[] {
  const { context } = snapshot;
  const { policy } = context;
  const measures = sampleMeasures(policy);
  const lw = LINK_WORKER;
  const [first, second] = policy.tiers;
  const plan = {
    goals: [{ id: 'g1', text: 'Get out of the house twice a week' }],
    activities: [{ id: 'a1', category: 'connecting' as const, name: 'Lunch club' }],
    barrierActions: [{ barrier: 'transport' as const, action: 'transportArranged' as const }],
  };
  const events: UnstampedEvent[] = [
    { type: 'TRIAGE.ACCEPT', actor: lw },
    { type: 'TRIAGE.DECLINE', reason: 'Needs are outside the scheme', actor: lw },
    { type: 'TRIAGE.REDIRECT', service: 'Community mental health team', reason: 'Needs clinical care', actor: lw },
    { type: 'CAPACITY.GRANTED', linkWorkerId: lw.id },
    // A place on the list, and one past the policy's cap when it has one (declined as the scheme is full).
    { type: 'CAPACITY.WAITLISTED', position: Math.min(3, policy.waitlist.cap ?? 3) },
    ...(policy.waitlist.cap === undefined ? [] : [{ type: 'CAPACITY.WAITLISTED' as const, position: policy.waitlist.cap + 1 }]),
    { type: 'CONTACT.ATTEMPT', outcome: 'reached', channel: 'phone', actor: lw },
    { type: 'CONTACT.ATTEMPT', outcome: 'noAnswer', channel: 'phone', actor: lw },
    { type: 'VISIT.RECORD', location: 'home', durationMinutes: 120, measures, barriers: ['transport'], actor: lw },
    { type: 'PLAN.DRAFT', ...plan, tier: first!.id, volunteer: false, actor: lw },
    { type: 'PLAN.DRAFT', ...plan, tier: second!.id, volunteer: true, actor: lw },
    { type: 'PLAN.AGREE', party: 'person', actor: PERSON },
    { type: 'PLAN.AGREE', party: 'linkWorker', actor: lw },
    { type: 'SESSION.LOG', kind: 'homeVisit', attended: true, durationMinutes: 60, withVolunteer: false, actor: lw },
    { type: 'SESSION.LOG', kind: 'accompaniedActivity', attended: false, durationMinutes: 0, withVolunteer: false, actor: lw },
    ...policy.tiers.map((t) => ({ type: 'TIER.CHANGE' as const, tier: t.id, reason: 'needs changed', actor: lw })),
    { type: 'VOLUNTEER.MATCHED', volunteerId: 'vol-graph', actor: lw },
    { type: 'CHECKIN.RECORD', measures, actor: lw },
    { type: 'REVIEW.RECORD', measures, goalsMet: 'all', outcome: 'discharge', actor: lw },
    { type: 'REVIEW.RECORD', measures, goalsMet: 'some', outcome: 'extend', extensionWeeks: 1, actor: lw },
    { type: 'REVIEW.RECORD', measures, goalsMet: 'some', outcome: 'befriend', actor: lw },
    { type: 'EXTENSION.APPROVE', actor: SUPERVISOR },
    { type: 'EXTENSION.REFUSE', reason: 'Attachment risk', actor: SUPERVISOR },
    { type: 'BEFRIENDING.RESULT', result: 'accepted', service: 'Age UK befriending', actor: lw },
    { type: 'BEFRIENDING.RESULT', result: 'waiting', actor: lw },
    { type: 'BEFRIENDING.RESULT', result: 'unavailable', actor: lw },
    { type: 'SAFEGUARDING.RAISE', category: 'selfNeglect', actor: lw },
    { type: 'SAFEGUARDING.CLEAR', actor: SUPERVISOR },
    ...openEscalations(context).map((e) => ({ type: 'ESCALATION.ACK' as const, escalationId: e.id, actor: SUPERVISOR })),
    ...dischargeRequestReasonSchema.options.map((reason) => ({ type: 'DISCHARGE' as const, reason, actor: SUPERVISOR })),
    // The person index answers just after referral, so the flag is explored from triage only (the
    // machine takes it in every open stage); a supervisor then answers it either way.
    ...(stageOf(snapshot) === 'triage' ? [{ type: 'DUPLICATES.FLAGGED' as const, duplicates: [{ caseId: 'case-graph-other', match: 'nhsNumber' as const }] }] : []),
    { type: 'DUPLICATE.RESOLVE', resolution: 'notDuplicate', actor: SUPERVISOR },
    { type: 'DUPLICATE.RESOLVE', resolution: 'duplicate', of: 'case-graph-other', actor: SUPERVISOR },
  ];
  const deadlines = context.timers.map((t) => ({ ...t.event, at: t.dueAt }) as PathwayEvent);
  return [...events.map((e) => ({ ...e, at: now }) as PathwayEvent), ...deadlines];
}

/**
 * The abstraction states are compared by: the state value plus, per stage, only the context that
 * decides which events that stage accepts (a finer key multiplies states without adding
 * behaviour: a discharged case is only its reason; a held case, its stage, concerns and, while a
 * place is awaited, the place).
 */
export function graphKey(snapshot: PathwaySnapshot): string {
  const c = snapshot.context;
  const stage = stageOf(snapshot);
  if (stage === 'discharged') return JSON.stringify([snapshot.value, c.discharge?.reason]);
  const held = stage === 'onHold' ? heldStage(c) : undefined;
  // On hold only the hold matters; it returns to the held stage's representative.
  const relevant = held ? 'onHold' : stage;
  const budget = sessionBudgetState(c);
  const timers = (stage === 'onHold' ? c.suspendedTimers : c.timers).filter((t) => !isEscalationTimer(t)).map((t) => t.key).sort();
  const parts: Record<string, unknown> = {
    held,
    concerns: stage === 'onHold' ? Math.min(openConcerns(c).length, 2) : undefined,
    timers,
  };
  if (relevant === 'allocating' || relevant === 'waitlisted' || held === 'allocating' || held === 'waitlisted') {
    parts.place = c.place.status;
  }
  if (relevant === 'firstContact') parts.attempts = c.contact.attempts.length;
  if (relevant === 'triage' && possibleDuplicate(c)) parts.possibleDuplicate = true;
  if (relevant === 'coProducedPlan') {
    parts.draft = c.plan.draft ? [c.plan.draft.tier, c.plan.draft.volunteer] : null;
    parts.agreed = Object.keys(c.plan.agreedBy).sort();
  }
  if (relevant === 'support') {
    parts.sessions =
      budget.tier === undefined ? null : budget.exceeded ? 'exceeded' : budget.used >= budget.cap ? 'capReached' : budget.used > 0 ? 'some' : 'none';
    if (!c.support.checking) parts.missedInRow = c.support.sessions.missedInRow;
  }
  if (relevant === 'support' || relevant === 'review' || relevant === 'extensionPending') parts.extensions = c.extension.count;
  if (relevant === 'befriendingHandoff') parts.befriending = c.befriending.result ?? null;
  return JSON.stringify([snapshot.value, parts]);
}

function heldStage(context: PathwaySnapshot['context']): ActiveStage | undefined {
  return context.safeguarding.at(-1)?.stage;
}

export type PathwayPath = StatePath<PathwaySnapshot, PathwayEvent>;
export type PathwayAdjacency = AdjacencyMap<PathwaySnapshot, PathwayEvent>;

/** The accepted events out of one explored state, with the snapshots they lead to. */
export function outgoing(
  transitions: PathwayAdjacency[keyof PathwayAdjacency]['transitions'],
): Array<{ event: PathwayEvent; state: PathwaySnapshot }> {
  return Object.values(transitions) as Array<{ event: PathwayEvent; state: PathwaySnapshot }>;
}

export interface PathwayGraph {
  policy: SchemePolicy;
  adjacency: PathwayAdjacency;
  /** Time each explored snapshot stands at (the `at` of the event that produced it). */
  clock: WeakMap<PathwaySnapshot, number>;
  traversalOptions: TraversalOptions<PathwaySnapshot, PathwayEvent, PathwayInput> & { input: PathwayInput };
  exploreMs: number;
}

/**
 * Breadth-first over the abstraction from an eligible referral (by `route`, default the policy's
 * first); only events the machine accepts are edges.
 */
export function explorePathway(policy: SchemePolicy, options: { limit?: number; route?: ReferralRoute } = {}): PathwayGraph {
  const input = graphInput(policy, GRAPH_START, options.route);
  const clock = new WeakMap<PathwaySnapshot, number>();
  const traversalOptions: PathwayGraph['traversalOptions'] = {
    input,
    limit: options.limit ?? 200_000,
    // Called with the event that led to each new snapshot before its events are asked for: the one
    // place a traversal can carry time forward.
    serializeState: (snapshot, event) => {
      if (!clock.has(snapshot)) clock.set(snapshot, event?.at ?? input.at);
      return graphKey(snapshot);
    },
    events: (snapshot) => exampleEvents(snapshot, clock.get(snapshot) ?? input.at),
    // Edges are the commands a case would take: the machine's rules and who may send them.
    filterEvents: (snapshot, event) => snapshot.can(event) && accessRefusal(snapshot.context, event) === undefined,
  };
  const started = performance.now();
  const adjacency = getAdjacencyMap(pathwayMachine, traversalOptions);
  return { policy, adjacency, clock, traversalOptions, exploreMs: performance.now() - started };
}

export function shortestPaths(graph: PathwayGraph): PathwayPath[] {
  return getShortestPaths(pathwayMachine, graph.traversalOptions);
}

/**
 * A case's journey: its stage, the stage a hold interrupted, and how it was discharged. Simple
 * paths over the full abstraction run to the billions (every cycle of sessions, check-ins and
 * holds multiplies them), so they are counted over this projection of it instead.
 */
export function journeyKey(snapshot: PathwaySnapshot): string {
  const stage = stageOf(snapshot);
  if (stage === 'discharged') return `discharged:${snapshot.context.discharge?.reason}`;
  return stage === 'onHold' ? `onHold:${heldStage(snapshot.context)}` : stage;
}

type JourneyEvent = { type: 'MOVE'; to: string };

/**
 * Every journey from referral to discharge that passes through no stage twice: the explored graph
 * projected onto journeyKey (edges within a stage dropped), then enumerated by xstate/graph's
 * getSimplePaths as a logic of its own.
 */
export function journeysToDischarge(graph: PathwayGraph): string[][] {
  const next = new Map<string, Set<string>>();
  for (const { state, transitions } of Object.values(graph.adjacency)) {
    const from = journeyKey(state);
    const targets = next.get(from) ?? new Set<string>();
    for (const { state: to } of outgoing(transitions)) if (journeyKey(to) !== from) targets.add(journeyKey(to));
    next.set(from, targets);
  }
  const start = journeyKey(initialTransition(pathwayMachine, graph.traversalOptions.input)[0]);
  const logic = fromTransition((stage: string, event: JourneyEvent) => event.to, start);
  const paths = getSimplePaths(logic, {
    events: (snapshot) => [...(next.get(snapshot.context) ?? [])].map((to) => ({ type: 'MOVE' as const, to })),
    serializeState: (snapshot) => snapshot.context,
    toState: (snapshot) => snapshot.context.startsWith('discharged:'),
  });
  return paths.map((path) => [...path.steps.map((step) => step.state.context)]);
}

/** Every state node of the machine, by id (`pathway.active.support.engagement.engaged`). */
export function stateNodeIds(): string[] {
  const ids: string[] = [];
  const visit = (node: AnyStateNode) => {
    for (const child of Object.values(node.states) as AnyStateNode[]) {
      ids.push(child.id);
      visit(child);
    }
  };
  visit(pathwayMachine.root);
  return ids;
}

/** Transitions as the machine defines them: one per (source, event or always, guarded branch, target). */
export function definedTransitions(): Array<{ source: string; event: string; guard?: string; target: string }> {
  const out: Array<{ source: string; event: string; guard?: string; target: string }> = [];
  const visit = (node: AnyStateNode) => {
    for (const [event, list] of node.transitions) {
      for (const t of list) {
        const guard = typeof t.guard === 'string' ? t.guard : (t.guard as { type?: string } | undefined)?.type;
        for (const target of t.target ?? [node]) out.push({ source: node.id, event, ...(guard && { guard }), target: target.id });
      }
    }
    for (const t of node.always ?? []) {
      const guard = typeof t.guard === 'string' ? t.guard : (t.guard as { type?: string } | undefined)?.type;
      for (const target of t.target ?? [node]) out.push({ source: node.id, event: 'always', ...(guard && { guard }), target: target.id });
    }
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child);
  };
  visit(pathwayMachine.root);
  return out;
}

/** State node ids a snapshot is in (every level, regions included). */
export function activeNodeIds(snapshot: PathwaySnapshot): string[] {
  return (snapshot._nodes as AnyStateNode[]).map((n) => n.id).filter((id) => id !== pathwayMachine.root.id);
}

export interface GraphSummary {
  schemeId: string;
  stateNodes: number;
  definedTransitions: number;
  reachableStates: number;
  edges: number;
  shortestPaths: number;
  journeysToDischarge: number;
  deadEnds: string[];
  unreachableStateNodes: string[];
  commandsNeverAccepted: PathwayEventType[];
  exploreMs: number;
  pathsMs: number;
}

/** What `npm run graph` prints: sizes, paths, dead ends and unreachable states for a policy. */
export function summarizeGraph(graph: PathwayGraph): GraphSummary {
  const entries = Object.values(graph.adjacency);
  const started = performance.now();
  const shortest = shortestPaths(graph);
  const journeys = journeysToDischarge(graph);
  const pathsMs = performance.now() - started;
  const reached = new Set<string>();
  const accepted = new Set<string>();
  for (const { state, transitions } of entries) {
    for (const id of activeNodeIds(state)) reached.add(id);
    for (const { event } of outgoing(transitions)) accepted.add(event.type);
  }
  // Transient nodes are passed through inside a macrostep, so no settled snapshot shows them.
  const transient = new Set(definedTransitions().filter((t) => t.event === 'always' && !t.guard).map((t) => t.source));
  transient.add(pathwayMachine.getStateNodeById('resuming').id);
  return {
    schemeId: graph.policy.schemeId,
    stateNodes: stateNodeIds().length,
    definedTransitions: definedTransitions().length,
    reachableStates: entries.length,
    edges: entries.reduce((n, e) => n + outgoing(e.transitions).length, 0),
    shortestPaths: shortest.length,
    journeysToDischarge: journeys.length,
    deadEnds: entries
      .filter((e) => e.state.status !== 'done' && outgoing(e.transitions).length === 0)
      .map((e) => graphKey(e.state)),
    unreachableStateNodes: stateNodeIds().filter((id) => !reached.has(id) && !transient.has(id)),
    commandsNeverAccepted: COMMAND_TYPES.filter((t) => !accepted.has(t)),
    exploreMs: graph.exploreMs,
    pathsMs,
  };
}
