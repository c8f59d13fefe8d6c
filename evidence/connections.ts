// The cohort report's connection figures: how many connections to community services each category
// saw, how fast providers answered (and whether within the deadline), which providers let
// connections be declined for them by never answering, and how many accepted connections the
// person attended. Read from the outcome records' `connections` only.
import { ACTIVITY_CATEGORIES, type ConnectionRecord, type OutcomeRecord } from './outcomeRecord';
import type { Cell } from './csv';
import type { Summary } from './report';

const DAY_MS = 86_400_000;

export interface ProviderFigures {
  providerId: string;
  /** Connections sent to the provider. */
  sent: number;
  /** Answered (accepted or declined) by the provider. */
  answered: number;
  /** Answered by the response deadline. */
  withinDeadline: number;
  /** Declined for the provider at the deadline: never answered. */
  autoDeclined: number;
  medianResponseDays: number | null;
}

export interface ConnectionFigures {
  total: number;
  byCategory: { category: string; proposed: number; accepted: number; attended: number }[];
  /** Days from sending to the provider's answer, for connections the provider answered. */
  responseDays: Summary;
  answered: number;
  withinDeadline: number;
  autoDeclined: number;
  /** Answered within the deadline, of every connection whose answer is settled (answered or auto-declined). */
  withinDeadlineShare: number | null;
  /** Accepted connections, those the person attended at least once, their share, and all attendances. */
  attendance: { accepted: number; attended: number; rate: number | null; attendances: number };
  /** Providers A-Z; the ones with auto-declines are the ones who do not respond. */
  providers: ProviderFigures[];
}

const answered = (c: ConnectionRecord) => c.respondedAt !== undefined && c.sentAt !== undefined;
const accepted = (c: ConnectionRecord) => c.respondedAt !== undefined && c.status !== 'declined';
const inTime = (c: ConnectionRecord) => answered(c) && c.responseDueAt !== undefined && c.respondedAt! <= c.responseDueAt;
const days = (c: ConnectionRecord) => (c.respondedAt! - c.sentAt!) / DAY_MS;
const share = (part: number, whole: number) => (whole === 0 ? null : part / whole);

export function connectionFigures(cohort: readonly OutcomeRecord[], summarise: (values: readonly number[]) => Summary): ConnectionFigures {
  const all = cohort.flatMap((r) => r.connections ?? []);
  const categories = [...ACTIVITY_CATEGORIES, ...new Set(all.map((c) => c.category).filter((c) => !ACTIVITY_CATEGORIES.includes(c)))];
  const providers = new Map<string, ConnectionRecord[]>();
  for (const c of all) providers.set(c.providerId, [...(providers.get(c.providerId) ?? []), c]);
  const median = (values: number[]) => summarise(values).median;
  const acceptedOnes = all.filter(accepted);
  const attended = acceptedOnes.filter((c) => c.attendances > 0).length;
  const answeredCount = all.filter(answered).length;
  const autoDeclined = all.filter((c) => c.autoDeclined).length;
  const withinDeadline = all.filter(inTime).length;
  return {
    total: all.length,
    byCategory: categories.map((category) => {
      const mine = all.filter((c) => c.category === category);
      return { category, proposed: mine.length, accepted: mine.filter(accepted).length, attended: mine.filter((c) => c.attendances > 0).length };
    }),
    responseDays: summarise(all.filter(answered).map(days)),
    answered: answeredCount,
    withinDeadline,
    autoDeclined,
    withinDeadlineShare: share(withinDeadline, answeredCount + autoDeclined),
    attendance: {
      accepted: acceptedOnes.length,
      attended,
      rate: share(attended, acceptedOnes.length),
      attendances: all.reduce((n, c) => n + c.attendances, 0),
    },
    providers: [...providers.keys()].sort().map((providerId) => {
      const mine = providers.get(providerId)!;
      return {
        providerId,
        sent: mine.filter((c) => c.sentAt !== undefined).length,
        answered: mine.filter(answered).length,
        withinDeadline: mine.filter(inTime).length,
        autoDeclined: mine.filter((c) => c.autoDeclined).length,
        medianResponseDays: median(mine.filter(answered).map(days)),
      };
    }),
  };
}

type Row = [group: string, table: string, key: string, measure: string, value: Cell];

/** The figures as the report CSV's tidy rows (evidence/csv.ts): group `connections`. */
export function connectionRows(f: ConnectionFigures, summaryRows: (group: string, table: string, key: string, s: Summary) => Row[]): Row[] {
  const rows: Row[] = [];
  for (const c of f.byCategory) for (const k of ['proposed', 'accepted', 'attended'] as const) rows.push(['connections', 'byCategory', c.category, k, c[k]]);
  rows.push(...summaryRows('connections', 'responseDays', '', f.responseDays));
  for (const k of ['total', 'answered', 'withinDeadline', 'autoDeclined', 'withinDeadlineShare'] as const) rows.push(['connections', 'responses', '', k, f[k]]);
  for (const k of ['accepted', 'attended', 'rate', 'attendances'] as const) rows.push(['connections', 'attendance', '', k, f.attendance[k]]);
  for (const p of f.providers) {
    for (const k of ['sent', 'answered', 'withinDeadline', 'autoDeclined', 'medianResponseDays'] as const) rows.push(['connections', 'providers', p.providerId, k, p[k]]);
  }
  return rows;
}
