// A case's outcome record, read off the pathway machine's context and the workflow's timeline.
// Pure and free of Node imports: the recordOutcome activity writes it at discharge, and the same
// function can answer "what would the record say now?" for an open case wherever the context is
// (a workflow query, a host tool, a test).
import type { PathwayContext, ReviewRecord } from '../machines/context';
import type { Instrument, ScoredMeasure } from '../machines/measures';
import { STAGE_TIMERS } from '../machines/timers';
import type { TimelineEntry } from '../workflows/definitions';
import type { ConnectionSummary } from '../machines/connection';
import { ageBandOf, gpMessageFor, measureSeries, type ConnectionRecord, type MeasureTaken, type OutcomeRecord } from './outcomeRecord';

/**
 * The case cannot be put into the record's shape. Messages name the rule, never the person's
 * data, because they end up in Temporal failures and logs.
 */
export class OutcomeRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutcomeRecordError';
  }
}

export interface CaseForRecord {
  caseId: string;
  context: PathwayContext;
  /** Every event the case applied, in order (as the case workflow keeps it). */
  timeline: readonly TimelineEntry[];
  /** Entries cut from the front of a long timeline, by event type (workflows/carried-state.ts). */
  timelineDropped?: Readonly<Record<string, number>>;
}

export function outcomeRecordFromCase({ caseId, context: c, timeline, timelineDropped }: CaseForRecord): OutcomeRecord {
  const discharge = c.discharge;
  const reviews = reviewsOf(c);
  const sessions = Object.fromEntries(
    Object.entries(c.support.sessions.byKind).flatMap(([kind, t]) =>
      t ? [[kind, { count: t.count, attended: t.attended, minutes: t.minutes }] as const] : [],
    ),
  );
  const contactsByKind = contactsOf(c, reviews);
  const staffMinutesByKind = staffMinutesOf(c, reviews);
  const gpMessage = gpMessageOf(c);

  const personAccount = [...reviews].reverse().find((r) => r.personAccount !== undefined)?.personAccount;
  const redirected = c.triage?.decision === 'redirected' ? c.triage : undefined;

  const record: OutcomeRecord = {
    caseId,
    schemeId: c.policy.schemeId,
    status: discharge ? 'discharged' : 'open',
    ...(c.place.linkWorkerId !== undefined && { linkWorkerId: c.place.linkWorkerId }),
    ageBand: ageBand(c.referral.age),
    area: label(c.referral.area),
    route: c.referral.route,
    needs: c.referral.needs.map((n) => label(n)),
    ...(redirected && {
      redirect: { ...(redirected.service !== undefined && { service: redirected.service }), ...(redirected.reason !== undefined && { reason: redirected.reason }) },
    }),
    ...(c.duplicates && {
      possibleDuplicates: {
        cases: c.duplicates.cases.map((d) => ({ caseId: d.caseId, match: d.match })),
        ...(c.duplicates.resolution && { resolution: c.duplicates.resolution.resolution }),
      },
    }),
    ...(c.firstVisit && { barriers: [...c.firstVisit.barriers] }),
    ...(c.support.tier !== undefined && { tier: c.support.tier }),
    activities: agreedActivities(c),
    volunteer: c.support.volunteer.status === 'matched',
    sessions,
    contactsTotal: Object.values(contactsByKind).reduce((a, b) => a + b, 0),
    contactsByKind,
    staffMinutes: Object.values(staffMinutesByKind).reduce((a, b) => a + b, 0),
    staffMinutesByKind,
    measures: measuresOf(c, reviews),
    ...(personAccount !== undefined && { personAccount }),
    dates: datesOf(c),
    ...(discharge && { dischargeReason: discharge.reason }),
    escalations: c.escalations.map((e) => ({
      type: e.type,
      raisedAt: e.raisedAt,
      ...(e.acknowledgedAt !== undefined && { acknowledgedAt: e.acknowledgedAt }),
      level: e.level,
    })),
    serviceGaps: c.serviceGaps.map((g) => ({ kind: g.kind, at: g.at })),
    ...(c.connections !== undefined && c.connections.length > 0 && { connections: c.connections.map(connectionRecord) }),
    deadlines: deadlinesOf(c, reviews, timeline, timelineDropped),
    ...(gpMessage && { gpMessage }),
  };
  return record;
}

