// Synthetic people and the ordinary moves of a case, as a host would send them through the client
// SDK. Nothing here is real: names are numbered, NHS numbers are from the never-issued 999 range.
import { CommandRefusedError, nhsCheckDigit, type CaseView, type HostReferral, type PathwayClient } from '../client';
import type { Actor } from '../machines';
import { pool, progress } from './support';

export const supervisor: Actor = { role: 'supervisor', id: 'sup-bench' };
export const self: Actor = { role: 'person', id: 'self' };
export const linkWorkerOf = (v: Pick<CaseView, 'linkWorkerId'>): Actor => ({ role: 'linkWorker', id: v.linkWorkerId ?? 'lw-duty' });
const duty: Actor = { role: 'linkWorker', id: 'lw-duty' };

/** Ten digits in the 999 range with a valid check digit: synthetic by construction, unique per i. */
export function syntheticNhsNumber(i: number): string {
  for (let k = i * 3; ; k++) {
    const digits = `999${String(k % 1_000_000).padStart(6, '0')}`;
    const check = nhsCheckDigit(digits);
    if (check !== undefined) return `${digits}${check}`;
  }
}

export const AREAS = ['Bogside', 'Brandywell', 'Creggan', 'Shantallow', 'Galliagh', 'Carnhill', 'Ballymagroarty', 'Culmore', 'Pennyburn', 'Rosemount', 'Waterside', 'Gobnascale', 'Caw', 'Kilfennan', 'Lisnagelvin'];
const ROUTES = ['GP', 'GP', 'GP', 'practiceNurse', 'pharmacist', 'self', 'vcs', 'adultSocialCare'] as const;

export function syntheticReferral(schemeId: string, run: string, i: number): HostReferral {
  return {
    referralId: `${run}-${i}`,
    schemeId,
    route: ROUTES[i % ROUTES.length]!,
    area: AREAS[i % AREAS.length]!,
    needs: ['loneliness', 'isolation'],
    consent: true,
    person: {
      nhsNumber: syntheticNhsNumber(i),
      givenName: `Bench${i}`,
      familyName: `Person${Math.floor(i / 7)}`,
      dateOfBirth: `19${40 + (i % 30)}-0${1 + (i % 9)}-1${i % 10}`,
    },
  };
}

/** How many link workers a scheme needs for `openCases` at the default cap of 25. */
export function rosterFor(openCases: number, cap = 25): Array<{ id: string; cap: number }> {
  return Array.from({ length: Math.max(1, Math.ceil(openCases / cap)) }, (_, i) => ({ id: `lw-${i + 1}`, cap }));
}

const swemwbs = (answers: number[]) => ({ instrument: 'SWEMWBS' as const, answers });
export const baseline = [swemwbs([2, 2, 2, 3, 2, 2, 2])];
export const later = [swemwbs([4, 4, 3, 4, 4, 4, 3])];

/** The commands of a case's support phase, in a host's words. */
export const commands = {
  accept: (c: PathwayClient, id: string) => c.acceptReferral(id, { actor: duty }),
  reach: (c: PathwayClient, id: string, v: Pick<CaseView, 'linkWorkerId'>) => c.recordContactAttempt(id, { outcome: 'reached', channel: 'phone', actor: linkWorkerOf(v) }),
  noAnswer: (c: PathwayClient, id: string, v: Pick<CaseView, 'linkWorkerId'>) => c.recordContactAttempt(id, { outcome: 'noAnswer', channel: 'phone', actor: linkWorkerOf(v) }),
  visit: (c: PathwayClient, id: string, v: Pick<CaseView, 'linkWorkerId'>) =>
    c.recordFirstVisit(id, { location: 'home', durationMinutes: 120, measures: baseline, barriers: ['transport'], actor: linkWorkerOf(v) }),
  draft: (c: PathwayClient, id: string, v: Pick<CaseView, 'linkWorkerId'>) =>
    c.draftPlan(id, {
      goals: [{ id: 'g1', text: 'Get out of the house twice a week' }],
      activities: [{ id: 'a1', category: 'connecting', name: 'Community lunch club', provider: 'Community centre' }],
      barrierActions: [{ barrier: 'transport', action: 'transportArranged' }],
      tier: 'intensive',
      volunteer: false,
      actor: linkWorkerOf(v),
    }),
  session: (c: PathwayClient, id: string, v: Pick<CaseView, 'linkWorkerId'>) =>
    c.logSession(id, { kind: 'accompaniedActivity', attended: true, durationMinutes: 90, withVolunteer: false, actor: linkWorkerOf(v) }),
  checkIn: (c: PathwayClient, id: string, v: Pick<CaseView, 'linkWorkerId'>) => c.recordCheckIn(id, { measures: later, actor: linkWorkerOf(v) }),
  review: (c: PathwayClient, id: string, v: Pick<CaseView, 'linkWorkerId'>) =>
    c.recordReview(id, { measures: later, goalsMet: 'all', outcome: 'discharge', actor: linkWorkerOf(v) }),
};

/** Sessions the intensive tier allows before a session is refused. */
export const INTENSIVE_SESSIONS = 16;

/**
 * From a fresh referral to support: accept, wait for the ledger's place, reach, visit, plan, both
 * agreements. Seven commands; returns the case in support.
 */
export async function toSupport(c: PathwayClient, id: string, waitMs = 60_000): Promise<CaseView> {
  await commands.accept(c, id);
  const placed = await c.waitFor(id, 'firstContact', { timeoutMs: waitMs, intervalMs: 100 });
  let v = await commands.reach(c, id, placed);
  v = await commands.visit(c, id, v);
  v = await commands.draft(c, id, v);
  await c.agreePlan(id, { party: 'person', actor: self });
  await c.agreePlan(id, { party: 'linkWorker', actor: linkWorkerOf(v) });
  // A command answers what changed; the whole case is a read.
  return c.getCase(id);
}

/** Opens `count` cases and brings each to support; returns their ids and views. */
export async function openCasesInSupport(client: PathwayClient, schemeId: string, run: string, count: number, concurrency: number): Promise<Map<string, CaseView>> {
  await client.setRoster(schemeId, rosterFor(count));
  const cases = new Map<string, CaseView>();
  const ticker = progress('setup', () => `${cases.size}/${count} cases in support`);
  try {
    await pool(
      Array.from({ length: count }, (_, i) => i),
      concurrency,
      async (i) => {
        const { case: c } = await client.refer(syntheticReferral(schemeId, run, i));
        cases.set(c.caseId, await toSupport(client, c.caseId));
      },
    );
  } finally {
    ticker.stop();
  }
  return cases;
}

/** A session while the tier allows one, else a check-in: the commonest commands of support. */
export function supportCommand(client: PathwayClient, cases: Map<string, CaseView>) {
  const ids = [...cases.keys()];
  const sessions = new Map<string, number>();
  return async (i: number) => {
    const id = ids[i % ids.length]!;
    const v = cases.get(id)!;
    const done = sessions.get(id) ?? 0;
    try {
      if (i % 2 === 0 && done < INTENSIVE_SESSIONS) {
        sessions.set(id, done + 1);
        await commands.session(client, id, v);
      } else await commands.checkIn(client, id, v);
    } catch (err) {
      if (err instanceof CommandRefusedError) err.message = `${err.message} (stage ${err.stage})`;
      throw err;
    }
  };
}
