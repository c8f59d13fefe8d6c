import { describe, expect, it } from 'vitest';
import { csvCell, recordsToCsv, reportToCsv, toCsv } from '../../../evidence/csv';
import { buildCohortReport } from '../../../evidence/report';
import { cohortSpecs, recordOf } from './cohort';

/** A strict RFC 4180 reader, written here so the writer is checked against something independent. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else cell += c;
      i++;
      continue;
    }
    if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else if (c === '\n' || c === '\r' || c === '"') throw new Error(`bare ${JSON.stringify(c)} at ${i}`);
    else cell += c;
    i++;
  }
  if (quoted) throw new Error('unterminated quote');
  if (cell !== '' || row.length) throw new Error('last record has no CRLF');
  return rows;
}

describe('CSV cells', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\r\nlf', '"cr\r\nlf"'],
    [' padded ', '" padded "'],
    ['a;b', '"a;b"'],
    ['', ''],
  ])('quotes %j as %j', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it('writes numbers, booleans and absences plainly', () => {
    expect([csvCell(-3.5), csvCell(0), csvCell(true), csvCell(null), csvCell(undefined), csvCell(Number.NaN)]).toEqual([
      '-3.5', '0', 'true', '', '', '',
    ]);
  });

  it.each([['=HYPERLINK("http://x")'], ['+1'], ['-1+2'], ['@SUM(A1)']])('defuses a formula in text %j', (value) => {
    expect(parseCsv(toCsv(['v'], [[value]]))[1]![0]).toBe(`'${value}`);
  });

  it('round-trips awkward text through a strict reader', () => {
    const values = ['a,b', 'say "hi"', 'two\nlines', 'caf\u00e9 \u2013 ok', ' x', 'plain'];
    expect(parseCsv(toCsv(['a', 'b', 'c', 'd', 'e', 'f'], [values]))).toEqual([['a', 'b', 'c', 'd', 'e', 'f'], values]);
  });
});

it('writes an empty cell, not a throw, for an instant out of a Date\'s range', () => {
  const report = buildCohortReport([], { from: 9e15, to: -9e15 });
  expect(() => reportToCsv(report)).not.toThrow();
});

describe('records CSV', () => {
  const records = cohortSpecs().map(recordOf);
  const rows = parseCsv(recordsToCsv(records));
  const header = rows[0]!;
  const col = (name: string) => {
    const at = header.indexOf(name);
    if (at < 0) throw new Error(`no column ${name}`);
    return rows.slice(1).map((r) => r[at]!);
  };

  it('has one row per record, each as wide as the header', () => {
    expect(rows.length).toBe(records.length + 1);
    for (const r of rows) expect(r.length).toBe(header.length);
    expect(new Set(header).size).toBe(header.length);
  });

  it('carries the case, scores, bands, change and ISO dates', () => {
    expect(col('caseId')).toEqual(records.map((r) => r.caseId));
    expect(col('SWEMWBS.baseline.score')).toEqual(records.map((r) => (r.measures.SWEMWBS ? String(r.measures.SWEMWBS.baseline!.score) : '')));
    expect(col('SWEMWBS.baseline.band')).toEqual(records.map((r) => r.measures.SWEMWBS?.baseline?.band ?? ''));
    expect(col('GAD7.change')).toEqual(records.map((r) => (r.measures.GAD7?.change === undefined ? '' : String(r.measures.GAD7.change))));
    expect(col('referredAt')).toEqual(records.map((r) => new Date(r.dates.referredAt).toISOString()));
    expect(col('gpSnomedCode')).toEqual(records.map((r) => r.gpMessage?.snomedCode ?? ''));
  });

  it('keeps list fields in one cell, with their commas and quotes intact', () => {
    const withActivities = records.find((r) => r.activities.some((a) => a.name.includes('"')))!;
    const cell = col('activities')[records.indexOf(withActivities)]!;
    expect(cell).toBe(withActivities.activities.map((a) => `${a.category}: ${a.name}`).join('; '));
    expect(cell).toContain('Lunch club, "Thursdays"');
  });

  it('tallies sessions per kind in their own columns', () => {
    expect(col('sessions.phone.count')).toEqual(records.map((r) => String(r.sessions.phone!.count)));
    expect(col('sessions.home-visit.minutes')).toEqual(records.map((r) => String(r.sessions['home-visit']?.minutes ?? 0)));
  });

  it('holds nothing about the person beyond age band and area', () => {
    expect(header.filter((h) => /name|nhs|birth|postcode|address|phone$/i.test(h))).toEqual([]);
  });
});

describe('report CSV', () => {
  const report = buildCohortReport(cohortSpecs().map(recordOf), { schemeId: 'north' });
  const rows = parseCsv(reportToCsv(report));

  it('is one tidy table: group, table, key, measure, value', () => {
    expect(rows[0]).toEqual(['group', 'table', 'key', 'measure', 'value']);
    for (const r of rows) expect(r.length).toBe(5);
    expect(new Set(rows.slice(1).map((r) => r[0]))).toEqual(new Set(['scope', 'person', 'community', 'system', 'connections']));
  });

  it('carries the report figures as they are', () => {
    const find = (table: string, key: string, measure: string) =>
      rows.find((r) => r[1] === table && r[2] === key && r[3] === measure)?.[4];
    expect(find('funnel', 'firstVisit', 'count')).toBe(String(report.person.funnel[2]!.count));
    expect(find('referralsByRoute', 'GP', 'count')).toBe(String(report.system.referralsByRoute[0]!.count));
    expect(find('timeToFirstContactDays', '', 'p90')).toBe(String(report.system.timeToFirstContactDays.p90));
    expect(find('measure.SWEMWBS', 'change', 'mean')).toBe(String(report.person.measures[0]!.change.mean));
    expect(find('measure.UCLA3', 'change', 'mean')).toBe('');
    expect(find('gpMessages', '871731000000106', 'display')).toBe('Referral to social prescribing service (procedure)');
  });
});
