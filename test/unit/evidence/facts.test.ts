// The facts a host must be able to read back from the outcome record and the cohort report: the
// barriers the person named, where a referral was redirected, possible duplicates, the person's
// own words at review, and conversion.
import { describe, expect, it } from 'vitest';
import { reportToCsv } from '../../../evidence/csv';
import { outcomeRecordFromCase } from '../../../evidence/from-case';
import { reportToHtml } from '../../../evidence/html';
import { outcomeRecordSchema, type OutcomeRecord } from '../../../evidence/outcomeRecord';
import { buildCohortReport } from '../../../evidence/report';
import { PathwayCase, day, fullCase, linkWorker, supervisor, throughSupport } from '../activities/cases';

function recordOf(c: PathwayCase): OutcomeRecord {
  return outcomeRecordSchema.parse(outcomeRecordFromCase({ caseId: c.caseId, context: c.context, timeline: c.timeline }));
}

describe('outcome record facts', () => {
  it('carries the barriers named at the first visit', () => {
    expect(recordOf(fullCase()).barriers).toEqual(['transport']);
  });

  it('carries where a redirected referral went and why', () => {
    const c = new PathwayCase({ referral: { referralId: 'r-redirect' } }).send({
      type: 'TRIAGE.REDIRECT',
      service: 'Community mental health team',
      reason: 'Needs clinical care first',
      actor: linkWorker,
      at: day(1),
    });
    const record = recordOf(c);
    expect(record.dischargeReason).toBe('redirected');
    expect(record.redirect).toEqual({ service: 'Community mental health team', reason: 'Needs clinical care first' });
  });

  it('carries possible duplicates and their resolution, ids and kinds of match only', () => {
    const c = new PathwayCase({ referral: { referralId: 'r-dup' } })
      .send({ type: 'DUPLICATES.FLAGGED', duplicates: [{ caseId: 'case-r-older', match: 'nameAndDateOfBirth' }], at: day(0) })
      .send({ type: 'DUPLICATE.RESOLVE', resolution: 'duplicate', of: 'case-r-older', actor: supervisor, at: day(1) });
    const record = recordOf(c);
    expect(record.possibleDuplicates).toEqual({ cases: [{ caseId: 'case-r-older', match: 'nameAndDateOfBirth' }], resolution: 'duplicate' });
    expect(record.dischargeReason).toBe('duplicate');
  });

  it('carries the person’s own account from their review', () => {
    const c = throughSupport().send({
      type: 'REVIEW.RECORD',
      measures: [],
      goalsMet: 'all',
      outcome: 'discharge',
      personAccount: 'I go to the café every day',
      actor: linkWorker,
      at: day(99),
    });
    expect(recordOf(c).personAccount).toBe('I go to the café every day');
    expect(recordOf(fullCase()).personAccount).toBeUndefined();
  });

  it('routes secondary mental-health services into the report’s route breakdown', () => {
    const c = new PathwayCase({ referral: { referralId: 'r-mh', route: 'secondaryMentalHealth' } });
    const report = buildCohortReport([recordOf(c)]);
    expect(report.system.referralsByRoute).toContainEqual({ key: 'secondaryMentalHealth', count: 1 });
  });
});

describe('conversion', () => {
  // Three referrals: one reaches an agreed plan (and beyond), one only a first visit, one neither.
  const planned = recordOf(fullCase());
  const visitedOnly = recordOf(
    new PathwayCase({ referral: { referralId: 'r-visit' } })
      .send({ type: 'TRIAGE.ACCEPT', actor: linkWorker, at: day(1) })
      .send({ type: 'CAPACITY.GRANTED', linkWorkerId: 'lw-7', at: day(1) })
      .send({ type: 'CONTACT.ATTEMPT', outcome: 'reached', channel: 'phone', actor: linkWorker, at: day(2) })
      .send({ type: 'VISIT.RECORD', location: 'home', durationMinutes: 60, measures: [], barriers: [], actor: linkWorker, at: day(5) }),
  );
  const neither = recordOf(new PathwayCase({ referral: { referralId: 'r-none' } }));
  const report = buildCohortReport([planned, visitedOnly, neither]);

  it('names referred → first visit and referred → plan agreed as percentages to one decimal', () => {
    expect(report.conversion).toEqual({ referredToFirstVisit: 66.7, referredToPlanAgreed: 33.3 });
    expect(buildCohortReport([]).conversion).toEqual({ referredToFirstVisit: null, referredToPlanAgreed: null });
  });

  it('is in the CSV and the HTML', () => {
    const csv = reportToCsv(report);
    expect(csv).toContain('person,conversion,referredToFirstVisit,percent,66.7');
    expect(csv).toContain('person,conversion,referredToPlanAgreed,percent,33.3');
    const html = reportToHtml(report);
    expect(html).toContain('<b>33.3%</b>of referrals reached an agreed plan (conversion)');
    expect(html).toContain('<b>66.7%</b>of referrals reached a first visit');
  });
});
