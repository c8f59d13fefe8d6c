// What keeps long-lived workflows small whatever arrives: a scheme's person index across its
// shards at 100,000 referrals, and a case's carried state after thousands of commands.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { COMMAND_BYTE_BUDGET, commandSchemas, createContext, defaultPolicy, jsonBytes, MAX_ACTIVITIES, MAX_BARRIER_ACTIONS, MAX_GOALS, MAX_TEXT } from '../../../machines';
import { CARRIED_BYTE_BUDGET, compactCarried, KEPT } from '../../../workflows/carried-state';
import type { CarriedCase, TimelineEntry } from '../../../workflows/definitions';
import { MAX_SHARD_FINGERPRINTS, PERSON_INDEX_SHARDS, personIndexShard, type PersonFingerprints, type PersonIndexState } from '../../../workflows/person-index-definitions';
import { registerPerson } from '../../../workflows/person-index';

const fp = (kind: string, i: number) => createHash('sha256').update(`${kind}:${i}`).digest('hex');

describe('the person index, sharded', () => {
  it('holds 100,000 referrals in shards far under the continue-as-new limit and still finds the first person again', { timeout: 60_000 }, () => {
    const shards = new Map<string, PersonIndexState>();
    const register = (caseId: string, fingerprints: PersonFingerprints) => {
      const answers = [];
      for (const match of ['nhsNumber', 'nameAndDateOfBirth'] as const) {
        const f = fingerprints[match];
        if (f === undefined) continue;
        const shard = personIndexShard(f);
        if (!shards.has(shard)) shards.set(shard, { cases: {} });
        answers.push(...registerPerson(shards.get(shard)!, { caseId, fingerprints: { [match]: f } }));
      }
      return answers;
    };
    const n = 100_000;
    for (let i = 0; i < n; i++) register(`case-r-${i}`, { nhsNumber: fp('nhs', i), nameAndDateOfBirth: fp('name', i) });
    expect(shards.size).toBe(PERSON_INDEX_SHARDS);
    const largest = Math.max(...[...shards.values()].map((s) => jsonBytes(s)));
    console.log(`[bounds] person index: ${n} referrals in ${shards.size} shards, largest ${(largest / 1024).toFixed(0)} KiB`);
    expect(largest).toBeLessThan(512 * 1024);
    // The very first person, referred again: found by both fingerprints, reported once, as an NHS-number match.
    const again = register('case-r-again', { nhsNumber: fp('nhs', 0), nameAndDateOfBirth: fp('name', 0) });
    expect(again).toContainEqual({ caseId: 'case-r-0', match: 'nhsNumber' });
    // And one from the middle by name and date of birth alone.
    expect(register('case-r-again-2', { nameAndDateOfBirth: fp('name', 54_321) })).toEqual([{ caseId: 'case-r-54321', match: 'nameAndDateOfBirth' }]);
  });

  it('a shard past its cap forgets its oldest fingerprints first', () => {
    const shard: PersonIndexState = { cases: {} };
    for (let i = 0; i < MAX_SHARD_FINGERPRINTS + 10; i++) registerPerson(shard, { caseId: `case-${i}`, fingerprints: { nameAndDateOfBirth: fp('name', i) } });
    expect(Object.keys(shard.cases)).toHaveLength(MAX_SHARD_FINGERPRINTS);
    expect(shard.size).toBe(MAX_SHARD_FINGERPRINTS);
    expect(registerPerson(shard, { caseId: 'case-x', fingerprints: { nameAndDateOfBirth: fp('name', 0) } })).toEqual([]);
    expect(registerPerson(shard, { caseId: 'case-y', fingerprints: { nameAndDateOfBirth: fp('name', 20) } })).toEqual([{ caseId: 'case-20', match: 'nameAndDateOfBirth' }]);
  });
});

