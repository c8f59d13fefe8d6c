// Drives the real pathway machine through a case the way the case workflow does: deadlines that
// fall due are sent before any later event, every applied event goes on the timeline, and the
// machine's side effects are collected as the activity calls they would become.
import { initialTransition, transition } from 'xstate';
import {
  defaultPolicy,
  nextDue,
  pathwayMachine,
  stageOf,
  type PathwayContext,
  type PathwayEvent,
  type ReferralFacts,
  type SchemePolicy,
  type Stage,
} from '../../../machines';
import type { ActivityEnvelope, TimelineEntry } from '../../../workflows/definitions';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** When the engine received the referral; scenario times are days after it. */
export const T0 = Date.UTC(2025, 2, 3, 9, 0, 0);
export const day = (d: number) => T0 + Math.round(d * DAY);

export const linkWorker = { role: 'linkWorker', id: 'lw-7' } as const;
export const supervisor = { role: 'supervisor', id: 'sup-2' } as const;
export const person = { role: 'person', id: 'host-portal' } as const;

/** A side effect the machine returned, as the activity call the workflow would make of it. */
export interface Effect {
  type: string;
  params: unknown;
  envelope: ActivityEnvelope;
}

type Snapshot = ReturnType<typeof pathwayMachine.resolveState>;
type Timed<E> = E extends unknown ? E : never;

export function referralFacts(overrides: Partial<ReferralFacts> = {}): ReferralFacts {
  return {
    referralId: 'r-100',
    schemeId: defaultPolicy.schemeId,
    route: 'GP',
    age: 72,
    area: 'Bogside',
    targetGroups: [],
    needs: ['loneliness'],
    flags: [],
    consent: true,
    riskFlags: [],
    referredAt: T0 - DAY,
    ...overrides,
  };
}

export class PathwayCase {
  readonly caseId: string;
  readonly timeline: TimelineEntry[] = [];
  readonly effects: Effect[] = [];
  private snapshot: Snapshot;
  private sequence = 1;

  constructor(opts: { referral?: Partial<ReferralFacts>; policy?: SchemePolicy; at?: number } = {}) {
    const referral = referralFacts(opts.referral);
    const at = opts.at ?? T0;
    this.caseId = `case-${referral.referralId}`;
    const [first, actions] = initialTransition(pathwayMachine, { referral, policy: opts.policy ?? defaultPolicy, at });
    this.snapshot = first as Snapshot;
    this.timeline.push({ seq: 1, at, event: 'REFERRAL', from: 'referral', to: stageOf(this.snapshot) });
    this.collect(actions);
  }

  get context(): PathwayContext {
    return this.snapshot.context;
  }

  get stage(): Stage {
    return stageOf(this.snapshot);
  }

  get done(): boolean {
    return this.snapshot.status === 'done';
  }

  /** Sends every deadline due by `at`, at its due time, as the workflow's timer loop would. */
  advance(at: number): this {
    for (let due = nextDue(this.context); due && due.dueAt <= at && !this.done; due = nextDue(this.context)) {
      this.apply({ ...due.event, at: due.dueAt } as PathwayEvent);
    }
    return this;
  }

  /** Applies one event after the deadlines due before it; a refused event fails the test. */
  send(event: Timed<PathwayEvent>): this {
    this.advance(event.at);
    return this.apply(event);
  }

  effectsOf(type: string): Effect[] {
    return this.effects.filter((e) => e.type === type);
  }

  private apply(event: PathwayEvent): this {
    if (!this.snapshot.can(event)) throw new Error(`the pathway refused ${event.type} in ${this.stage}`);
    const from = this.stage;
    const [next, actions] = transition(pathwayMachine, this.snapshot, event);
    this.snapshot = next as Snapshot;
    this.sequence += 1;
    const actor = 'actor' in event ? event.actor : undefined;
    this.timeline.push({ seq: this.sequence, at: event.at, event: event.type, from, to: this.stage, ...(actor && { actor }) });
    return this.collect(actions);
  }

