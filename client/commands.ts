import type { CommandType } from '../machines';
import type { PathwayClient } from './client';

/** Each pathway command's method on PathwayClient, named for what the person or staff did. */
export const COMMAND_METHODS = {
  'TRIAGE.ACCEPT': 'acceptReferral',
  'TRIAGE.DECLINE': 'declineReferral',
  'TRIAGE.REDIRECT': 'redirectReferral',
  'CONTACT.ATTEMPT': 'recordContactAttempt',
  'VISIT.RECORD': 'recordFirstVisit',
  'PLAN.DRAFT': 'draftPlan',
  'PLAN.AGREE': 'agreePlan',
  'SESSION.LOG': 'logSession',
  'TIER.CHANGE': 'changeTier',
  'VOLUNTEER.MATCHED': 'recordVolunteerMatch',
  'CHECKIN.RECORD': 'recordCheckIn',
  'REVIEW.RECORD': 'recordReview',
  'EXTENSION.APPROVE': 'approveExtension',
  'EXTENSION.REFUSE': 'refuseExtension',
  'BEFRIENDING.RESULT': 'recordBefriendingResult',
  'SAFEGUARDING.RAISE': 'raiseSafeguarding',
  'SAFEGUARDING.CLEAR': 'clearSafeguarding',
  'ESCALATION.ACK': 'acknowledgeEscalation',
  DISCHARGE: 'discharge',
  'DUPLICATE.RESOLVE': 'resolveDuplicate',
} as const satisfies { [K in CommandType]: keyof PathwayClient };

export type CommandMethod = (typeof COMMAND_METHODS)[CommandType];
