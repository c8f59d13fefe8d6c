import type { EffectName, PathwayEffects } from '../effects';
import type { SupervisorNotice } from '../escalations';
import type { ReferrerNotice } from '../notices';

/**
 * Side effects: no-ops here, returned by transition() as { type, params } for the workflow to run
 * (its activities are the only place anything happens). One per effect of machines/effects.ts, each
 * taking the params it names.
 */
export const effectActions = {
  notifyReferrer: (_: unknown, _params: ReferrerNotice) => {},
  notifySupervisor: (_: unknown, _params: SupervisorNotice) => {},
  requestPlace: () => {},
  releasePlace: () => {},
  requestVolunteerMatch: () => {},
  requestBefriending: () => {},
  recordOutcome: () => {},
  forgetPerson: () => {},
} satisfies { [K in EffectName]: (_: unknown, params: PathwayEffects[K]) => void };
