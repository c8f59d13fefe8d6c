import type { PathwayContext } from '../context';
import { openEscalations } from '../escalations';
import type { PathwayEvent } from '../events';
import { scoreMeasure } from '../measures';
import { overBudgetMode, tierOf } from '../policy';
import { sessionPastBudget } from '../sessions';
import { arm, disarm, stageTimer, timerFor, withStageTimers } from '../timers';
import { escalate, holdFrom, overdue, payload, timeOf, update, type Args } from './kit';

/*
 * Support: the weeks of tiered support after the plan is agreed. Two regions run side by side:
 * engagement (sessions, check-ins, the disengagement check) and the volunteer match.
 */

/** Support (re)starts: fresh review date, check-in and disengagement clocks; a volunteer still awaited gets a new wait. */
export function supportTimers(context: PathwayContext, at: number, reviewDueAt: number) {
  const { deadlines } = context.policy;
  const timers = [
    stageTimer('review', reviewDueAt),
    stageTimer('checkIn', at + deadlines.checkIn),
    stageTimer('disengagement', at + deadlines.disengagement),
  ];
  if (context.support.volunteer.status === 'waiting') timers.push(stageTimer('volunteer', at + deadlines.volunteerWait));
  return withStageTimers(context.timers, ...timers);
}

/**
 * Every contact is recorded whatever the tier's budget, except a counted session past it under a
 * `refuse` policy (the scheme's own choice; sessionBudgetState explains it). The policy's mode is
 * read before the budget is counted: most schemes do not refuse.
 */
function sessionLoggable(context: PathwayContext, event: PathwayEvent): boolean {
  const e = payload(event, 'SESSION.LOG');
  if (overBudgetMode(context.policy) === 'refuse' && sessionPastBudget(context, e)) return false;
  return !e.withVolunteer || context.support.volunteer.status === 'matched';
}

/**
 * Loggable, past the budget, under `needsApproval`, and the first such session since the current
 * tier began while no such escalation is still open: a supervisor hears of it once per tier, not
 * once per session, and a case whose tier keeps changing holds at most one open at a time.
 */
function sessionNeedsApproval(context: PathwayContext, event: PathwayEvent): boolean {
  const e = payload(event, 'SESSION.LOG');
  // Cheapest first: the policy's mode, then the budget (most sessions are within it).
  if (overBudgetMode(context.policy) !== 'needsApproval' || !sessionPastBudget(context, e)) return false;
  if (!sessionLoggable(context, event)) return false;
  const tierSince = context.support.tierHistory.at(-1)?.at ?? -Infinity;
  const open = new Set(openEscalations(context).map((x) => x.id));
  return !context.escalations.some((x) => x.type === 'SESSION_BUDGET' && (x.raisedAt >= tierSince || open.has(x.id)));
}

export const supportGuards = {
  sessionLoggable: ({ context, event }: Args) => sessionLoggable(context, event),
  sessionNeedsApproval: ({ context, event }: Args) => sessionNeedsApproval(context, event),
  sessionReengages: ({ context, event }: Args) => sessionLoggable(context, event) && payload(event, 'SESSION.LOG').attended,
  sessionReengagesNeedingApproval: ({ context, event }: Args) =>
    sessionNeedsApproval(context, event) && payload(event, 'SESSION.LOG').attended,
  // An attended session (most of them) is answered before the budget is asked.
  missedSessionLimitReached: ({ context, event }: Args) =>
    !payload(event, 'SESSION.LOG').attended &&
    context.support.sessions.missedInRow + 1 >= context.policy.deadlines.missedSessions &&
    sessionLoggable(context, event),
  tierChangeAcceptable: ({ context, event }: Args) => {
    const { tier } = payload(event, 'TIER.CHANGE');
    return tier !== context.support.tier && tierOf(context.policy, tier) !== undefined;
  },
  disengagementChecking: ({ context }: Args) => context.support.checking,
  volunteerMatched: ({ context }: Args) => context.support.volunteer.status === 'matched',
  volunteerAwaited: ({ context }: Args) => context.support.volunteer.status === 'waiting',
  volunteerWanted: ({ context }: Args) => context.support.volunteer.status === 'wanted',
};

