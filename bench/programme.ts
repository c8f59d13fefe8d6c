// Programme scale: a cohort the size of the seeds' Bogside & Brandywell plan (16,000 prescriptions,
// 192,000 contacts) run end to end through the client SDK, with the scheme's durations scaled so
// twelve weeks pass in seconds. Cases run side by side up to --concurrency; each follows a script
// chosen by its number (most connect at review; some are declined, unreachable or withdraw), and
// at the end every case is checked against the final state its script should have led to.
import { randomUUID } from 'node:crypto';
import { CommandRefusedError, PathwayError, type CaseView, type PathwayClient } from '../client';
import { parsePolicy, scalePolicy, WEEK, type DischargeReason } from '../machines';
import { serverFlags, startStack } from './harness';
import { commands, linkWorkerOf, rosterFor, self, syntheticReferral } from './cohort';
import { bool, cpuLine, cpuMonitor, flags, fmt, goal, main, num, pool, printGoals, progress, sleep, summarize, writeResults } from './support';
import { digitFree } from '../machines/ids';

const GOAL_MINUTES = 30;
const SEED_CASES = 16_000;
const SEED_CONTACTS = 192_000;

type Script = 'connected' | 'declined' | 'unableToContact' | 'withdrew';
/** One case in twenty of each other script: the pathway's other ways out, exercised at scale. */
function scriptOf(i: number): Script {
  const k = i % 20;
  return k === 1 ? 'declined' : k === 2 ? 'unableToContact' : k === 3 ? 'withdrew' : 'connected';
}
const EXPECTED: Record<Script, DischargeReason> = { connected: 'connected', declined: 'declined', unableToContact: 'unableToContact', withdrew: 'withdrew' };

