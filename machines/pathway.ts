import { assertEvent, assign, enqueueActions, setup, type SnapshotFrom } from 'xstate';
import {
  awaitingPlace,
  createContext,
  openConcerns,
  possibleDuplicate,
  type DischargeReason,
  type PathwayContext,
  type PathwayInput,
  type ReviewRecord,
} from './context';
import {
  acknowledge,
  openEscalations,
  isOpen,
  raiseEscalation,
  reescalate,
  supervisorNotice,
  type EscalationType,
  type SupervisorNotice,
} from './escalations';
import type { PathwayEvent, PathwayEventType } from './events';
import type { ReferrerNotice } from './notices';
import { isMeasureSubmission, scoreMeasure, type MeasureSubmission } from './measures';
import { maxExtensionWeeks, policyWeek, tierOf } from './policy';
import { sessionBudgetState, sessionPastBudget } from './sessions';
import type { ActiveStage, Stage } from './stage';
import { arm, disarm, isEscalationTimer, stageTimer, timerFor, withStageTimers } from './timers';

/*
 * The social prescribing pathway as a pure XState machine. The Temporal workflow drives it with
 * `transition()`: nothing here reads a clock, draws a random number or does I/O. Time arrives as
 * `event.at`; every deadline is an absolute due time in `context.timers` that the workflow sleeps
 * on; every side effect is a named no-op action returned as data for the workflow to run.
 *
 * Stage timers are armed by the transitions that enter a stage, never by `entry` actions: a stage
 * is re-entered when a safeguarding hold is cleared, and that must restore its timers (shifted by
 * the hold) rather than start them again.
 */

type EventOf<T extends PathwayEventType> = Extract<PathwayEvent, { type: T }>;

function payload<T extends PathwayEventType>(event: PathwayEvent, ...types: T[]): EventOf<T> {
  assertEvent(event, types);
  return event as unknown as EventOf<T>;
}

/** Event time; `always` transitions taken at start-up see xstate.init, which carries none. */
function timeOf(context: PathwayContext, event: PathwayEvent): number {
  return (event as { at?: number }).at ?? context.receivedAt;
}

function hasActor(event: PathwayEvent): event is Extract<PathwayEvent, { actor: unknown }> {
  return 'actor' in event;
}

function bySupervisor(event: PathwayEvent): boolean {
  return hasActor(event) && event.actor.role === 'supervisor';
}

function measuresAcceptable(context: PathwayContext, measures: readonly MeasureSubmission[]): boolean {
  const seen = new Set<string>();
  for (const m of measures) {
    if (!isMeasureSubmission(m)) return false;
    if (!context.policy.measures.includes(m.instrument) || seen.has(m.instrument)) return false;
    seen.add(m.instrument);
  }
  return true;
}

function eventMeasuresAcceptable(context: PathwayContext, event: PathwayEvent): boolean {
  const e = payload(event, 'VISIT.RECORD', 'CHECKIN.RECORD', 'REVIEW.RECORD');
  return measuresAcceptable(context, e.measures);
}

function unique(ids: readonly string[]): boolean {
  return new Set(ids).size === ids.length;
}

function extensionWeeksOf(context: PathwayContext, event: EventOf<'REVIEW.RECORD'>): number {
  return event.extensionWeeks ?? maxExtensionWeeks(context.policy);
}

function extensionAllowed(context: PathwayContext, weeks: number): boolean {
  const { extension } = context.policy;
  return context.extension.count < extension.maxCount && weeks >= 1 && weeks <= maxExtensionWeeks(context.policy);
}

/**
 * Every contact is recorded whatever the tier's budget, except a counted session past it under a
 * `refuse` policy (the scheme's own choice; sessionBudgetState explains it).
 */
function sessionLoggable(context: PathwayContext, event: PathwayEvent): boolean {
  const e = payload(event, 'SESSION.LOG');
  if (sessionPastBudget(context, e) && sessionBudgetState(context).overBudget === 'refuse') return false;
  return !e.withVolunteer || context.support.volunteer.status === 'matched';
}

/**
 * Loggable, past the budget, under `needsApproval`, and the first such session since the current
 * tier began while no such escalation is still open: a supervisor hears of it once per tier, not
 * once per session, and a case whose tier keeps changing holds at most one open at a time.
 */
function sessionNeedsApproval(context: PathwayContext, event: PathwayEvent): boolean {
  const e = payload(event, 'SESSION.LOG');
  if (!sessionLoggable(context, event) || !sessionPastBudget(context, e)) return false;
  if (sessionBudgetState(context).overBudget !== 'needsApproval') return false;
  const tierSince = context.support.tierHistory.at(-1)?.at ?? -Infinity;
  const open = new Set(openEscalations(context).map((x) => x.id));
  return !context.escalations.some((x) => x.type === 'SESSION_BUDGET' && (x.raisedAt >= tierSince || open.has(x.id)));
}

function agreementRecordable(context: PathwayContext, event: PathwayEvent): boolean {
  const e = payload(event, 'PLAN.AGREE');
  if (!context.plan.draft || context.plan.agreedBy[e.party] !== undefined) return false;
  // The person may speak for themselves through the host; nobody agrees for the link worker but staff.
  return !(e.party === 'linkWorker' && e.actor.role === 'person');
}

