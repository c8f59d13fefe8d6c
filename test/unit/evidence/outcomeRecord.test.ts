import { describe, expect, it } from 'vitest';
import { scoreMeasure } from '../../../machines/measures';
import {
  ageBandOf,
  gpMessageFor,
  measureSeries,
  outcomeRecordSchema,
  type OutcomeRecord,
} from '../../../evidence/outcomeRecord';
import { cohortSpecs, DAY, recordOf, T0 } from './cohort';

const good: OutcomeRecord = recordOf(cohortSpecs().find((s) => s.reason === 'connected')!);

function issues(input: unknown): { path: string; message: string }[] {
  const result = outcomeRecordSchema.safeParse(input);
  if (result.success) throw new Error('expected the record to be refused');
  return result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

describe('outcome record schema', () => {
  it('accepts every record of the synthetic cohort', () => {
    for (const spec of cohortSpecs()) expect(() => outcomeRecordSchema.parse(recordOf(spec))).not.toThrow();
  });

  it.each([['name'], ['nhsNumber'], ['dateOfBirth'], ['postcode']])('refuses patient data such as %s', (field) => {
    expect(issues({ ...good, [field]: 'x' })).toEqual([expect.objectContaining({ path: '' })]);
  });

  it('refuses extra fields in nested parts too, where identifiers could hide', () => {
    expect(issues({ ...good, dates: { ...good.dates, dateOfBirth: 0 } })[0]!.path).toBe('dates');
    expect(issues({ ...good, activities: [{ category: 'active', name: 'Walk', companion: 'Jo Bloggs' }] })[0]!.path).toBe('activities.0');
  });

  it('knows only the age bands the scheme reports', () => {
    expect(issues({ ...good, ageBand: '66' })[0]!.path).toBe('ageBand');
    expect([18, 49, 50, 64, 65, 74, 75, 84, 85, 101].map(ageBandOf)).toEqual([
      '18-49', '18-49', '50-64', '50-64', '65-74', '65-74', '75-84', '75-84', '85+', '85+',
    ]);
    expect(() => ageBandOf(17)).toThrow(RangeError);
  });

  it('needs a reason and a date for a discharge, and neither for an open case', () => {
    const { dischargeReason: _reason, ...noReason } = good;
    expect(issues(noReason).map((i) => i.path)).toEqual(['dischargeReason']);
    expect(issues({ ...good, status: 'open' }).map((i) => i.path)).toEqual(['status']);
  });

  it('refuses key dates before the referral', () => {
    expect(issues({ ...good, dates: { ...good.dates, firstContactAt: good.dates.referredAt - 1 } })).toEqual([
      { path: 'dates.firstContactAt', message: 'firstContactAt is before referredAt' },
    ]);
  });

  it('holds change to follow-up minus baseline', () => {
    const sw = good.measures.SWEMWBS!;
    expect(issues({ ...good, measures: { SWEMWBS: { ...sw, change: sw.change! + 1 } } })[0]!.path).toBe('measures.SWEMWBS.change');
    const { change: _c, ...noChange } = sw;
    expect(issues({ ...good, measures: { SWEMWBS: noChange } })[0]!.path).toBe('measures.SWEMWBS.change');
  });

  it('refuses a measure filed under another instrument', () => {
    const gad = scoreMeasure({ instrument: 'GAD7', answers: [1, 1, 1, 1, 1, 1, 1] });
    expect(issues({ ...good, measures: { SWEMWBS: { baseline: gad } } })[0]!.path).toBe('measures.SWEMWBS.baseline.instrument');
  });

  it('builds a measure series with its change, rounded to the metric scale', () => {
    const baseline = scoreMeasure({ instrument: 'SWEMWBS', answers: [3, 3, 3, 3, 3, 3, 4] }); // raw 22: 19.98
    const discharge = scoreMeasure({ instrument: 'SWEMWBS', answers: [5, 5, 5, 4, 4, 4, 4] }); // raw 31: 28.13
    expect(measureSeries({ baseline, discharge }).change).toBe(8.15);
    expect(measureSeries({ baseline }).change).toBeUndefined();
    const review = scoreMeasure({ instrument: 'SWEMWBS', answers: [3, 3, 3, 3, 3, 3, 3] }); // raw 21: 19.25
    expect(measureSeries({ baseline, review }).change).toBe(-0.73);
    expect(measureSeries({ baseline, review, discharge }).change).toBe(8.15);
  });

  it('keeps deadline counts and the deadline log in step', () => {
    expect(issues({ ...good, deadlines: { ...good.deadlines, triage: { met: 9, missed: 0 } } })[0]!.path).toBe('deadlines.triage');
  });

  it('checks escalations and session tallies for sense', () => {
    const esc = { type: 'safeguarding', raisedAt: T0 + DAY, acknowledgedAt: T0, level: 1 };
    expect(issues({ ...good, escalations: [esc] })[0]!.path).toBe('escalations.0.acknowledgedAt');
    expect(issues({ ...good, sessions: { phone: { count: 1, attended: 2, minutes: 5 } } })[0]!.path).toBe('sessions.phone.attended');
  });

  it('sends the GP the published SNOMED CT concepts, and only those', () => {
    expect(gpMessageFor(true)).toEqual({ snomedCode: '871731000000106', display: 'Referral to social prescribing service (procedure)' });
    expect(gpMessageFor(false)).toEqual({ snomedCode: '871711000000103', display: 'Social prescribing declined (situation)' });
    expect(issues({ ...good, gpMessage: { snomedCode: '871731000000106', display: 'Referral accepted' } })[0]!.path).toBe('gpMessage.display');
    expect(issues({ ...good, gpMessage: { snomedCode: '123', display: 'x' } })[0]!.path).toBe('gpMessage.snomedCode');
  });
});
