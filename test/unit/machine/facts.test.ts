// Consent withdrawn, possible duplicates and the person's own account: what the pathway records
// of them and which side effects it asks for.
import { describe, expect, it } from 'vitest';
import { REFERRAL_ROUTES, defaultPolicy } from '../../../machines';
import { sampleMeasures } from '../../../machines/graph';
import { pathwayStepper } from '../../../workflows/runtime/pathway-stepper';
import { Case, LINK_WORKER, SUPERVISOR, types } from './driver';

const flagged = [{ caseId: 'case-ref-older', match: 'nhsNumber' as const }];

describe('consent withdrawn', () => {
  it('closes the case as consentWithdrawn and asks for the person index to forget it', () => {
    const c = new Case().allocate();
    const effects = c.send({ type: 'DISCHARGE', reason: 'consentWithdrawn', actor: LINK_WORKER });
    expect(c.dischargedAs).toBe('consentWithdrawn');
    expect(types(effects)).toEqual(['releasePlace', 'forgetPerson', 'notifyReferrer', 'recordOutcome']);
  });

  it('asks for nothing to be forgotten on any other discharge', () => {
    const c = new Case().allocate();
    expect(types(c.send({ type: 'DISCHARGE', reason: 'withdrew', actor: LINK_WORKER }))).not.toContain('forgetPerson');
  });

  it('the workflow stepper sees the same effects as transition()', () => {
    const c = new Case();
    const step = pathwayStepper({ referral: c.context.referral, policy: c.policy, at: c.now });
    const [, actions] = step(c.snapshot, { type: 'DISCHARGE', reason: 'consentWithdrawn', actor: LINK_WORKER, at: c.now });
    expect(actions.map((a) => a.type)).toContain('forgetPerson');
  });
});

describe('possible duplicates', () => {
  it('are recorded once, and a supervisor clearing them keeps the case open', () => {
    const c = new Case();
    c.send({ type: 'DUPLICATES.FLAGGED', duplicates: flagged });
    expect(c.can({ type: 'DUPLICATES.FLAGGED', duplicates: flagged })).toBe(false);
    expect(c.context.duplicates).toEqual({ cases: flagged, flaggedAt: c.now });
    // Only a supervisor answers, and only about a case that was flagged.
    expect(c.can({ type: 'DUPLICATE.RESOLVE', resolution: 'notDuplicate', actor: LINK_WORKER })).toBe(false);
    expect(c.can({ type: 'DUPLICATE.RESOLVE', resolution: 'duplicate', of: 'case-ref-other', actor: SUPERVISOR })).toBe(false);
    c.send({ type: 'DUPLICATE.RESOLVE', resolution: 'notDuplicate', actor: SUPERVISOR });
    expect(c.stage).toBe('triage');
    expect(c.context.duplicates?.resolution).toMatchObject({ resolution: 'notDuplicate', by: SUPERVISOR });
    // Answered: nothing left to resolve.
    expect(c.can({ type: 'DUPLICATE.RESOLVE', resolution: 'duplicate', actor: SUPERVISOR })).toBe(false);
  });

  it('a confirmed duplicate closes the case and gives back its place', () => {
    const c = new Case().allocate();
    c.send({ type: 'DUPLICATES.FLAGGED', duplicates: flagged });
    const effects = c.send({ type: 'DUPLICATE.RESOLVE', resolution: 'duplicate', of: 'case-ref-older', actor: SUPERVISOR });
    expect(c.dischargedAs).toBe('duplicate');
    expect(types(effects)).toEqual(['releasePlace', 'notifyReferrer', 'recordOutcome']);
  });

  it('cannot be resolved when nothing was flagged', () => {
    expect(new Case().can({ type: 'DUPLICATE.RESOLVE', resolution: 'notDuplicate', actor: SUPERVISOR })).toBe(false);
  });
});

describe('facts kept for reading back', () => {
  it('the review keeps the person’s own account', () => {
    const c = new Case().toReview();
    c.send({
      type: 'REVIEW.RECORD',
      measures: sampleMeasures(c.policy),
      goalsMet: 'all',
      outcome: 'discharge',
      personAccount: 'I go to the café every day',
      actor: LINK_WORKER,
    });
    expect(c.context.review?.personAccount).toBe('I go to the café every day');
  });

  it('secondary mental-health services are a route, accepted by the default policy', () => {
    expect(REFERRAL_ROUTES).toContain('secondaryMentalHealth');
    expect(new Case({ referral: { route: 'secondaryMentalHealth' } }).stage).toBe('triage');
    expect(defaultPolicy.eligibility.routes).toContain('secondaryMentalHealth');
  });
});