  private collect(actions: ReadonlyArray<{ type: string; params?: unknown }>): this {
    // transition() applies assign actions itself and returns only the named side effects.
    actions.forEach((action, i) => {
      this.effects.push({
        type: action.type,
        params: action.params,
        envelope: { caseId: this.caseId, schemeId: this.context.policy.schemeId, idempotencyKey: `${this.caseId}:${this.sequence}:${i}:${action.type}` },
      });
    });
    return this;
  }
}

// SWEMWBS answers whose metric scores come from Warwick's conversion table (raw → metric).
export const SWEMWBS_RAW_18 = [2, 2, 3, 3, 2, 3, 3]; // 17.43
export const SWEMWBS_RAW_21 = [3, 3, 3, 3, 3, 3, 3]; // 19.25
export const SWEMWBS_RAW_24 = [4, 4, 3, 3, 4, 3, 3]; // 21.54
export const SWEMWBS_RAW_26 = [4, 4, 4, 4, 4, 3, 3]; // 23.21
export const GAD7_RAW_12 = [2, 2, 2, 1, 1, 2, 2];
export const GAD7_RAW_5 = [1, 1, 1, 0, 1, 1, 0];

const swemwbs = (answers: number[]) => ({ instrument: 'SWEMWBS' as const, answers });
const gad7 = (answers: number[]) => ({ instrument: 'GAD7' as const, answers });

const plan = {
  goals: [{ id: 'g1', text: 'Get out of the house twice a week' }],
  activities: [
    { id: 'a1', category: 'connecting' as const, name: 'Lunch club' },
    { id: 'a2', category: 'active' as const, name: 'Walking football', provider: 'Brandywell FC' },
  ],
  barrierActions: [{ barrier: 'transport' as const, action: 'transportArranged' as const }],
  tier: 'standard',
  volunteer: true,
};

/** Referral, accepted at triage (a day late), a place, reached at the second try. */
export function reachedCase(): PathwayCase {
  return new PathwayCase()
    .send({ type: 'ESCALATION.ACK', escalationId: 'esc-1', actor: supervisor, at: day(2.5) }) // triage overdue at day 2
    .send({ type: 'TRIAGE.ACCEPT', actor: linkWorker, at: day(3) })
    .send({ type: 'CAPACITY.GRANTED', linkWorkerId: 'lw-7', at: day(3) + HOUR })
    .send({ type: 'CONTACT.ATTEMPT', outcome: 'noAnswer', channel: 'phone', actor: linkWorker, at: day(4) })
    .send({ type: 'CONTACT.ATTEMPT', outcome: 'reached', channel: 'phone', actor: linkWorker, at: day(5) });
}

/** ...then a first visit with a baseline, a co-produced plan wanting a volunteer, and support. */
export function supportedCase(): PathwayCase {
  return reachedCase()
    .send({
      type: 'VISIT.RECORD',
      location: 'home',
      durationMinutes: 120,
      measures: [swemwbs(SWEMWBS_RAW_18), gad7(GAD7_RAW_12)],
      barriers: ['transport'],
      actor: linkWorker,
      at: day(10),
    })
    .send({ type: 'PLAN.DRAFT', ...plan, actor: linkWorker, at: day(12) })
    .send({ type: 'PLAN.AGREE', party: 'person', actor: person, at: day(12) + HOUR })
    .send({ type: 'PLAN.AGREE', party: 'linkWorker', actor: linkWorker, at: day(13) })
    .send({ type: 'VOLUNTEER.MATCHED', volunteerId: 'vol-3', actor: linkWorker, at: day(20) })
    .send({ type: 'SESSION.LOG', kind: 'homeVisit', attended: true, durationMinutes: 60, withVolunteer: false, actor: linkWorker, at: day(20) })
    .send({ type: 'SESSION.LOG', kind: 'accompaniedActivity', attended: true, durationMinutes: 90, withVolunteer: true, actor: linkWorker, at: day(27) });
}

/**
 * Twelve weeks of support: a missed session, check-ins (one month missed, its escalation esc-2
 * acknowledged a level up), and the review falling due at day 97, 12 weeks after the plan.
 */
