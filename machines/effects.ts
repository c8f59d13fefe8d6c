// The pathway's side effects as one typed map: each effect's name and the params the machine gives
// it. The machine's no-op actions (stages/effects.ts) are checked against it, the workflow's effect
// pump queues what it describes, and the activities' contract (activities/contract.ts) derives
// each activity's signature from it: change an effect here and each of them must follow.
import type { SupervisorNotice } from './escalations';
import type { ReferrerNotice } from './notices';

export interface PathwayEffects {
  /** Tell the referrer what became of the referral. */
  notifyReferrer: ReferrerNotice;
  /** Put an escalation (or a re-escalation, a level up) in front of its audience. */
  notifySupervisor: SupervisorNotice;
  /** Ask the scheme's capacity ledger for a link worker's place; its answer comes back as an event. */
  requestPlace: undefined;
  /** Give the case's place back to the ledger. */
  releasePlace: undefined;
  /** Ask the volunteer coordinator for a match; VOLUNTEER.MATCHED comes back through a host. */
  requestVolunteerMatch: undefined;
  /** Refer the case on to the befriending service; BEFRIENDING.RESULT comes back through a host. */
  requestBefriending: undefined;
  /** Write the case's outcome record from the closed case. */
  recordOutcome: undefined;
  /** Make the scheme's person index forget the case (consent withdrawn). */
  forgetPerson: undefined;
}

export type EffectName = keyof PathwayEffects;

/** One effect as the machine returns it from a transition. */
export type PathwayEffect<K extends EffectName = EffectName> = { [P in K]: { type: P; params: PathwayEffects[P] } }[K];

const NAMES: Record<EffectName, true> = {
  notifyReferrer: true,
  notifySupervisor: true,
  requestPlace: true,
  releasePlace: true,
  requestVolunteerMatch: true,
  requestBefriending: true,
  recordOutcome: true,
  forgetPerson: true,
};

/** Every effect's name; the machine's other actions (assign) are applied inside it. */
export const EFFECT_NAMES = Object.keys(NAMES) as EffectName[];

/**
 * Whether an action the machine returned is one of its effects. Its params are the machine's to
 * get right, and `stages/effects.ts` holds the machine to this map's types.
 */
export function isEffect(action: { type: string; params?: unknown }): action is PathwayEffect {
  return Object.hasOwn(NAMES, action.type);
}