function connectionRecord(x: ConnectionSummary): ConnectionRecord {
  return {
    serviceId: x.serviceId,
    providerId: x.providerId,
    category: x.category,
    status: x.status,
    proposedAt: x.proposedAt,
    ...(x.sentAt !== undefined && { sentAt: x.sentAt }),
    ...(x.responseDueAt !== undefined && { responseDueAt: x.responseDueAt }),
    ...(x.respondedAt !== undefined && { respondedAt: x.respondedAt }),
    autoDeclined: x.autoDeclined,
    nudgesSent: x.nudgesSent,
    attendances: x.attendances,
    ...(x.firstAttendedAt !== undefined && { firstAttendedAt: x.firstAttendedAt }),
  };
}

function ageBand(age: number): OutcomeRecord['ageBand'] {
  // ageBandOf's own message quotes the age; this one must not.
  if (!(age >= 18)) throw new OutcomeRecordError('the outcome record has no age band below 18, the youngest it reports');
  return ageBandOf(age);
}

const LABEL_MAX = 120;

/**
 * Free text from the pathway (an activity's name may be 500 characters) fitted to the record's
 * 120-character labels, so a long name shortens a report cell instead of failing the discharge.
 */
function label(text: string): string {
  const t = text.trim();
  if (t.length === 0) return '(blank)';
  return t.length <= LABEL_MAX ? t : `${t.slice(0, LABEL_MAX - 1)}…`;
}

/** Reviews oldest first: earlier ones (before an extension or a failed handoff), then the latest. */
function reviewsOf(c: PathwayContext): ReviewRecord[] {
  return c.review ? [...c.priorReviews, c.review] : [...c.priorReviews];
}

/** A draft nobody agreed was never offered, so only an agreed plan's activities count as support. */
function agreedActivities(c: PathwayContext): OutcomeRecord['activities'] {
  if (c.plan.agreedAt === undefined || !c.plan.draft) return [];
  return c.plan.draft.activities.map((a) => ({ category: a.category, name: label(a.name) }));
}

function datesOf(c: PathwayContext): OutcomeRecord['dates'] {
  // A host clock ahead of ours could stamp the referral after we received it; nothing can happen
  // before receipt, so receipt bounds it and every later date stays on or after referredAt.
  const dates: OutcomeRecord['dates'] = { referredAt: Math.min(c.referral.referredAt, c.receivedAt) };
  const optional = {
    triagedAt: c.triage?.at,
    // Reaching the person, not trying to: the report's funnel reads firstContactAt as "reached",
    // and an unable-to-contact case must not count as converted.
    firstContactAt: c.contact.reachedAt,
    firstVisitAt: c.firstVisit?.at,
    planAgreedAt: c.plan.agreedAt,
    reviewAt: c.review?.at,
    dischargedAt: c.discharge?.at,
  };
  for (const [key, at] of Object.entries(optional) as [keyof typeof optional, number | undefined][]) {
    if (at !== undefined) dates[key] = at;
  }
  return dates;
}

/**
 * Occasions the scheme and the person actually met or spoke, by kind: reaching them, the first
 * visit, each attended session (by session kind), each check-in and each review. Unanswered
 * contact attempts and missed sessions are effort, not contact (their minutes are in staffMinutes).
 */
function contactsOf(c: PathwayContext, reviews: readonly ReviewRecord[]): Record<string, number> {
  const byKind: Record<string, number> = {};
  if (c.contact.reachedAt !== undefined) byKind.firstContact = 1;
  if (c.firstVisit) byKind.firstVisit = 1;
  for (const [kind, t] of Object.entries(c.support.sessions.byKind)) if (t && t.attended > 0) byKind[kind] = t.attended;
  if (c.checkIns.length > 0) byKind.checkIn = c.checkIns.length;
  if (reviews.length > 0) byKind.review = reviews.length;
  return byKind;
}

