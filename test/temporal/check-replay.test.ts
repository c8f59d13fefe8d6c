// `pathway check --replay DIR`: the kept case histories replay on the current code, and a history
// that no longer matches it (as a pathway change that would break running cases leaves them) fails
// the check with a non-zero exit. No server: the SDK's replayer runs the workflow bundle itself.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { EXIT, runCli } from '../../client/cli';

const fixtures = join(__dirname, '..', 'fixtures', 'histories');
const keyFile = join(__dirname, '..', 'fixtures', 'codec-test-keys.json');

async function checkWithReplay(histories: string) {
  const dir = mkdtempSync(join(tmpdir(), 'pathway-check-replay-'));
  writeFileSync(join(dir, 'scheme.json'), '{}');
  const out: string[] = [];
  const code = await runCli(['check', 'scheme.json', '--replay', histories], {
    out: (s) => out.push(s),
    err: (s) => out.push(s),
    env: { PATHWAY_CODEC_KEY_FILE: keyFile },
    cwd: dir,
    connect: () => Promise.reject(new Error('check needs no server')),
  });
  return { code, out: out.join('\n') };
}

describe('pathway check --replay', () => {
  it('replays every kept history on the current code', { timeout: 300_000 }, async () => {
    const { code, out } = await checkWithReplay(fixtures);
    const kept = readdirSync(fixtures).filter((f) => f.endsWith('.history.bin')).length;
    expect(out).toContain(`replayed ${kept} recorded histories against the current code: 0 would break`);
    expect(code).toBe(EXIT.ok);
  });

  it('fails on a history the current code would not produce', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pathway-tampered-'));
    copyFileSync(join(fixtures, 'twelve-week-journey.history.bin'), join(dir, 'intact.history.bin'));
    const history = temporal.api.history.v1.History.decode(readFileSync(join(fixtures, 'twelve-week-journey.history.bin')));
    // An activity the code never schedules at that point: what a reordered or renamed step leaves
    // in a running case's history.
    const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes);
    expect(scheduled).toBeDefined();
    scheduled!.activityTaskScheduledEventAttributes!.activityType = { name: 'anActivityThisCodeNeverSchedules' };
    writeFileSync(join(dir, 'tampered.history.bin'), temporal.api.history.v1.History.encode(history).finish());
    const { code, out } = await checkWithReplay(dir);
    expect(out).toContain('replayed 2 recorded histories against the current code: 1 would break');
    expect(out).toMatch(/problem: a running case would break on this code .*tampered\.history\.bin: DeterminismViolationError: .*Nondeterminism/);
    expect(out).not.toContain('intact.history.bin:');
    expect(code).toBe(EXIT.problems);
  });
});