export const supportActions = {
  startSupport: update(({ context, event }) => {
    const at = timeOf(context, event);
    const draft = context.plan.draft!;
    // A wanted volunteer is requested by the volunteer region's router, once.
    const volunteer = { status: draft.volunteer ? ('wanted' as const) : ('none' as const) };
    const reviewDueAt = at + context.policy.deadlines.review;
    const support = {
      ...context.support,
      tier: draft.tier,
      tierHistory: [{ tier: draft.tier, at, reason: 'plan agreed' }],
      lastContactAt: at,
      checking: false,
      volunteer,
      reviewDueAt,
    };
    return {
      plan: { ...context.plan, agreedAt: at },
      support,
      timers: supportTimers({ ...context, support }, at, reviewDueAt),
    };
  }),
  awaitVolunteer: update(({ context, event }) => {
    const at = timeOf(context, event);
    return {
      support: { ...context.support, volunteer: { status: 'waiting' as const, requestedAt: at } },
      timers: arm(context.timers, stageTimer('volunteer', at + context.policy.deadlines.volunteerWait)),
    };
  }),

  recordSession: update(({ context, event }) => {
    const e = payload(event, 'SESSION.LOG');
    const s = context.support.sessions;
    const kind = s.byKind[e.kind] ?? { count: 0, attended: 0, minutes: 0 };
    const sessions = {
      byKind: {
        ...s.byKind,
        [e.kind]: { count: kind.count + 1, attended: kind.attended + (e.attended ? 1 : 0), minutes: kind.minutes + e.durationMinutes },
      },
      missedInRow: e.attended ? 0 : s.missedInRow + 1,
      withVolunteer: s.withVolunteer + (e.withVolunteer ? 1 : 0),
    };
    if (!e.attended) return { support: { ...context.support, sessions } };
    // Attending is contact: the no-contact clock restarts (a running check ends via endDisengagementCheck).
    const timers = context.support.checking
      ? context.timers
      : arm(context.timers, stageTimer('disengagement', e.at + context.policy.deadlines.disengagement));
    return { support: { ...context.support, sessions, lastContactAt: e.at }, timers };
  }),
  recordCheckIn: update(({ context, event }) => {
    const e = payload(event, 'CHECKIN.RECORD');
    const { deadlines } = context.policy;
    const next = [stageTimer('checkIn', e.at + deadlines.checkIn)];
    if (!context.support.checking) next.push(stageTimer('disengagement', e.at + deadlines.disengagement));
    return {
      checkIns: [
        ...context.checkIns,
        { at: e.at, measures: e.measures.map(scoreMeasure), ...(e.durationMinutes !== undefined && { durationMinutes: e.durationMinutes }) },
      ],
      support: { ...context.support, lastContactAt: e.at },
      timers: arm(context.timers, ...next),
    };
  }),
  /** The monthly check-in is overdue: escalate (separately) and expect the next one a month on. */
  rescheduleCheckIn: update({
    timers: ({ context, event }) => {
      const due = timerFor(context.timers, event)!;
      return arm(context.timers, stageTimer('checkIn', due.dueAt + context.policy.deadlines.checkIn));
    },
  }),
  startDisengagementCheck: update(({ context, event }) => ({
    support: { ...context.support, checking: true },
    timers: arm(
      disarm(context.timers, 'disengagement'),
      stageTimer('disengagementCheck', timeOf(context, event) + context.policy.deadlines.disengagementCheck),
    ),
  })),
  endDisengagementCheck: update(({ context, event }) => {
    const at = timeOf(context, event);
    return {
      support: { ...context.support, checking: false, sessions: { ...context.support.sessions, missedInRow: 0 } },
      timers: arm(disarm(context.timers, 'disengagementCheck'), stageTimer('disengagement', at + context.policy.deadlines.disengagement)),
    };
  }),
  changeTier: update({
    support: ({ context, event }) => {
      const e = payload(event, 'TIER.CHANGE');
      return { ...context.support, tier: e.tier, tierHistory: [...context.support.tierHistory, { tier: e.tier, at: e.at, reason: e.reason }] };
    },
  }),
  recordVolunteerMatch: update(({ context, event }) => {
    const e = payload(event, 'VOLUNTEER.MATCHED');
    return {
      support: { ...context.support, volunteer: { ...context.support.volunteer, status: 'matched' as const, id: e.volunteerId, matchedAt: e.at } },
      timers: disarm(context.timers, 'volunteer'),
    };
  }),
  recordServiceGap: update<{ kind: 'befriending' | 'transport' | 'volunteer' }>({
    serviceGaps: ({ context, event }, params) => [...context.serviceGaps, { kind: params.kind, at: timeOf(context, event) }],
  }),
};

