// The supervisor CLI against the same dev server: each command, its output, and its exit codes.
// Commands run in-process through runCli with a real environment (address, task queue, keys), and
// once through the `pathway` bin as a child process.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathwayClient, type CaseSummary } from '../../client';
import { EXIT, runCli } from '../../client/cli';
import { clientHarness, hostReferral, lw, poll, quickPolicy, self, uniqueScheme, worker, type ClientHarness } from './client.harness';

const root = join(__dirname, '..', '..');

describe('pathway CLI', () => {
  let h: ClientHarness;
  let client: PathwayClient;
  let env: Record<string, string>;
  const dir = mkdtempSync(join(tmpdir(), 'pathway-cli-'));
  const scheme = uniqueScheme('cli');
  const personKey = randomBytes(32).toString('base64');

  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (s) => out.push(s), err: (s) => err.push(s), env, cwd: dir });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const file = (name: string, body: unknown) => {
    writeFileSync(join(dir, name), JSON.stringify(body));
    return name;
  };

  beforeAll(async () => {
    h = await clientHarness('cli');
    // The key the test workers encrypt with (test/support/pathway.ts testCodec).
    const keyFile = join(root, 'test', 'fixtures', 'codec-test-keys.json');
    env = { TEMPORAL_ADDRESS: h.address, TEMPORAL_NAMESPACE: h.namespace, PATHWAY_TASK_QUEUE: h.taskQueue, PATHWAY_CODEC_KEY_FILE: keyFile, PATHWAY_PERSON_KEY: personKey };
    client = await h.connect({ personKey, policies: { [scheme]: quickPolicy(scheme, {}, 1000) } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('sets a roster and shows caseloads', async () => {
    const r = await cli('roster', '--scheme', scheme, 'lw-1', 'lw-2:3');
    expect(r).toMatchObject({ code: EXIT.ok });
    expect(r.out).toContain('lw-2');
    const one = await cli('caseloads', '--scheme', scheme);
    expect(one.code).toBe(0);
    expect(one.out).toMatch(/lw-2\s*│\s*0\s*│\s*3/);
    const all = await cli('--json', 'caseloads');
    expect((JSON.parse(all.out) as Array<{ schemeId: string }>).map((l) => l.schemeId)).toContain(scheme);
    expect((await cli('caseloads', '--scheme', uniqueScheme('none'))).code).toBe(EXIT.notFound);
    expect((await cli('roster', '--scheme', scheme, 'Jane Smith')).code).toBe(EXIT.usage);
  });

  it('refers from a file, idempotently, and flags a duplicate person', async () => {
    const referral = hostReferral(scheme);
    const first = await cli('refer', file('one.json', referral));
    expect(first.code).toBe(0);
    expect(first.out).toContain(`referred: case-${referral.referralId} (stage triage)`);
    const again = await cli('refer', 'one.json');
    expect(again.out).toContain(`already referred: case-${referral.referralId}`);
    const dup = await cli('refer', file('dup.json', hostReferral(scheme, { person: referral.person })));
    expect(dup.out).toContain(`possible duplicate of case-${referral.referralId} (same NHS number)`);
    expect(dup.out).not.toContain(referral.person.familyName);

    const conflict = await cli('refer', file('conflict.json', { ...referral, area: 'Elsewhere' }));
    expect(conflict.code).toBe(EXIT.refused);
    expect(conflict.err).toMatch(/already made with different details/);

    const invalid = await cli('refer', file('bad.json', { ...referral, referralId: 'r-new', person: { ...referral.person, dateOfBirth: '31/02/1950' } }));
    expect(invalid.code).toBe(EXIT.usage);
    expect(invalid.err).toContain('person.dateOfBirth');
    expect(invalid.err).not.toContain('31/02/1950');
    expect((await cli('refer', 'missing.json')).code).toBe(EXIT.usage);
  });

  it('finds possible duplicates, shows them on the case, and resolves one', async () => {
    const s = uniqueScheme('cli-dup');
    const referral = hostReferral(s);
    await cli('refer', file('dup-first.json', referral));
    const dup = hostReferral(s, { person: referral.person });
    await cli('refer', file('dup-second.json', dup));
    const dupCase = `case-${dup.referralId}`;
    const listed = await poll(() => cli('cases', '--scheme', s, '--possible-duplicate'), (r) => r.out.includes(dupCase), 'the flagged case listed');
    expect(listed.out).not.toContain(`case-${referral.referralId} `);
    expect(listed.out).toMatch(/duplicate\?/);
    const shown = await cli('case', dup.referralId);
    expect(shown.out).toContain(`duplicate?  case-${referral.referralId} (same NHS number) — unresolved`);
    expect(shown.out).toContain('DUPLICATES.FLAGGED (nhsNumber)');
    expect(shown.out).not.toContain(referral.person.familyName);

    expect((await cli('resolve-duplicate', dup.referralId, '--by', 'sup-1')).code).toBe(EXIT.usage);
    const resolved = await cli('resolve-duplicate', dup.referralId, '--duplicate-of', referral.referralId, '--by', 'sup-1');
    expect(resolved).toMatchObject({ code: EXIT.ok });
    expect(resolved.out).toContain(`${dupCase} closed as a duplicate of case-${referral.referralId}`);
    expect((await cli('case', dup.referralId)).out).toContain('stage       discharged — duplicate');
    await poll(() => cli('cases', '--scheme', s, '--possible-duplicate'), (r) => r.out === 'no cases match', 'no flagged case left');
    expect((await cli('cases', '--scheme', s, '--no-possible-duplicate')).out).toContain(dupCase);
  });

  it('refuses a referral without consent, storing nothing', async () => {
    const referral = hostReferral(scheme, { consent: false });
    const r = await cli('refer', file('no-consent.json', referral));
    expect(r.code).toBe(EXIT.refused);
    expect(r.err).toContain('consent is false');
    expect((await cli('case', referral.referralId)).code).toBe(EXIT.notFound);
  });

  it('lists cases with filters, as a table or JSON', async () => {
    const { case: c } = await client.refer(hostReferral(scheme));
    const rows = await poll(
      async () => JSON.parse((await cli('--json', 'cases', '--scheme', scheme, '--stage', 'triage')).out) as CaseSummary[],
      (r) => r.some((x) => x.caseId === c.caseId),
      'the case in the list',
    );
    expect(rows.every((r) => r.stage === 'triage')).toBe(true);
    const t = await cli('cases', '--scheme', scheme, '--no-escalated', '--open', '--limit', '50');
    expect(t.code).toBe(0);
    expect(t.out).toContain(c.caseId);
    expect(t.out).toMatch(/case\(s\)/);
    expect((await cli('cases', '--scheme', scheme, '--stage', 'support', '--tier', 'light', '--link-worker', 'lw-9', '--overdue')).out).toBe('no cases match');
    expect((await cli('cases', '--stage', 'nowhere')).code).toBe(EXIT.usage);
    expect((await cli('cases', '--open', '--closed')).code).toBe(EXIT.usage);
  });

  it('shows one case with its deadlines and timeline', async () => {
    const referral = hostReferral(scheme);
    await client.refer(referral);
    const r = await cli('case', referral.referralId);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`case        case-${referral.referralId}`);
    expect(r.out).toMatch(/Deadlines[\s\S]*TRIAGE/);
    expect(r.out).toMatch(/Timeline[\s\S]*REFERRAL/);
    const missing = await cli('case', 'case-nobody');
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.err).toBe('error: no case case-nobody');
  });

  it('lists escalations and acknowledges one', async () => {
    const { case: c } = await client.refer(hostReferral(scheme));
    const raised = await cli('send', c.caseId, 'SAFEGUARDING.RAISE', '{"category":"neglect"}', '--as', 'linkWorker:lw-1');
    expect(raised).toMatchObject({ code: 0 });
    expect(raised.out).toContain('stage onHold');
    const listed = await poll(() => cli('escalations', '--scheme', scheme), (r) => r.out.includes(c.caseId), 'the escalation listed');
    const ref = `${c.caseId}/esc-1`;
    expect(listed.out).toContain(ref);
    expect(listed.out).toContain('SAFEGUARDING');

    expect((await cli('ack', ref)).code).toBe(EXIT.usage); // nobody said who
    expect((await cli('ack', 'not-a-ref', '--by', 'sup-1')).code).toBe(EXIT.usage);
    const acked = await cli('ack', ref, '--by', 'sup-1');
    expect(acked.code).toBe(0);
    expect(acked.out).toContain(`acknowledged ${ref}`);
    const twice = await cli('ack', c.caseId, 'esc-1', '--by', 'sup-1');
    expect(twice.code).toBe(EXIT.refused);
    await poll(() => cli('escalations', '--scheme', scheme), (r) => !r.out.includes(c.caseId), 'the escalation gone');
  });

  it('approves an extension, and refuses when there is none to approve', async () => {
    const { case: c } = await client.refer(hostReferral(scheme));
    expect((await cli('approve-extension', c.caseId, '--by', 'sup-1')).code).toBe(EXIT.refused);
    const refused = await cli('approve-extension', c.caseId, '--by', 'sup-1');
    expect(refused.err).toContain("at stage 'triage'");

    await client.acceptReferral(c.caseId, { actor: lw });
    const w = worker(await poll(() => client.getCase(c.caseId), (v) => v.stage === 'firstContact', 'a place'));
    await client.recordContactAttempt(c.caseId, { outcome: 'reached', channel: 'phone', actor: w });
    await client.recordFirstVisit(c.caseId, { location: 'phone', durationMinutes: 30, measures: [], barriers: [], actor: w });
    await client.draftPlan(c.caseId, { goals: [{ id: 'g', text: 'choir' }], activities: [{ id: 'a', category: 'creative', name: 'Choir' }], barrierActions: [], tier: 'light', volunteer: false, actor: w });
    await client.agreePlan(c.caseId, { party: 'person', actor: self });
    await client.agreePlan(c.caseId, { party: 'linkWorker', actor: w });
    await poll(() => client.getCase(c.caseId), (v) => v.stage === 'review', 'the review');
    await client.recordReview(c.caseId, { measures: [], goalsMet: 'some', outcome: 'extend', extensionWeeks: 1, actor: w });

    const approved = await cli('approve-extension', c.caseId, '--by', 'sup-1');
    expect(approved.code).toBe(0);
    expect(approved.out).toContain('stage support');
  });

  it('writes the cohort report as HTML, CSV and JSON', async () => {
    const html = await cli('report', '--scheme', scheme, '--format', 'html', '--out', 'out/report.html');
    expect(html.code).toBe(0);
    expect(readFileSync(join(dir, 'out', 'report.html'), 'utf8')).toMatch(/<html/i);
    const csv = await cli('report', '--scheme', scheme, '--format', 'csv');
    expect(csv.out.split('\n').length).toBeGreaterThan(5);
    const json = JSON.parse((await cli('report', '--scheme', scheme, '--from', '2000-01-01')).out) as { totals: { referrals: number } };
    expect(json.totals.referrals).toBeGreaterThanOrEqual(5);
    expect(JSON.parse((await cli('report', '--scheme', scheme, '--to', '2000-01-01')).out).totals.referrals).toBe(0);
    expect((await cli('report', '--scheme', scheme, '--from', 'yesterday')).code).toBe(EXIT.usage);
    expect((await cli('report')).code).toBe(EXIT.usage);
  });

  it('reports configuration problems and unreachable servers with their own exit codes', async () => {
    const noKeys = await runCli(['cases'], { out: () => {}, err: () => {}, env: { TEMPORAL_ADDRESS: 'temporal.example.invalid:7233' }, cwd: dir });
    expect(noKeys).toBe(EXIT.configuration);
    const errs: string[] = [];
    const unreachable = await runCli(['--address', '127.0.0.1:1', '--connect-timeout', '0.5', 'cases'], { out: () => {}, err: (s) => errs.push(s), env: { ...env, TEMPORAL_ADDRESS: '' }, cwd: dir });
    expect(unreachable).toBe(EXIT.failure);
    expect(errs.join('\n')).toMatch(/^error: cannot reach Temporal at 127.0.0.1:1/);
  });

  it('runs as the `pathway` bin', async () => {
    const run = promisify(execFile);
    const help = await run(process.execPath, [join(root, 'client', 'bin.js'), '--help'], { cwd: root });
    expect(help.stdout).toContain('Usage: pathway');
    const listed = await run(process.execPath, [join(root, 'client', 'bin.js'), '--json', 'cases', '--scheme', scheme, '--limit', '1'], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    expect(JSON.parse(listed.stdout)).toHaveLength(1);
    const failed = await run(process.execPath, [join(root, 'client', 'bin.js'), 'case', 'case-nobody'], { cwd: root, env: { ...process.env, ...env } }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: EXIT.notFound });
    expect(existsSync(join(root, 'client', 'bin.js'))).toBe(true);
  });
});
