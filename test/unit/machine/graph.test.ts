import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import {
  DISCHARGE_REASONS,
  STAGE_DEADLINE_EVENTS,
  defaultPolicy,
  openEscalations,
  parsePolicy,
  pathwayMachine,
  stageOf,
  timerFor,
  type PathwayEvent,
  type PathwayEventType,
  type PathwaySnapshot,
} from '../../../machines';
import {
  LINK_WORKER,
  exampleEvents,
  explorePathway,
  graphKey,
  journeysToDischarge,
  outgoing,
  shortestPaths,
  stateNodeIds,
  summarizeGraph,
  type PathwayGraph,
} from '../../../machines/graph';
import { toMermaid } from '../../../machines/mermaid';

const graph = explorePathway(defaultPolicy);
const states = Object.entries(graph.adjacency).map(([key, { state, transitions }]) => ({ key, state, out: outgoing(transitions) }));
const timeOf = (graph: PathwayGraph, s: PathwaySnapshot) => graph.clock.get(s)!;

const started = performance.now();
const paths = shortestPaths(graph);
const shortestMs = performance.now() - started;
const journeyStart = performance.now();
const journeys = journeysToDischarge(graph);
const journeysMs = performance.now() - journeyStart;

console.log(
  `pathway graph (default policy): ${states.length} states, ${states.reduce((n, s) => n + s.out.length, 0)} transitions, ` +
    `explored in ${graph.exploreMs.toFixed(0)} ms; ${paths.length} shortest paths in ${shortestMs.toFixed(0)} ms; ` +
    `${journeys.length} journeys to discharge (simple paths over stages) in ${journeysMs.toFixed(0)} ms`,
);

describe('pathway graph', () => {
  it('reaches every state of the machine from a referral', () => {
    expect(summarizeGraph(graph).unreachableStateNodes).toEqual([]);
    expect(stateNodeIds().length).toBeGreaterThan(20);
  });

  it('lets every non-final state reach discharge (no dead ends, no traps)', () => {
    const reachesDischarge = new Set(states.filter((s) => s.state.status === 'done').map((s) => s.key));
    let grew = true;
    while (grew) {
      grew = false;
      for (const s of states) {
        if (reachesDischarge.has(s.key)) continue;
        if (s.out.some((o) => reachesDischarge.has(graphKey(o.state)))) {
          reachesDischarge.add(s.key);
          grew = true;
        }
      }
    }
    expect(states.filter((s) => !reachesDischarge.has(s.key)).map((s) => s.key)).toEqual([]);
  });

  it('reaches every discharge reason', () => {
    const reasons = new Set(states.filter((s) => s.state.status === 'done').map((s) => s.state.context.discharge?.reason));
    expect([...reasons].sort()).toEqual([...DISCHARGE_REASONS].sort());
    const ends = new Set(journeys.map((j) => j.at(-1)));
    expect([...ends].sort()).toEqual(DISCHARGE_REASONS.map((r) => `discharged:${r}`).sort());
  });
});

describe('deadline invariants, in every reachable state', () => {
  it.each(states.map((s) => [s.key, s] as const))('%s', (_, { state }) => {
    if (state.status === 'done') {
      // (c) a closed case leaves nothing for the workflow to wait on.
      expect(state.context.timers).toEqual([]);
      expect(state.context.suspendedTimers).toEqual([]);
      return;
    }
    for (const timer of state.context.timers) {
      const event = { ...timer.event, at: timer.dueAt } as PathwayEvent;
      // (a) every armed timer's event is accepted when it falls due, on hold too.
      expect(state.can(event), `${timer.key} in ${JSON.stringify(state.value)}`).toBe(true);
      // (b) once handled, it is gone or due strictly later: the workflow cannot busy-loop.
      const [next] = transition(pathwayMachine, state, event);
      const again = next.context.timers.find((t) => t.key === timer.key);
      if (again) expect(again.dueAt, timer.key).toBeGreaterThan(timer.dueAt);
    }
    // A deadline that is not armed, or not yet due, is refused.
    for (const type of STAGE_DEADLINE_EVENTS) {
      const armed = timerFor(state.context.timers, { type });
      if (!armed) expect(state.can({ type, at: timeOf(graph, state) + 1e12 }), type).toBe(false);
      else expect(state.can({ type, at: armed.dueAt - 1 }), type).toBe(false);
    }
  });
});

