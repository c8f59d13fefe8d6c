import type { AnyStateNode, StateValue } from 'xstate';
import { possibleDuplicate, type PathwayContext } from './context';
import { isOpen } from './escalations';
import type { Actor, PathwayEvent, PathwayEventType } from './events';
import { isMeasureSubmission, type MeasureSubmission } from './measures';
import { pathwayMachine, type PathwaySnapshot } from './pathway';
import { befriendingHandoff, maxExtensionWeeks, tierOf } from './policy';
import { stageOf } from './stage';
import { timerFor } from './timers';
import { sessionBudgetState, sessionPastBudget } from './sessions';

/*
 * Why the pathway refuses a command, named by rule. Two kinds of rule live here:
 *
 * - The machine's own guards (machines/pathway.ts) decide; `explainGuard` only words a refusal the
 *   machine already made, from the same policy and context, so a host learns which rule, which
 *   limit and which count. The graph test walks every reachable state and holds each refusal to
 *   naming its rule.
 * - Who may act on a case (`accessRefusal`): a link worker on the cases allocated to them or their
 *   covering colleagues, and the two sides of a plan agreement from two different actors. These are
 *   checked here, before the machine's `can()`, by every caller that judges a new command (the
 *   workflow's validator, the graph tests), rather than as a guard on each transition: they judge
 *   who sends a command, not what it does to the pathway, and a command a running case has already
 *   accepted and recorded must replay exactly as it was taken. Replay runs the update handler, not
 *   its validator; a guard would refuse such a recorded command on replay and split the case from
 *   its history, where a check on new commands cannot.
 *
 * Reasons name rules, limits, counts, roles, tier and measure names and the ids a host sent (all
 * safe ids): never the person's details.
 */

/** Machine-readable rule names, for hosts to branch on (`CommandRefusedError.rule`). */
export const REFUSAL_RULES = [
  'notAtThisStage',
  'caseOwnership',
  'supervisorOnly',
  'escalationNotOpen',
  'deadlineNotDue',
  'measureNotInScheme',
  'measureRepeated',
  'measureAnswers',
  'unknownTier',
  'planIncomplete',
  'uniqueIds',
  'planNoDraft',
  'planAlreadyAgreed',
  'planAgreementParty',
  'planAgreementDistinctActors',
  'sessionBudget',
  'volunteerNotMatched',
  'tierUnchanged',
  'extensionNotPending',
  'extensionMaxCount',
  'extensionMaxLength',
  'befriendingOff',
  'duplicateNotFlagged',
  'duplicateNotAmongFlagged',
  'pathwayRules',
] as const;
export type RefusalRule = (typeof REFUSAL_RULES)[number];

export interface Refusal {
  rule: RefusalRule;
  reason: string;
}

/** The last resort, if a guard ever refuses without an explanation here; the graph test fails on it. */
export const GENERIC_REFUSAL = "the pathway's rules do not allow it";

type GuardName = keyof typeof pathwayMachine.implementations.guards;
type Explain = (context: PathwayContext, event: PathwayEvent) => Refusal | undefined;

const refuse = (rule: RefusalRule, reason: string): Refusal => ({ rule, reason });

function actorOf(event: PathwayEvent): Actor | undefined {
  return 'actor' in event ? event.actor : undefined;
}

const SUPERVISOR_DOES: Partial<Record<PathwayEventType, string>> = {
  'EXTENSION.APPROVE': 'approve an extension',
  'EXTENSION.REFUSE': 'refuse an extension',
  'SAFEGUARDING.CLEAR': 'clear a safeguarding hold',
  'ESCALATION.ACK': 'acknowledge an escalation',
  DISCHARGE: 'discharge a case on hold',
  'DUPLICATE.RESOLVE': 'resolve a possible duplicate',
};

function supervisorOnly(_: PathwayContext, event: PathwayEvent): Refusal | undefined {
  const actor = actorOf(event);
  if (actor?.role === 'supervisor') return undefined;
  return refuse('supervisorOnly', `only a supervisor may ${SUPERVISOR_DOES[event.type] ?? 'do this'} (actor role was '${actor?.role ?? 'none'}')`);
}

