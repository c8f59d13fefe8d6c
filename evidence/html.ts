import * as echarts from 'echarts';
import type { CohortReport, FunnelStep, MeasureOutcome, Summary } from './report';

/**
 * The report as one HTML page that opens anywhere, offline: charts are SVG rendered on the server
 * by echarts, inline, with no script and nothing fetched from the network.
 */

const WIDTH = 760;
const HEIGHT = 360;
// Single quotes inside: echarts writes this into a double-quoted SVG attribute without escaping it.
const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
// Colour-blind-safe pair (Okabe–Ito) for good and bad; neutrals stay grey.
const GOOD = '#009E73';
const BAD = '#D55E00';
const NEUTRAL = '#56B4E9';
// Dark enough throughout for white labels inside the funnel to stay legible.
const FUNNEL_COLOURS = ['#08306b', '#08519c', '#2171b5', '#4292c6', GOOD];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * zrender names each chart's clip paths and style classes (`zr3-c0`, `zr3-cls-15`) from
 * process-wide counters, so the same report would render differently on every call. Renaming them,
 * in order of first use, after the chart makes the page reproducible and keeps ids unique when the
 * four charts share one document.
 */
function renderSvg(name: string, option: echarts.EChartsCoreOption, height = HEIGHT): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height });
  let svg: string;
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: FONT }, ...option });
    svg = chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
  const renamed = new Map<string, string>();
  return svg.replace(/\bzr\d+-[a-z-]*\d+\b/g, (token) => {
    let next = renamed.get(token);
    if (next === undefined) renamed.set(token, (next = `${name}-${renamed.size}`));
    return next;
  });
}

function emptyChart(name: string, title: string, message: string): string {
  return renderSvg(name, {
    title: { text: title, left: 'center' },
    graphic: { type: 'text', left: 'center', top: 'middle', style: { text: message, fontSize: 14, fill: '#666' } },
  });
}

const STEP_LABELS: Record<FunnelStep['step'], string> = {
  referred: 'Referred',
  firstContact: 'First contact',
  firstVisit: 'First visit',
  planAgreed: 'Plan agreed',
  completed: 'Completed',
};

function pct(value: number | null, digits = 0): string {
  return value === null ? '–' : `${(value * 100).toFixed(digits)}%`;
}

/** A percentage the report already holds in percent (conversion), one decimal; a dash when there is none. */
function percentText(value: number | null): string {
  return value === null ? '–' : `${value.toFixed(1)}%`;
}

