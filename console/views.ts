// The console's pages as pure functions from data to HTML: every value escaped, no inline script
// or style (the Content-Security-Policy forbids both), labelled forms, and lists of case ids, ages
// and stages only. Names never appear: the engine keeps none (only fingerprints).
import type { CaseSummary, CaseView, Caseloads, EscalationItem } from '../client';
import { escapeHtml } from '../evidence/html';
import { contactChannelSchema, contactOutcomeSchema, dischargeRequestReasonSchema, safeguardingCategorySchema, type CommandType, type ScoredMeasure } from '../machines';
import { mayCommand, type SignedInUser } from './roles';

export const e = (v: unknown): string => escapeHtml(String(v ?? ''));

const DAY = 86_400_000;
export function age(ms: number): string {
  if (ms < 0) return `in ${age(-ms)}`;
  if (ms < 3_600_000) return `${Math.max(0, Math.round(ms / 60_000))} min`;
  if (ms < DAY) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / DAY)} d`;
}
const when = (at: number | undefined) => (at === undefined ? '—' : new Date(at).toISOString().replace('T', ' ').slice(0, 16));

export interface PageContext {
  base: string;
  user: SignedInUser;
  csrf: string;
  now: number;
}

export function layout(ctx: PageContext | { base: string; user?: undefined; csrf?: undefined }, title: string, body: string, options: { live?: boolean } = {}): string {
  const { base } = ctx;
  const nav = ctx.user
    ? `<nav aria-label="Console"><ul>
