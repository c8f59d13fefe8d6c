// No patient data anywhere Temporal or the engine keeps it in the clear. A cohort of synthetic
// people (names, dates of birth, NHS numbers, addresses, phone numbers) goes through every
// scenario on a dev server of this test's own; some link workers also write a person's name into
// a plan goal, and some hosts try to push identifiers through fields that must refuse them. Then
// the server is stopped and its SQLite files, its log, the worker's log, the outbox and every error
// message the host saw are scanned for every identifier in every usual spelling: none may appear.
// A canary case started by a client without the codec proves the scan finds plaintext when it is there.
import { randomBytes } from 'node:crypto';
import { readFile, readdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { OUTBOX_FILE } from '../../activities/outbox';
import type { HostReferral } from '../../client';
import { caseWorkflowId, commandUpdates, type CaseInput } from '../../workflows/definitions';
import { quietRuntime } from '../support/temporal';
import {
  auditRun,
  cohortPolicy,
  cohortRig,
  identifierForms,
  newStats,
  planCohort,
  runCohort,
  seededRng,
  startOwnDevServer,
  type CohortRig,
  type OwnDevServer,
} from '../support/faults';
import type { pathwayCase } from '../../workflows/case';

const CASES = Number(process.env.PRIVACY_CASES ?? 40);
const schemeId = 'privacy';
const taskQueue = 'privacy';

let dir: string;
let server: OwnDevServer;
let rig: CohortRig;
let passed = false;

beforeAll(async () => {
  quietRuntime();
  dir = await mkdtemp(join(tmpdir(), 'pathway-privacy-'));
  server = await startOwnDevServer(join(dir, 'server'));
  rig = await cohortRig(dir, server.address, 'default', taskQueue, schemeId);
});
afterAll(async () => {
  await rig?.close();
  await server?.stop();
  if (dir && passed) await rm(dir, { recursive: true, force: true });
  else if (dir) console.log(`files kept for inspection in ${dir}`);
});

/** Every place a needle might hide in a file: as text (any case), and base64 at each of the three alignments. */
function spellings(needle: string): string[] {
  const forms = [needle.toLowerCase()];
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.from(`${'\0'.repeat(shift)}${needle}`).toString('base64');
    // Drop the characters that also depend on the bytes around the needle.
    const start = Math.ceil((shift * 4) / 3);
    const end = Math.floor(((shift + needle.length) * 4) / 3);
    if (end - start >= 8) forms.push(b64.slice(start, end));
  }
  return forms;
}

interface Hit {
  file: string;
  needle: string;
  context: string;
}

function scan(name: string, content: Buffer, needles: string[]): Hit[] {
  const text = content.toString('latin1');
  const lower = text.toLowerCase();
  const hits: Hit[] = [];
  for (const needle of needles) {
    for (const form of spellings(needle)) {
      // base64 is case-sensitive; the plain spelling is matched in any case.
      const at = form === needle.toLowerCase() ? lower.indexOf(form) : text.indexOf(form);
      if (at >= 0) hits.push({ file: name, needle, context: JSON.stringify(text.slice(Math.max(0, at - 40), at + form.length + 40)) });
    }
  }
  return hits;
}

