// The job `npm start` runs: a small synthetic cohort through the real pathway on the real server,
// driven only through the client SDK, with the scheme's durations scaled (a week passes in two
// seconds) so twelve weeks of support, a review and an extension finish in about half a minute.
// The cohort is chosen to reach every discharge reason and every escalation type; some of them are
// connected to services from the sample directory (scripts/demo-connections.ts). It ends with the
// supervisor's view and the cohort report.
import { randomInt, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { PathwayClient, PersonKey, CommandRefusedError, type CaseView, type CohortReport, type HostReferral } from '../client';
import { caseloadsTable, escalationsTable, table } from '../client/format';
import { nhsCheckDigit } from '../client/referral';
import { DEFAULT_DEV_KEY_DIR, DEV_CODEC_TOKEN_FILE } from '../codec';
import type { SqlDirectory } from '../directory';
import { recordsToCsv, reportToCsv, reportToHtml } from '../evidence';
import { DISCHARGE_REASONS, ESCALATION_TYPES, WEEK, parsePolicy, scalePolicy, type Actor, type EscalationType } from '../machines';
import { digitFree } from '../machines/ids';
import { demoConnections, importSampleDirectory } from './demo-connections';

export interface DemoOptions {
  client: Client;
  taskQueue: string;
  address: string;
  uiUrl?: string;
  codecUrl?: string;
  /** The directory the worker matches from: the sample is imported into it for the demo's scheme. */
  directory: SqlDirectory;
}

/** One policy week in real milliseconds. */
const WEEK_MS = 2000;
const DAY_MS = WEEK_MS / 7;

const supervisor: Actor = { role: 'supervisor', id: 'sup-carol' };
const duty: Actor = { role: 'linkWorker', id: 'lw-duty' };
const self: Actor = { role: 'person', id: 'self' };
const swemwbs = (answers: number[]) => ({ instrument: 'SWEMWBS' as const, answers });
const ucla3 = (answers: number[]) => ({ instrument: 'UCLA3' as const, answers });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function syntheticNhsNumber(): string {
  // 999 numbers are never issued to patients: synthetic by construction.
  for (;;) {
    const digits = `999${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
    const check = nhsCheckDigit(digits);
    if (check !== undefined) return `${digits}${check}`;
  }
}

async function demoPersonKey(): Promise<{ personKey?: PersonKey; devKeyDir?: string }> {
  if (process.env.PATHWAY_PERSON_KEY) return {};
  // A configured deployment has its own key; without one the demo derives the dev one, or, where
  // dev keys are refused, uses a throwaway key (duplicates are then found within this run only).
  return process.env.NODE_ENV === 'production' ? { personKey: PersonKey.generate() } : { devKeyDir: DEFAULT_DEV_KEY_DIR };
}

/** Runs the demo; returns its scheme, which the console's dev accounts are given. */
export async function runDemo({ client: temporal, taskQueue, address, uiUrl, codecUrl, directory }: DemoOptions): Promise<{ schemeId: string }> {
  const started = Date.now();
  const run = digitFree(randomUUID().slice(0, 6));
  // A scheme per run: its ledger, person index and report hold this run's cohort only.
  const schemeId = `demo-${run}`;
  const policy = scalePolicy(
    parsePolicy({
      schemeId,
      // A scheme's own choices, picked so each deadline the demo means to meet is a second or more
      // away: triage within a week, a first call within five days; three days on the waitlist is
      // too long here; supervisors have eight weeks (16 s) before an escalation goes up a level.
      deadlines: { triage: '1w', firstContact: '1w', waitlistMax: '3d', escalationAck: '8w' },
      contact: { firstAttemptWithin: '5d' },
    }),
    WEEK / WEEK_MS,
  );
  await retireEarlierDemos(temporal);
  const client = await PathwayClient.fromClient(temporal, { taskQueue, policies: { [schemeId]: policy }, ...(await demoPersonKey()) });

  const view = (id: string) => client.getCase(id);
  const until = async (id: string, done: (v: CaseView) => boolean, what: string, every = 100): Promise<CaseView> => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const v = await view(id);
      if (done(v)) return v;
      if (Date.now() > deadline) throw new Error(`${id}: gave up waiting for ${what} (stage ${v.stage})`);
      await sleep(every);
    }
  };
  const raised = (type: EscalationType) => (v: CaseView) => v.escalations.some((e) => e.type === type);
  const worker = (v: Pick<CaseView, 'linkWorkerId'>): Actor => ({ role: 'linkWorker', id: v.linkWorkerId ?? duty.id });

  // ---- Who is referred --------------------------------------------------------------------------
  const person = (givenName: string, familyName: string, dateOfBirth: string) => ({ givenName, familyName, dateOfBirth, nhsNumber: syntheticNhsNumber() });
  const referral = (key: string, extra: Partial<HostReferral> & Pick<HostReferral, 'person'>): HostReferral => ({
    referralId: `demo-${run}-${key}`,
    schemeId,
    route: 'GP',
    area: 'Brandywell',
    needs: ['loneliness', 'isolation'],
    consent: true,
    ...extra,
  });
  const mrP = person('Peter', 'Demo-Parsons', '1946-05-01');
  const cohort = {
    // The seeds' Mr P: widowed, housebound by a transport barrier, intensive support for twelve weeks.
    mrP: referral('mr-p', { person: mrP, area: 'Hillcrest', needs: ['loneliness', 'bereavement', 'transport'] }),
    noContact: referral('no-contact', { route: 'self', person: person('Nora', 'Demo-Quinn', '1958-11-20') }),
    movedAway: referral('moved-away', { route: 'pharmacist', person: person('Mo', 'Demo-Reid', '1951-02-14') }),
    admitted: referral('admitted', { route: 'communityNurse', person: person('Alma', 'Demo-Shaw', '1937-08-09') }),
    withdrew: referral('withdrew', { route: 'vcs', person: person('Will', 'Demo-Tate', '1963-04-30') }),
    died: referral('died', { route: 'hospital', person: person('Dora', 'Demo-Underwood', '1933-12-24') }),
    handedOff: referral('handed-off', { route: 'adultSocialCare', area: 'Eastfield', person: person('Hal', 'Demo-Vance', '1949-07-07') }),
    noService: referral('no-befriending', { route: 'familyOrFriend', person: person('Nell', 'Demo-Webb', '1941-01-17') }),
    extension: referral('extension', { route: 'practiceNurse', area: 'Westbrook', person: person('Ezra', 'Demo-Xu', '1955-09-03') }),
    safeguarding: referral('safeguarding', { route: 'localAuthority', person: person('Sam', 'Demo-Young', '1960-06-06') }),
    waitlisted: referral('waitlisted', { route: 'communityOutreach', person: person('Wyn', 'Demo-Zeller', '1952-03-03') }),
    // Mr P again, from his pharmacist: the same person, a second referral.
    duplicate: referral('mr-p-pharmacy', { route: 'pharmacist', person: { ...mrP, givenName: 'PETER' } }),
    // Severe mental illness: the scheme's rules redirect it at screening, before anyone triages.
    redirected: referral('redirect', { route: 'hospital', flags: ['severeMentalIllness'], person: person('Rae', 'Demo-Adams', '1970-10-10') }),
  };
  type Key = keyof typeof cohort;
  const labels: Record<Key, string> = {
    mrP: 'Mr P: intensive, transport, 12 wk',
    noContact: 'three calls, no answer',
    movedAway: 'reached, moved before a visit',
    admitted: 'no plan agreed, into care',
    withdrew: 'missed sessions, withdrew',
    died: 'no volunteer found; died',
    handedOff: 'handed on to befriending',
    noService: 'no befriending service; on hold',
    extension: 'extension approved, review late',
    safeguarding: 'safeguarding, to statutory',
    waitlisted: 'waited for a place; still open',
    duplicate: 'Mr P referred again',
    redirected: 'inappropriate, redirected',
  };

  console.log(`\nScheme ${schemeId}: one policy week = ${WEEK_MS / 1000} s, so the 12-week review falls due after ${(12 * WEEK_MS) / 1000} s.`);
  // Ten places for eleven people who need one: the eleventh waits.
  await client.setRoster(schemeId, [{ id: 'lw-amina', cap: 5 }, { id: 'lw-ben', cap: 5 }]);

  const ids = Object.fromEntries((Object.keys(cohort) as Key[]).map((k) => [k, PathwayClient.caseIdFor(cohort[k].referralId)])) as Record<Key, string>;

  // A council's directory of community services; here the sample borough's, imported for this scheme.
  const imported = await importSampleDirectory(directory, schemeId);
  console.log(`Service directory: the sample borough's ${imported.read} services imported for ${schemeId} (${imported.added.length} new, ${imported.unchanged} unchanged).`);
  const labelOf = new Map((Object.keys(ids) as Key[]).map((k) => [ids[k], labels[k]]));
  const links = demoConnections({
    client,
    directory,
    schemeId,
    dayMs: DAY_MS,
    linkWorker: async (id) => ({ role: 'linkWorker', id: (await view(id)).linkWorkerId ?? duty.id }),
    label: (id) => labelOf.get(id) ?? id,
  });
  /** Connections run beside the case's own script; one that fails is told, and the case goes on. */
  const connecting = (k: Key, ...scripts: Array<Promise<unknown>>) =>
    Promise.all(scripts.map((p) => p.catch((err: unknown) => console.warn(`  ${k}'s connection: ${(err as Error).message}`))));
  /** Refers and, for everyone but those triage leaves alone, accepts at once: triage has a deadline. */
  const refer = (k: Key) => client.refer(cohort[k]);
  const referAndAccept = async (k: Key) => {
    const r = await refer(k);
    return client.acceptReferral(r.case.caseId, { actor: duty });
  };

  // ---- Scripts, one per person, run side by side --------------------------------------------------
  let caseloadFull = false;
  let releaseGate!: () => void;
  // Places are freed only once the waitlisted case has waited too long (LONG_WAIT), so it is seen.
  const waitlistGate = new Promise<void>((r) => (releaseGate = r));
  let mrPReferred!: () => void;
  const mrPIn = new Promise<void>((r) => (mrPReferred = r));

  const reach = async (id: string) => {
    const v = await until(id, (x) => x.stage === 'firstContact', 'a place');
    return client.recordContactAttempt(id, { outcome: 'reached', channel: 'phone', actor: worker(v) });
  };
  const visit = (id: string, v: Pick<CaseView, 'linkWorkerId'>, barriers: Array<'transport' | 'confidence' | 'mobility' | 'money'> = []) =>
    client.recordFirstVisit(id, {
      location: 'home',
      durationMinutes: 120,
      measures: [swemwbs([2, 2, 2, 3, 2, 2, 2]), ucla3([3, 3, 2])],
      barriers,
      actor: worker(v),
    });
  const toSupport = async (id: string, tier: 'light' | 'standard' | 'intensive', opts: { volunteer?: boolean; barriers?: Array<'transport' | 'confidence'> } = {}) => {
    const reached = await reach(id);
    await visit(id, reached, opts.barriers);
    await client.draftPlan(id, {
      goals: [{ id: 'g1', text: 'Get out of the house twice a week' }],
      activities: [{ id: 'a1', category: 'connecting', name: 'Community lunch club', provider: 'Brandywell Community Centre' }],
      barrierActions: opts.barriers?.includes('transport') ? [{ barrier: 'transport', action: 'transportArranged' }, { barrier: 'confidence', action: 'accompaniedFirstAttendance' }] : [],
      tier,
      volunteer: opts.volunteer ?? false,
      actor: worker(reached),
    });
    await client.agreePlan(id, { party: 'person', actor: self });
    return client.agreePlan(id, { party: 'linkWorker', actor: worker(reached) });
  };
  /**
   * Check-ins and sessions every 1.75 weeks keep support on track (no check-in or disengagement
   * deadline passes); returns as soon as support ends, so the review is recorded on time.
   */
  const keepEngaged = async (id: string, sessions: number) => {
    let next = Date.now() + 1.75 * WEEK_MS;
    for (let i = 0; ; ) {
      await sleep(150);
      const v = await view(id);
      if (v.stage !== 'support' && v.stage !== 'onHold') return;
      if (v.stage === 'onHold' || Date.now() < next) continue;
      next = Date.now() + 1.75 * WEEK_MS;
      try {
        if (i++ % 2 === 1 && sessions-- > 0) {
          await client.logSession(id, { kind: 'accompaniedActivity', attended: true, durationMinutes: 90, withVolunteer: false, actor: worker(v) });
        } else {
          await client.recordCheckIn(id, { measures: [], actor: worker(v) });
        }
      } catch (err) {
        // The review fell due between reading the stage and sending: support is over.
        if (!(err instanceof CommandRefusedError)) throw err;
      }
    }
  };
  const review = (id: string, outcome: 'discharge' | 'extend' | 'befriend', v: Pick<CaseView, 'linkWorkerId'>, extensionWeeks?: number) =>
    client.recordReview(id, {
      measures: [swemwbs([4, 4, 3, 4, 4, 4, 3]), ucla3([2, 1, 2])],
      goalsMet: outcome === 'discharge' ? 'all' : 'some',
      outcome,
      ...(extensionWeeks !== undefined && { extensionWeeks }),
      actor: worker(v),
    });

  const scripts: Record<Key, () => Promise<unknown>> = {
    async mrP() {
      const id = ids.mrP;
      try {
        await referAndAccept('mrP');
      } finally {
        mrPReferred();
      }
      const repeat = await refer('mrP');
      console.log(`  Mr P's referral sent again: ${repeat.created ? 'a second case (wrong!)' : `the existing case ${repeat.case.caseId}`}`);
      await toSupport(id, 'intensive', { barriers: ['transport', 'confidence'] });
      // His transport barrier: services on a bus route or that bring people. The lunch club answers; the choir never does.
      const near = { area: 'Hillcrest', barriers: { needsTransport: true } };
      await Promise.all([
        keepEngaged(id, 8),
        connecting(
          'mrP',
          links.attendsAndCompletes(id, { needs: ['lunch-clubs'], category: 'connecting', ...near }, 5),
          links.neverAnswered(id, { needs: ['music-singing'], category: 'creative', ...near }),
        ),
      ]);
      const v = await until(id, (x) => x.stage === 'review', 'the review', 200);
      return review(id, 'discharge', v);
    },
    async noContact() {
      const id = ids.noContact;
      await referAndAccept('noContact');
      let v: Pick<CaseView, 'linkWorkerId' | 'stage'> = await until(id, raised('FIRST_CONTACT_OVERDUE'), 'the first attempt to be overdue');
      await waitlistGate;
      for (let i = 0; i < policy.contact.maxAttempts && v.stage !== 'discharged'; i++) {
        v = await client.recordContactAttempt(id, { outcome: i === 1 ? 'leftMessage' : 'noAnswer', channel: 'phone', actor: worker(v) });
      }
    },
    async movedAway() {
      const id = ids.movedAway;
      await referAndAccept('movedAway');
      await reach(id);
      const v = await until(id, raised('FIRST_VISIT_OVERDUE'), 'the visit to be overdue');
      await waitlistGate;
      return client.discharge(id, { reason: 'movedAway', actor: worker(v) });
    },
    async admitted() {
      const id = ids.admitted;
      await referAndAccept('admitted');
      const reached = await reach(id);
      await visit(id, reached, ['mobility']);
      await client.draftPlan(id, {
        goals: [{ id: 'g1', text: 'Join the singing group' }],
        activities: [{ id: 'a1', category: 'creative', name: 'Singing for the brain' }],
        barrierActions: [],
        tier: 'standard',
        volunteer: false,
        actor: worker(reached),
      });
      await client.agreePlan(id, { party: 'linkWorker', actor: worker(reached) });
      const v = await until(id, raised('PLAN_OVERDUE'), 'the plan to be overdue');
      await waitlistGate;
      return client.discharge(id, { reason: 'admittedLongTerm', actor: worker(v) });
    },
    async withdrew() {
      const id = ids.withdrew;
      await referAndAccept('withdrew');
      const v = await toSupport(id, 'light');
      for (let i = 0; i < policy.deadlines.missedSessions; i++) {
        await client.logSession(id, { kind: 'groupActivity', attended: false, durationMinutes: 0, withVolunteer: false, actor: worker(v) });
      }
      const checked = await until(id, raised('DISENGAGEMENT'), 'disengagement');
      const esc = checked.openEscalations.find((e) => e.type === 'DISENGAGEMENT');
      if (esc) await client.acknowledgeEscalation(id, { escalationId: esc.id, actor: supervisor });
      await waitlistGate;
      return client.discharge(id, { reason: 'withdrew', actor: worker(v) });
    },
    async died() {
      const id = ids.died;
      await referAndAccept('died');
      const v = await toSupport(id, 'standard', { volunteer: true });
      await sleep(2 * WEEK_MS);
      await client.logSession(id, { kind: 'homeVisit', attended: true, durationMinutes: 60, withVolunteer: false, actor: worker(v) });
      await until(id, (x) => raised('VOLUNTEER_WAIT')(x) && raised('CHECKIN_OVERDUE')(x), 'the volunteer wait and the check-in to be overdue');
      await waitlistGate;
      return client.discharge(id, { reason: 'died', actor: worker(v) });
    },
    async handedOff() {
      const id = ids.handedOff;
      await referAndAccept('handedOff');
      await toSupport(id, 'standard');
      const befriending = { needs: ['befriending'], category: 'connecting' as const, area: 'Eastfield' };
      await Promise.all([keepEngaged(id, 4), connecting('handedOff', links.declined(id, befriending, 'No volunteers free until the spring'))]);
      const v = await until(id, (x) => x.stage === 'review', 'the review', 200);
      await review(id, 'befriend', v);
      await client.recordBefriendingResult(id, { result: 'waiting', service: 'Age UK befriending', actor: worker(v) });
      return client.recordBefriendingResult(id, { result: 'accepted', service: 'Age UK befriending', actor: worker(v) });
    },
    async noService() {
      const id = ids.noService;
      await referAndAccept('noService');
      const v = await toSupport(id, 'standard');
      const engaged = keepEngaged(id, 4);
      await sleep(WEEK_MS);
      await client.raiseSafeguarding(id, { category: 'selfNeglect', actor: worker(v) });
      await sleep(DAY_MS * 3);
      await client.clearSafeguarding(id, { actor: supervisor });
      await engaged;
      const atReview = await until(id, (x) => x.stage === 'review', 'the review', 200);
      await review(id, 'befriend', atReview);
      // No befriending service in the area: a service gap, escalated, and back to review.
      const gap = await client.recordBefriendingResult(id, { result: 'unavailable', actor: worker(v) });
      return review(id, 'discharge', gap);
    },
    async extension() {
      const id = ids.extension;
      await referAndAccept('extension');
      await toSupport(id, 'standard');
      const walking = { needs: ['walking-groups'], category: 'active' as const, area: 'Westbrook' };
      await Promise.all([keepEngaged(id, 4), connecting('extension', links.attendsAndStops(id, walking, 2, 'Knee operation: no walking for a while'))]);
      const v = await until(id, (x) => x.stage === 'review', 'the review', 200);
      await review(id, 'extend', v, 2);
      // What `pathway approve-extension <case>` does.
      await client.approveExtension(id, { actor: supervisor });
      await keepEngaged(id, 1);
      // Nobody records the second review: it goes overdue and a supervisor hears of it.
      const late = await until(id, raised('REVIEW_OVERDUE'), 'the review to be overdue');
      const esc = late.openEscalations.find((e) => e.type === 'REVIEW_OVERDUE');
      if (esc) await client.acknowledgeEscalation(id, { escalationId: esc.id, actor: supervisor });
      return client.discharge(id, { reason: 'goalsMet', actor: worker(late) });
    },
    async safeguarding() {
      const id = ids.safeguarding;
      await referAndAccept('safeguarding');
      const v = await reach(id);
      await client.raiseSafeguarding(id, { category: 'financialAbuse', actor: worker(v) });
      await waitlistGate;
      // Only a supervisor may close a case on hold.
      return client.discharge(id, { reason: 'escalatedToStatutory', actor: supervisor });
    },
    async waitlisted() {
      const id = ids.waitlisted;
      try {
        await refer('waitlisted');
        // Left in triage until it is overdue, then acknowledged and accepted once the ten places are taken.
        const overdue = await until(id, raised('TRIAGE_OVERDUE'), 'triage to be overdue');
        await client.acknowledgeEscalation(id, { escalationId: overdue.openEscalations[0]!.id, actor: supervisor });
        await poll(() => client.caseloads(schemeId), (l) => l.open >= 10, 10_000);
        await client.acceptReferral(id, { actor: duty });
        const placed = await until(id, (x) => x.stage === 'waitlisted' || x.stage === 'firstContact', 'an answer from the ledger');
        caseloadFull = (await client.caseloads(schemeId)).full;
        if (placed.stage === 'waitlisted') await until(id, raised('LONG_WAIT'), 'the wait to be too long');
      } finally {
        // Whatever happened here, the cases waiting on the gate must not wait for ever.
        releaseGate();
      }
      return until(id, (x) => x.stage === 'firstContact', 'a place to free up');
    },
    async duplicate() {
      // After Mr P's own referral, so the index has him.
      await mrPIn;
      const r = await refer('duplicate');
      for (const d of r.possibleDuplicates) console.log(`  ${r.case.caseId} looks like the same person as ${d.caseId} (same ${d.match === 'nhsNumber' ? 'NHS number' : 'name and date of birth'})`);
      return client.declineReferral(ids.duplicate, { reason: 'Already supported under an earlier referral', actor: duty });
    },
    async redirected() {
      return (await refer('redirected')).case;
    },
  };

  console.log(`Referring ${Object.keys(cohort).length} people and following each along the pathway (about 40 s)...`);
  const debug = process.env.PATHWAY_DEMO_DEBUG ? (k: string) => console.log(`  ${k} done at ${((Date.now() - started) / 1000).toFixed(1)} s`) : () => {};
  const outcomes = await Promise.allSettled((Object.keys(scripts) as Key[]).map((k) => scripts[k]().finally(() => debug(k))));
  outcomes.forEach((o, i) => {
    if (o.status === 'rejected') console.warn(`  ${Object.keys(scripts)[i]}: ${(o.reason as Error).message}`);
  });

  // ---- The supervisor's view ----------------------------------------------------------------------
  const views = await Promise.all((Object.keys(ids) as Key[]).map(async (k) => [k, await view(ids[k])] as const));
  const now = Date.now();
  console.log(`\nOutcomes (${((now - started) / 1000).toFixed(0)} s)`);
  console.log(
    table(
      ['case', 'who', 'stage', 'discharge', 'escalations raised', 'connections'],
      views.map(([k, v]) => [
        v.caseId,
        labels[k],
        v.stage,
        v.discharge?.reason ?? '',
        [...new Set(v.escalations.map((e) => e.type))].join(', '),
        (v.connections ?? []).map((c) => (c.autoDeclined ? 'no answer' : c.status)).join(', '),
      ]),
    ),
  );

  console.log('\nCaseloads');
  console.log(caseloadsTable(await client.caseloads(schemeId)));
  console.log('\nOpen escalations, oldest first');
  const open = views.flatMap(([, v]) => v.openEscalations.map((e) => `${v.caseId}/${e.id}`));
  // Visibility trails the cases by a moment; wait until it has caught up with what they say.
  const escalations = await poll(() => client.escalations({ scheme: schemeId }), (e) => e.length >= open.length, 5000);
  console.log(escalations.length ? escalationsTable(escalations, now) : '(none)');

  const reasons = new Set(views.flatMap(([, v]) => (v.discharge ? [v.discharge.reason] : [])));
  const types = new Set<string>(views.flatMap(([, v]) => v.escalations.map((e) => e.type)));
  const missingReasons = DISCHARGE_REASONS.filter((r) => !reasons.has(r));
  const missingTypes = ESCALATION_TYPES.filter((t) => !types.has(t));
  console.log(
    `\nCovered ${DISCHARGE_REASONS.length - missingReasons.length}/${DISCHARGE_REASONS.length} discharge reasons` +
      `${missingReasons.length ? ` (not reached: ${missingReasons.join(', ')})` : ''} and ` +
      `${ESCALATION_TYPES.length - missingTypes.length}/${ESCALATION_TYPES.length} escalation types` +
      `${missingTypes.length ? ` (not reached: ${missingTypes.join(', ')})` : ''}` +
      `${caseloadFull ? ', plus CASELOAD_FULL from the capacity ledger when the scheme filled' : ''}.`,
  );

  // ---- Evidence -----------------------------------------------------------------------------------
  const { report, records, unreadable } = await client.report({ schemeId });
  const dir = resolve(process.env.PATHWAY_REPORT_DIR ?? join('.data', 'reports'));
  await mkdir(dir, { recursive: true });
  const base = join(dir, schemeId);
  await writeFile(`${base}.html`, reportToHtml(report, { title: `Demo cohort ${schemeId}` }));
  await writeFile(`${base}.csv`, reportToCsv(report));
  await writeFile(`${base}-records.csv`, recordsToCsv(records));
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  const funnel = report.person.funnel.map((s) => `${s.step} ${s.count}`).join(' → ');
  console.log(`\nCohort report: ${report.totals.referrals} referrals, ${report.totals.discharged} discharged; ${funnel}`);
  if (unreadable.length) console.log(`  (${unreadable.length} case(s) could not be read and are left out)`);
  console.log(`  HTML report: ${base}.html   (also .csv, -records.csv, .json)`);
  printConnections(report.connections, WEEK / WEEK_MS);

  const namespace = temporal.options.namespace;
  const codec = codecUrl ? ` --codec-endpoint ${codecUrl} --codec-auth "Bearer $(cat ${relative(process.cwd(), DEV_CODEC_TOKEN_FILE)})"` : '';
  console.log('\nWhere to look');
  if (uiUrl) {
    console.log(`  Web UI, this cohort: ${uiUrl}/namespaces/${namespace}/workflows?query=${encodeURIComponent(`PathwayScheme="${schemeId}"`)}`);
    console.log(`  Web UI, one case:    ${uiUrl}/namespaces/${namespace}/workflows/${ids.mrP}`);
  }
  if (codecUrl) console.log(`  codec server:        ${codecUrl} (the CLI lines below pass its token; the dev UI has no sign-in to pass it, so shows ciphertext)`);
  console.log(`  cases by stage:      temporal workflow list --address ${address} --query "PathwayScheme = '${schemeId}' AND PathwayStage = 'discharged'"`);
  console.log(`  a case's history:    temporal workflow show --address ${address} -w ${ids.mrP}${codec}`);
  console.log(`  a case's view:       temporal workflow query --address ${address} -w ${ids.mrP} --type view${codec}`);
  console.log(`  supervisor CLI:      npx pathway cases --scheme ${schemeId}   |   npx pathway case ${ids.extension}`);
  console.log(`                       npx pathway escalations --scheme ${schemeId}   |   npx pathway caseloads --scheme ${schemeId}`);
  return { schemeId };
}

/**
 * The dev server keeps its state between runs, so earlier demos' open cases would keep waking up
 * (and replaying under whatever the code has become since). Only the demo's own `demo-` workflows.
 */
async function retireEarlierDemos(temporal: Client): Promise<void> {
  const prefixes = ['case-demo-', 'ledger-demo-', 'person-index-demo-'];
  const query = `ExecutionStatus = 'Running' AND (${prefixes.map((p) => `WorkflowId STARTS_WITH '${p}'`).join(' OR ')})`;
  let retired = 0;
  try {
    for await (const wf of temporal.workflow.list({ query })) {
      await temporal.workflow.getHandle(wf.workflowId).terminate('left running by an earlier npm start demo');
      retired++;
    }
  } catch (err) {
    console.warn(`(could not retire earlier demos' workflows: ${(err as Error).message})`);
  }
  if (retired) console.log(`Retired ${retired} workflow(s) left running by earlier demos.`);
}

/** The report's connection figures; times in the policy's days (the report's own are real days, here seconds). */
function printConnections(c: CohortReport['connections'], policyPerReal: number): void {
  const days = (realDays: number | null) => (realDays === null ? '–' : (realDays * policyPerReal).toFixed(1));
  const pct = (share: number | null) => (share === null ? '–' : `${Math.round(share * 100)}%`);
  console.log(`\nConnections to community services: ${c.total} proposed`);
  console.log(table(['category', 'proposed', 'accepted', 'attended'], c.byCategory.filter((x) => x.proposed > 0).map((x) => [x.category, x.proposed, x.accepted, x.attended])));
  console.log(
    `  providers answered ${c.answered} (median ${days(c.responseDays.median)} policy days, ${c.withinDeadline} within the deadline, ${pct(c.withinDeadlineShare)} of settled answers); ` +
      `${c.autoDeclined} auto-declined for no answer`,
  );
  console.log(`  attendance: ${c.attendance.attended} of ${c.attendance.accepted} accepted attended (${pct(c.attendance.rate)}), ${c.attendance.attendances} attendances in all`);
  console.log(
    table(
      ['provider', 'sent', 'answered', 'within deadline', 'auto-declined', 'median policy days'],
      c.providers.map((p) => [p.providerId, p.sent, p.answered, p.withinDeadline, p.autoDeclined, days(p.medianResponseDays)]),
    ),
  );
}

async function poll<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v) || Date.now() > until) return v;
    await sleep(250);
  }
}
