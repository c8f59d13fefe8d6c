import { initialTransition, transition } from 'xstate';
import { GRAPH_START, LINK_WORKER, SUPERVISOR, eligibleReferral, sampleMeasures } from '../../../machines/graph';
import {
  DAY,
  commandRefusal,
  defaultPolicy,
  pathwayMachine,
  stageOf,
  type PathwayEvent,
  type PathwaySnapshot,
  type ReferralFacts,
  type Refusal,
  type SchemePolicy,
  type UnstampedEvent,
} from '../../../machines';

export { LINK_WORKER, SUPERVISOR };
export const PERSON = { role: 'person', id: 'person-1' } as const;

/** An executed side effect as the workflow sees it: name and resolved params only. */
export interface Effect {
  type: string;
  params?: unknown;
}

/**
 * Drives the machine the way the workflow does: pure transition() calls with a clock the test
 * moves. `send` refuses (throws) an event the machine would not take, so a test step that
 * silently did nothing cannot pass.
 */
export class Case {
  snapshot: PathwaySnapshot;
  effects: Effect[];
  now: number;

  constructor(options: { policy?: SchemePolicy; referral?: Partial<ReferralFacts>; at?: number } = {}) {
    const policy = options.policy ?? defaultPolicy;
    this.now = options.at ?? GRAPH_START;
    const referral = { ...eligibleReferral(policy, this.now), ...options.referral };
    const [snapshot, actions] = initialTransition(pathwayMachine, { referral, policy, at: this.now });
    this.snapshot = snapshot;
    this.effects = actions.map(effect);
  }

  get context() {
    return this.snapshot.context;
  }

  get stage() {
    return stageOf(this.snapshot);
  }

  /** The discharge reason, only once the case really is closed (a reason alone proves nothing). */
  get dischargedAs() {
    return this.snapshot.status === 'done' ? this.context.discharge?.reason : undefined;
  }

  get policy() {
    return this.snapshot.context.policy;
  }

  stamp(event: UnstampedEvent): PathwayEvent {
    return { ...event, at: this.now } as PathwayEvent;
  }

  can(event: UnstampedEvent): boolean {
    return this.snapshot.can(this.stamp(event));
  }

  /** Why a host's command would be refused now, as the workflow's validator judges it. */
  refusal(event: UnstampedEvent, subject?: string): Refusal | undefined {
    return commandRefusal(this.snapshot, this.stamp(event), subject);
  }

  send(event: UnstampedEvent): Effect[] {
    return this.deliver(this.stamp(event));
  }

  deliver(event: PathwayEvent): Effect[] {
    if (!this.snapshot.can(event)) throw new Error(`${event.type} refused in ${JSON.stringify(this.snapshot.value)}`);
    const [next, actions] = transition(pathwayMachine, this.snapshot, event);
    this.snapshot = next;
    this.effects = actions.map(effect);
    return this.effects;
  }

  timer(key: string) {
    const timer = this.context.timers.find((t) => t.key === key);
    if (!timer) throw new Error(`no timer ${key}; armed: ${this.context.timers.map((t) => t.key).join(', ')}`);
    return timer;
  }

  /** Moves the clock to the timer's due time and sends its deadline event, as the workflow does. */
  fire(key: string): Effect[] {
    const timer = this.timer(key);
    this.now = Math.max(this.now, timer.dueAt);
    return this.deliver({ ...timer.event, at: this.now } as PathwayEvent);
  }

  advance(ms: number): this {
    this.now += ms;
    return this;
  }

  // The happy path, one stage at a time, so tests start where they need to.
  accept(): this {
    this.send({ type: 'TRIAGE.ACCEPT', actor: LINK_WORKER });
    return this;
  }

  allocate(): this {
    this.accept().send({ type: 'CAPACITY.GRANTED', linkWorkerId: LINK_WORKER.id });
    return this;
  }

  reach(): this {
    this.allocate().send({ type: 'CONTACT.ATTEMPT', outcome: 'reached', channel: 'phone', actor: LINK_WORKER });
    return this;
  }

  visit(): this {
    this.reach().send(visitRecord(this.policy));
    return this;
  }

  draft(options: { tier?: string; volunteer?: boolean } = {}): this {
    this.send(planDraft(this.policy, options));
    return this;
  }

  agreePlan(options: { tier?: string; volunteer?: boolean } = {}): this {
    this.visit().draft(options);
    this.send({ type: 'PLAN.AGREE', party: 'person', actor: PERSON });
    this.send({ type: 'PLAN.AGREE', party: 'linkWorker', actor: LINK_WORKER });
    return this;
  }

  toReview(options: { tier?: string; volunteer?: boolean } = {}): this {
    this.agreePlan(options).fire('review');
    return this;
  }

  review(outcome: 'discharge' | 'extend' | 'befriend', extensionWeeks?: number): Effect[] {
    return this.send({
      type: 'REVIEW.RECORD',
      measures: sampleMeasures(this.policy),
      goalsMet: 'some',
      outcome,
      ...(extensionWeeks !== undefined && { extensionWeeks }),
      actor: LINK_WORKER,
    });
  }

  session(attended: boolean, extra: { withVolunteer?: boolean } = {}): Effect[] {
    return this.send({
      type: 'SESSION.LOG',
      kind: attended ? 'homeVisit' : 'groupActivity',
      attended,
      durationMinutes: attended ? 60 : 0,
      withVolunteer: extra.withVolunteer ?? false,
      actor: LINK_WORKER,
    });
  }
}

function effect(action: { type: string; params?: unknown }): Effect {
  return action.params === undefined ? { type: action.type } : { type: action.type, params: action.params };
}

export function visitRecord(policy: SchemePolicy): UnstampedEvent {
  return {
    type: 'VISIT.RECORD',
    location: 'cafe',
    durationMinutes: 110,
    measures: sampleMeasures(policy),
    barriers: ['transport', 'confidence'],
    actor: LINK_WORKER,
  };
}

export function planDraft(policy: SchemePolicy, options: { tier?: string; volunteer?: boolean } = {}): UnstampedEvent {
  return {
    type: 'PLAN.DRAFT',
    goals: [{ id: 'g1', text: 'Go to the lunch club on my own' }],
    activities: [{ id: 'a1', category: 'connecting', name: 'Lunch club', provider: 'Age UK' }],
    barrierActions: [{ barrier: 'transport', action: 'accompaniedFirstAttendance' }],
    tier: options.tier ?? policy.tiers[1]!.id,
    volunteer: options.volunteer ?? false,
    actor: LINK_WORKER,
  };
}

export const types = (effects: readonly Effect[]) => effects.map((e) => e.type);
export { DAY };