main(async () => {
  const opts = flags('npm run bench:programme -- [flags]', {
    cases: num(SEED_CASES, 'referrals in the cohort'),
    concurrency: num(400, 'cases under way at once'),
    'referral-rate': num(12, 'referrals per second at most: a programme receives them over time, not in one burst'),
    'week-ms': num(2000, 'one policy week in real milliseconds'),
    contacts: num(6, 'contacts (sessions and check-ins) during support, spread over the twelve weeks'),
    schemes: num(2, "schemes the cohort is split over (one scheme's person index holds about 9,800 people: see the README)"),
    verify: bool(true, "read every case's result at the end and check its final state"),
    'stop-referring-after-min': num(0, 'take no new referrals after this many minutes (0: never); those under way finish, and the run reports what it measured on them'),
    ...serverFlags,
  });
  const run = digitFree(randomUUID().slice(0, 6));
  const schemes = Array.from({ length: opts.schemes }, (_, k) => `bb-${run}-${k}`);
  const W = opts['week-ms'];
  // The scheme's own deadlines for the stages before support, chosen so that a case the engine
  // moves promptly never sees one fall due; support runs on the default 12-week rhythm.
  const policies = Object.fromEntries(
    schemes.map((schemeId) => [
      schemeId,
      scalePolicy(
        parsePolicy({
          schemeId,
          deadlines: { triage: '2w', firstContact: '2w', firstVisit: '2w', planAgreement: '2w', escalationAck: '8w' },
          contact: { firstAttemptWithin: '1w', window: '2w' },
        }),
        WEEK / W,
      ),
    ]),
  );
  const stack = await startStack('programme', opts, {
    policies,
    notes: [`cohort: ${opts.cases} referrals over ${opts.schemes} scheme(s), ${opts.concurrency} under way at once, one policy week = ${W} ms (12 weeks = ${fmt((12 * W) / 1000, 0)} s)`],
  });
  const { server, worker, clients } = stack;
  const c: PathwayClient = clients.pathway;
  for (const schemeId of schemes) await c.setRoster(schemeId, rosterFor(Math.ceil((opts.concurrency * 1.2) / opts.schemes)));

  let referred = 0;
  /** Referred and neither discharged nor failed yet: counted, not derived, as a referral may fail before it counts. */
  let underWay = 0;
  let done = 0;
  let commandsSent = 0;
  let commandsWindow = 0;
  const failures: Array<{ i: number; error: string }> = [];
  /** Failures counted by what failed: the error's name, and for a refusal the command and the stage it met. */
  const failureKinds: Record<string, number> = {};
  let notReferred = 0;
  const finals = new Map<string, { script: Script; view?: Pick<CaseView, 'stage' | 'linkWorkerId' | 'discharge'> }>();
  const caseMs: number[] = [];

  const send = async <T>(f: () => Promise<T>): Promise<T> => {
    const r = await f();
    commandsSent++;
    commandsWindow++;
    return r;
  };
  /**
   * What a host does when a read times out under load: tries again. Only reads and `refer` (which
   * is idempotent on the referral id) are retried, never a command, which could apply twice.
   */
  let retries = 0;
  const retried = async <T>(f: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await f();
      } catch (err) {
        if (err instanceof PathwayError || attempt >= 5) throw err;
        retries++;
        await sleep(1000 * attempt);
      }
    }
  };
  /** Polls sparingly: thousands of cases wait at once, and every poll is a query a worker answers. */
  const waitFor = (id: string, stage: 'firstContact' | 'review', dueAt?: number) =>
    (async () => {
      if (dueAt) await sleep(Math.max(0, dueAt - Date.now()));
      return retried(() => c.waitFor(id, stage, { timeoutMs: 60 * W + 120_000, intervalMs: Math.max(100, W / 4) }));
    })();

  /** One person's script from the referral on: the commands a host sends, at the pace of the scheme's weeks. */
  const follow = async (kind: Script, id: string, started: number) => {
    finals.set(id, { script: kind });
    let v: Pick<CaseView, 'stage' | 'linkWorkerId' | 'discharge'>;
    if (kind === 'declined') {
      v = await send(() => c.declineReferral(id, { reason: 'Needs are outside the scheme', actor: { role: 'linkWorker', id: 'lw-duty' } }));
    } else {
      await send(() => commands.accept(c, id));
      v = await waitFor(id, 'firstContact');
      if (kind === 'unableToContact') {
        for (let k = 0; k < 3 && v.stage !== 'discharged'; k++) v = await send(() => commands.noAnswer(c, id, v));
      } else {
        v = await send(() => commands.reach(c, id, v));
        v = await send(() => commands.visit(c, id, v));
        v = await send(() => commands.draft(c, id, v));
        await send(() => c.agreePlan(id, { party: 'person', actor: self }));
        v = await send(() => c.agreePlan(id, { party: 'linkWorker', actor: linkWorkerOf(v) }));
        const agreedAt = Date.now();
        const contacts = kind === 'withdrew' ? Math.ceil(opts.contacts / 2) : opts.contacts;
        for (let k = 1; k <= contacts; k++) {
          // Evenly over the twelve weeks, alternating sessions and check-ins: never three weeks
          // without contact, never four without a check-in.
          await sleep(Math.max(0, agreedAt + ((12 * W) / (opts.contacts + 1)) * k - Date.now()));
          v = await send(() => (k % 2 ? commands.session : commands.checkIn)(c, id, v));
        }
        if (kind === 'withdrew') v = await send(() => c.discharge(id, { reason: 'withdrew', actor: linkWorkerOf(v) }));
        else {
          const review = (await c.getCase(id)).deadlines.find((t) => t.key === 'review');
          v = await waitFor(id, 'review', review?.dueAt);
          v = await send(() => commands.review(c, id, v));
        }
      }
    }
    finals.set(id, { script: kind, view: v });
    caseMs.push(Date.now() - started);
    done++;
  };

  const referralGap = 1000 / opts['referral-rate'];
  let nextReferralAt = Date.now();
  let referralsCloseAt = Infinity;
  const script = async (i: number) => {
    if (Date.now() >= referralsCloseAt) {
      notReferred++;
      return;
    }
    const slot = nextReferralAt;
    nextReferralAt = Math.max(Date.now(), nextReferralAt) + referralGap;
    await sleep(slot - Date.now());
    const started = Date.now();
    const kind = scriptOf(i);
    const schemeId = schemes[i % schemes.length]!;
    const { case: opened } = await retried(() => c.refer(syntheticReferral(schemeId, run, i)));
    referred++;
    underWay++;
    try {
      await follow(kind, opened.caseId, started);
    } finally {
      underWay--;
    }
  };

  const t0 = Date.now();
  if (opts['stop-referring-after-min'] > 0) referralsCloseAt = t0 + opts['stop-referring-after-min'] * 60_000;
  let lastAt = t0;
  let doneAtLast = 0;
  const ticker = progress('programme', () => {
    const now = Date.now();
    const rate = commandsWindow / ((now - lastAt) / 1000);
    const people = (done - doneAtLast) / ((now - lastAt) / 1000);
    commandsWindow = 0;
    doneAtLast = done;
    lastAt = now;
    const perSecond = done / ((now - t0) / 1000);
    const eta = perSecond > 0 ? (opts.cases - done) / perSecond : Infinity;
    return `${done}/${opts.cases} discharged (${fmt(people, 1)}/s now), ${underWay} under way, ${commandsSent} commands (${fmt(rate, 0)}/s now), ${failures.length} failed, ${retries} reads retried; ETA ${Number.isFinite(eta) ? `${fmt(eta / 60, 1)} min` : '?'}`;
  }, 10_000);
  const cpu = cpuMonitor({ ...(server.processes ?? { server: server.pid }), worker: worker.pid, client: process.pid });
  await pool(
    Array.from({ length: opts.cases }, (_, i) => i),
    opts.concurrency,
    async (i) => {
      try {
        await script(i);
      } catch (err) {
        const e = err as Error;
        failures.push({ i, error: `${e.name}: ${e.message}${err instanceof CommandRefusedError ? ` (stage ${err.stage})` : ''}`.slice(0, 300) });
        const kind = err instanceof CommandRefusedError ? `${e.name} ${err.command} at ${err.stage}` : e.name;
        failureKinds[kind] = (failureKinds[kind] ?? 0) + 1;
        if (failures.length <= 5) console.log(`  case ${i} failed: ${failures.at(-1)!.error}`);
      }
    },
  );
  const wallMs = Date.now() - t0;
  const cpuShares = cpu.stop();
  ticker.stop();
  console.log(`  cohort done in ${fmt(wallMs / 60_000, 1)} min: ${done} cases, ${commandsSent} commands (${fmt(commandsSent / (wallMs / 1000), 0)}/s), ${failures.length} failed`);
  if (notReferred) console.log(`    referrals closed after ${opts['stop-referring-after-min']} min: ${notReferred} of ${opts.cases} never referred; the figures are those of the ${referred} who were`);
  if (failures.length) console.log(`    failures by kind: ${JSON.stringify(failureKinds)}`);
  console.log(`    ${cpuLine(cpuShares)}`);
  // What the engine and its server cost, whatever else ran on the machine: every process of the run's own.
  const cpuSeconds = Object.values(cpuShares.processes).reduce((s, share) => s + (share / 100) * cpuShares.seconds, 0);
  console.log(`    ${fmt(cpuSeconds, 0)} CPU-seconds in all, ${fmt((cpuSeconds / Math.max(1, done)) * 1000, 0)} ms a person, ${fmt((cpuSeconds / Math.max(1, commandsSent)) * 1000, 1)} ms a command`);

  // ---- Every case in its expected final state ------------------------------------------------------
  const wrong: Array<{ caseId: string; expected: string; got: string }> = [];
  let verified = 0;
  let verifyMs = 0;
  let escalated = 0;
  const escalationTypes: Record<string, number> = {};
  if (opts.verify) {
    const t = Date.now();
    const check = progress('verify', () => `${verified}/${finals.size} results read`, 10_000);
    await pool(finals.entries(), 16, async ([caseId, { script: kind }]) => {
      let got = 'no result';
      try {
        const handle = clients.temporal.workflow.getHandle(caseId);
        // A discharged case closes once its last side effects are delivered, moments after the
        // command; one whose script failed may never close, so the wait is bounded.
        const result = (await clients.temporal.withDeadline(Date.now() + 120_000, () => handle.result())) as CaseView;
        got = `${result.stage}/${result.discharge?.reason}`;
        if (result.escalations.length > 0) escalated++;
        for (const e of result.escalations) escalationTypes[e.type] = (escalationTypes[e.type] ?? 0) + 1;
      } catch (err) {
        got = `error: ${(err as Error).message.slice(0, 100)}`;
      }
      verified++;
      const expected = `discharged/${EXPECTED[kind]}`;
      if (got !== expected) wrong.push({ caseId, expected, got });
    });
    check.stop();
    verifyMs = Date.now() - t;
    const open = await Promise.all(schemes.map((s) => c.caseloads(s).then((l) => l.open)));
    console.log(`  verified ${verified} cases in ${fmt(verifyMs / 1000, 0)} s: ${verified - wrong.length} in their expected final state, ${wrong.length} not; ${escalated} saw an escalation; places still held: ${open.reduce((a, b) => a + b, 0)}`);
    for (const w of wrong.slice(0, 5)) console.log(`    ${w.caseId}: expected ${w.expected}, got ${w.got}`);
    if (escalated) console.log(`    escalations (a deadline passed before the engine or the script acted): ${JSON.stringify(escalationTypes)}`);
  }

  const perCase = summarize(caseMs);
  const scaledTo = (opts.cases / SEED_CASES) * SEED_CONTACTS;
  const goals = [
    goal(`programme of ${opts.cases} cases end to end`, failures.length === 0 && wrong.length === 0 && done === opts.cases ? wallMs / 60_000 : Infinity, '<=', GOAL_MINUTES, 'min'),
  ];
  // The goal is for the whole plan; a smaller run says what the whole would take at the same pace.
  if (opts.cases < SEED_CASES && done === opts.cases && failures.length === 0 && wrong.length === 0) {
    goals.push(goal(`programme of ${SEED_CASES} cases, projected linearly from this run`, ((wallMs / 60_000) * SEED_CASES) / opts.cases, '<=', GOAL_MINUTES, 'min'));
  }
  printGoals(goals);
  writeResults('programme', {
    environment: stack.env,
    params: { ...opts, ...stack.describe },
    figures: {
      wallMs,
      casesDone: done,
      commandsSent,
      seedContactsAtThisScale: scaledTo,
      commandsPerSecond: commandsSent / (wallMs / 1000),
      caseSeconds: { p50: perCase.p50 / 1000, p99: perCase.p99 / 1000, max: perCase.max / 1000 },
      failures: failures.length,
      failureKinds,
      notReferred,
      readsRetried: retries,
      failureSamples: failures.slice(0, 20),
      verified,
      wrong: wrong.length,
      wrongSamples: wrong.slice(0, 20),
      escalated,
      escalationTypes,
      verifyMs,
      cpu: cpuShares,
      cpuSecondsPerPerson: cpuSeconds / Math.max(1, done),
    },
    goals,
  });
  await stack.stop();
});
