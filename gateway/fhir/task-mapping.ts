// A case as FHIR: the Gravity referral Task (its status from the pathway stage, the stage itself
// in businessStatus, the discharge reason in statusReason) and the ServiceRequest it fulfils. Both
// have the case id as their id. Nothing about the person is here: the case holds none of it.
import type { Caseloads, CaseView, DischargeReason, Stage } from '../../client';
import { AVAILABILITY_SYSTEM, DISCHARGE_REASON_SYSTEM, WAIT_BAND_SYSTEM, REFERRAL_ID_SYSTEM, SCHEME_SYSTEM, STAGE_SYSTEM, TASK_CODE_SYSTEM } from './systems';

export type TaskStatus = 'requested' | 'accepted' | 'in-progress' | 'on-hold' | 'rejected' | 'failed' | 'completed' | 'cancelled';
export const TASK_STATUSES: readonly TaskStatus[] = ['requested', 'accepted', 'in-progress', 'on-hold', 'rejected', 'failed', 'completed', 'cancelled'];

/** Open stages: waiting for triage, taken on but not yet working with the person, working with them, held. */
export const STAGE_TASK_STATUS: Record<Exclude<Stage, 'discharged'>, TaskStatus> = {
  triage: 'requested',
  allocating: 'accepted',
  waitlisted: 'accepted',
  firstContact: 'in-progress',
  firstVisit: 'in-progress',
  coProducedPlan: 'in-progress',
  support: 'in-progress',
  review: 'in-progress',
  extensionPending: 'in-progress',
  befriendingHandoff: 'in-progress',
  onHold: 'on-hold',
};

/** A closed case's status from why it closed. `declined` is the scheme's refusal at triage, else the person's. */
export function dischargedStatus(reason: DischargeReason, declinedAtTriage: boolean): TaskStatus {
  switch (reason) {
    case 'connected':
    case 'handedOff':
    case 'goalsMet':
    case 'escalatedToStatutory':
      return 'completed';
    case 'redirected':
    case 'duplicate':
      return 'rejected';
    case 'declined':
      return declinedAtTriage ? 'rejected' : 'cancelled';
    case 'withdrew':
    case 'consentWithdrawn':
      return 'cancelled';
    case 'unableToContact':
    case 'movedAway':
    case 'died':
    case 'admittedLongTerm':
      return 'failed';
  }
}

export function taskStatusOf(view: CaseView): TaskStatus {
  if (view.stage !== 'discharged') return STAGE_TASK_STATUS[view.stage];
  const reason = view.discharge?.reason ?? 'withdrew';
  return dischargedStatus(reason, view.triage?.decision === 'declined' || view.triage?.decision === 'redirected');
}

/** When the case last changed: its last timeline entry. */
export function lastUpdatedOf(view: CaseView): number {
  return view.timeline.reduce((t, e) => Math.max(t, e.at), 0);
}

const iso = (ms: number) => new Date(ms).toISOString();

export function taskFromCase(view: CaseView) {
  const status = taskStatusOf(view);
  const referredAt = view.timeline[0]?.at;
  const lastUpdated = lastUpdatedOf(view);
  const statusReason =
    view.discharge !== undefined
      ? { coding: [{ system: DISCHARGE_REASON_SYSTEM, code: view.discharge.reason }], text: view.discharge.reason }
      : view.stage === 'waitlisted'
        ? { coding: [{ system: STAGE_SYSTEM, code: 'waitlisted' }], text: 'waitlisted' }
        : undefined;
  return {
    resourceType: 'Task' as const,
    id: view.caseId,
    meta: { versionId: String(view.sequence), lastUpdated: iso(lastUpdated) },
    identifier: [{ system: REFERRAL_ID_SYSTEM, value: view.referralId }],
    basedOn: [{ reference: `ServiceRequest/${view.caseId}` }],
    status,
    businessStatus: { coding: [{ system: STAGE_SYSTEM, code: view.stage }], text: view.stage },
    ...(statusReason && { statusReason }),
    intent: 'order' as const,
    code: { coding: [{ system: TASK_CODE_SYSTEM, code: 'fulfill' }] },
    focus: { reference: `ServiceRequest/${view.caseId}` },
    ...(referredAt !== undefined && { authoredOn: iso(referredAt) }),
    lastModified: iso(lastUpdated),
    owner: { identifier: { system: SCHEME_SYSTEM, value: view.schemeId } },
    ...(referredAt !== undefined && { executionPeriod: { start: iso(referredAt), ...(view.discharge && { end: iso(view.discharge.at) }) } }),
  };
}
export type FhirTask = ReturnType<typeof taskFromCase>;