<li><a href="${base}/">Overview</a></li>
<li><a href="${base}/escalations">Escalations</a></li>
<li><a href="${base}/cases">Cases</a></li>
${ctx.user.role === 'linkWorker' ? `<li><a href="${base}/mine">My caseload</a></li>` : ''}
<li><a href="${base}/report">Report</a></li>
</ul>
<form method="post" action="${base}/logout" class="signout"><input type="hidden" name="_csrf" value="${e(ctx.csrf)}"><span>${e(ctx.user.id)} (${e(ctx.user.role)})</span> <button type="submit">Sign out</button></form>
</nav>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)} · Social prescribing console</title>
<link rel="stylesheet" href="${base}/assets/console.css">
${options.live ? `<script src="${base}/assets/console.js" defer></script>` : ''}
</head><body>
<header><a class="skip" href="#main">Skip to content</a><p class="brand">Social prescribing console</p>${nav}</header>
<main id="main"><h1>${e(title)}</h1>
${body}
</main></body></html>`;
}

const table = (caption: string, head: string[], rows: string[][], attrs = '') =>
  `<table${attrs}><caption>${e(caption)}</caption><thead><tr>${head.map((h) => `<th scope="col">${e(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

const caseLink = (base: string, caseId: string) => `<a href="${base}/cases/${encodeURIComponent(caseId)}">${e(caseId)}</a>`;
const hidden = (name: string, value: string) => `<input type="hidden" name="${e(name)}" value="${e(value)}">`;

// ---- Overview -------------------------------------------------------------------------------------

export interface SchemeOverview {
  schemeId: string;
  caseloads?: Caseloads;
  escalations: EscalationItem[];
  reviewsOverdue: number;
  possibleDuplicates: number;
  serviceGaps: Array<{ kind: string; gaps: number }>;
}

export function overviewPage(ctx: PageContext, schemes: SchemeOverview[]): string {
  const { base, now } = ctx;
  const sections = schemes.map((s) => {
    const q = `scheme=${encodeURIComponent(s.schemeId)}`;
    const loads = s.caseloads
      ? table(
          'Link workers\u2019 caseloads against their caps',
          ['link worker', 'open cases', 'cap', 'full'],
          s.caseloads.linkWorkers.map((w) => [e(w.id), `<a href="${base}/cases?${q}&amp;linkWorker=${encodeURIComponent(w.id)}&amp;open=true">${w.open}</a>`, String(w.cap), w.open >= w.cap ? 'yes' : 'no']),
        ) +
        `<p>Waitlist: <a href="${base}/cases?${q}&amp;stage=waitlisted">${s.caseloads.waitlist.length}</a>${
          s.caseloads.waitlist.length ? `, longest wait ${e(age(now - Math.min(...s.caseloads.waitlist.map((w) => w.since))))}` : ''
        }.</p>`
      : '<p>No roster yet for this scheme.</p>';
    const byKey = new Map<string, { type: string; level: number; count: number; oldest: number }>();
    for (const x of s.escalations) {
      const key = `${x.type}/${x.level}`;
      const row = byKey.get(key) ?? { type: x.type, level: x.level, count: 0, oldest: x.raisedAt };
      row.count += 1;
      row.oldest = Math.min(row.oldest, x.raisedAt);
      byKey.set(key, row);
    }
    const esc = byKey.size
      ? table(
          'Open escalations by type and level',
          ['type', 'level', 'open', 'oldest'],
          [...byKey.values()].map((r) => [e(r.type), String(r.level), `<a href="${base}/escalations?${q}">${r.count}</a>`, e(age(now - r.oldest))]),
        )
      : '<p>No open escalations.</p>';
    const gaps = s.serviceGaps.length ? `<ul>${s.serviceGaps.map((g) => `<li>${e(g.kind)}: ${g.gaps}</li>`).join('')}</ul>` : '<p>No service gaps recorded.</p>';
    return `<section aria-labelledby="s-${e(s.schemeId)}"><h2 id="s-${e(s.schemeId)}">Scheme ${e(s.schemeId)}</h2>
${loads}
${esc}
<ul class="figures">
<li>Reviews overdue: <a href="${base}/cases?${q}&amp;stage=review&amp;overdue=true">${s.reviewsOverdue}</a></li>
<li>Possible duplicates: <a href="${base}/cases?${q}&amp;possibleDuplicate=true">${s.possibleDuplicates}</a></li>
</ul>
<h3>Service gaps</h3>${gaps}
</section>`;
  });
  return layout(ctx, 'Scheme overview', sections.join('\n'));
}

// ---- Escalations ----------------------------------------------------------------------------------

/** The queue's rows; the live script swaps them in when the set of escalations changes. */
export function escalationRows(ctx: PageContext, items: EscalationItem[]): string {
  const { base, now, user } = ctx;
  if (items.length === 0) return '<tr><td colspan="6">No open escalations.</td></tr>';
  return items
    .map((x) => {
      const actions: string[] = [];
      if (mayCommand(user.role, 'ESCALATION.ACK')) {
        const fid = `ack-${e(x.caseId)}-${e(x.id)}`;
        actions.push(`<form method="post" action="${base}/cases/${encodeURIComponent(x.caseId)}/commands/ESCALATION.ACK">${hidden('_csrf', ctx.csrf)}${hidden('from', 'queue')}${hidden('escalationId', x.id)}
<label for="${fid}">Note</label> <input id="${fid}" name="note" maxlength="500"> <button type="submit">Acknowledge</button></form>`);
      }
      if (x.type === 'EXTENSION_APPROVAL' && x.caseStage === 'extensionPending' && mayCommand(user.role, 'EXTENSION.APPROVE')) {
        const rid = `refuse-${e(x.caseId)}-${e(x.id)}`;
        actions.push(`<form method="post" action="${base}/cases/${encodeURIComponent(x.caseId)}/commands/EXTENSION.APPROVE">${hidden('_csrf', ctx.csrf)}${hidden('from', 'queue')}<button type="submit">Approve extension</button></form>
<form method="post" action="${base}/cases/${encodeURIComponent(x.caseId)}/commands/EXTENSION.REFUSE">${hidden('_csrf', ctx.csrf)}${hidden('from', 'queue')}<label for="${rid}">Reason</label> <input id="${rid}" name="reason" required maxlength="500"> <button type="submit">Refuse extension</button></form>`);
      }
      return `<tr data-escalation="${e(x.caseId)}/${e(x.id)}"><td>${caseLink(base, x.caseId)}</td><td>${e(x.type)}</td><td>${x.level}</td><td>${e(age(now - x.raisedAt))}</td><td>${e(x.caseStage)}</td><td>${actions.join('') || '—'}</td></tr>`;
    })
    .join('');
}

export function escalationIds(items: EscalationItem[]): string {
  return items.map((x) => `${x.caseId}/${x.id}/${x.level}/${x.caseStage}`).join(' ');
}

export function escalationsPage(ctx: PageContext, items: EscalationItem[], query: string): string {
  return layout(
    ctx,
    'Escalation queue',
    `<p>Oldest first. The queue updates by itself every second or two.</p>
<p class="live" role="status" aria-live="polite" id="live-status"></p>
<table id="escalations" data-source="${ctx.base}/escalations/rows${query ? `?${e(query)}` : ''}" data-ids="${e(escalationIds(items))}"><caption>Open escalations</caption>
<thead><tr><th scope="col">case</th><th scope="col">type</th><th scope="col">level</th><th scope="col">age</th><th scope="col">stage now</th><th scope="col">actions</th></tr></thead>
<tbody>${escalationRows(ctx, items)}</tbody></table>`,
    { live: true },
  );
}

// ---- Case lists -----------------------------------------------------------------------------------

/** Case ids, ages and stages only: a list is shown to anyone in the scheme. */
export function caseListTable(ctx: Pick<PageContext, 'base' | 'now'>, cases: CaseSummary[], caption: string): string {
  const { base, now } = ctx;
  const rows = new Array<string>(cases.length);
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    rows[i] = `<tr><td><a href="${base}/cases/${encodeURIComponent(c.caseId)}">${e(c.caseId)}</a></td><td>${e(age(now - c.startedAt))}</td><td>${e(c.stage ?? '—')}</td><td>${
      c.nextDueAt === undefined ? '—' : e(when(c.nextDueAt))
    }${c.overdue ? ' <strong>overdue</strong>' : ''}</td><td>${c.escalated ? 'yes' : 'no'}</td></tr>`;
  }
  return `<table><caption>${e(caption)} (${cases.length})</caption><thead><tr><th scope="col">case</th><th scope="col">age</th><th scope="col">stage</th><th scope="col">next deadline</th><th scope="col">escalated</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

export function caseListPage(ctx: PageContext, cases: CaseSummary[], title: string): string {
  return layout(ctx, title, cases.length ? caseListTable(ctx, cases, title) : '<p>No cases match.</p>');
}

// ---- Case page ------------------------------------------------------------------------------------

const WAITS: Partial<Record<string, string>> = {
  triage: 'a triage decision',
  allocating: 'a place with a link worker',
  waitlisted: 'a place to free up',
  firstContact: 'first contact with the person',
  firstVisit: 'the first visit',
  coProducedPlan: 'both sides to agree the plan',
  support: 'sessions and check-ins until the review falls due',
  review: 'the review',
  extensionPending: 'a supervisor to approve or refuse the extension',
  befriendingHandoff: 'the befriending service\u2019s answer',
  onHold: 'a supervisor to clear the safeguarding hold',
};

/** One instrument's scores over time (baseline, check-ins, review) as a small inline SVG. */
export function measureChart(instrument: string, points: Array<{ at: number; score: number; label: string }>): string {
  if (points.length === 0) return '';
  const w = 240;
  const h = 80;
  const pad = 12;
  const scores = points.map((p) => p.score);
  const lo = Math.min(...scores);
  const hi = Math.max(...scores);
  const span = hi - lo || 1;
  const x = (i: number) => pad + (points.length === 1 ? (w - 2 * pad) / 2 : (i * (w - 2 * pad)) / (points.length - 1));
  const y = (s: number) => h - pad - ((s - lo) / span) * (h - 2 * pad);
  const path = points.map((p, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.score).toFixed(1)}`).join(' ');
  const desc = points.map((p) => `${p.label} ${p.score}`).join(', ');
  return `<figure><svg role="img" aria-label="${e(`${instrument}: ${desc}`)}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><path d="${path}" fill="none" stroke="#08519c" stroke-width="2"/>${points
    .map((p, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(p.score).toFixed(1)}" r="3" fill="#08519c"/>`)
    .join('')}</svg><figcaption>${e(instrument)}: ${e(desc)}</figcaption></figure>`;
}

function measureCharts(view: CaseView): string {
  const series = new Map<string, Array<{ at: number; score: number; label: string }>>();
  const add = (label: string, at: number, ms: readonly ScoredMeasure[]) => {
    for (const m of ms) {
      const list = series.get(m.instrument) ?? [];
      list.push({ at, score: m.score, label });
      series.set(m.instrument, list);
    }
  };
  add('baseline', 0, view.measures.baseline);
  view.measures.checkIns.forEach((c, i) => add(`check-in ${i + 1}`, c.at, c.measures));
  const review = view.measures.review as { measures?: ScoredMeasure[]; at?: number } | undefined;
  if (review?.measures) add('review', review.at ?? Number.MAX_SAFE_INTEGER, review.measures);
  if (series.size === 0) return '<p>No measures recorded yet.</p>';
  return [...series.entries()].map(([k, v]) => measureChart(k, v)).join('');
}

function commandForms(ctx: PageContext, view: CaseView): string {
  const { base, user } = ctx;
  const action = (type: CommandType) => `${base}/cases/${encodeURIComponent(view.caseId)}/commands/${type}`;
  const csrf = hidden('_csrf', ctx.csrf);
  const select = (id: string, name: string, label: string, options: readonly string[]) =>
    `<label for="${id}">${e(label)}</label> <select id="${id}" name="${name}">${options.map((o) => `<option>${e(o)}</option>`).join('')}</select>`;
  const forms: string[] = [];
  const may = (t: CommandType) => mayCommand(user.role, t);
  if (view.stage === 'triage' && may('TRIAGE.ACCEPT')) forms.push(`<form method="post" action="${action('TRIAGE.ACCEPT')}">${csrf}<button type="submit">Accept referral</button></form>`);
  if (view.stage === 'firstContact' && may('CONTACT.ATTEMPT'))
    forms.push(
      `<form method="post" action="${action('CONTACT.ATTEMPT')}">${csrf}${select('c-outcome', 'outcome', 'Outcome', contactOutcomeSchema.options)} ${select('c-channel', 'channel', 'Channel', contactChannelSchema.options)} <button type="submit">Record contact attempt</button></form>`,
    );
  if (view.stage === 'extensionPending' && may('EXTENSION.APPROVE'))
    forms.push(
      `<form method="post" action="${action('EXTENSION.APPROVE')}">${csrf}<button type="submit">Approve extension</button></form><form method="post" action="${action('EXTENSION.REFUSE')}">${csrf}<label for="x-reason">Reason</label> <input id="x-reason" name="reason" required maxlength="500"> <button type="submit">Refuse extension</button></form>`,
    );
  if (view.stage === 'onHold' && may('SAFEGUARDING.CLEAR')) forms.push(`<form method="post" action="${action('SAFEGUARDING.CLEAR')}">${csrf}<button type="submit">Clear safeguarding hold</button></form>`);
  if (view.possibleDuplicates && !view.possibleDuplicates.resolution && may('DUPLICATE.RESOLVE'))
    forms.push(`<form method="post" action="${action('DUPLICATE.RESOLVE')}">${csrf}${select('d-res', 'resolution', 'Resolution', ['notDuplicate', 'duplicate'])} <button type="submit">Resolve possible duplicate</button></form>`);
  for (const x of view.openEscalations)
    if (may('ESCALATION.ACK'))
      forms.push(
        `<form method="post" action="${action('ESCALATION.ACK')}">${csrf}${hidden('escalationId', x.id)}<label for="ack-${e(x.id)}">Note on ${e(x.type)}</label> <input id="ack-${e(x.id)}" name="note" maxlength="500"> <button type="submit">Acknowledge ${e(x.type)}</button></form>`,
      );
  if (view.stage !== 'discharged' && view.stage !== 'onHold' && may('SAFEGUARDING.RAISE'))
    forms.push(`<form method="post" action="${action('SAFEGUARDING.RAISE')}">${csrf}${select('s-cat', 'category', 'Safeguarding category', safeguardingCategorySchema.options)} <button type="submit">Raise safeguarding concern</button></form>`);
  if (view.stage !== 'discharged' && may('DISCHARGE'))
    forms.push(`<form method="post" action="${action('DISCHARGE')}">${csrf}${select('dis-reason', 'reason', 'Discharge reason', dischargeRequestReasonSchema.options)} <button type="submit">Discharge</button></form>`);
  return forms.length ? forms.join('\n') : '<p>No commands for your role at this stage.</p>';
}

export function casePage(ctx: PageContext, view: CaseView, message?: string): string {
  const { now } = ctx;
  const next = [...view.deadlines].sort((a, b) => a.dueAt - b.dueAt)[0];
  const waits = WAITS[view.stage];
  const draft = view.plan.draft;
  const tally = view.sessions;
  const minutes = Object.values(tally.byKind).reduce((a, k) => a + (k?.minutes ?? 0), 0);
  const body = `${message ? `<p class="notice" role="alert">${e(message)}</p>` : ''}
<p class="privacy">The engine keeps no names or contact details of the person, only fingerprints: this page shows what the engine holds. Look the person up in your own record system.</p>
<dl class="facts"><dt>Scheme</dt><dd>${e(view.schemeId)}</dd><dt>Stage</dt><dd id="stage">${e(view.stage)}</dd>
<dt>Waiting for</dt><dd>${e(waits ?? (view.stage === 'discharged' ? 'nothing: the case is closed' : '—'))}</dd>
<dt>Next deadline</dt><dd>${next ? `${e(when(next.dueAt))} (${e(age(next.dueAt - now))}): ${e(next.event.type)}` : '—'}</dd>
<dt>Link worker</dt><dd>${e(view.linkWorkerId ?? '—')}</dd><dt>Tier</dt><dd>${e(view.tier ?? '—')}</dd></dl>
<section aria-labelledby="h-cmd"><h2 id="h-cmd">What you can do</h2>${commandForms(ctx, view)}</section>
<section aria-labelledby="h-esc"><h2 id="h-esc">Open escalations</h2>${
    view.openEscalations.length
      ? table('Open escalations', ['type', 'level', 'raised', 'acknowledge by'], view.openEscalations.map((x) => [e(x.type), String(x.level), e(when(x.raisedAt)), e(when(x.ackDueAt))]))
      : '<p>None.</p>'
  }${
    view.escalations.some((x) => x.acknowledgedAt !== undefined)
      ? table(
          'Acknowledged escalations',
          ['type', 'level', 'raised', 'acknowledged', 'by', 'note'],
          view.escalations
            .filter((x) => x.acknowledgedAt !== undefined)
            .map((x) => [e(x.type), String(x.level), e(when(x.raisedAt)), e(when(x.acknowledgedAt)), e(x.acknowledgedBy ?? ''), e(x.note ?? '')]),
        )
      : ''
  }</section>
<section aria-labelledby="h-plan"><h2 id="h-plan">Plan</h2>${
    draft
      ? `<h3>Goals</h3><ul>${draft.goals.map((g) => `<li>${e(g.text)}</li>`).join('')}</ul><h3>Activities</h3><ul>${draft.activities
          .map((a) => `<li>${e(a.name)} (${e(a.category)})</li>`)
          .join('')}</ul><h3>Barriers</h3><ul>${draft.barrierActions.map((b) => `<li>${e(b.barrier)}: ${e(b.action)}</li>`).join('') || '<li>None named.</li>'}</ul><p>${view.plan.agreedAt ? `Agreed ${e(when(view.plan.agreedAt))}` : 'Not yet agreed'}.</p>`
      : '<p>No plan drafted yet.</p>'
  }</section>
<section aria-labelledby="h-contacts"><h2 id="h-contacts">Contacts and staff time</h2>${
    Object.keys(tally.byKind).length
      ? table('Sessions by kind', ['kind', 'logged', 'attended', 'minutes'], Object.entries(tally.byKind).map(([k, v]) => [e(k), String(v?.count ?? 0), String(v?.attended ?? 0), String(v?.minutes ?? 0)]))
      : '<p>No sessions logged.</p>'
  }<p>Session minutes: ${minutes}.${view.firstVisit ? ` First visit: ${e((view.firstVisit as { durationMinutes?: number }).durationMinutes ?? '—')} min.` : ''}</p></section>
<section aria-labelledby="h-measures"><h2 id="h-measures">Measures before and after</h2>${measureCharts(view)}</section>
<section aria-labelledby="h-timeline"><h2 id="h-timeline">Timeline</h2>${table(
    'Who did what',
    ['#', 'when', 'event', 'from', 'to', 'by', 'detail'],
    view.timeline.map((t) => [String(t.seq), e(when(t.at)), e(t.event), e(t.from), e(t.to), t.actor ? `${e(t.actor.id)} (${e(t.actor.role)})` : 'engine', e(t.detail ?? '')]),
  )}</section>`;
  return layout(ctx, `Case ${view.caseId}`, body);
}

// ---- Messages -------------------------------------------------------------------------------------

export function messagePage(ctx: PageContext | { base: string }, title: string, text: string, link?: { href: string; label: string }): string {
  return layout(ctx as PageContext, title, `<p>${e(text)}</p>${link ? `<p><a href="${link.href}">${e(link.label)}</a></p>` : ''}`);
}