/**
 * Staff time as logged, by where it went: contact attempts, the first visit, every session of each
 * kind (a missed one too: the link worker still went), check-ins and reviews. Commands whose minutes
 * are optional count what they carried; a kind with no minutes is left out.
 */
function staffMinutesOf(c: PathwayContext, reviews: readonly ReviewRecord[]): Record<string, number> {
  const byKind: Record<string, number> = {};
  const add = (kind: string, minutes: number) => {
    if (minutes > 0) byKind[kind] = (byKind[kind] ?? 0) + minutes;
  };
  for (const a of c.contact.attempts) add('contactAttempts', a.durationMinutes ?? 0);
  add('firstVisit', c.firstVisit?.durationMinutes ?? 0);
  for (const [kind, t] of Object.entries(c.support.sessions.byKind)) add(kind, t?.minutes ?? 0);
  for (const k of c.checkIns) add('checkIn', k.durationMinutes ?? 0);
  for (const r of reviews) add('review', r.durationMinutes ?? 0);
  return byKind;
}

/**
 * Per instrument: baseline from the first visit; review from the latest review that took it;
 * discharge, for a discharged case, from the latest check-in that took it after that review (or
 * after the baseline when there was no review) and by discharge. A case discharged straight from
 * its review has no later measurement, so the review stands as the follow-up; an extended or
 * early-closed case is measured by what it last recorded.
 */
function measuresOf(c: PathwayContext, reviews: readonly ReviewRecord[]): OutcomeRecord['measures'] {
  const taken = (m: ScoredMeasure, at: number): MeasureTaken => ({ ...m, takenAt: at });
  const visitAt = c.firstVisit?.at;
  const instruments = new Set<Instrument>([
    ...c.baseline.map((m) => m.instrument),
    ...reviews.flatMap((r) => r.measures.map((m) => m.instrument)),
    ...(c.discharge ? c.checkIns.flatMap((k) => k.measures.map((m) => m.instrument)) : []),
  ]);
  const out: OutcomeRecord['measures'] = {};
  for (const instrument of instruments) {
    const pick = (ms: readonly ScoredMeasure[]) => ms.find((m) => m.instrument === instrument);
    const base = pick(c.baseline);
    const baseline = base && visitAt !== undefined ? taken(base, visitAt) : undefined;
    let review: MeasureTaken | undefined;
    for (const r of reviews) {
      const m = pick(r.measures);
      if (m) review = taken(m, r.at);
    }
    let discharge: MeasureTaken | undefined;
    if (c.discharge) {
      const after = review?.takenAt ?? baseline?.takenAt ?? -Infinity;
      for (const k of c.checkIns) {
        const m = pick(k.measures);
        if (m && k.at > after && k.at <= c.discharge.at) discharge = taken(m, k.at);
      }
    }
    if (!baseline && !review && !discharge) continue;
    out[instrument] = measureSeries({ ...(baseline && { baseline }), ...(review && { review }), ...(discharge && { discharge }) });
  }
  return out;
}

/**
 * What goes back to the GP record. "Declined" is the person turning social prescribing down after
 * the scheme accepted the referral (DISCHARGE with reason `declined`); "accepted" is the person
 * having been reached and not declined. A referral the scheme itself declined or redirected (at
 * triage or screening) is neither: the person made no choice the GP code could record.
 */
function gpMessageOf(c: PathwayContext): OutcomeRecord['gpMessage'] {
  const schemeAccepted = c.triage?.decision === 'accepted';
  if (schemeAccepted && c.discharge?.reason === 'declined') return gpMessageFor(false);
  if (schemeAccepted && c.contact.reachedAt !== undefined) return gpMessageFor(true);
  return undefined;
}