function measuresRefusal(context: PathwayContext, event: PathwayEvent): Refusal | undefined {
  const measures = (event as { measures?: readonly MeasureSubmission[] }).measures ?? [];
  const seen = new Set<string>();
  for (const [i, m] of measures.entries()) {
    const instrument = String((m as { instrument?: unknown }).instrument);
    if (!isMeasureSubmission(m)) return refuse('measureAnswers', `measures[${i}] does not have the answers measure ${instrument} takes`);
    if (!context.policy.measures.includes(m.instrument)) {
      return refuse('measureNotInScheme', `measure ${m.instrument} is not one this scheme uses (${context.policy.measures.join(', ') || 'none'})`);
    }
    if (seen.has(m.instrument)) return refuse('measureRepeated', `measure ${m.instrument} is given twice`);
    seen.add(m.instrument);
  }
  return undefined;
}

function unknownTier(context: PathwayContext, tier: string): Refusal | undefined {
  if (tierOf(context.policy, tier)) return undefined;
  return refuse('unknownTier', `tier '${tier}' is not one of this scheme's tiers (${context.policy.tiers.map((t) => t.id).join(', ')})`);
}

function repeatedId(what: string, ids: readonly string[]): Refusal | undefined {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) return refuse('uniqueIds', `${what} ids must be unique (${id} appears twice)`);
    seen.add(id);
  }
  return undefined;
}

function draftRefusal(context: PathwayContext, event: PathwayEvent): Refusal | undefined {
  if (event.type !== 'PLAN.DRAFT') return undefined;
  if (event.goals.length === 0) return refuse('planIncomplete', 'a plan needs at least one goal');
  if (event.activities.length === 0) return refuse('planIncomplete', 'a plan needs at least one activity');
  return (
    unknownTier(context, event.tier) ??
    repeatedId('goal', event.goals.map((g) => g.id)) ??
    repeatedId('activity', event.activities.map((a) => a.id))
  );
}

function agreementRefusal(context: PathwayContext, event: PathwayEvent): Refusal | undefined {
  if (event.type !== 'PLAN.AGREE') return undefined;
  if (!context.plan.draft) return refuse('planNoDraft', 'the plan has no draft to agree to');
  const side = event.party === 'person' ? "the person's" : "the link worker's";
  if (context.plan.agreedBy[event.party] !== undefined) return refuse('planAlreadyAgreed', `${side} side has already agreed to this draft`);
  if (event.party === 'linkWorker' && event.actor.role === 'person') {
    return refuse('planAgreementParty', "a person cannot agree the link worker's side of the plan");
  }
  return undefined;
}

/**
 * SESSION.LOG against the tier's session cap and the volunteer. The one place a session refusal is
 * worded: a change to the session budget changes it here, beside the guard in machines/pathway.ts.
 */
function sessionRefusal(context: PathwayContext, event: PathwayEvent): Refusal | undefined {
  if (event.type !== 'SESSION.LOG') return undefined;
  const budget = sessionBudgetState(context);
  if (budget.overBudget === 'refuse' && sessionPastBudget(context, event)) {
    return refuse('sessionBudget', `this tier's ${budget.cap} sessions are used; the scheme refuses more without a change of tier`);
  }
  const volunteer = context.support.volunteer.status;
  if (event.withVolunteer && volunteer !== 'matched') {
    return refuse('volunteerNotMatched', `a session with a volunteer needs a matched volunteer (volunteer status is '${volunteer}')`);
  }
  return undefined;
}

/** DUPLICATE.RESOLVE: a supervisor's answer to an open flag, naming (if at all) one of the flagged cases. */
function duplicateRefusal(context: PathwayContext, event: PathwayEvent): Refusal | undefined {
  if (event.type !== 'DUPLICATE.RESOLVE') return undefined;
  const bySupervisor = supervisorOnly(context, event);
  if (bySupervisor) return bySupervisor;
  if (!possibleDuplicate(context)) return refuse('duplicateNotFlagged', 'this case has no open possible-duplicate flag to resolve');
  if (event.of !== undefined && !context.duplicates!.cases.some((d) => d.caseId === event.of)) {
    return refuse('duplicateNotAmongFlagged', `case ${event.of} is not one of the cases this one was flagged against`);
  }
  return undefined;
}

function tierChangeRefusal(context: PathwayContext, event: PathwayEvent): Refusal | undefined {
  if (event.type !== 'TIER.CHANGE') return undefined;
  if (event.tier === context.support.tier) return refuse('tierUnchanged', `the case is already on tier '${event.tier}'`);
  return unknownTier(context, event.tier);
}