describe('a test per shortest path', () => {
  it.each(paths.map((p) => [graphKey(p.state), p] as const))('%s', (key, path) => {
    // Replay the path's events from the referral with transition(), as the workflow would.
    let [snapshot] = initialTransition(pathwayMachine, graph.traversalOptions.input);
    for (const step of path.steps.slice(1)) {
      expect(snapshot.can(step.event), step.event.type).toBe(true);
      [snapshot] = transition(pathwayMachine, snapshot, step.event);
    }
    // Only the key: xstate/graph reports, per key, the last snapshot it met, not this path's own.
    expect(graphKey(snapshot)).toBe(key);
    expect(snapshot.value).toEqual(path.state.value);
  });
});

// What each stage may accept at all, written out independently of the machine: a transition
// added where the pathway does not allow it fails here.
// A possible-duplicate flag and its answer are taken in every open stage (and on hold); the graph
// explores them from triage, where the person index's answer arrives.
const DUPLICATE_EVENTS: PathwayEventType[] = ['DUPLICATES.FLAGGED', 'DUPLICATE.RESOLVE'];
const EVERY_STAGE: PathwayEventType[] = ['SAFEGUARDING.RAISE', 'DISCHARGE', 'ESCALATION.ACK', 'DEADLINE.ESCALATION', ...DUPLICATE_EVENTS];
const ALLOWED: Record<string, PathwayEventType[]> = {
  triage: [...EVERY_STAGE, 'TRIAGE.ACCEPT', 'TRIAGE.DECLINE', 'TRIAGE.REDIRECT', 'DEADLINE.TRIAGE'],
  allocating: [...EVERY_STAGE, 'CAPACITY.GRANTED', 'CAPACITY.WAITLISTED'],
  waitlisted: [...EVERY_STAGE, 'CAPACITY.GRANTED', 'CAPACITY.WAITLISTED', 'DEADLINE.WAITLIST'],
  firstContact: [...EVERY_STAGE, 'CONTACT.ATTEMPT', 'DEADLINE.FIRST_ATTEMPT', 'DEADLINE.FIRST_CONTACT', 'DEADLINE.CONTACT_WINDOW'],
  firstVisit: [...EVERY_STAGE, 'VISIT.RECORD', 'DEADLINE.FIRST_VISIT'],
  coProducedPlan: [...EVERY_STAGE, 'PLAN.DRAFT', 'PLAN.AGREE', 'DEADLINE.PLAN'],
  support: [...EVERY_STAGE, 'TIER.CHANGE', 'SESSION.LOG', 'CHECKIN.RECORD', 'DEADLINE.CHECKIN', 'DEADLINE.REVIEW'],
  'support.engaged': ['DEADLINE.DISENGAGEMENT'],
  'support.disengagementCheck': ['DEADLINE.DISENGAGEMENT_CHECK'],
  'support.waiting': ['VOLUNTEER.MATCHED', 'DEADLINE.VOLUNTEER'],
  review: [...EVERY_STAGE, 'REVIEW.RECORD', 'DEADLINE.REVIEW_GRACE'],
  extensionPending: [...EVERY_STAGE, 'EXTENSION.APPROVE', 'EXTENSION.REFUSE'],
  befriendingHandoff: [...EVERY_STAGE, 'BEFRIENDING.RESULT', 'DEADLINE.BEFRIENDING'],
  onHold: ['SAFEGUARDING.RAISE', 'SAFEGUARDING.CLEAR', 'DISCHARGE', 'CAPACITY.GRANTED', 'CAPACITY.WAITLISTED', 'ESCALATION.ACK', 'DEADLINE.ESCALATION', ...DUPLICATE_EVENTS],
  discharged: [],
};
const SUPERVISOR_ONLY: PathwayEventType[] = ['EXTENSION.APPROVE', 'EXTENSION.REFUSE', 'SAFEGUARDING.CLEAR', 'ESCALATION.ACK', 'DUPLICATE.RESOLVE'];