export function throughSupport(): PathwayCase {
  return supportedCase()
    .send({ type: 'SESSION.LOG', kind: 'phone', attended: false, durationMinutes: 0, withVolunteer: false, actor: linkWorker, at: day(34) })
    .send({ type: 'CHECKIN.RECORD', measures: [swemwbs(SWEMWBS_RAW_21)], actor: linkWorker, at: day(38) })
    .send({ type: 'SESSION.LOG', kind: 'phone', attended: true, durationMinutes: 20, withVolunteer: false, actor: linkWorker, at: day(41) })
    .send({ type: 'SESSION.LOG', kind: 'groupActivity', attended: true, durationMinutes: 120, withVolunteer: false, actor: linkWorker, at: day(55) })
    // The check-in due at day 66 is missed (esc-2); unacknowledged at day 68 it goes up a level.
    .send({ type: 'ESCALATION.ACK', escalationId: 'esc-2', actor: supervisor, at: day(69) })
    .send({ type: 'SESSION.LOG', kind: 'homeVisit', attended: true, durationMinutes: 60, withVolunteer: false, actor: linkWorker, at: day(70) })
    .send({ type: 'CHECKIN.RECORD', measures: [swemwbs(SWEMWBS_RAW_24)], actor: linkWorker, at: day(84) });
}

/** The whole pathway, discharged from a review recorded two days after it fell due. */
export function fullCase(): PathwayCase {
  return throughSupport().send({
    type: 'REVIEW.RECORD',
    measures: [swemwbs(SWEMWBS_RAW_26), gad7(GAD7_RAW_5)],
    goalsMet: 'all',
    outcome: 'discharge',
    actor: linkWorker,
    at: day(99),
  });
}

/**
 * The review recorded late (its grace ran out at day 104, esc-3, acknowledged a level up), ending
 * in a befriending handoff the service accepts.
 */
export function handedOffCase(): PathwayCase {
  return throughSupport()
    .send({
      type: 'REVIEW.RECORD',
      measures: [swemwbs(SWEMWBS_RAW_26)],
      goalsMet: 'some',
      outcome: 'befriend',
      actor: linkWorker,
      at: day(105),
    })
    .send({ type: 'ESCALATION.ACK', escalationId: 'esc-3', actor: supervisor, at: day(106.5) })
    .send({ type: 'BEFRIENDING.RESULT', result: 'accepted', service: 'Age Friendly Befriending', actor: linkWorker, at: day(110) });
}

/** Support cut short: a check-in, a safeguarding hold cleared next day, then the person withdraws. */
export function earlyDischargeCase(): PathwayCase {
  return supportedCase()
    .send({ type: 'CHECKIN.RECORD', measures: [swemwbs(SWEMWBS_RAW_21)], actor: linkWorker, at: day(30) })
    .send({ type: 'SAFEGUARDING.RAISE', category: 'selfNeglect', actor: linkWorker, at: day(31) })
    .send({ type: 'SAFEGUARDING.CLEAR', actor: supervisor, at: day(32) })
    .send({ type: 'DISCHARGE', reason: 'withdrew', actor: linkWorker, at: day(35) });
}

/** Declined at triage, on time, with a reason for the referrer. */
export function declinedCase(): PathwayCase {
  return new PathwayCase({ referral: { referralId: 'r-200', route: 'pharmacist', age: 58 } }).send({
    type: 'TRIAGE.DECLINE',
    reason: 'Needs ongoing specialist mental health support',
    actor: linkWorker,
    at: day(1),
  });
}

/** Accepted and allocated, but three calls go unanswered (the third after the 5-day target). */
export function unreachableCase(): PathwayCase {
  return new PathwayCase({ referral: { referralId: 'r-300' } })
    .send({ type: 'TRIAGE.ACCEPT', actor: linkWorker, at: day(1) })
    .send({ type: 'CAPACITY.GRANTED', linkWorkerId: 'lw-9', at: day(1) })
    .send({ type: 'CONTACT.ATTEMPT', outcome: 'noAnswer', channel: 'phone', actor: linkWorker, at: day(2) })
    .send({ type: 'CONTACT.ATTEMPT', outcome: 'leftMessage', channel: 'phone', actor: linkWorker, at: day(4) })
    .send({ type: 'CONTACT.ATTEMPT', outcome: 'noAnswer', channel: 'text', actor: linkWorker, at: day(7) });
}
