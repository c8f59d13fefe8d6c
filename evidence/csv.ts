import { INSTRUMENTS } from '../machines/measures';
import { connectionRows } from './connections';
import { KEY_DATES, type OutcomeRecord } from './outcomeRecord';
import type { CohortReport, Summary } from './report';

/**
 * RFC 4180: CRLF between records, fields quoted when they hold a comma, quote or line break, and
 * also a semicolon, which spreadsheets in locales with a decimal comma read as the separator.
 */
export type Cell = string | number | boolean | null | undefined;

// A text cell starting with one of these is run as a formula by spreadsheets (CSV injection);
// an activity or area name is free text, so it is defused with a leading apostrophe (OWASP).
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",;\r\n]/;

export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** An instant as ISO 8601, or an empty cell when it is no instant a Date can hold (never a throw). */
function iso(epochMs: number | undefined): string | undefined {
  if (epochMs === undefined) return undefined;
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** One row per case; list fields are joined with "; " so each stays one cell. */
export function recordsToCsv(records: readonly OutcomeRecord[]): string {
  const sessionKinds = [...new Set(records.flatMap((r) => Object.keys(r.sessions)))].sort();
  const stages = ['baseline', 'review', 'discharge'] as const;
  const header = [
    'caseId',
    'schemeId',
    'status',
    'linkWorkerId',
    'ageBand',
    'area',
    'route',
    'needs',
    'tier',
    'activities',
    'volunteer',
    ...sessionKinds.flatMap((k) => [`sessions.${k}.count`, `sessions.${k}.attended`, `sessions.${k}.minutes`]),
    'contactsTotal',
    'staffMinutes',
    ...INSTRUMENTS.flatMap((i) => [...stages.flatMap((s) => [`${i}.${s}.score`, `${i}.${s}.band`]), `${i}.change`]),
    ...KEY_DATES,
    'dischargeReason',
    'escalations',
    'escalationTypes',
    'serviceGaps',
    'deadlinesMet',
    'deadlinesMissed',
    'gpSnomedCode',
    'gpDisplay',
  ];
  const rows = records.map((r) => {
    const deadlines = Object.values(r.deadlines);
    return [
      r.caseId,
      r.schemeId,
      r.status,
      r.linkWorkerId,
      r.ageBand,
      r.area,
      r.route,
      r.needs.join('; '),
      r.tier,
      r.activities.map((a) => `${a.category}: ${a.name}`).join('; '),
      r.volunteer,
      ...sessionKinds.flatMap((k) => {
        const s = r.sessions[k];
        return [s?.count ?? 0, s?.attended ?? 0, s?.minutes ?? 0];
      }),
      r.contactsTotal,
      r.staffMinutes,
      ...INSTRUMENTS.flatMap((i) => {
        const series = r.measures[i];
        return [...stages.flatMap((s) => [series?.[s]?.score, series?.[s]?.band]), series?.change];
      }),
      ...KEY_DATES.map((k) => iso(r.dates[k])),
      r.dischargeReason,
      r.escalations.length,
      [...new Set(r.escalations.map((e) => e.type))].sort().join('; '),
      r.serviceGaps.map((g) => g.kind).join('; '),
      deadlines.reduce((n, d) => n + d.met, 0),
      deadlines.reduce((n, d) => n + d.missed, 0),
      r.gpMessage?.snomedCode,
      r.gpMessage?.display,
    ];
  });
  return toCsv(header, rows);
}

type Row = [group: string, table: string, key: string, measure: string, value: Cell];

function summaryRows(group: string, table: string, key: string, s: Summary): Row[] {
  return (['n', 'mean', 'min', 'q1', 'median', 'q3', 'p90', 'max'] as const).map((m) => [group, table, key, m, s[m]]);
}

/**
 * Every table of the report in one tidy (long) CSV: group, table, key, measure, value. One file an
 * analyst can filter or pivot, instead of several that must be kept together.
 */
export function reportToCsv(report: CohortReport): string {
  const rows: Row[] = [];
  const { scope, totals, person, community, system } = report;
  rows.push(['scope', 'scope', '', 'schemeId', scope.schemeId]);
  rows.push(['scope', 'scope', '', 'from', iso(scope.from ?? undefined)]);
  rows.push(['scope', 'scope', '', 'to', iso(scope.to ?? undefined)]);
  rows.push(['scope', 'scope', '', 'basis', scope.basis]);
  for (const [k, v] of Object.entries(totals)) rows.push(['scope', 'totals', '', k, v]);
  for (const [k, v] of Object.entries(report.conversion)) rows.push(['person', 'conversion', k, 'percent', v]);

  for (const f of person.funnel) {
    rows.push(['person', 'funnel', f.step, 'count', f.count]);
    rows.push(['person', 'funnel', f.step, 'ofReferred', f.ofReferred]);
    rows.push(['person', 'funnel', f.step, 'ofPrevious', f.ofPrevious]);
  }
  for (const t of person.tierMix) rows.push(['person', 'tierMix', t.key, 'count', t.count]);
  rows.push(...summaryRows('person', 'contactsPerPerson', '', person.contactsPerPerson));
  for (const m of person.measures) {
    const table = `measure.${m.instrument}`;
    rows.push(['person', table, '', 'direction', m.direction]);
    for (const k of ['withBaseline', 'withFollowUp', 'withBoth', 'improved', 'unchanged', 'worsened'] as const) {
      rows.push(['person', table, '', k, m[k]]);
    }
    rows.push(...summaryRows('person', table, 'change', m.change));
    for (const d of m.distribution) rows.push(['person', table, `change[${d.bin},${d.bin + 1})`, 'count', d.count]);
    for (const b of m.bandsAtBaseline) rows.push(['person', table, `baseline:${b.key}`, 'count', b.count]);
    for (const b of m.bandsAtFollowUp) rows.push(['person', table, `followUp:${b.key}`, 'count', b.count]);
  }
  for (const d of person.dischargeReasons) rows.push(['person', 'dischargeReasons', d.key, 'count', d.count]);

  for (const a of community.activities) {
    rows.push(['community', 'activities', a.category, 'people', a.people]);
    rows.push(['community', 'activities', a.category, 'activities', a.activities]);
  }
  rows.push(['community', 'volunteerMatched', '', 'people', community.volunteerMatched.people]);
  rows.push(['community', 'volunteerMatched', '', 'share', community.volunteerMatched.share]);
  for (const s of community.sessionsByKind) {
    for (const k of ['count', 'attended', 'minutes'] as const) rows.push(['community', 'sessionsByKind', s.kind, k, s[k]]);
  }
  for (const g of community.serviceGaps) {
    rows.push(['community', 'serviceGaps', g.kind, 'gaps', g.gaps]);
    rows.push(['community', 'serviceGaps', g.kind, 'cases', g.cases]);
  }

  for (const r of system.referralsByRoute) rows.push(['system', 'referralsByRoute', r.key, 'count', r.count]);
  rows.push(...summaryRows('system', 'timeToFirstContactDays', '', system.timeToFirstContactDays));
  rows.push(...summaryRows('system', 'timeToFirstVisitDays', '', system.timeToFirstVisitDays));
  for (const e of system.escalations) {
    for (const k of ['count', 'acknowledged', 'reEscalated'] as const) rows.push(['system', 'escalations', e.type, k, e[k]]);
    rows.push(...summaryRows('system', 'escalations.hoursToAcknowledge', e.type, e.hoursToAcknowledge));
  }
  for (const c of system.caseload) {
    rows.push(['system', 'caseload', c.linkWorkerId, 'cases', c.cases]);
    rows.push(['system', 'caseload', c.linkWorkerId, 'open', c.open]);
  }
  rows.push(['system', 'staffMinutes', '', 'total', system.staffMinutes.total]);
  rows.push(['system', 'staffMinutes', '', 'perReferral', system.staffMinutes.perReferral]);
  for (const k of system.staffMinutes.byKind) rows.push(['system', 'staffMinutes.byKind', k.kind, 'minutes', k.minutes]);
  for (const d of system.deadlines.byKind) {
    for (const k of ['met', 'missed', 'metShare'] as const) rows.push(['system', 'deadlines.byKind', d.kind, k, d[k]]);
  }
  for (const d of system.deadlines.byMonth) {
    for (const k of ['met', 'missed', 'metShare'] as const) rows.push(['system', 'deadlines.byMonth', d.month, k, d[k]]);
  }
  for (const g of system.gpMessages) {
    rows.push(['system', 'gpMessages', g.snomedCode, 'display', g.display]);
    rows.push(['system', 'gpMessages', g.snomedCode, 'count', g.count]);
  }
  rows.push(...connectionRows(report.connections, summaryRows));

  return toCsv(['group', 'table', 'key', 'measure', 'value'], rows);
}