function matchingExclusion(context: PathwayContext) {
  return context.policy.exclusions.find((rule) => context.referral.flags.includes(rule.flag));
}

/** The stage a hold returns to: that of the concern that started it. */
function heldStage(context: PathwayContext): ActiveStage {
  const concern = context.safeguarding.at(-1);
  if (!concern) throw new Error('no safeguarding concern recorded');
  return concern.stage;
}

function dischargeWith(context: PathwayContext, event: PathwayEvent, reason: DischargeReason) {
  const at = timeOf(context, event);
  return hasActor(event) ? { reason, at, by: event.actor } : { reason, at };
}

/** A supervisor answers an open flag; `of`, when given, must be one of the flagged cases. */
function duplicateResolvable(context: PathwayContext, event: PathwayEvent): boolean {
  const e = payload(event, 'DUPLICATE.RESOLVE');
  if (!bySupervisor(event) || !possibleDuplicate(context)) return false;
  return e.of === undefined || context.duplicates!.cases.some((d) => d.caseId === e.of);
}

/**
 * What an enqueueing action of this machine uses: typed by hand, since xstate cannot infer the
 * action names of the very setup the action is part of. Only parameterless effects are enqueued.
 */
type EnqueueArgs = { context: PathwayContext; event: PathwayEvent; enqueue: (action: 'releasePlace' | 'forgetPerson') => void };

function closingNotice(context: PathwayContext, reason: DischargeReason): ReferrerNotice {
  const triage = context.triage;
  if (reason === 'declined' && triage?.decision === 'declined') {
    return triage.reason ? { kind: 'declined', reason: triage.reason } : { kind: 'declined' };
  }
  if (reason === 'redirected' && triage?.decision === 'redirected') {
    return { kind: 'redirected', ...(triage.service && { service: triage.service }), ...(triage.reason && { reason: triage.reason }) };
  }
  if (reason === 'unableToContact') return { kind: 'unableToContact' };
  return { kind: 'dischargeSummary', reason };
}

/** Support (re)starts: fresh review date, check-in and disengagement clocks; a volunteer still awaited gets a new wait. */
function supportTimers(context: PathwayContext, at: number, reviewDueAt: number) {
  const { deadlines } = context.policy;
  const timers = [
    stageTimer('review', reviewDueAt),
    stageTimer('checkIn', at + deadlines.checkIn),
    stageTimer('disengagement', at + deadlines.disengagement),
  ];
  if (context.support.volunteer.status === 'waiting') timers.push(stageTimer('volunteer', at + deadlines.volunteerWait));
  return withStageTimers(context.timers, ...timers);
}

type ScreeningGuard = 'noConsent' | 'wrongScheme' | 'outsideAgeBand' | 'areaNotServed' | 'routeNotAccepted' | 'targetGroupNotServed';

function screeningDecline(guard: ScreeningGuard, reason: string) {
  return { guard, target: '#discharged', actions: { type: 'declineOnScreening', params: { reason } } } as const;
}

function holdsPlace(context: PathwayContext): boolean {
  const { status } = context.place;
  return status === 'requested' || status === 'waitlisted' || status === 'held';
}

/** The notice for the escalation just raised (the last one): the supervisor hears of it at once. */
const notifyNewEscalation = {
  type: 'notifySupervisor',
  params: ({ context }: { context: PathwayContext }) => supervisorNotice(context.escalations.at(-1)!, context.policy),
} as const;

/** The notice for the escalation the deadline event re-raised a level. */
const notifyReescalation = {
  type: 'notifySupervisor',
  params: ({ context, event }: { context: PathwayContext; event: PathwayEvent }) => {
    const { escalationId } = payload(event, 'DEADLINE.ESCALATION');
    return supervisorNotice(context.escalations.find((e) => e.id === escalationId)!, context.policy);
  },
} as const;

/** Escalations run on in every stage and on hold: a supervisor acknowledges, or they go up a level. */
const escalationHandling = {
  'ESCALATION.ACK': { guard: 'escalationAcknowledgeable', actions: 'acknowledgeEscalation' },
  'DEADLINE.ESCALATION': { guard: 'deadlineDue', actions: ['reescalate', notifyReescalation] },
} as const;

/**
 * Possible duplicates, in every stage and on hold: the flag from the person index, and a
 * supervisor's answer to it (a duplicate closes the case, giving back any place it held).
 */
const duplicateHandling = {
  'DUPLICATES.FLAGGED': { guard: 'duplicatesNew', actions: 'recordDuplicates' },
  'DUPLICATE.RESOLVE': [
    {
      guard: 'confirmsDuplicate',
      target: '#discharged',
      actions: ['resolveDuplicate', { type: 'recordDischarge', params: { reason: 'duplicate' } }, 'releaseHeldPlace'],
    },
    { guard: 'clearsDuplicate', actions: 'resolveDuplicate' },
  ],
} as const;

function escalate(type: EscalationType, stage: Stage) {
  return [{ type: 'raiseEscalation', params: { type, stage } }, notifyNewEscalation] as const;
}