export function serviceRequestFromCase(view: CaseView) {
  const status = view.stage !== 'discharged' ? 'active' : taskStatusOf(view) === 'completed' ? 'completed' : 'revoked';
  const referredAt = view.timeline[0]?.at;
  return {
    resourceType: 'ServiceRequest' as const,
    id: view.caseId,
    meta: { lastUpdated: iso(lastUpdatedOf(view)) },
    identifier: [{ system: REFERRAL_ID_SYSTEM, value: view.referralId }],
    status,
    intent: 'order' as const,
    // Who the referral is about stays with the referrer: the engine holds no patient record.
    subject: { display: 'Held by the referring system' },
    ...(referredAt !== undefined && { authoredOn: iso(referredAt) }),
    performer: [{ identifier: { system: SCHEME_SYSTEM, value: view.schemeId } }],
  };
}

// ---- Capacity ---------------------------------------------------------------------------------------

export type Availability = 'accepting' | 'waitlist' | 'not-accepting';
export type WaitBand = 'under-1-month' | '1-3-months' | 'over-3-months';
const MONTH_MS = 30 * 24 * 3600 * 1000;

/**
 * A scheme's availability from its capacity ledger: accepting while a link worker has room and
 * nobody is waiting, a waitlist when full, not accepting with nobody on the roster able to take a
 * case. The wait band is the longest wait of anyone on the waitlist now.
 */
export function availabilityOf(loads: Caseloads, now: number): { availability: Availability; waitBand: WaitBand } {
  const capacity = loads.linkWorkers.reduce((n, w) => n + w.cap, 0);
  const oldest = loads.waitlist.reduce((t, w) => Math.min(t, w.since), now);
  const wait = now - oldest;
  const waitBand: WaitBand = wait < MONTH_MS ? 'under-1-month' : wait <= 3 * MONTH_MS ? '1-3-months' : 'over-3-months';
  if (capacity === 0) return { availability: 'not-accepting', waitBand };
  return { availability: loads.full || loads.waitlist.length > 0 ? 'waitlist' : 'accepting', waitBand };
}

export function healthcareServiceFromCaseloads(loads: Caseloads, now: number) {
  const { availability, waitBand } = availabilityOf(loads, now);
  return {
    resourceType: 'HealthcareService' as const,
    id: loads.schemeId,
    identifier: [{ system: SCHEME_SYSTEM, value: loads.schemeId }],
    active: availability !== 'not-accepting',
    name: loads.schemeId,
    category: [{ coding: [{ system: 'http://snomed.info/sct', code: '871731000000106', display: 'Referral to social prescribing service' }] }],
    characteristic: [
      { coding: [{ system: AVAILABILITY_SYSTEM, code: availability }], text: availability },
      { coding: [{ system: WAIT_BAND_SYSTEM, code: waitBand }], text: `wait ${waitBand.replace(/-/g, ' ')}` },
    ],
    availabilityExceptions: availability === 'accepting' ? 'Accepting referrals' : availability === 'waitlist' ? `Referrals join a waitlist (wait ${waitBand.replace(/-/g, ' ')})` : 'Not accepting referrals',
  };
}
