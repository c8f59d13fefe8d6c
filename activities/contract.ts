// The contract between the pathway machine's effects and the activities that carry them out: one
// activity per effect of machines/effects.ts, each taking the envelope (case, scheme, idempotency
// key), the params the machine gave the effect, and what the workflow adds from the case. The
// activities' own signatures are written in these terms, and the workflow's effect pump calls them
// through `EffectActivities`, so a change to an effect fails to compile wherever it is not followed.
import type { DeliveredSupervisorNotice, EffectName, PathwayEffects } from '../machines';
import type { ActivityEnvelope, OutcomeSubmission } from '../workflows/definitions';
import type { PathwayActivities } from './index';
import type { CapacityActivities } from './capacity';
import type { PersonIndexActivities } from './person-index';

/** What the befriending handoff's connection is started with: the service and its timing, from the case's policy. */
export interface BefriendingConnectionArgs {
  serviceId: string;
  responseDeadline: number;
  nudges: number[];
  /** The case's link worker, who proposed it in effect; absent before allocation. */
  linkWorkerId?: string;
}

/** What each effect's activity takes besides the envelope. */
export interface EffectArgs {
  notifyReferrer: { notice: PathwayEffects['notifyReferrer'] };
  /** The machine's escalation notices, and the workflow's own (a delivery failed) and the ledger's. */
  notifySupervisor: { notice: DeliveredSupervisorNotice };
  /** The scheme's caseload cap, used only if this call is the one that starts the ledger. */
  requestPlace: { caseloadCap: number };
  releasePlace: { caseloadCap: number };
  requestVolunteerMatch: object;
  /** The befriending service's connection (activities/index.ts); absent, only the request is delivered. */
  requestBefriending: { befriending?: BefriendingConnectionArgs };
  recordOutcome: OutcomeSubmission;
  forgetPerson: object;
}

/** The whole input of the activity behind effect `K`. */
export type EffectInput<K extends EffectName> = ActivityEnvelope & EffectArgs[K];

/** One activity per effect, as the workflow calls them. */
export type EffectActivities = { [K in EffectName]: (input: EffectInput<K>) => Promise<unknown> };

// The activities the worker registers implement the contract: this line fails to compile if one drifts.
export type ImplementedEffectActivities = Pick<PathwayActivities & CapacityActivities & PersonIndexActivities, EffectName> extends EffectActivities ? true : never;
const _implemented: ImplementedEffectActivities = true;
void _implemented;