export const pathwayMachine = setup({
  types: {
    context: {} as PathwayContext,
    events: {} as PathwayEvent,
    input: {} as PathwayInput,
  },
  guards: {
    // Screening: the scheme's appropriate-referral rules, decided from the referral alone.
    noConsent: ({ context }) => !context.referral.consent,
    wrongScheme: ({ context }) => context.referral.schemeId !== context.policy.schemeId,
    outsideAgeBand: ({ context }) => {
      const { minAge, maxAge } = context.policy.eligibility;
      return context.referral.age < minAge || context.referral.age > maxAge;
    },
    areaNotServed: ({ context }) => {
      const { areas } = context.policy.eligibility;
      return areas.length > 0 && !areas.includes(context.referral.area);
    },
    routeNotAccepted: ({ context }) => !context.policy.eligibility.routes.includes(context.referral.route),
    targetGroupNotServed: ({ context }) => {
      const { targetGroups } = context.policy.eligibility;
      return targetGroups.length > 0 && !context.referral.targetGroups.some((g) => targetGroups.includes(g));
    },
    matchesExclusion: ({ context }) => matchingExclusion(context) !== undefined,

    isSupervisor: ({ event }) => bySupervisor(event),
    holdsPlace: ({ context }) => holdsPlace(context),
    supervisorReleasesPlace: ({ context, event }) => bySupervisor(event) && holdsPlace(context),
    /** A deadline event is taken only for an armed timer that has fallen due: stale or early ones are refused. */
    deadlineDue: ({ context, event }) => {
      const timer = timerFor(context.timers, event as { type: string; escalationId?: string });
      return timer !== undefined && timeOf(context, event) >= timer.dueAt;
    },
    escalationAcknowledgeable: ({ context, event }) =>
      bySupervisor(event) && isOpen(context, payload(event, 'ESCALATION.ACK').escalationId),

    placeHeld: ({ context }) => context.place.status === 'held',
    placeWaitlisted: ({ context }) => context.place.status === 'waitlisted',
    awaitingPlace: ({ context }) => awaitingPlace(context),

    contactReached: ({ event }) => payload(event, 'CONTACT.ATTEMPT').outcome === 'reached',
    contactAttemptsExhausted: ({ context, event }) =>
      payload(event, 'CONTACT.ATTEMPT').outcome !== 'reached' &&
      context.contact.attempts.length + 1 >= context.policy.contact.maxAttempts,

    measuresAcceptable: ({ context, event }) => eventMeasuresAcceptable(context, event),

    draftAcceptable: ({ context, event }) => {
      const e = payload(event, 'PLAN.DRAFT');
      return (
        tierOf(context.policy, e.tier) !== undefined &&
        e.goals.length > 0 &&
        e.activities.length > 0 &&
        unique(e.goals.map((g) => g.id)) &&
        unique(e.activities.map((a) => a.id))
      );
    },
    agreementRecordable: ({ context, event }) => agreementRecordable(context, event),
    /** This agreement is the second party's, on the current draft: the plan is co-produced. */
    agreementCompletesPlan: ({ context, event }) => {
      if (!agreementRecordable(context, event)) return false;
      const other = payload(event, 'PLAN.AGREE').party === 'person' ? 'linkWorker' : 'person';
      return context.plan.agreedBy[other] !== undefined;
    },

    sessionLoggable: ({ context, event }) => sessionLoggable(context, event),
    sessionNeedsApproval: ({ context, event }) => sessionNeedsApproval(context, event),
    sessionReengages: ({ context, event }) => sessionLoggable(context, event) && payload(event, 'SESSION.LOG').attended,
    sessionReengagesNeedingApproval: ({ context, event }) =>
      sessionNeedsApproval(context, event) && payload(event, 'SESSION.LOG').attended,
    missedSessionLimitReached: ({ context, event }) =>
      sessionLoggable(context, event) &&
      !payload(event, 'SESSION.LOG').attended &&
      context.support.sessions.missedInRow + 1 >= context.policy.deadlines.missedSessions,
    tierChangeAcceptable: ({ context, event }) => {
      const { tier } = payload(event, 'TIER.CHANGE');
      return tier !== context.support.tier && tierOf(context.policy, tier) !== undefined;
    },
    disengagementChecking: ({ context }) => context.support.checking,
    volunteerMatched: ({ context }) => context.support.volunteer.status === 'matched',
    volunteerAwaited: ({ context }) => context.support.volunteer.status === 'waiting',
    volunteerWanted: ({ context }) => context.support.volunteer.status === 'wanted',

    reviewDischarges: ({ context, event }) =>
      eventMeasuresAcceptable(context, event) && payload(event, 'REVIEW.RECORD').outcome === 'discharge',
    reviewExtends: ({ context, event }) => {
      const e = payload(event, 'REVIEW.RECORD');
      return eventMeasuresAcceptable(context, event) && e.outcome === 'extend' && extensionAllowed(context, extensionWeeksOf(context, e));
    },
    reviewBefriends: ({ context, event }) =>
      eventMeasuresAcceptable(context, event) && payload(event, 'REVIEW.RECORD').outcome === 'befriend',
    extensionApprovable: ({ context, event }) => {
      const pending = context.extension.pending;
      return bySupervisor(event) && pending !== undefined && extensionAllowed(context, pending.weeks);
    },
    befriendingAccepted: ({ event }) => payload(event, 'BEFRIENDING.RESULT').result === 'accepted',
    befriendingWaiting: ({ event }) => payload(event, 'BEFRIENDING.RESULT').result === 'waiting',
    befriendingUnavailable: ({ event }) => payload(event, 'BEFRIENDING.RESULT').result === 'unavailable',

    resumesAt: ({ context }, params: { stage: ActiveStage }) => heldStage(context) === params.stage,

    duplicatesNew: ({ context, event }) => {
      const known = new Set(context.duplicates?.cases.map((d) => d.caseId) ?? []);
      return payload(event, 'DUPLICATES.FLAGGED').duplicates.some((d) => !known.has(d.caseId));
    },
    confirmsDuplicate: ({ context, event }) => duplicateResolvable(context, event) && payload(event, 'DUPLICATE.RESOLVE').resolution === 'duplicate',
    clearsDuplicate: ({ context, event }) => duplicateResolvable(context, event) && payload(event, 'DUPLICATE.RESOLVE').resolution === 'notDuplicate',
  },
  actions: {
    // Side effects: no-ops here, returned by transition() as { type, params } for the workflow to run.
    notifyReferrer: (_, _params: ReferrerNotice) => {},
    notifySupervisor: (_, _params: SupervisorNotice) => {},
    requestPlace: () => {},
    releasePlace: () => {},
    requestVolunteerMatch: () => {},
    requestBefriending: () => {},
    recordOutcome: () => {},
    forgetPerson: () => {},

    raiseEscalation: assign(({ context, event }, params: { type: EscalationType; stage: Stage }) =>
      raiseEscalation(context, params.type, params.stage, timeOf(context, event), context.policy.deadlines.escalationAck),
    ),
    reescalate: assign(({ context, event }) => {
      const e = payload(event, 'DEADLINE.ESCALATION');
      return reescalate(context, e.escalationId, e.at, context.policy.deadlines.escalationAck);
    }),
    acknowledgeEscalation: assign(({ context, event }) => {
      const e = payload(event, 'ESCALATION.ACK');
      return acknowledge(context, (x) => x.id === e.escalationId, e.at, e.actor.id, e.note);
    }),
    /** Removes the timer the deadline event answered. */
    consumeDeadline: assign({
      timers: ({ context, event }) => {
        const timer = timerFor(context.timers, event as { type: string; escalationId?: string });
        return timer ? disarm(context.timers, timer.key) : context.timers;
      },
    }),

    declineOnScreening: assign(({ context }, params: { reason: string }) => ({
      triage: { decision: 'declined' as const, at: context.receivedAt, automatic: true, reason: params.reason },
      discharge: { reason: 'declined' as const, at: context.receivedAt },
    })),
    redirectOnScreening: assign(({ context }) => {
      const rule = matchingExclusion(context)!;
      return {
        triage: { decision: 'redirected' as const, at: context.receivedAt, automatic: true, reason: rule.reason, service: rule.service },
        discharge: { reason: 'redirected' as const, at: context.receivedAt },
      };
    }),
    startTriage: assign({
      timers: ({ context }) => withStageTimers(context.timers, stageTimer('triage', context.receivedAt + context.policy.deadlines.triage)),
    }),
    acceptReferral: assign(({ context, event }) => {
      const e = payload(event, 'TRIAGE.ACCEPT');
      return {
        triage: { decision: 'accepted' as const, at: e.at, automatic: false, by: e.actor },
        place: { status: 'requested' as const, requestedAt: e.at },
        timers: withStageTimers(context.timers),
      };
    }),
    declineReferral: assign(({ event }) => {
      const e = payload(event, 'TRIAGE.DECLINE');
      return {
        triage: { decision: 'declined' as const, at: e.at, automatic: false, reason: e.reason, by: e.actor },
        discharge: { reason: 'declined' as const, at: e.at, by: e.actor },
      };
    }),
    redirectReferral: assign(({ event }) => {
      const e = payload(event, 'TRIAGE.REDIRECT');
      return {
        triage: { decision: 'redirected' as const, at: e.at, automatic: false, reason: e.reason, service: e.service, by: e.actor },
        discharge: { reason: 'redirected' as const, at: e.at, by: e.actor },
      };
    }),

    recordAllocation: assign({
      place: ({ context, event }) => {
        const e = payload(event, 'CAPACITY.GRANTED');
        return { ...context.place, status: 'held' as const, linkWorkerId: e.linkWorkerId, grantedAt: e.at };
      },
    }),
    recordWaitlisting: assign({
      place: ({ context, event }) => {
        const e = payload(event, 'CAPACITY.WAITLISTED');
        return { ...context.place, status: 'waitlisted' as const, position: e.position, waitlistedAt: context.place.waitlistedAt ?? e.at };
      },
    }),
    startWaitlist: assign({
      timers: ({ context, event }) =>
        withStageTimers(context.timers, stageTimer('waitlist', timeOf(context, event) + context.policy.deadlines.waitlistMax)),
    }),
    startFirstContact: assign({
      timers: ({ context, event }) => {
        const at = timeOf(context, event);
        return withStageTimers(
          context.timers,
          stageTimer('firstAttempt', at + context.policy.contact.firstAttemptWithin),
          stageTimer('firstContact', at + context.policy.deadlines.firstContact),
        );
      },
    }),
    recordContactAttempt: assign(({ context, event }) => {
      const { at, outcome, channel, durationMinutes } = payload(event, 'CONTACT.ATTEMPT');
      const first = context.contact.attempts.length === 0;
      const timers = first
        ? arm(disarm(context.timers, 'firstAttempt'), stageTimer('contactWindow', at + context.policy.contact.window))
        : context.timers;
      return {
        contact: {
          attempts: [...context.contact.attempts, { at, outcome, channel, ...(durationMinutes !== undefined && { durationMinutes }) }],
          ...(outcome === 'reached' ? { reachedAt: at } : context.contact.reachedAt !== undefined && { reachedAt: context.contact.reachedAt }),
        },
        timers,
      };
    }),
    startFirstVisit: assign({
      timers: ({ context, event }) =>
        withStageTimers(context.timers, stageTimer('firstVisit', timeOf(context, event) + context.policy.deadlines.firstVisit)),
    }),
    recordFirstVisit: assign(({ context, event }) => {
      const e = payload(event, 'VISIT.RECORD');
      return {
        firstVisit: { at: e.at, location: e.location, durationMinutes: e.durationMinutes, barriers: [...e.barriers] },
        baseline: e.measures.map(scoreMeasure),
        timers: withStageTimers(context.timers, stageTimer('plan', e.at + context.policy.deadlines.planAgreement)),
      };
    }),
    recordDraft: assign({
      plan: ({ context, event }) => {
        const { type: _t, at, actor: _a, ...draft } = payload(event, 'PLAN.DRAFT');
        return { version: context.plan.version + 1, draft, draftedAt: at, agreedBy: {} };
      },
    }),
    recordAgreement: assign({
      plan: ({ context, event }) => {
        const e = payload(event, 'PLAN.AGREE');
        return {
          ...context.plan,
          agreedBy: { ...context.plan.agreedBy, [e.party]: e.at },
          agreedByActor: { ...context.plan.agreedByActor, [e.party]: e.actor.id },
        };
      },
    }),
    startSupport: assign(({ context, event }) => {
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
    awaitVolunteer: assign(({ context, event }) => {
      const at = timeOf(context, event);
      return {
        support: { ...context.support, volunteer: { status: 'waiting' as const, requestedAt: at } },
        timers: arm(context.timers, stageTimer('volunteer', at + context.policy.deadlines.volunteerWait)),
      };
    }),

    recordSession: assign(({ context, event }) => {
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
    recordCheckIn: assign(({ context, event }) => {
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
    rescheduleCheckIn: assign({
      timers: ({ context, event }) => {
        const due = timerFor(context.timers, event)!;
        return arm(context.timers, stageTimer('checkIn', due.dueAt + context.policy.deadlines.checkIn));
      },
    }),
    startDisengagementCheck: assign(({ context, event }) => ({
      support: { ...context.support, checking: true },
      timers: arm(
        disarm(context.timers, 'disengagement'),
        stageTimer('disengagementCheck', timeOf(context, event) + context.policy.deadlines.disengagementCheck),
      ),
    })),
    endDisengagementCheck: assign(({ context, event }) => {
      const at = timeOf(context, event);
      return {
        support: { ...context.support, checking: false, sessions: { ...context.support.sessions, missedInRow: 0 } },
        timers: arm(disarm(context.timers, 'disengagementCheck'), stageTimer('disengagement', at + context.policy.deadlines.disengagement)),
      };
    }),
    changeTier: assign({
      support: ({ context, event }) => {
        const e = payload(event, 'TIER.CHANGE');
        return { ...context.support, tier: e.tier, tierHistory: [...context.support.tierHistory, { tier: e.tier, at: e.at, reason: e.reason }] };
      },
    }),
    recordVolunteerMatch: assign(({ context, event }) => {
      const e = payload(event, 'VOLUNTEER.MATCHED');
      return {
        support: { ...context.support, volunteer: { ...context.support.volunteer, status: 'matched' as const, id: e.volunteerId, matchedAt: e.at } },
        timers: disarm(context.timers, 'volunteer'),
      };
    }),
    recordServiceGap: assign({
      serviceGaps: ({ context, event }, params: { kind: 'befriending' | 'transport' | 'volunteer' }) => [
        ...context.serviceGaps,
        { kind: params.kind, at: timeOf(context, event) },
      ],
    }),

    openReview: assign({
      timers: ({ context, event }) =>
        withStageTimers(context.timers, stageTimer('reviewGrace', timeOf(context, event) + context.policy.deadlines.reviewGrace)),
    }),
    recordReview: assign(({ context, event }) => {
      const e = payload(event, 'REVIEW.RECORD');
      const review: ReviewRecord = {
        at: e.at,
        measures: e.measures.map(scoreMeasure),
        goalsMet: e.goalsMet,
        outcome: e.outcome,
        ...(e.outcome === 'extend' && { extensionWeeks: extensionWeeksOf(context, e) }),
        ...(e.durationMinutes !== undefined && { durationMinutes: e.durationMinutes }),
        ...(e.personAccount !== undefined && { personAccount: e.personAccount }),
      };
      return { review, priorReviews: context.review ? [...context.priorReviews, context.review] : context.priorReviews };
    }),
    requestExtension: assign(({ context, event }) => {
      const e = payload(event, 'REVIEW.RECORD');
      return {
        extension: { ...context.extension, pending: { weeks: extensionWeeksOf(context, e), requestedAt: e.at } },
        timers: withStageTimers(context.timers),
      };
    }),
    decideExtension: assign(({ context, event }) => {
      const e = payload(event, 'EXTENSION.APPROVE', 'EXTENSION.REFUSE');
      const approved = e.type === 'EXTENSION.APPROVE';
      const decision = {
        ...context.extension.pending!,
        decidedAt: e.at,
        approved,
        by: e.actor.id,
        ...(e.type === 'EXTENSION.REFUSE' && { reason: e.reason }),
      };
      return {
        extension: { count: context.extension.count + (approved ? 1 : 0), history: [...context.extension.history, decision] },
        ...acknowledge(context, (x) => x.type === 'EXTENSION_APPROVAL', e.at, e.actor.id),
      };
    }),
    resumeSupport: assign(({ context, event }) => {
      const at = timeOf(context, event);
      const weeks = context.extension.history.at(-1)!.weeks;
      const reviewDueAt = at + weeks * policyWeek(context.policy);
      const support = {
        ...context.support,
        lastContactAt: at,
        checking: false,
        sessions: { ...context.support.sessions, missedInRow: 0 },
        reviewDueAt,
      };
      return { support, timers: supportTimers({ ...context, support }, at, reviewDueAt) };
    }),
    startBefriending: assign(({ context, event }) => {
      const at = timeOf(context, event);
      return {
        befriending: { requests: context.befriending.requests + 1, requestedAt: at },
        timers: withStageTimers(context.timers, stageTimer('befriending', at + context.policy.deadlines.befriendingWait)),
      };
    }),
    recordBefriendingResult: assign({
      befriending: ({ context, event }) => {
        const e = payload(event, 'BEFRIENDING.RESULT');
        return { ...context.befriending, result: e.result, ...(e.service && { service: e.service }) };
      },
    }),

    placeOnHold: assign(({ context, event }, params: { stage: ActiveStage }) => {
      const e = payload(event, 'SAFEGUARDING.RAISE');
      return {
        safeguarding: [...context.safeguarding, { category: e.category, raisedAt: e.at, raisedBy: e.actor, stage: params.stage }],
        suspendedTimers: context.timers.filter((t) => !isEscalationTimer(t)),
        timers: context.timers.filter(isEscalationTimer),
      };
    }),
    recordFurtherConcern: assign({
      safeguarding: ({ context, event }) => {
        const e = payload(event, 'SAFEGUARDING.RAISE');
        return [...context.safeguarding, { category: e.category, raisedAt: e.at, raisedBy: e.actor, stage: heldStage(context) }];
      },
    }),
    /** Stage timers come back shifted by the hold's length: time on hold does not count against the case. */
    releaseHold: assign(({ context, event }) => {
      const e = payload(event, 'SAFEGUARDING.CLEAR');
      const since = openConcerns(context)[0]?.raisedAt ?? e.at;
      const shift = e.at - since;
      const restored = context.suspendedTimers.map((t) => ({ ...t, dueAt: t.dueAt + shift }));
      const acked = acknowledge(context, (x) => x.type === 'SAFEGUARDING', e.at, e.actor.id);
      return {
        safeguarding: context.safeguarding.map((c) => (c.clearedAt === undefined ? { ...c, clearedAt: e.at, clearedBy: e.actor.id } : c)),
        suspendedTimers: [],
        escalations: acked.escalations,
        timers: arm(acked.timers, ...restored),
      };
    }),

    recordDuplicates: assign({
      duplicates: ({ context, event }) => {
        const e = payload(event, 'DUPLICATES.FLAGGED');
        const cases = [...(context.duplicates?.cases ?? [])];
        for (const d of e.duplicates) if (!cases.some((c) => c.caseId === d.caseId)) cases.push({ caseId: d.caseId, match: d.match });
        // A new match is news a supervisor has not answered yet, even if they answered an earlier one.
        return { cases, flaggedAt: context.duplicates?.flaggedAt ?? e.at };
      },
    }),
    resolveDuplicate: assign({
      duplicates: ({ context, event }) => {
        const e = payload(event, 'DUPLICATE.RESOLVE');
        return { ...context.duplicates!, resolution: { resolution: e.resolution, ...(e.of !== undefined && { of: e.of }), at: e.at, by: e.actor } };
      },
    }),
    /** The capacity ledger gets back a place the case held or waited for. */
    releaseHeldPlace: enqueueActions(({ context, enqueue }: EnqueueArgs) => {
      if (holdsPlace(context)) enqueue('releasePlace');
    }) as never,
    /** Consent withdrawn: the scheme's person index must forget the case's fingerprints. */
    forgetOnWithdrawal: enqueueActions(({ event, enqueue }: EnqueueArgs) => {
      if (event.type === 'DISCHARGE' && event.reason === 'consentWithdrawn') enqueue('forgetPerson');
    }) as never,

    recordDischarge: assign({
      discharge: ({ context, event }, params: { reason: DischargeReason }) => dischargeWith(context, event, params.reason),
    }),
    dischargeOnRequest: assign({
      discharge: ({ context, event }) => dischargeWith(context, event, payload(event, 'DISCHARGE').reason),
    }),
    /** Entering `discharged`: stop every clock and close what is open; recordOutcome then reports from this context. */
    closeCase: assign(({ context }) => {
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
  },
}).createMachine({
  id: 'pathway',
  context: ({ input }) => createContext(input),
  initial: 'active',
  states: {
    active: {
      initial: 'screening',
      on: {
        DISCHARGE: [
          { guard: 'holdsPlace', target: '#discharged', actions: ['dischargeOnRequest', 'releasePlace', 'forgetOnWithdrawal'] },
          { target: '#discharged', actions: ['dischargeOnRequest', 'forgetOnWithdrawal'] },
        ],
        ...duplicateHandling,
        ...escalationHandling,
      },
      states: {
        screening: {
          always: [
            screeningDecline('noConsent', 'The person has not consented to the referral'),
            screeningDecline('wrongScheme', 'The referral is for another scheme'),
            screeningDecline('outsideAgeBand', "Outside the scheme's age band"),
            screeningDecline('areaNotServed', 'The scheme does not serve this area'),
            screeningDecline('routeNotAccepted', 'The scheme does not accept referrals by this route'),
            screeningDecline('targetGroupNotServed', 'Not in a group the scheme serves'),
            { guard: 'matchesExclusion', target: '#discharged', actions: 'redirectOnScreening' },
            { target: 'triage', actions: 'startTriage' },
          ],
        },
        triage: {
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
        },
        // Waiting for the capacity ledger's answer to requestPlace. Answers are recorded, then
        // routed, so that one arriving while the case is on hold is acted on when it resumes.
        allocating: {
          always: [
            { guard: 'placeHeld', target: 'firstContact', actions: 'startFirstContact' },
            {
              guard: 'placeWaitlisted',
              target: 'waitlisted',
              actions: ['startWaitlist', { type: 'notifyReferrer', params: { kind: 'waitlisted' } }],
            },
          ],
          on: {
            'SAFEGUARDING.RAISE': holdFrom('allocating'),
            'CAPACITY.GRANTED': { actions: 'recordAllocation' },
            'CAPACITY.WAITLISTED': { actions: 'recordWaitlisting' },
          },
        },
        waitlisted: {
          always: { guard: 'placeHeld', target: 'firstContact', actions: 'startFirstContact' },
          on: {
            'SAFEGUARDING.RAISE': holdFrom('waitlisted'),
            'CAPACITY.GRANTED': { actions: 'recordAllocation' },
            'CAPACITY.WAITLISTED': { actions: 'recordWaitlisting' },
            'DEADLINE.WAITLIST': overdue('LONG_WAIT', 'waitlisted'),
          },
        },
        firstContact: {
          on: {
            'SAFEGUARDING.RAISE': holdFrom('firstContact'),
            'CONTACT.ATTEMPT': [
              { guard: 'contactReached', target: 'firstVisit', actions: ['recordContactAttempt', 'startFirstVisit'] },
              {
                guard: 'contactAttemptsExhausted',
                target: '#discharged',
                actions: ['recordContactAttempt', { type: 'recordDischarge', params: { reason: 'unableToContact' } }, 'releasePlace'],
              },
              { actions: 'recordContactAttempt' },
            ],
            'DEADLINE.FIRST_ATTEMPT': overdue('FIRST_CONTACT_OVERDUE', 'firstContact'),
            'DEADLINE.FIRST_CONTACT': overdue('FIRST_CONTACT_OVERDUE', 'firstContact'),
            'DEADLINE.CONTACT_WINDOW': {
              guard: 'deadlineDue',
              target: '#discharged',
              actions: [{ type: 'recordDischarge', params: { reason: 'unableToContact' } }, 'releasePlace'],
            },
          },
        },
        firstVisit: {
          on: {
            'SAFEGUARDING.RAISE': holdFrom('firstVisit'),
            'VISIT.RECORD': { guard: 'measuresAcceptable', target: 'coProducedPlan', actions: 'recordFirstVisit' },
            'DEADLINE.FIRST_VISIT': overdue('FIRST_VISIT_OVERDUE', 'firstVisit'),
          },
        },
        coProducedPlan: {
          on: {
            'SAFEGUARDING.RAISE': holdFrom('coProducedPlan'),
            'PLAN.DRAFT': { guard: 'draftAcceptable', actions: 'recordDraft' },
            'PLAN.AGREE': [
              { guard: 'agreementCompletesPlan', target: 'support', actions: ['recordAgreement', 'startSupport'] },
              { guard: 'agreementRecordable', actions: 'recordAgreement' },
            ],
            'DEADLINE.PLAN': overdue('PLAN_OVERDUE', 'coProducedPlan'),
          },
        },
        support: {
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
          states: {
            engagement: {
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
            },
            volunteer: {
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
                      actions: [
                        'consumeDeadline',
                        { type: 'recordServiceGap', params: { kind: 'volunteer' } },
                        ...escalate('VOLUNTEER_WAIT', 'support'),
                      ],
                    },
                  },
                },
                matched: {},
              },
            },
          },
        },
        review: {
          on: {
            'SAFEGUARDING.RAISE': holdFrom('review'),
            'REVIEW.RECORD': [
              {
                guard: 'reviewDischarges',
                target: '#discharged',
                actions: ['recordReview', { type: 'recordDischarge', params: { reason: 'connected' } }, 'releasePlace'],
              },
              {
                guard: 'reviewExtends',
                target: 'extensionPending',
                actions: [
                  'recordReview',
                  'requestExtension',
                  ...escalate('EXTENSION_APPROVAL', 'extensionPending'),
                ],
              },
              { guard: 'reviewBefriends', target: 'befriendingHandoff', actions: ['recordReview', 'startBefriending', 'requestBefriending'] },
            ],
            'DEADLINE.REVIEW_GRACE': overdue('REVIEW_OVERDUE', 'review'),
          },
        },
        extensionPending: {
          on: {
            'SAFEGUARDING.RAISE': holdFrom('extensionPending'),
            'EXTENSION.APPROVE': { guard: 'extensionApprovable', target: 'support', actions: ['decideExtension', 'resumeSupport'] },
            'EXTENSION.REFUSE': { guard: 'isSupervisor', target: 'review', actions: ['decideExtension', 'openReview'] },
          },
        },
        befriendingHandoff: {
          on: {
            'SAFEGUARDING.RAISE': holdFrom('befriendingHandoff'),
            'BEFRIENDING.RESULT': [
              {
                guard: 'befriendingAccepted',
                target: '#discharged',
                actions: ['recordBefriendingResult', { type: 'recordDischarge', params: { reason: 'handedOff' } }, 'releasePlace'],
              },
              { guard: 'befriendingWaiting', actions: 'recordBefriendingResult' },
              { guard: 'befriendingUnavailable', target: 'review', actions: ['recordBefriendingResult', ...befriendingGap()] },
            ],
            // The service's wait is longer than the scheme allows: the same gap as no service at all.
            'DEADLINE.BEFRIENDING': { guard: 'deadlineDue', target: 'review', actions: befriendingGap() },
          },
        },
        // Back from a safeguarding hold to the stage it interrupted. The stage is kept in context,
        // not in XState's history, because resolveState({ value, context }) does not restore history.
        resuming: {
          id: 'resuming',
          always: [
            resumeTo('triage'),
            resumeTo('allocating'),
            resumeTo('waitlisted'),
            resumeTo('firstContact'),
            resumeTo('firstVisit'),
            resumeTo('coProducedPlan'),
            resumeTo('support'),
            resumeTo('review'),
            resumeTo('extensionPending'),
            resumeTo('befriendingHandoff'),
          ],
        },
      },
    },
    onHold: {
      on: {
        'SAFEGUARDING.RAISE': {
          actions: [
            'recordFurtherConcern',
            {
              type: 'raiseEscalation',
              params: ({ context }) => ({ type: 'SAFEGUARDING' as const, stage: heldStage(context) }),
            },
            notifyNewEscalation,
          ],
        },
        'SAFEGUARDING.CLEAR': { guard: 'isSupervisor', target: '#resuming', actions: 'releaseHold' },
        DISCHARGE: [
          { guard: 'supervisorReleasesPlace', target: '#discharged', actions: ['dischargeOnRequest', 'releasePlace', 'forgetOnWithdrawal'] },
          { guard: 'isSupervisor', target: '#discharged', actions: ['dischargeOnRequest', 'forgetOnWithdrawal'] },
        ],
        ...duplicateHandling,
        'CAPACITY.GRANTED': { guard: 'awaitingPlace', actions: 'recordAllocation' },
        'CAPACITY.WAITLISTED': { guard: 'awaitingPlace', actions: 'recordWaitlisting' },
        ...escalationHandling,
      },
    },
    discharged: {
      id: 'discharged',
      type: 'final',
      entry: [
        'closeCase',
        { type: 'notifyReferrer', params: ({ context }) => closingNotice(context, context.discharge!.reason) },
        'recordOutcome',
      ],
    },
  },
});

/** A safeguarding concern puts the case on hold from `stage`; a supervisor is told at once. */
function holdFrom(stage: ActiveStage) {
  return {
    target: '#pathway.onHold',
    actions: [
      { type: 'placeOnHold', params: { stage } },
      ...escalate('SAFEGUARDING', stage),
    ],
  } as const;
}

/** A missed stage deadline: the timer is spent and a supervisor is told. */
function overdue(type: EscalationType, stage: Stage) {
  return {
    guard: 'deadlineDue',
    actions: ['consumeDeadline', ...escalate(type, stage)],
  } as const;
}

function befriendingGap() {
  return [
    { type: 'recordServiceGap', params: { kind: 'befriending' } },
    ...escalate('SERVICE_GAP', 'befriendingHandoff'),
    'openReview',
  ] as const;
}

function resumeTo(stage: ActiveStage) {
  return { guard: { type: 'resumesAt', params: { stage } }, target: stage } as const;
}

export type PathwayMachine = typeof pathwayMachine;
export type PathwaySnapshot = SnapshotFrom<typeof pathwayMachine>;
