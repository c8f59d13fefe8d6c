// How the supervisor CLI and the demo show cases, caseloads and escalations: plain tables (no colour,
// so they paste into emails and compare in tests), times in UTC, and how long ago or until.
import Table from 'cli-table3';
import type { Caseloads } from '../workflows/ledger-definitions';
import type { CaseView } from '../workflows/definitions';
import type { EscalationItem } from './client';
import type { CaseSummary } from './queries';
import { connectionsTable } from './format-connections';

export function table(head: string[], rows: Array<Array<string | number>>): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) t.push(row.map(String));
  return t.toString();
}

export function time(ms: number | undefined): string {
  return ms === undefined ? '' : `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

/** `in 2d 3h`, `5m ago`: the two largest units, enough to act on. */
export function relative(ms: number | undefined, now: number): string {
  if (ms === undefined) return '';
  const delta = ms - now;
  let rest = Math.abs(delta);
  const units: Array<[string, number]> = [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  const parts: string[] = [];
  for (const [unit, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  const text = parts.join(' ') || `${Math.round(rest)}ms`;
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

export function escalationRef(e: { caseId: string; id: string }): string {
  return `${e.caseId}/${e.id}`;
}

export function casesTable(cases: CaseSummary[], now: number): string {
  return table(
    ['case', 'scheme', 'stage', 'link worker', 'tier', 'escalated', 'duplicate?', 'next due', 'opened'],
    cases.map((c) => [
      c.caseId,
      c.schemeId ?? '',
      c.stage ?? '',
      c.linkWorkerId ?? '',
      c.tier ?? '',
      c.escalated ? 'yes' : '',
      c.possibleDuplicate ? 'yes' : '',
      c.open ? `${relative(c.nextDueAt, now)}${c.overdue ? ' (overdue)' : ''}` : 'closed',
      time(c.startedAt),
    ]),
  );
}

export function caseloadsTable(loads: Caseloads): string {
  const rows: Array<Array<string | number>> = loads.linkWorkers.map((w) => [w.id, w.open, w.cap, w.open >= w.cap ? 'full' : 'room']);
  const summary = `${loads.schemeId}: ${loads.open} open; waitlist ${loads.waitlist.length}${loads.full ? ' (scheme full)' : ''}`;
  const waiting = loads.waitlist.length ? `\nwaiting: ${loads.waitlist.map((w) => `${w.position}. ${w.caseId}`).join(', ')}` : '';
  return `${summary}\n${table(['link worker', 'open', 'cap', 'status'], rows)}${waiting}`;
}

export function escalationsTable(items: EscalationItem[], now: number): string {
  return table(
    ['escalation', 'type', 'level', 'raised', 'ack due', 'case stage', 'link worker'],
    items.map((e) => [escalationRef(e), e.type, e.level, relative(e.raisedAt, now), relative(e.ackDueAt, now), e.caseStage, e.linkWorkerId ?? '']),
  );
}

export function caseDetail(view: CaseView, now: number): string {
  const lines = [
    `case        ${view.caseId} (referral ${view.referralId}, scheme ${view.schemeId})`,
    `stage       ${view.stage}${view.discharge ? ` — ${view.discharge.reason} ${time(view.discharge.at)}` : ''}`,
    ...(view.linkWorkerId ? [`link worker ${view.linkWorkerId}`] : []),
    ...(view.tier ? [`tier        ${view.tier}`] : []),
    `next due    ${view.nextDueAt ? `${time(view.nextDueAt)} (${relative(view.nextDueAt, now)})` : 'nothing'}`,
    ...(view.triage?.decision === 'redirected' ? [`redirected  to ${view.triage.service ?? '(no service named)'}${view.triage.reason ? `: ${view.triage.reason}` : ''}`] : []),
    ...(view.firstVisit ? [`barriers    ${view.firstVisit.barriers.join(', ') || '(none named)'}`] : []),
    ...(view.possibleDuplicates ? [`duplicate?  ${duplicateLine(view.possibleDuplicates)}`] : []),
  ];
  const deadlines = view.deadlines.length
    ? table(['deadline', 'due', ''], view.deadlines.map((d) => [d.event.type.replace('DEADLINE.', '') + (d.event.escalationId ? ` ${d.event.escalationId}` : ''), time(d.dueAt), relative(d.dueAt, now)]))
    : '(none)';
  const escalations = view.escalations.length
    ? table(
        ['id', 'type', 'level', 'raised', 'state'],
        view.escalations.map((e) => [
          e.id,
          e.type,
          e.level,
          time(e.raisedAt),
          e.acknowledgedAt !== undefined ? `acknowledged by ${e.acknowledgedBy ?? '?'}` : e.closedAt !== undefined ? 'closed with the case' : `open, ack due ${relative(e.ackDueAt, now)}`,
        ]),
      )
    : '(none)';
  const timeline = table(
    ['#', 'at', 'event', 'from → to', 'by'],
    view.timeline.map((t) => [t.seq, time(t.at), t.detail ? `${t.event} (${t.detail})` : t.event, t.from === t.to ? t.to : `${t.from} → ${t.to}`, t.actor ? `${t.actor.role}:${t.actor.id}` : '']),
  );
  const connections = view.connections?.length ? `\n\nConnections\n${connectionsTable(view.connections)}` : '';
  return `${lines.join('\n')}\n\nDeadlines\n${deadlines}\n\nEscalations\n${escalations}${connections}\n\nTimeline\n${timeline}`;
}

function duplicateLine(flag: NonNullable<CaseView['possibleDuplicates']>): string {
  const cases = flag.cases.map((d) => `${d.caseId} (same ${d.match === 'nhsNumber' ? 'NHS number' : 'name and date of birth'})`).join(', ');
  const r = flag.resolution;
  const answer = !r ? 'unresolved' : r.resolution === 'duplicate' ? `duplicate${r.of ? ` of ${r.of}` : ''}, by ${r.by.id}` : `not a duplicate, by ${r.by.id}`;
  return `${cases} — ${answer}`;
}
