// What the pathway tells the people outside it, as the machine's effects carry it and the
// activities deliver it: one definition each, imported by the machine, the workflow and the
// activities alike.
import type { SupervisorNotice } from './escalations';
import type { Stage } from './stage';

/** Every kind of notice a referrer receives, in the order a case can send them. */
export const REFERRER_NOTICE_KINDS = ['received', 'accepted', 'declined', 'redirected', 'waitlisted', 'unableToContact', 'dischargeSummary'] as const;
export type ReferrerNoticeKind = (typeof REFERRER_NOTICE_KINDS)[number];

/** What the referrer is told: the params of the `notifyReferrer` effect. */
export interface ReferrerNotice {
  kind: ReferrerNoticeKind;
  reason?: string;
  service?: string;
}

/**
 * What the `notifySupervisor` activity takes: a case's escalation notice, or the capacity ledger's
 * own, which names no escalation type of the pathway's, the stage `capacity` and no audience.
 */
export type DeliveredSupervisorNotice = Omit<SupervisorNotice, 'type' | 'stage' | 'audience'> & {
  type: string;
  stage: Stage | 'capacity';
  audience?: string;
};
