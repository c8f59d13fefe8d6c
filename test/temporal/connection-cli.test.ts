// `pathway connection ...` and `pathway providers` against the dev server, under a policy whose
// provider deadline is seconds long (nudges at 1 s and 2 s, declined at 4 s): a provider who
// answers, one who never does, and the exit codes for what is refused or malformed.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathwayClient } from '../../client';
import { EXIT, runCli } from '../../client/cli';
import { parsePolicy } from '../../machines';
import { clientHarness, hostReferral, lw, poll, uniqueScheme, type ClientHarness } from './client.harness';

describe('pathway connection', () => {
  let h: ClientHarness;
  let env: Record<string, string>;
  const scheme = uniqueScheme('conncli');
  const personKey = randomBytes(32).toString('base64');
  const policies = { [scheme]: parsePolicy({ schemeId: scheme, connections: { responseDeadline: '4s', nudges: ['1s', '2s'] } }) };

  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, { out: (s) => out.push(s), err: (s) => err.push(s), env, connect: (o) => PathwayClient.connect({ ...o, policies }) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  beforeAll(async () => {
    h = await clientHarness('conncli');
    const keyFile = join(__dirname, '..', 'fixtures', 'codec-test-keys.json');
    env = { TEMPORAL_ADDRESS: h.address, TEMPORAL_NAMESPACE: h.namespace, PATHWAY_TASK_QUEUE: h.taskQueue, PATHWAY_CODEC_KEY_FILE: keyFile, PATHWAY_PERSON_KEY: personKey };
  });
  afterAll(async () => {
    await h?.close();
  });

  it('proposes, answers, attends and lists connections, and names the provider who never answered', async () => {
    const client = await h.connect({ personKey, policies });
    await client.setRoster(scheme, [{ id: lw.id }]);
    const { case: c } = await client.refer(hostReferral(scheme));

    const quick = await cli('--json', 'connection', 'propose', c.caseId, '--service', 'svc-quick', '--category', 'connecting', '--provider', 'org-quick', '--by', lw.id);
    expect(quick.code, quick.err).toBe(EXIT.ok);
    const quickId = (JSON.parse(quick.out) as { connectionId: string }).connectionId;
    expect(quickId).toBe(`${c.caseId}:conn:svc-quick`);
    const silent = await cli('connection', 'propose', c.caseId, '--service', 'svc-silent', '--category', 'active', '--provider', 'org-silent', '--by', lw.id);
    expect(silent.out).toMatch(/:conn:svc-silent: sent, answer due /);
    const silentId = `${c.caseId}:conn:svc-silent`;

    expect((await cli('connection', 'respond', quickId, '--accept', '--by', 'staff-q')).out).toBe(`${quickId}: accepted`);
    await cli('connection', 'attend', quickId, '--by', 'staff-q');
    expect((await cli('connection', 'attend', quickId, '--by', 'staff-q')).out).toBe(`${quickId}: attending, 2 attendance(s)`);

    const refused = await cli('connection', 'complete', silentId, '--by', 'staff-s');
    expect(refused.code).toBe(EXIT.refused);
    expect(refused.err).toContain('a connection that is sent takes RESPOND, not COMPLETE');
    expect((await cli('connection', 'respond', quickId, '--accept', '--decline', '--by', 'staff-q')).code).toBe(EXIT.usage);
    expect((await cli('connection', 'stop', quickId, '--by', 'staff-q')).code).toBe(EXIT.usage);
    expect((await cli('connection', 'show', `${c.caseId}:conn:svc-none`)).code).toBe(EXIT.notFound);

    const declined = await poll(
      async () => JSON.parse((await cli('--json', 'connection', 'show', silentId)).out) as { status: string; nudgesSent: number },
      (v) => v.status === 'noResponse',
      'the silent provider declined for at the deadline',
    );
    expect(declined.nudgesSent).toBe(2);
    const listed = await poll(
      async () => (await cli('connection', 'list', c.caseId)).out,
      (out) => out.includes('noResponse (no answer)'),
      'the case hears of the decline',
    );
    expect(listed).toMatch(/svc-quick.*attending/);
    expect((await cli('case', c.caseId)).out).toMatch(/Connections\n[^]*svc-silent[^]*Timeline/);

    const providers = await poll(
      async () => JSON.parse((await cli('--json', 'providers', '--scheme', scheme, '--not-responding')).out) as Array<{ providerId: string; autoDeclined: number }>,
      (p) => p.length > 0,
      'the report counts the decline',
    );
    expect(providers.map((p) => [p.providerId, p.autoDeclined])).toEqual([['org-silent', 1]]);
    const all = await cli('providers', '--scheme', scheme);
    expect(all.out).toMatch(/org-quick/);
  });
});
