import type { PathwayContext } from '../context';
import type { PathwayEvent } from '../events';
import { tierOf } from '../policy';
import { holdFrom, overdue, payload, update, type Args } from './kit';

/* The co-produced plan: drafted, then agreed by both the person and the link worker. */

function unique(ids: readonly string[]): boolean {
  return new Set(ids).size === ids.length;
}

function agreementRecordable(context: PathwayContext, event: PathwayEvent): boolean {
  const e = payload(event, 'PLAN.AGREE');
  if (!context.plan.draft || context.plan.agreedBy[e.party] !== undefined) return false;
  // The person may speak for themselves through the host; nobody agrees for the link worker but staff.
  return !(e.party === 'linkWorker' && e.actor.role === 'person');
}

export const planGuards = {
  draftAcceptable: ({ context, event }: Args) => {
    const e = payload(event, 'PLAN.DRAFT');
    return (
      tierOf(context.policy, e.tier) !== undefined &&
      e.goals.length > 0 &&
      e.activities.length > 0 &&
      unique(e.goals.map((g) => g.id)) &&
      unique(e.activities.map((a) => a.id))
    );
  },
  agreementRecordable: ({ context, event }: Args) => agreementRecordable(context, event),
  /** This agreement is the second party's, on the current draft: the plan is co-produced. */
  agreementCompletesPlan: ({ context, event }: Args) => {
    if (!agreementRecordable(context, event)) return false;
    const other = payload(event, 'PLAN.AGREE').party === 'person' ? 'linkWorker' : 'person';
    return context.plan.agreedBy[other] !== undefined;
  },
};

export const planActions = {
  recordDraft: update({
    plan: ({ context, event }) => {
      const { type: _t, at, actor: _a, ...draft } = payload(event, 'PLAN.DRAFT');
      return { version: context.plan.version + 1, draft, draftedAt: at, agreedBy: {} };
    },
  }),
  recordAgreement: update({
    plan: ({ context, event }) => {
      const e = payload(event, 'PLAN.AGREE');
      return {
        ...context.plan,
        agreedBy: { ...context.plan.agreedBy, [e.party]: e.at },
        agreedByActor: { ...context.plan.agreedByActor, [e.party]: e.actor.id },
      };
    },
  }),
};

export const coProducedPlan = {
  on: {
    'SAFEGUARDING.RAISE': holdFrom('coProducedPlan'),
    'PLAN.DRAFT': { guard: 'draftAcceptable', actions: 'recordDraft' },
    'PLAN.AGREE': [
      { guard: 'agreementCompletesPlan', target: 'support', actions: ['recordAgreement', 'startSupport'] },
      { guard: 'agreementRecordable', actions: 'recordAgreement' },
    ],
    'DEADLINE.PLAN': overdue('PLAN_OVERDUE', 'coProducedPlan'),
  },
} as const;