function num(value: number | null, digits = 1): string {
  return value === null ? '–' : Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

export function funnelChart(report: CohortReport): string {
  const title = 'From referral to completion';
  if (report.totals.referrals === 0) return emptyChart('funnel', title, 'No referrals in this period');
  return renderSvg('funnel', {
    title: { text: title, left: 'center' },
    series: [
      {
        type: 'funnel',
        sort: 'none',
        top: 50,
        bottom: 20,
        left: '10%',
        width: '80%',
        min: 0,
        max: report.totals.referrals,
        minSize: '4%',
        gap: 2,
        label: { show: true, position: 'inside', color: '#fff', fontSize: 13 },
        data: report.person.funnel.map((f, i) => ({
          name: `${STEP_LABELS[f.step]}: ${f.count} (${pct(f.ofReferred)})`,
          value: f.count,
          itemStyle: { color: FUNNEL_COLOURS[i] },
        })),
      },
    ],
  });
}

/** Change turned so that up is better, whichever way the instrument runs. */
function improvementBox(m: MeasureOutcome): [number, number, number, number, number] {
  const c: Summary = m.change;
  const five = [c.min!, c.q1!, c.median!, c.q3!, c.max!];
  const signed = m.direction === 'higherIsBetter' ? five : five.map((v) => -v).reverse();
  return signed as [number, number, number, number, number];
}

export function changeChart(report: CohortReport): string {
  const title = 'Change in wellbeing, baseline to follow-up (up is better)';
  const measured = report.person.measures.filter((m) => m.withBoth > 0);
  if (measured.length === 0) return emptyChart('change', title, 'No one has both a baseline and a follow-up measure yet');
  return renderSvg('change', {
    title: { text: title, left: 'center' },
    grid: { left: 60, right: 30, top: 60, bottom: 50 },
    xAxis: {
      type: 'category',
      data: measured.map((m) => `${m.instrument} (n=${m.withBoth})`),
    },
    yAxis: { type: 'value', name: 'points of improvement', nameGap: 12 },
    series: [
      {
        type: 'boxplot',
        itemStyle: { color: '#e8f6f1', borderColor: GOOD },
        data: measured.map(improvementBox),
      },
      {
        // The mean is the headline figure (Ways to Wellness: +3.3 against a 1.5 target), so it is
        // drawn over the box the median sits in.
        type: 'scatter',
        symbol: 'diamond',
        symbolSize: 12,
        itemStyle: { color: BAD },
        label: { show: true, position: 'right', formatter: (p: { value: unknown }) => `mean ${num((p.value as number[])[1]!, 2)}` },
        data: measured.map((m, i) => [i, (m.direction === 'higherIsBetter' ? 1 : -1) * m.change.mean!]),
      },
    ],
  });
}

export function dischargeChart(report: CohortReport): string {
  const title = 'Discharge reasons';
  const rows = report.person.dischargeReasons.filter((d) => d.count > 0);
  if (rows.length === 0) return emptyChart('discharge', title, 'No discharges in this period');
  return renderSvg(
    'discharge',
    {
      title: { text: title, left: 'center' },
      grid: { left: 150, right: 40, top: 50, bottom: 30 },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', inverse: true, data: rows.map((d) => d.key) },
      series: [{ type: 'bar', itemStyle: { color: NEUTRAL }, label: { show: true, position: 'right' }, data: rows.map((d) => d.count) }],
    },
    Math.max(HEIGHT, 80 + rows.length * 28),
  );
}

export function deadlinesChart(report: CohortReport): string {
  const title = 'Deadlines met and missed, by month due';
  const months = report.system.deadlines.byMonth;
  if (months.length === 0) return emptyChart('deadlines', title, 'No deadlines fell due in this period');
  return renderSvg('deadlines', {
    title: { text: title, left: 'center' },
    legend: { top: 28 },
    grid: { left: 50, right: 60, top: 70, bottom: 40 },
    xAxis: { type: 'category', data: months.map((m) => m.month) },
    yAxis: [
      { type: 'value', name: 'deadlines', minInterval: 1 },
      { type: 'value', name: 'met', min: 0, max: 100, axisLabel: { formatter: '{value}%' } },
    ],
    series: [
      { name: 'met', type: 'bar', stack: 'due', itemStyle: { color: GOOD }, data: months.map((m) => m.met) },
      { name: 'missed', type: 'bar', stack: 'due', itemStyle: { color: BAD }, data: months.map((m) => m.missed) },
      {
        name: '% met',
        type: 'line',
        yAxisIndex: 1,
        itemStyle: { color: '#333' },
        data: months.map((m) => (m.metShare === null ? null : Math.round(m.metShare * 1000) / 10)),
      },
    ],
  });
}

function table(caption: string, header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.length
    ? rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`).join('\n')
    : `<tr><td colspan="${header.length}">none</td></tr>`;
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Connections to community services (evidence/connections.ts): categories, answers, attendance, providers. */
function connectionTables(c: CohortReport['connections']): string[] {
  return [
    table('Connections to services by category', ['category', 'proposed', 'accepted', 'attended'], c.byCategory.map((x) => [x.category, x.proposed, x.accepted, x.attended])),
    table(
      "Providers' answers",
      ['connections', 'answered', 'median days to answer', 'within deadline', 'share within deadline', 'declined for no answer'],
      [[c.total, c.answered, num(c.responseDays.median), c.withinDeadline, pct(c.withinDeadlineShare, 1), c.autoDeclined]],
    ),
    table('Attendance', ['accepted', 'attended', 'rate', 'attendances'], [[c.attendance.accepted, c.attendance.attended, pct(c.attendance.rate, 1), c.attendance.attendances]]),
    table(
      'Providers',
      ['provider', 'sent', 'answered', 'within deadline', 'declined for no answer', 'median days'],
      c.providers.map((p) => [p.providerId, p.sent, p.answered, p.withinDeadline, p.autoDeclined, num(p.medianResponseDays)]),
    ),
  ];
}

function summaryCells(s: Summary): string[] {
  return [String(s.n), num(s.median), num(s.p90), num(s.mean)];
}

function figure(svg: string, caption: string): string {
  return `<figure>${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

function day(epochMs: number | null): string {
  if (epochMs === null) return '';
  const date = new Date(epochMs);
  // Out of a Date's range (the client refuses such dates; a caller of the renderer may not).
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().slice(0, 10);
}

export interface HtmlOptions {
  title?: string;
}

export function reportToHtml(report: CohortReport, options: HtmlOptions = {}): string {
  const { scope, totals, person, community, system } = report;
  const title = options.title ?? `Social prescribing outcomes${scope.schemeId ? `: ${scope.schemeId}` : ''}`;
  const period =
    scope.from === null && scope.to === null
      ? 'all referrals'
      : `referrals from ${day(scope.from) || 'the start'} to before ${day(scope.to) || 'now'}`;

  const personSection = [
    figure(funnelChart(report), 'Each step counts people who reached it and every step before it.'),
    table(
      'Funnel',
      ['step', 'people', 'of referred', 'of previous step'],
      person.funnel.map((f) => [STEP_LABELS[f.step], f.count, pct(f.ofReferred, 1), pct(f.ofPrevious, 1)]),
    ),
    figure(changeChart(report), 'Boxes span the middle half of changes, whiskers the full range; the diamond is the mean.'),
    table(
      'Change in each measure (follow-up minus baseline, natural sign)',
      ['measure', 'better when', 'baseline', 'both', 'mean change', 'median', 'improved', 'unchanged', 'worsened'],
      person.measures.map((m) => [
        m.instrument,
        m.direction === 'higherIsBetter' ? 'higher' : 'lower',
        m.withBaseline,
        m.withBoth,
        num(m.change.mean, 2),
        num(m.change.median, 2),
        m.improved,
        m.unchanged,
        m.worsened,
      ]),
    ),
    figure(dischargeChart(report), 'Discharged cases only.'),
    table('Tier mix', ['tier', 'people'], person.tierMix.map((t) => [t.key, t.count])),
    table('Contacts per person', ['people', 'median', '90th percentile', 'mean'], [summaryCells(person.contactsPerPerson)]),
  ];

  const communitySection = [
    table(
      'Activities people were connected to',
      ['category', 'people', 'activities'],
      community.activities.map((a) => [a.category, a.people, a.activities]),
    ),
    table('Volunteer matched', ['people', 'share'], [[community.volunteerMatched.people, pct(community.volunteerMatched.share, 1)]]),
    table(
      'Sessions by kind',
      ['kind', 'sessions', 'attended', 'minutes'],
      community.sessionsByKind.map((s) => [s.kind, s.count, s.attended, s.minutes]),
    ),
    table('Service gaps met', ['kind', 'times', 'people'], community.serviceGaps.map((g) => [g.kind, g.gaps, g.cases])),
    ...connectionTables(report.connections),
  ];

  const systemSection = [
    table('Referrals by route', ['route', 'referrals'], system.referralsByRoute.map((r) => [r.key, r.count])),
    table(
      'Days from referral',
      ['to', 'people', 'median', '90th percentile', 'mean'],
      [
        ['first contact', ...summaryCells(system.timeToFirstContactDays)],
        ['first visit', ...summaryCells(system.timeToFirstVisitDays)],
      ],
    ),
    figure(deadlinesChart(report), 'Bars count deadlines by the month they fell due; the line is the share met.'),
    table(
      'Deadlines by kind',
      ['kind', 'met', 'missed', 'met share'],
      system.deadlines.byKind.map((d) => [d.kind, d.met, d.missed, pct(d.metShare, 1)]),
    ),
    table(
      'Escalations',
      ['type', 'raised', 'acknowledged', 're-escalated', 'median hours to acknowledge', '90th percentile'],
      system.escalations.map((e) => [
        e.type,
        e.count,
        e.acknowledged,
        e.reEscalated,
        num(e.hoursToAcknowledge.median),
        num(e.hoursToAcknowledge.p90),
      ]),
    ),
    table('Caseload per link worker', ['link worker', 'cases', 'open'], system.caseload.map((c) => [c.linkWorkerId, c.cases, c.open])),
    table(
      'Staff time',
      ['total minutes', 'minutes per referral'],
      [[system.staffMinutes.total, num(system.staffMinutes.perReferral)]],
    ),
    table('Staff time by kind', ['kind', 'minutes'], system.staffMinutes.byKind.map((k) => [k.kind, k.minutes])),
    table(
      'Coded back to the GP record (SNOMED CT)',
      ['code', 'term', 'cases'],
      system.gpMessages.map((g) => [g.snomedCode, g.display, g.count]),
    ),
  ];

  const section = (id: string, heading: string, intro: string, parts: string[]) =>
    `<section id="${id}"><h2>${escapeHtml(heading)}</h2><p>${escapeHtml(intro)}</p>\n${parts.join('\n')}\n</section>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body { font-family: ${FONT}; margin: 2rem auto; max-width: 820px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.5rem; }
.scope { color: #555; }
.totals { display: flex; gap: 1rem; margin: 1rem 0; }
.totals div { background: #f4f6f8; border-radius: 6px; padding: 0.6rem 1rem; }
.totals b { display: block; font-size: 1.5rem; }
figure { margin: 1.5rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9rem; }
table { border-collapse: collapse; margin: 1rem 0; width: 100%; font-size: 0.92rem; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.3rem 0.5rem; text-align: left; }
td:not(:first-child), th:not(:first-child) { text-align: right; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
<p class="scope">${escapeHtml(period)}. Grouped as the Common Outcomes Framework groups impact: the person, the community, the system.</p>
<div class="totals"><div><b>${totals.referrals}</b>referrals</div><div><b>${totals.open}</b>open</div><div><b>${totals.discharged}</b>discharged</div></div>
<div class="totals conversion"><div><b>${percentText(report.conversion.referredToFirstVisit)}</b>of referrals reached a first visit</div><div><b>${percentText(report.conversion.referredToPlanAgreed)}</b>of referrals reached an agreed plan (conversion)</div></div>
${section('person', 'Person', 'What happened to the people referred.', personSection)}
${section('community', 'Community', 'The activities, volunteers and gaps people met.', communitySection)}
${section('system', 'System', 'How the service ran: routes in, timeliness, escalations and workload.', systemSection)}
</body>
</html>
`;
}
