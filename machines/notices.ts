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
 * What the `notifySupervisor` activity takes: a case's escalation notice, the capacity ledger's
 * own, which names no escalation type of the pathway's, the stage `capacity` and no audience, or a
 * connection's (stage `connection`, audience `linkWorker`), which names the connection and the
 * services the directory suggests next.
 */
export type DeliveredSupervisorNotice = Omit<SupervisorNotice, 'type' | 'stage' | 'audience'> & {
  type: string;
  stage: Stage | 'capacity' | 'connection';
  audience?: string;
  connection?: ConnectionNoticeDetail;
};

/**
 * Why a connection's link worker is told: the provider never answered, declined, the person
 * stopped, or a directory re-import no longer lists the service.
 */
export const CONNECTION_NOTICE_TYPES = {
  noResponse: 'CONNECTION_NO_RESPONSE',
  declined: 'CONNECTION_DECLINED',
  stopped: 'CONNECTION_STOPPED',
  serviceRemoved: 'CONNECTION_SERVICE_REMOVED',
} as const;

export interface ConnectionNoticeDetail {
  connectionId: string;
  serviceId: string;
  /** The directory's next matches, the services already tried left out (reference data only). */
  suggestions: Array<{ serviceId: string; name: string; explanation: string }>;
}

/** What a provider is sent for a connection: the referral, then each nudge until they answer. */
export interface ProviderNotice {
  kind: 'referral' | 'nudge';
  connectionId: string;
  serviceId: string;
  /** The nudge's number (1, 2, ...); 0 for the referral. */
  n: number;
  responseDueAt: number;
}
