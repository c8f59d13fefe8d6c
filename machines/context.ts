import type { ConnectionSummary } from './connection';
import type { Escalation } from './escalations';
import { dischargeRequestReasonSchema, type Actor, type Barrier, type PlanDraft, type PossibleDuplicateCase, type SessionKind } from './events';
import type { ScoredMeasure } from './measures';
import type { SchemePolicy } from './policy';
import { pickReferralFacts, type ReferralFacts } from './referral';
import type { ActiveStage } from './stage';
import type { Timer } from './timers';

// Everything here must stay plain JSON (no Date, Map or function): the workflow carries the
// context across continue-as-new and rebuilds the snapshot with `resolveState({ value, context })`.

/**
 * Why a case closed: the reasons staff may give with DISCHARGE, and those the pathway reaches on
 * its own (completed plan at review, befriending accepted, triage outcome, unable to contact).
 */
export const DISCHARGE_REASONS = [
  'connected',
  'handedOff',
  'redirected',
  'unableToContact',
  // A supervisor found the referral to be a second one for a person the scheme already has.
  'duplicate',
  ...dischargeRequestReasonSchema.options,
] as const;
export type DischargeReason = (typeof DISCHARGE_REASONS)[number];

/** Where the case stands with the scheme's capacity ledger, so discharge knows to release a place. */
export type PlaceStatus = 'none' | 'requested' | 'waitlisted' | 'held' | 'released';

export interface TriageDecision {
  decision: 'accepted' | 'declined' | 'redirected';
  at: number;
  /** True when screening decided from the referral alone, before anyone triaged it. */
  automatic: boolean;
  reason?: string;
  service?: string;
  by?: Actor;
}

export interface ContactAttempt {
  at: number;
  outcome: 'reached' | 'noAnswer' | 'leftMessage' | 'wrongNumber';
  channel: 'phone' | 'text' | 'email' | 'letter' | 'visit' | 'video';
  durationMinutes?: number;
}

export interface FirstVisit {
  at: number;
  location: 'home' | 'cafe' | 'communityVenue' | 'gpPractice' | 'phone' | 'video' | 'other';
  durationMinutes: number;
  barriers: Barrier[];
}

export interface Plan {
  /** Bumped by every draft; agreements belong to the draft they were given for. */
  version: number;
  draft?: PlanDraft;
  draftedAt?: number;
  agreedBy: { person?: number; linkWorker?: number };
  /** Who gave each side (actor ids): the same actor may not give both (machines/rules.ts). */
  agreedByActor?: { person?: string; linkWorker?: string };
  agreedAt?: number;
}

export interface SessionTally {
  /** Sessions logged, attended and minutes spent, by kind. */
  byKind: Partial<Record<SessionKind, { count: number; attended: number; minutes: number }>>;
  /** Consecutive missed sessions; an attended one resets it. */
  missedInRow: number;
  withVolunteer: number;
}

/** Attended sessions of every kind (what the budget counts is `sessionBudgetState`'s, in sessions.ts). */
export function attendedSessions(tally: SessionTally): number {
  return Object.values(tally.byKind).reduce((n, k) => n + (k?.attended ?? 0), 0);
}

export interface Support {
  tier?: string;
  /** Tier changes; a reason is kept only in the run that received it (not carried across continue-as-new). */
  tierHistory: Array<{ tier: string; at: number; reason?: string }>;
  sessions: SessionTally;
  lastContactAt?: number;
  /** A disengagement check is under way (mirrors the `disengagementCheck` sub-state). */
  checking: boolean;
  /** `wanted` lasts only until support's volunteer region requests the match. */
  volunteer: { status: 'none' | 'wanted' | 'waiting' | 'matched'; id?: string; requestedAt?: number; matchedAt?: number };
  reviewDueAt?: number;
}

export interface ReviewRecord {
  at: number;
  measures: ScoredMeasure[];
  goalsMet: 'all' | 'some' | 'none';
  outcome: 'discharge' | 'extend' | 'befriend';
  extensionWeeks?: number;
  durationMinutes?: number;
  /** The person's own account of what changed, in their words. */
  personAccount?: string;
  /** A supervisor's reason for a connected discharge without an attended connection. */
  connectionOverride?: { reason: string; by: string };
}