describe("a case's carried state", () => {
  it('stays under budget after 10,000 tier changes with the longest reasons and as many check-ins', () => {
    const context = createContext({ referral: { referralId: 'r1', schemeId: 's', route: 'GP', age: 70, area: 'a', targetGroups: [], needs: [], flags: [], consent: true, riskFlags: [], referredAt: 0 }, policy: defaultPolicy, at: 0 });
    const reason = 'x'.repeat(MAX_TEXT);
    const measures = [{ instrument: 'SWEMWBS' as const, answers: [3, 3, 3, 3, 3, 3, 3], raw: 21, score: 20.73, band: 'average' }];
    const timeline: TimelineEntry[] = [];
    for (let i = 0; i < 10_000; i++) {
      context.support.tierHistory.push({ tier: i % 2 ? 'standard' : 'intensive', at: i, reason });
      context.checkIns.push({ at: i, measures });
      timeline.push({ seq: 2 * i + 1, at: i, event: 'TIER.CHANGE', from: 'support', to: 'support' }, { seq: 2 * i + 2, at: i, event: 'CHECKIN.RECORD', from: 'support', to: 'support' });
    }
    const carried: CarriedCase = { value: {}, context, timeline, sequence: 20_000 };
    expect(jsonBytes(carried)).toBeGreaterThan(CARRIED_BYTE_BUDGET);
    const compact = compactCarried(carried);
    expect(jsonBytes(compact)).toBeLessThan(CARRIED_BYTE_BUDGET / 2);
    expect(compact.timeline).toHaveLength(KEPT.timeline);
    expect(compact.timeline.at(-1)).toEqual(timeline.at(-1));
    // Counts of what was cut, so the outcome record still counts every event of a kind.
    expect(compact.timelineDropped).toEqual({ 'TIER.CHANGE': 10_000 - KEPT.timeline / 2, 'CHECKIN.RECORD': 10_000 - KEPT.timeline / 2 });
    expect(compact.context.support.tierHistory).toHaveLength(KEPT.tierHistory);
    expect(compact.context.support.tierHistory.every((t) => t.reason === undefined)).toBe(true);
    expect(compact.context.checkIns[0]).toEqual(context.checkIns[0]);
    expect(compact.context.checkIns).toHaveLength(KEPT.checkIns);
    expect(compact.sequence).toBe(20_000);
    // Compacting again changes nothing: a run that starts compacted carries the same on.
    expect(compactCarried(compact)).toEqual(compact);
  });
});

describe('command payloads', () => {
  const text = 'x'.repeat(MAX_TEXT);
  const actor = { role: 'linkWorker', id: 'lw-1' } as const;
  const draft = {
    goals: Array.from({ length: MAX_GOALS }, (_, i) => ({ id: `g${i}`, text })),
    activities: Array.from({ length: MAX_ACTIVITIES }, (_, i) => ({ id: `a${i}`, category: 'active', name: text, provider: text })),
    barrierActions: Array.from({ length: MAX_BARRIER_ACTIONS }, () => ({ barrier: 'money', action: 'benefitsAdvice', note: text })),
    tier: 'intensive',
    volunteer: true,
    actor,
  };

  it('the largest plan the schema allows in plain text fits the command budget', () => {
    expect(commandSchemas['PLAN.DRAFT'].safeParse(draft).success).toBe(true);
    expect(jsonBytes(draft)).toBeLessThan(COMMAND_BYTE_BUDGET);
  });

  it('one item over a list maximum is refused, naming the list and the limit', () => {
    const over = { ...draft, goals: [...draft.goals, { id: 'one-more', text: 'x' }] };
    const result = commandSchemas['PLAN.DRAFT'].safeParse(over);
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['goals', `a plan has at most ${MAX_GOALS} goals`]]);
    const checkIn = commandSchemas['CHECKIN.RECORD'].safeParse({ measures: Array.from({ length: 6 }, () => ({ instrument: 'UCLA3', answers: [1, 1, 1] })), actor });
    expect(checkIn.error!.issues[0]!.message).toMatch(/at most 5 measures/);
  });

  it('counts UTF-8 bytes as the server does', () => {
    for (const value of [{ a: 'plain' }, { a: 'é€😀' }, ['\u2028', 1, null]]) {
      expect(jsonBytes(value)).toBe(Buffer.byteLength(JSON.stringify(value)));
    }
  });
});