const engagement = {
  initial: 'routing',
  states: {
    // Support is entered after plan agreement, an extension or a hold; context says which sub-state.
    routing: {
      always: [{ guard: 'disengagementChecking', target: 'disengagementCheck' }, { target: 'engaged' }],
    },
    engaged: {
      on: {
        'SESSION.LOG': [
          {
            guard: 'missedSessionLimitReached',
            target: 'disengagementCheck',
            actions: ['recordSession', 'startDisengagementCheck'],
          },
          { guard: 'sessionNeedsApproval', actions: ['recordSession', ...escalate('SESSION_BUDGET', 'support')] },
          { guard: 'sessionLoggable', actions: 'recordSession' },
        ],
        'CHECKIN.RECORD': { guard: 'measuresAcceptable', actions: 'recordCheckIn' },
        'DEADLINE.DISENGAGEMENT': {
          guard: 'deadlineDue',
          target: 'disengagementCheck',
          actions: 'startDisengagementCheck',
        },
      },
    },
    disengagementCheck: {
      on: {
        'SESSION.LOG': [
          {
            guard: 'sessionReengagesNeedingApproval',
            target: 'engaged',
            actions: ['recordSession', 'endDisengagementCheck', ...escalate('SESSION_BUDGET', 'support')],
          },
          { guard: 'sessionReengages', target: 'engaged', actions: ['recordSession', 'endDisengagementCheck'] },
          { guard: 'sessionLoggable', actions: 'recordSession' },
        ],
        'CHECKIN.RECORD': {
          guard: 'measuresAcceptable',
          target: 'engaged',
          actions: ['recordCheckIn', 'endDisengagementCheck'],
        },
        'DEADLINE.DISENGAGEMENT_CHECK': overdue('DISENGAGEMENT', 'support'),
      },
    },
  },
} as const;

const volunteer = {
  initial: 'routing',
  states: {
    routing: {
      always: [
        { guard: 'volunteerMatched', target: 'matched' },
        { guard: 'volunteerAwaited', target: 'waiting' },
        { guard: 'volunteerWanted', target: 'waiting', actions: ['awaitVolunteer', 'requestVolunteerMatch'] },
        { target: 'none' },
      ],
    },
    none: {},
    waiting: {
      on: {
        'VOLUNTEER.MATCHED': { target: 'matched', actions: 'recordVolunteerMatch' },
        'DEADLINE.VOLUNTEER': {
          guard: 'deadlineDue',
          actions: ['consumeDeadline', { type: 'recordServiceGap', params: { kind: 'volunteer' } }, ...escalate('VOLUNTEER_WAIT', 'support')],
        },
      },
    },
    matched: {},
  },
} as const;

export const support = {
  type: 'parallel',
  on: {
    'SAFEGUARDING.RAISE': holdFrom('support'),
    'TIER.CHANGE': { guard: 'tierChangeAcceptable', actions: 'changeTier' },
    'DEADLINE.CHECKIN': {
      guard: 'deadlineDue',
      actions: ['rescheduleCheckIn', ...escalate('CHECKIN_OVERDUE', 'support')],
    },
    'DEADLINE.REVIEW': { guard: 'deadlineDue', target: 'review', actions: 'openReview' },
  },
  states: { engagement, volunteer },
} as const;