export interface ExtensionDecision {
  weeks: number;
  requestedAt: number;
  decidedAt?: number;
  approved?: boolean;
  by?: string;
  reason?: string;
}

export interface SafeguardingConcern {
  category: string;
  raisedAt: number;
  raisedBy: Actor;
  /** The stage the case was in, and returns to when a supervisor clears the hold. */
  stage: ActiveStage;
  clearedAt?: number;
  clearedBy?: string;
}

/** Other cases the person index matched at referral, and a supervisor's answer once given. */
export interface DuplicateFlag {
  cases: PossibleDuplicateCase[];
  flaggedAt: number;
  resolution?: { resolution: 'notDuplicate' | 'duplicate'; of?: string; at: number; by: Actor };
}

/** Flagged and not yet resolved by a supervisor. */
export function possibleDuplicate(context: Pick<PathwayContext, 'duplicates'>): boolean {
  return context.duplicates !== undefined && context.duplicates.resolution === undefined;
}

export interface ServiceGap {
  kind: 'befriending' | 'transport' | 'volunteer';
  at: number;
}

export interface PathwayContext {
  referral: ReferralFacts;
  policy: SchemePolicy;
  receivedAt: number;
  triage?: TriageDecision;
  place: { status: PlaceStatus; linkWorkerId?: string; requestedAt?: number; waitlistedAt?: number; position?: number; grantedAt?: number };
  contact: { attempts: ContactAttempt[]; reachedAt?: number };
  firstVisit?: FirstVisit;
  baseline: ScoredMeasure[];
  plan: Plan;
  support: Support;
  checkIns: Array<{ at: number; measures: ScoredMeasure[]; durationMinutes?: number }>;
  /** The latest review; earlier ones (before an extension or a failed handoff) are in `priorReviews`. */
  review?: ReviewRecord;
  priorReviews: ReviewRecord[];
  extension: { count: number; pending?: ExtensionDecision; history: ExtensionDecision[] };
  befriending: { requestedAt?: number; result?: 'accepted' | 'waiting' | 'unavailable'; service?: string; requests: number };
  safeguarding: SafeguardingConcern[];
  /** Stage timers parked while the case is on hold; restored, shifted by the hold's length, on clear. */
  suspendedTimers: Timer[];
  timers: Timer[];
  escalations: Escalation[];
  serviceGaps: ServiceGap[];
  counters: { escalation: number };
  discharge?: { reason: DischargeReason; at: number; by?: Actor };
  /** Absent unless the person index flagged the referral (cases from before it could have none). */
  duplicates?: DuplicateFlag;
  /**
   * The case's connections to community services as each last told the case (machines/connection.ts).
   * Absent until the first one; cases older than connections never have it.
   */
  connections?: ConnectionSummary[];
}

export interface PathwayInput {
  referral: ReferralFacts;
  policy: SchemePolicy;
  /** When the engine received the referral (epoch ms, from the workflow's clock). */
  at: number;
}

export function createContext({ referral, policy, at }: PathwayInput): PathwayContext {
  return {
    referral: pickReferralFacts(referral),
    policy,
    receivedAt: at,
    place: { status: 'none' },
    contact: { attempts: [] },
    baseline: [],
    plan: { version: 0, agreedBy: {} },
    support: {
      tierHistory: [],
      sessions: { byKind: {}, missedInRow: 0, withVolunteer: 0 },
      checking: false,
      volunteer: { status: 'none' },
    },
    checkIns: [],
    priorReviews: [],
    extension: { count: 0, history: [] },
    befriending: { requests: 0 },
    safeguarding: [],
    suspendedTimers: [],
    timers: [],
    escalations: [],
    serviceGaps: [],
    counters: { escalation: 0 },
  };
}

/** Whether the case still waits for the capacity ledger's answer (asked, or on its waitlist). */
export function awaitingPlace(context: Pick<PathwayContext, 'place'>): boolean {
  return context.place.status === 'requested' || context.place.status === 'waitlisted';
}

/** The open concern(s) holding the case, oldest first; empty unless on hold. */
export function openConcerns(context: Pick<PathwayContext, 'safeguarding'>): SafeguardingConcern[] {
  return context.safeguarding.filter((c) => c.clearedAt === undefined);
}
