// Case views and outcome records from the pure pathway machine, for the FHIR resource tests: every
// open stage and every discharge reason, driven by the same test driver as the machine's own tests.
import { DISCHARGE_REASONS, type DischargeReason, type Stage } from '../../../machines';
import { outcomeRecordFromCase } from '../../../evidence/from-case';
import type { OutcomeRecord } from '../../../evidence/outcomeRecord';
import type { CaseView, TimelineEntry } from '../../../workflows/definitions';
import { Case, DAY, LINK_WORKER, PERSON, SUPERVISOR } from '../machine/driver';

/** The case view the workflow would return for the driver's case (its timeline as received → now). */
export function viewOf(c: Case, caseId = `case-${c.context.referral.referralId}`): CaseView {
  const ctx = c.context;
  const timeline: TimelineEntry[] = [
    { seq: 1, at: ctx.receivedAt, event: 'REFERRAL', from: 'referral', to: 'triage' },
    ...(c.now > ctx.receivedAt ? [{ seq: 2, at: c.now, event: 'LAST', from: 'triage' as const, to: c.stage }] : []),
  ];
  return {
    caseId,
    referralId: ctx.referral.referralId,
    schemeId: ctx.referral.schemeId,
    stage: c.stage,
    state: c.snapshot.value,
    ...(ctx.place.linkWorkerId && { linkWorkerId: ctx.place.linkWorkerId }),
    ...(ctx.support.tier && { tier: ctx.support.tier }),
    sessions: ctx.support.sessions,
    deadlines: ctx.timers,
    escalations: ctx.escalations,
    openEscalations: [],
    measures: { baseline: ctx.baseline, checkIns: ctx.checkIns, ...(ctx.review && { review: ctx.review }) },
    plan: ctx.plan,
    ...(ctx.discharge && { discharge: ctx.discharge }),
    ...(ctx.triage && { triage: ctx.triage }),
    ...(ctx.firstVisit && { firstVisit: ctx.firstVisit }),
    serviceGaps: ctx.serviceGaps,
    timeline,
    sequence: timeline.length,
    pathwayVersion: 1,
    deliveryProblems: [],
  };
}

export function recordOf(c: Case, view = viewOf(c)): OutcomeRecord {
  return outcomeRecordFromCase({ caseId: view.caseId, context: c.context, timeline: view.timeline });
}

/** A case in each open stage, in pathway order. */
export function openCases(): Array<[Stage, Case]> {
  return [
    ['triage', new Case()],
    ['allocating', new Case().accept()],
    ['waitlisted', (() => {
      const c = new Case().accept();
      c.advance(DAY).send({ type: 'CAPACITY.WAITLISTED', position: 2 });
      return c;
    })()],
    ['firstContact', new Case().allocate()],
    ['firstVisit', new Case().reach()],
    ['coProducedPlan', new Case().visit()],
    ['support', new Case().agreePlan()],
    ['review', new Case().toReview()],
    ['extensionPending', (() => {
      const c = new Case().toReview();
      c.review('extend', 4);
      return c;
    })()],
    ['befriendingHandoff', (() => {
      const c = new Case().toReview();
      c.review('befriend');
      return c;
    })()],
    ['onHold', (() => {
      const c = new Case().agreePlan();
      c.send({ type: 'SAFEGUARDING.RAISE', category: 'selfNeglect', actor: LINK_WORKER });
      return c;
    })()],
  ];
}

/**
 * A closed case for every discharge reason, plus the two ways `declined` happens: the scheme
 * declining at triage (and at screening) and the person declining once accepted.
 */
export function dischargedCases(): Array<[string, DischargeReason, Case]> {
  const out: Array<[string, DischargeReason, Case]> = [];
  const connected = new Case().toReview();
  connected.review('discharge');
  out.push(['connected', 'connected', connected]);

  const handedOff = new Case().toReview();
  handedOff.review('befriend');
  handedOff.advance(DAY).send({ type: 'BEFRIENDING.RESULT', result: 'accepted', service: 'Good Neighbours', actor: LINK_WORKER });
  out.push(['handedOff', 'handedOff', handedOff]);

  const redirected = new Case();
  redirected.send({ type: 'TRIAGE.REDIRECT', service: 'Community mental health team', reason: 'Needs specialist support', actor: LINK_WORKER });
  out.push(['redirected', 'redirected', redirected]);

  const unreached = new Case().allocate();
  for (const outcome of ['noAnswer', 'leftMessage', 'wrongNumber'] as const) {
    unreached.advance(DAY).send({ type: 'CONTACT.ATTEMPT', outcome, channel: 'phone', actor: LINK_WORKER });
  }
  out.push(['unableToContact', 'unableToContact', unreached]);

  const duplicate = new Case().allocate();
  duplicate.send({ type: 'DUPLICATES.FLAGGED', duplicates: [{ caseId: 'case-ref-older', match: 'nhsNumber' }] });
  duplicate.send({ type: 'DUPLICATE.RESOLVE', resolution: 'duplicate', of: 'case-ref-older', actor: SUPERVISOR });
  out.push(['duplicate', 'duplicate', duplicate]);

  const triageDeclined = new Case();
  triageDeclined.send({ type: 'TRIAGE.DECLINE', reason: 'Needs personal care', actor: LINK_WORKER });
  out.push(['declined at triage', 'declined', triageDeclined]);

  out.push(['declined at screening', 'declined', new Case({ referral: { consent: false } })]);

  for (const reason of ['goalsMet', 'withdrew', 'movedAway', 'died', 'admittedLongTerm', 'escalatedToStatutory', 'declined', 'consentWithdrawn'] as const) {
    const c = new Case().agreePlan();
    c.advance(DAY).send({ type: 'DISCHARGE', reason, actor: reason === 'withdrew' ? PERSON : LINK_WORKER });
    out.push([reason === 'declined' ? 'declined by the person' : reason, reason, c]);
  }
  const covered = new Set(out.map(([, r]) => r));
  const missing = DISCHARGE_REASONS.filter((r) => !covered.has(r));
  if (missing.length > 0) throw new Error(`no case closes as ${missing.join(', ')}`);
  return out;
}