/** An extension of `weeks` against the scheme's count and length; also what a supervisor's approval meets. */
function extensionRefusal(context: PathwayContext, weeks: number): Refusal | undefined {
  const { maxCount } = context.policy.extension;
  const used = context.extension.count;
  if (used >= maxCount) {
    return refuse('extensionMaxCount', maxCount === 0 ? 'this scheme allows no extensions' : `this case has used ${used} of ${maxCount} extensions`);
  }
  const max = maxExtensionWeeks(context.policy);
  if (weeks > max) return refuse('extensionMaxLength', `an extension of ${weeks} week${weeks === 1 ? '' : 's'} is longer than this scheme's maximum of ${max}`);
  if (weeks < 1) return refuse('extensionMaxLength', `an extension must be at least 1 week (this scheme's maximum is ${max})`);
  return undefined;
}

/** A review whose outcome is `outcome`: its measures, then (for an extension) the extension rules. */
function reviewRefusal(outcome: 'discharge' | 'extend' | 'befriend'): Explain {
  return (context, event) => {
    if (event.type !== 'REVIEW.RECORD' || event.outcome !== outcome) return undefined;
    if (outcome === 'befriend' && !befriendingHandoff(context.policy)) {
      return refuse('befriendingOff', 'this scheme hands no one off to befriending: record the review as a discharge or an extension');
    }
    const measures = measuresRefusal(context, event);
    if (measures || outcome !== 'extend') return measures;
    return extensionRefusal(context, event.extensionWeeks ?? maxExtensionWeeks(context.policy));
  };
}

/**
 * Each guard that can refuse a command, worded. Guards that only route an accepted event (which
 * branch a contact attempt or befriending result takes) are absent: when they fail, another branch
 * takes the event, and when a review's outcome guard fails for another outcome the next one speaks.
 */
const GUARD_EXPLANATIONS: Partial<Record<GuardName, Explain>> = {
  isSupervisor: supervisorOnly,
  supervisorReleasesPlace: supervisorOnly,
  escalationAcknowledgeable: (context, event) => {
    if (event.type !== 'ESCALATION.ACK') return undefined;
    return supervisorOnly(context, event) ?? (isOpen(context, event.escalationId) ? undefined : refuse('escalationNotOpen', `escalation ${event.escalationId} is not open`));
  },
  deadlineDue: (context, event) => {
    const timer = timerFor(context.timers, event as { type: string; escalationId?: string });
    return refuse('deadlineNotDue', timer ? `the ${event.type} deadline is not due yet` : `no ${event.type} deadline is armed`);
  },
  measuresAcceptable: measuresRefusal,
  draftAcceptable: draftRefusal,
  agreementRecordable: agreementRefusal,
  agreementCompletesPlan: agreementRefusal,
  sessionLoggable: sessionRefusal,
  sessionReengages: sessionRefusal,
  sessionNeedsApproval: sessionRefusal,
  sessionReengagesNeedingApproval: sessionRefusal,
  missedSessionLimitReached: sessionRefusal,
  tierChangeAcceptable: tierChangeRefusal,
  confirmsDuplicate: duplicateRefusal,
  clearsDuplicate: duplicateRefusal,
  reviewDischarges: reviewRefusal('discharge'),
  reviewExtends: reviewRefusal('extend'),
  reviewGrantsExtension: reviewRefusal('extend'),
  reviewBefriends: reviewRefusal('befriend'),
  extensionApprovable: (context, event) => {
    const pending = context.extension.pending;
    if (!pending) return supervisorOnly(context, event) ?? refuse('extensionNotPending', 'there is no extension request to decide');
    return supervisorOnly(context, event) ?? extensionRefusal(context, pending.weeks);
  },
};

/** Whether `guard` names one explained here: for the test that every refusing guard is covered. */
export function explainsGuard(guard: string): boolean {
  return Object.hasOwn(GUARD_EXPLANATIONS, guard);
}

/**
 * Who may send `event` to this case, before anything else is judged. `subject` names the case in
 * the reason (its case id, which is no personal data).
 *
 * - A link worker acts only on a case allocated to them, or to a colleague they cover for under the
 *   scheme's `ownership.covering`; before allocation (triage, waiting for a place) any link worker
 *   may. Anyone may raise a safeguarding concern: a risk seen is never turned away.
 * - Supervisors act on any case of their scheme; the host and the person keep what they could do.
 * - A plan is agreed by two different actors: the person's side by the person or the host, and the
 *   same actor id never gives both sides.
 */