it(`${CASES} people through every scenario: none of their identifiers in the database, logs, outbox or errors`, { timeout: 240_000 }, async () => {
  const r = seededRng('privacy');
  const cases = planCohort(r, CASES, schemeId, `p${r.seed.toString(36)}`);
  const policy = cohortPolicy(schemeId, 4000);
  const lateTriage = cohortPolicy(schemeId, 4000, '2w');
  const stats = newStats();
  const hostErrors: string[] = [];
  const expectRefusal = async (what: string, attempt: () => Promise<unknown>) => {
    try {
      await attempt();
    } catch (err) {
      hostErrors.push(`${what}: ${(err as Error).message} ${JSON.stringify((err as { issues?: unknown }).issues ?? '')}`);
      return;
    }
    throw new Error(`${what} was accepted`);
  };

  const audits = await runCohort(rig.client, cases, (c) => (c.scenario === 'overdueTriage' ? lateTriage : policy), stats, 20);
  const audit = await auditRun('privacy', rig, audits, stats, 'no faults');
  expect(audit.mismatches).toEqual([]);

  // Free text about a person is legitimate in a plan; it must be as encrypted as everything else.
  const named = cases.slice(0, 4);
  for (const c of named) {
    const facts: HostReferral = { ...c.referral, referralId: `${c.referral.referralId}-goal` };
    const { case: opened } = await rig.client.refer(facts, { policy });
    await rig.client.acceptReferral(opened.caseId, { actor: { role: 'linkWorker', id: 'lw-1' } });
    const v = await rig.client.waitFor(opened.caseId, 'firstContact');
    // Only the link worker the case is allocated to may act on it.
    const lw = { role: 'linkWorker', id: v.linkWorkerId! } as const;
    await rig.client.recordContactAttempt(v.caseId, { outcome: 'reached', channel: 'phone', actor: lw });
    await rig.client.recordFirstVisit(v.caseId, { location: 'home', durationMinutes: 90, measures: [], barriers: [], actor: lw });
    const p = c.person;
    await rig.client.draftPlan(v.caseId, {
      goals: [{ id: 'g1', text: `${p.givenName} ${p.familyName} (born ${p.dateOfBirth}, ${p.address}, ${p.phone}, NHS ${p.nhsNumber}) wants to join the choir` }],
      activities: [{ id: 'a1', category: 'creative', name: 'Community choir' }],
      barrierActions: [],
      tier: 'light',
      volunteer: false,
      actor: lw,
    });
    await rig.client.discharge(v.caseId, { reason: 'withdrew', actor: lw });
  }

  // Identifiers pushed where they do not belong: each is refused, and the refusal must not repeat them.
  const victim = cases[1]!;
  const p = victim.person;
  // Left open at triage, so commands sent to it meet the workflow's own validators.
  const { case: open } = await rig.client.refer({ ...cases[2]!.referral, referralId: `${cases[2]!.referral.referralId}-open` }, { policy });
  await expectRefusal('an NHS number with a bad check digit', () =>
    rig.client.refer({ ...victim.referral, referralId: `${victim.referral.referralId}-bad`, person: { ...victim.referral.person, nhsNumber: `${p.nhsNumber.slice(0, 9)}${(Number(p.nhsNumber[9]) + 1) % 10}` } }),
  );
  await expectRefusal('a name in the referral id', () => rig.client.refer({ ...victim.referral, referralId: `${p.givenName} ${p.familyName}` }));
  await expectRefusal('a phone number as the area', () => rig.client.refer({ ...victim.referral, referralId: `${victim.referral.referralId}-area`, area: `${p.address} ${p.phone} ${'x'.repeat(64)}` }));
  await expectRefusal('the same referral id for somebody else', () =>
    rig.client.refer({ ...victim.referral, person: { ...victim.referral.person, familyName: `${p.familyName}-other`, dateOfBirth: '1944-01-01' } }),
  );
  await expectRefusal('a name as the actor id', () => rig.client.discharge(open.caseId, { reason: 'withdrew', actor: { role: 'linkWorker', id: `${p.givenName} ${p.familyName}` } }));
  await expectRefusal('a date of birth as the staff id, past the client', () =>
    rig.client.temporal.workflow.getHandle(open.caseId).executeUpdate(commandUpdates['TRIAGE.ACCEPT'] as never, { args: [{ actor: { role: 'linkWorker', id: `dob ${p.dateOfBirth}` } }] }),
  );
  await expectRefusal('an NHS number as a volunteer id, past the client', () =>
    rig.client.temporal.workflow.getHandle(open.caseId).executeUpdate(commandUpdates['VOLUNTEER.MATCHED'] as never, { args: [{ volunteerId: `NHS ${p.nhsNumber}`, actor: { role: 'linkWorker', id: 'lw-1' } }] }),
  );
  expect(hostErrors).toHaveLength(7);

  // The canary: a case started by a client that skips the codec. Its input is plaintext in history, so the scan must find it.
  const canary = `Canary${randomBytes(6).toString('hex')}`;
  const connection = await Connection.connect({ address: server.address });
  try {
    const plain = new Client({ connection });
    const referral = {
      referralId: `canary-${canary}`,
      schemeId,
      route: 'GP' as const,
      age: 70,
      area: canary,
      targetGroups: [],
      needs: [],
      flags: [],
      consent: true,
      riskFlags: [],
      referredAt: Date.now(),
    };
    const input: CaseInput = { referral, policy };
    await plain.workflow.start<typeof pathwayCase>('pathwayCase', { taskQueue, workflowId: caseWorkflowId(referral.referralId), args: [input] });
  } finally {
    await connection.close();
  }

  // Stopped, so every write is in the files (the WAL checkpointed, the logs flushed).
  await rig.close();
  await server.stop('SIGTERM');

  const people = [...cases.map((c) => c.person)];
  const needles = [...new Set(people.flatMap(identifierForms))];
  const files: Array<[string, Buffer]> = [];
  for (const name of await readdir(join(dir, 'server'))) files.push([`server/${name}`, await readFile(join(dir, 'server', name))]);
  files.push(['worker.log', await readFile(join(dir, 'worker.log'))]);
  files.push([`outbox/${OUTBOX_FILE}`, await readFile(join(dir, 'outbox', OUTBOX_FILE))]);
  files.push(['host errors', Buffer.from(hostErrors.join('\n'))]);
  expect(files.map(([name]) => name)).toEqual(expect.arrayContaining(['server/temporal.sqlite', 'server/server.log', 'worker.log']));

  const hits = files.flatMap(([name, content]) => scan(name, content, needles));
  const db = Buffer.concat(files.filter(([name]) => name.startsWith('server/temporal.sqlite')).map(([, c]) => c));
  // Controls: the scan reads the database for what is meant to be plaintext (ids), and finds a plaintext payload.
  expect(db.includes(Buffer.from(cases[0]!.caseId))).toBe(true);
  expect(scan('database', db, [canary]).length).toBeGreaterThan(0);

  const bytes = files.reduce((n, [, c]) => n + c.length, 0);
  console.log(
    `[privacy] ${CASES + named.length} cases, ${people.length} people, ${needles.length} identifier spellings x ${files.length} files ` +
      `(${(bytes / 1e6).toFixed(1)} MB): ${hits.length} plaintext hits; ${hostErrors.length} refusals checked`,
  );
  expect(hits).toEqual([]);
  passed = true;
});
