// The report's connection figures against values worked out by hand from three connections.
import { describe, expect, it } from 'vitest';
import { outcomeRecordSchema, type ConnectionRecord, type OutcomeRecord } from '../../../evidence/outcomeRecord';
import { buildCohortReport } from '../../../evidence/report';
import { reportToCsv } from '../../../evidence/csv';
import { reportToHtml } from '../../../evidence/html';
import { DAY, T0, cohortSpecs, recordOf } from './cohort';

const records = () => cohortSpecs().map(recordOf);

const sent = T0 + DAY;
const due = sent + 14 * DAY;
const base = { proposedAt: sent, sentAt: sent, responseDueAt: due, nudgesSent: 0, attendances: 0, autoDeclined: false } as const;
const connections: ConnectionRecord[] = [
  // Answered in 1 day, attended 4 times.
  { ...base, serviceId: 'svc-a', providerId: 'org-a', category: 'connecting', status: 'attending', respondedAt: sent + DAY, attendances: 4, firstAttendedAt: sent + 3 * DAY },
  // Answered in 16 days, after its deadline: answered, not within it; accepted, never attended.
  { ...base, serviceId: 'svc-b', providerId: 'org-a', category: 'active', status: 'stopped', respondedAt: sent + 16 * DAY, nudgesSent: 2 },
  // Never answered.
  { ...base, serviceId: 'svc-c', providerId: 'org-c', category: 'active', status: 'noResponse', autoDeclined: true, nudgesSent: 2 },
];

describe('connection figures', () => {
  const record: OutcomeRecord = outcomeRecordSchema.parse({ ...records()[0]!, connections });
  const { connections: f } = buildCohortReport([record]);

  it('counts responses, the deadline share, attendance and providers as worked out by hand', () => {
    expect(f.total).toBe(3);
    expect(f.responseDays).toMatchObject({ n: 2, median: 8.5, min: 1, max: 16 });
    expect([f.answered, f.withinDeadline, f.autoDeclined]).toEqual([2, 1, 1]);
    expect(f.withinDeadlineShare).toBeCloseTo(1 / 3, 10);
    expect(f.attendance).toEqual({ accepted: 2, attended: 1, rate: 0.5, attendances: 4 });
    expect(f.byCategory.find((c) => c.category === 'active')).toEqual({ category: 'active', proposed: 2, accepted: 1, attended: 0 });
    expect(f.providers).toEqual([
      { providerId: 'org-a', sent: 2, answered: 2, withinDeadline: 1, autoDeclined: 0, medianResponseDays: 8.5 },
      { providerId: 'org-c', sent: 1, answered: 0, withinDeadline: 0, autoDeclined: 1, medianResponseDays: null },
    ]);
  });

  it('is in the report CSV, and a cohort without connections reports zeros', () => {
    expect(reportToCsv(buildCohortReport([record]))).toContain('connections,providers,org-c,autoDeclined,1');
    expect(reportToHtml(buildCohortReport([record]))).toMatch(/<caption>Providers<\/caption>[^]*<td>org-c<\/td><td>1<\/td><td>0<\/td><td>0<\/td><td>1<\/td>/);
    const none = buildCohortReport(records().slice(1, 3)).connections;
    expect([none.total, none.withinDeadlineShare, none.attendance.rate]).toEqual([0, null, null]);
  });
});