export function accessRefusal(context: PathwayContext, event: PathwayEvent, subject = 'this case'): Refusal | undefined {
  const actor = actorOf(event);
  if (!actor) return undefined;
  const allocated = context.place.linkWorkerId;
  if (actor.role === 'linkWorker' && allocated !== undefined && actor.id !== allocated && event.type !== 'SAFEGUARDING.RAISE') {
    // A case that started before the policy had `ownership` carries a policy without it.
    const covering = context.policy.ownership?.covering?.[allocated] ?? [];
    if (!covering.includes(actor.id)) return refuse('caseOwnership', `${subject} is allocated to another link worker`);
  }
  if (event.type === 'PLAN.AGREE') {
    if (event.party === 'person' && actor.role !== 'person' && actor.role !== 'host') {
      return refuse('planAgreementParty', `the person's side of the plan is agreed by the person or the host (actor role was '${actor.role}')`);
    }
    const other = event.party === 'person' ? 'linkWorker' : 'person';
    if (context.plan.agreedByActor?.[other] === actor.id) return refuse('planAgreementDistinctActors', 'the same actor cannot agree both sides of the plan');
  }
  return undefined;
}

// Events the workflow sends itself: never listed to a host as moves it could make.
const internal = (type: string) => /^(DEADLINE|CAPACITY|DUPLICATES|xstate)\./.test(type);

/** The state nodes `value` is in, innermost first: the order in which xstate looks for a transition. */
function activeNodes(value: StateValue): AnyStateNode[] {
  const nodes: AnyStateNode[] = [];
  const walk = (node: AnyStateNode, v: StateValue) => {
    nodes.push(node);
    if (typeof v === 'string') {
      const child = node.states[v];
      if (child) nodes.push(child);
      return;
    }
    for (const [key, inner] of Object.entries(v)) {
      const child = node.states[key];
      if (child && inner !== undefined) walk(child, inner);
    }
  };
  walk(pathwayMachine.root, value);
  return nodes.sort((a, b) => b.path.length - a.path.length);
}

function guardName(guard: unknown): string | undefined {
  if (typeof guard === 'string') return guard;
  if (guard && typeof guard === 'object' && 'type' in guard) return String((guard as { type: unknown }).type);
  return undefined;
}

/** Why the machine refuses `event` in `snapshot`, from the guards of the transitions it has for it. */
export function explainGuards(snapshot: PathwaySnapshot, event: PathwayEvent): Refusal | undefined {
  for (const node of activeNodes(snapshot.value)) {
    for (const t of node.transitions.get(event.type) ?? []) {
      const name = guardName(t.guard);
      const explain = name ? GUARD_EXPLANATIONS[name as GuardName] : undefined;
      const refusal = explain?.(snapshot.context, event);
      if (refusal) return refusal;
    }
  }
  return undefined;
}

/** The commands the stage accepts at all (each perhaps only under its rules). */
export function acceptedCommands(snapshot: PathwaySnapshot): string[] {
  const types = new Set(activeNodes(snapshot.value).flatMap((node) => [...node.transitions.keys()]).filter((t) => !internal(t)));
  return [...types].sort();
}

/**
 * Why a new command would be refused, or undefined if the pathway takes it: the stage first, then
 * who sent it, then the machine's own rules. The single judge of a host's command.
 */
export function commandRefusal(snapshot: PathwaySnapshot, event: PathwayEvent, subject = 'this case'): Refusal | undefined {
  const access = accessRefusal(snapshot.context, event, subject);
  // Every command a case takes comes through here: the reasons are worked out only for a refusal.
  if (!access && snapshot.can(event)) return undefined;
  const stage = stageOf(snapshot);
  const accepted = snapshot.status === 'done' ? [] : acceptedCommands(snapshot);
  if (!internal(event.type) && !accepted.includes(event.type)) {
    return refuse('notAtThisStage', `not a move the pathway allows at stage '${stage}' (allowed now: ${accepted.join(', ') || 'none'})`);
  }
  return access ?? explainGuards(snapshot, event) ?? refuse('pathwayRules', `${GENERIC_REFUSAL} at stage '${stage}' with this case's current details`);
}