/*
 * Deadlines met and missed, by kind.
 *
 * A deadline is a time by which the service owes the person something, whose expiry the machine
 * escalates to a supervisor: triage, a place off the waitlist, the first contact attempt,
 * reaching the person, the first visit, an agreed plan, each monthly check-in, a volunteer match,
 * recording the review once due (kind `review`, the review's grace timer), a befriending handoff,
 * and a supervisor acknowledging an escalation (`escalationAck`). Clocks that measure the person
 * rather than the service are not deadlines: the contact window (it closes the case as unable to
 * contact), the disengagement clock and check (the DISENGAGEMENT escalation is in `escalations`),
 * and the review falling due (that is how the review opens, not a lateness).
 *
 * Missed: each of that kind's deadline events in the timeline. The workflow applies one only when
 * the timer fell due with the stage still open, and the machine takes it only for an armed timer.
 * For escalationAck, each re-escalation (level above 1) and any acknowledgement after its due time.
 *
 * Met: the awaited step happened before its deadline fell due. The machine disarms a timer when
 * its step happens and fires it otherwise, so for the single-shot deadlines that is "the step
 * happened and no deadline event of its kind did": a stage completed late is missed, not also met.
 * Check-ins re-arm the next month's timer, so every recorded check-in is met. Each recorded review
 * is met unless a grace deadline fell due since the previous review (timeline order). A befriending
 * handoff accepted is met whatever happened to earlier requests (each had its own timer).
 *
 * Neither: a deadline still running, one parked by a safeguarding hold, or one whose stage ended
 * some other way (discharged during triage, say). A kind with neither count is left out.
 */
function deadlinesOf(
  c: PathwayContext,
  reviews: readonly ReviewRecord[],
  timeline: readonly TimelineEntry[],
  dropped: Readonly<Record<string, number>> = {},
): OutcomeRecord['deadlines'] {
  const fired = (type: string) => timeline.filter((e) => e.event === type).length + (dropped[type] ?? 0);
  const out: OutcomeRecord['deadlines'] = {};
  const add = (kind: string, met: number, missed: number) => {
    if (met > 0 || missed > 0) out[kind] = { met, missed };
  };
  const once = (kind: keyof typeof STAGE_TIMERS, done: boolean) => {
    const missed = fired(STAGE_TIMERS[kind]);
    add(kind, done && missed === 0 ? 1 : 0, missed);
  };

  once('triage', c.triage !== undefined && !c.triage.automatic);
  once('waitlist', c.place.waitlistedAt !== undefined && c.place.grantedAt !== undefined);
  once('firstAttempt', c.contact.attempts.length > 0);
  once('firstContact', c.contact.reachedAt !== undefined);
  once('firstVisit', c.firstVisit !== undefined);
  once('plan', c.plan.agreedAt !== undefined);
  add('checkIn', c.checkIns.length, fired(STAGE_TIMERS.checkIn));
  once('volunteer', c.support.volunteer.status === 'matched');

  let reviewMet = 0;
  let graceFired = false;
  for (const e of timeline) {
    if (e.event === STAGE_TIMERS.reviewGrace) graceFired = true;
    if (e.event === 'REVIEW.RECORD') {
      if (!graceFired) reviewMet++;
      graceFired = false;
    }
  }
  // Trust the context over a timeline cut short: never more met reviews than recorded ones.
  add('review', Math.min(reviewMet, reviews.length), fired(STAGE_TIMERS.reviewGrace));

  add('befriending', c.discharge?.reason === 'handedOff' ? 1 : 0, fired(STAGE_TIMERS.befriending));

  let ackMet = 0;
  let ackMissed = 0;
  for (const e of c.escalations) {
    ackMissed += e.level - 1;
    if (e.acknowledgedAt === undefined) continue;
    if (e.acknowledgedAt <= e.ackDueAt) ackMet++;
    else ackMissed++;
  }
  add('escalationAck', ackMet, ackMissed);
  return out;
}
