import { withStageTimers } from '../timers';
import { holdFrom, overdue, payload, update } from './kit';

/* Triage: a link worker accepts, declines or redirects the referral; accepting asks for a place. */

export const triageActions = {
  acceptReferral: update(({ context, event }) => {
    const e = payload(event, 'TRIAGE.ACCEPT');
    return {
      triage: { decision: 'accepted' as const, at: e.at, automatic: false, by: e.actor },
      place: { status: 'requested' as const, requestedAt: e.at },
      timers: withStageTimers(context.timers),
    };
  }),
  declineReferral: update(({ event }) => {
    const e = payload(event, 'TRIAGE.DECLINE');
    return {
      triage: { decision: 'declined' as const, at: e.at, automatic: false, reason: e.reason, by: e.actor },
      discharge: { reason: 'declined' as const, at: e.at, by: e.actor },
    };
  }),
  redirectReferral: update(({ event }) => {
    const e = payload(event, 'TRIAGE.REDIRECT');
    return {
      triage: { decision: 'redirected' as const, at: e.at, automatic: false, reason: e.reason, service: e.service, by: e.actor },
      discharge: { reason: 'redirected' as const, at: e.at, by: e.actor },
    };
  }),
};

export const triage = {
  on: {
    'SAFEGUARDING.RAISE': holdFrom('triage'),
    'TRIAGE.ACCEPT': {
      target: 'allocating',
      actions: ['acceptReferral', { type: 'notifyReferrer', params: { kind: 'accepted' } }, 'requestPlace'],
    },
    'TRIAGE.DECLINE': { target: '#discharged', actions: 'declineReferral' },
    'TRIAGE.REDIRECT': { target: '#discharged', actions: 'redirectReferral' },
    'DEADLINE.TRIAGE': overdue('TRIAGE_OVERDUE', 'triage'),
  },
} as const;