function allowedIn(state: PathwaySnapshot): Set<PathwayEventType> {
  const stage = stageOf(state);
  const allowed = new Set(ALLOWED[stage]);
  if (stage === 'support') {
    for (const sub of ['engaged', 'disengagementCheck', 'waiting'] as const) {
      const region = sub === 'waiting' ? { volunteer: sub } : { engagement: sub };
      if (state.matches({ active: { support: region } })) for (const t of ALLOWED[`support.${sub}`]!) allowed.add(t);
    }
  }
  return allowed;
}

/** Every event a host, supervisor or the workflow could send, including ones that must bounce. */
function probes(state: PathwaySnapshot, now: number): PathwayEvent[] {
  const asLinkWorker = exampleEvents(state, now)
    .filter((e) => SUPERVISOR_ONLY.includes(e.type))
    .map((e) => ({ ...e, actor: LINK_WORKER }) as PathwayEvent);
  return [
    ...exampleEvents(state, now),
    ...asLinkWorker,
    ...STAGE_DEADLINE_EVENTS.map((type) => ({ type, at: now + 1e12 })),
    { type: 'DEADLINE.ESCALATION', escalationId: 'esc-999', at: now + 1e12 },
    { type: 'ESCALATION.ACK', escalationId: 'esc-999', actor: { role: 'supervisor', id: 'sup-1' }, at: now },
  ];
}

describe('forbidden (state, event) pairs are refused by snapshot.can', () => {
  const accepted = new Map<string, Set<PathwayEventType>>();

  it.each(states.map((s) => [s.key, s] as const))('%s', (_, { state }) => {
    const allowed = allowedIn(state);
    const now = timeOf(graph, state);
    const open = new Set(openEscalations(state.context).map((e) => e.id));
    for (const event of probes(state, now)) {
      const can = state.can(event);
      const label = `${event.type} ${JSON.stringify(event)}`;
      if (!allowed.has(event.type)) expect(can, label).toBe(false);
      if (SUPERVISOR_ONLY.includes(event.type) && 'actor' in event && event.actor.role !== 'supervisor') expect(can, label).toBe(false);
      if ('escalationId' in event && !open.has(event.escalationId)) expect(can, label).toBe(false);
      if (can) {
        const stage = stageOf(state);
        if (!accepted.has(stage)) accepted.set(stage, new Set());
        accepted.get(stage)!.add(event.type);
      }
    }
  });

  it('and every pair the table allows is taken somewhere in the graph', () => {
    // Escalations belong to the case, not a stage; the abstraction does not tell a stage with an
    // open escalation from one without, so they are checked across stages rather than in each.
    const caseWide: PathwayEventType[] = ['ESCALATION.ACK', 'DEADLINE.ESCALATION'];
    for (const [stage, allowed] of Object.entries(ALLOWED)) {
      const [base, sub] = stage.split('.');
      if (sub) continue;
      const taken = accepted.get(base!) ?? new Set();
      expect(allowed.filter((t) => !taken.has(t) && !caseWide.includes(t) && (base === 'triage' || !DUPLICATE_EVENTS.includes(t))), base).toEqual([]);
    }
    for (const type of caseWide) {
      const stagesTaking = [...accepted].filter(([, types]) => types.has(type)).map(([stage]) => stage);
      expect(stagesTaking, type).toEqual(expect.arrayContaining(['triage', 'support', 'onHold']));
    }
  });
});

describe('graph command', () => {
  it('summarises a scheme’s own policy and flags what it makes unreachable', () => {
    const noExtensions = summarizeGraph(explorePathway(parsePolicy({ schemeId: 'no-ext', extension: { maxCount: 0 } })));
    expect(noExtensions.unreachableStateNodes).toEqual(['pathway.active.extensionPending']);
    expect(noExtensions.commandsNeverAccepted).toEqual(['EXTENSION.APPROVE', 'EXTENSION.REFUSE']);
    expect(noExtensions.deadEnds).toEqual([]);
  });

  it('draws every state and event of the machine in the diagram', () => {
    const diagram = toMermaid();
    for (const id of stateNodeIds()) expect(diagram).toContain(id.split('.').at(-1));
    for (const s of states) for (const { event } of s.out) expect(diagram).toContain(event.type);
  });

  it('keeps docs/pathway.md in step with the machine (run `npm run graph` after changing it)', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'pathway.md'), 'utf8');
    expect(doc).toContain(toMermaid());
  });
});
