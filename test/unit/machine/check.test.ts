// `pathway check`'s findings: a deliberately broken policy is flagged in words a non-author
// understands, a deliberate variation (no extensions) is a note, and the default policy passes.
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../../client/cli';
import { checkPolicy } from '../../../machines/check';
import { DISCHARGE_REASONS } from '../../../machines';

async function check(policy: unknown, ...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'pathway-check-'));
  writeFileSync(join(dir, 'scheme.json'), typeof policy === 'string' ? policy : JSON.stringify(policy));
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['check', 'scheme.json', ...args], {
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    env: {},
    cwd: dir,
    connect: () => Promise.reject(new Error('check needs no server')),
  });
  return { code, out: out.join('\n'), err: err.join('\n'), dir };
}

describe('pathway check', () => {
  it('passes the default policy, reaching every discharge reason, and writes the diagram beside it', { timeout: 60_000 }, async () => {
    const result = checkPolicy({});
    expect(result.problems).toEqual([]);
    expect(result.reachableDischargeReasons).toEqual([...DISCHARGE_REASONS]);
    const { code, out, dir } = await check({});
    expect(code).toBe(EXIT.ok);
    expect(out).toContain('policy ok');
    expect(out).toMatch(/discharged:connected: TRIAGE\.ACCEPT > .* > REVIEW\.RECORD/);
    expect(existsSync(join(dir, 'scheme.pathway.md'))).toBe(true);
    expect(readFileSync(join(dir, 'scheme.pathway.md'), 'utf8')).toContain('stateDiagram-v2');
  });

  it('names each invalid field by its path and exits with the problems code', async () => {
    const { code, out } = await check({ tiers: [{ id: 'a' }], contact: { maxAttempts: 0 } });
    expect(code).toBe(EXIT.problems);
    expect(out).toContain('invalid at tiers[0].sessionCap');
    expect(out).toContain('invalid at contact.maxAttempts');
    expect(out).toContain('tiers: a scheme needs at least three tiers');
  });

  it('flags deadlines that can never fire and extensions that can never be granted', { timeout: 60_000 }, async () => {
    const { code, out } = await check({ deadlines: { checkIn: '13w' }, extension: { maxCount: 1, maxLength: '3d' } });
    expect(code).toBe(EXIT.problems);
    expect(out).toContain('deadlines.checkIn (91 days) is not shorter than deadlines.review (84 days)');
    expect(out).toContain('none of the 1 extensions allowed could ever be granted');
    // And what follows from it in the graph: no case ever waits for an extension decision.
    expect(out).toContain('unreachable stage: no case can ever reach active.extensionPending');
  });

  it('flags a disengagement check that could never start before the review', () => {
    expect(checkPolicy({ deadlines: { review: '8w', reviewGrace: '1w', disengagement: '10w' } }).problems).toEqual([
      expect.stringContaining('a disengaged person would never be noticed before the review'),
    ]);
  });

  it('takes "no extensions" as a deliberate choice: a note, not a problem', { timeout: 60_000 }, () => {
    const result = checkPolicy({ extension: { maxCount: 0 } });
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.notes).toEqual([expect.stringContaining('extension.maxCount is 0')]);
  });

  it('refuses switches set against each other, in words, with the problems code', { timeout: 60_000 }, async () => {
    const { code, out } = await check({ waitlist: { enabled: false, cap: 20 }, deadlines: { review: '30w' } });
    expect(code).toBe(EXIT.problems);
    expect(out).toContain('waitlist.cap: is set but waitlist.enabled is false: a scheme that keeps no waiting list has no cap to apply');
    const late = await check({ deadlines: { review: '30w' }, befriending: { handoff: false } });
    expect(late.code).toBe(EXIT.problems);
    expect(late.out).toContain('deadlines.review (210 days) is beyond the support period');
  });

  it('reports a file that is not JSON as a usage error', async () => {
    const { code, err } = await check('{ not json');
    expect(code).toBe(EXIT.usage);
    expect(err).toContain('cannot read the policy scheme.json');
  });
});
