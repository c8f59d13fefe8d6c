import { enqueueActions } from 'xstate';
import type { DischargeReason, PathwayContext } from '../context';
import type { ReferrerNotice } from '../notices';
import { bySupervisor, dischargeWith, holdsPlace, payload, update, type Args, type EnqueueArgs } from './kit';

/* Leaving the pathway: on request from any stage, and the final `discharged` state every path ends in. */

const FULL_SCHEME = 'The scheme has no place free and no room on its waiting list';

function closingNotice(context: PathwayContext, reason: DischargeReason): ReferrerNotice {
  const triage = context.triage;
  if (reason === 'declined' && triage?.decision === 'declined') {
    return triage.reason ? { kind: 'declined', reason: triage.reason } : { kind: 'declined' };
  }
  // Declined by no one: accepted, but the scheme was full and its waiting list closed or at its cap.
  if (reason === 'declined' && triage?.decision === 'accepted' && context.discharge?.by === undefined) {
    return { kind: 'declined', reason: FULL_SCHEME };
  }
  if (reason === 'redirected' && triage?.decision === 'redirected') {
    return { kind: 'redirected', ...(triage.service && { service: triage.service }), ...(triage.reason && { reason: triage.reason }) };
  }
  if (reason === 'unableToContact') return { kind: 'unableToContact' };
  return { kind: 'dischargeSummary', reason };
}

export const dischargeGuards = {
  supervisorReleasesPlace: ({ context, event }: Args) => bySupervisor(event) && holdsPlace(context),
};

export const dischargeActions = {
  /** The capacity ledger gets back a place the case held or waited for. */
  releaseHeldPlace: enqueueActions(({ context, enqueue }: EnqueueArgs) => {
    if (holdsPlace(context)) enqueue('releasePlace');
  }) as never,
  /** Consent withdrawn: the scheme's person index must forget the case's fingerprints. */
  forgetOnWithdrawal: enqueueActions(({ event, enqueue }: EnqueueArgs) => {
    if (event.type === 'DISCHARGE' && event.reason === 'consentWithdrawn') enqueue('forgetPerson');
  }) as never,

  recordDischarge: update<{ reason: DischargeReason }>({
    discharge: ({ context, event }, params) => dischargeWith(context, event, params.reason),
  }),
  dischargeOnRequest: update({
    discharge: ({ context, event }) => dischargeWith(context, event, payload(event, 'DISCHARGE').reason),
  }),
  /** Entering `discharged`: stop every clock and close what is open; recordOutcome then reports from this context. */
  closeCase: update(({ context }) => {
    const discharge = context.discharge!;
    return {
      timers: [],
      suspendedTimers: [],
      escalations: context.escalations.map((x) =>
        x.acknowledgedAt === undefined && x.closedAt === undefined ? { ...x, closedAt: discharge.at } : x,
      ),
      place: holdsPlace(context) ? { ...context.place, status: 'released' as const } : context.place,
    };
  }),
};

/** A discharge asked for while the case is active: anyone entitled may, and a place held goes back. */
export const dischargeOnRequest = [
  { guard: 'holdsPlace', target: '#discharged', actions: ['dischargeOnRequest', 'releasePlace', 'forgetOnWithdrawal'] },
  { target: '#discharged', actions: ['dischargeOnRequest', 'forgetOnWithdrawal'] },
] as const;

/** On hold, only a supervisor discharges. */
export const dischargeOnHold = [
  { guard: 'supervisorReleasesPlace', target: '#discharged', actions: ['dischargeOnRequest', 'releasePlace', 'forgetOnWithdrawal'] },
  { guard: 'isSupervisor', target: '#discharged', actions: ['dischargeOnRequest', 'forgetOnWithdrawal'] },
] as const;

export const discharged = {
  id: 'discharged',
  type: 'final',
  entry: [
    'closeCase',
    { type: 'notifyReferrer', params: ({ context }: { context: PathwayContext }) => closingNotice(context, context.discharge!.reason) },
    'recordOutcome',
  ],
} as const;
