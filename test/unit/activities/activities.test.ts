import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { createActivities, type PathwayActivities } from '../../../activities';
import { ACTIVITY_ERROR_TYPES, activityOptions } from '../../../activities/options';
import { FileOutbox, MemorySink, OUTBOX_FILE, readOutbox } from '../../../activities/outbox';
import type { OutboxMessage, Sink } from '../../../activities/sink';
import { outcomeRecordSchema, type OutcomeRecord } from '../../../evidence/outcomeRecord';
import type { ActivityEnvelope } from '../../../workflows/definitions';
import { day, declinedCase, earlyDischargeCase, fullCase, handedOffCase, PathwayCase, type Effect } from './cases';

const NOW = Date.UTC(2025, 5, 1, 12);
const envelope: ActivityEnvelope = { caseId: 'case-r-1', schemeId: 'north', idempotencyKey: 'case-r-1:4:0:notifyReferrer' };

// The mock environment logs each failed attempt as the worker would; these tests fail on purpose.
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const mockEnvironment = () => new MockActivityEnvironment(undefined, { logger: quiet });

function setup(sink: Sink = new MemorySink()) {
  const env = mockEnvironment();
  const activities = createActivities({ sink, now: () => NOW });
  return { env, activities };
}

/** Runs one of the machine's side effects as the workflow would, through its activity. */
async function perform(env: MockActivityEnvironment, a: PathwayActivities, c: PathwayCase, e: Effect): Promise<unknown> {
  switch (e.type) {
    case 'notifyReferrer':
      return env.run(a.notifyReferrer, { ...e.envelope, notice: e.params as never });
    case 'notifySupervisor':
      return env.run(a.notifySupervisor, { ...e.envelope, notice: e.params as never });
    case 'requestVolunteerMatch':
      return env.run(a.requestVolunteerMatch, e.envelope);
    case 'requestBefriending':
      return env.run(a.requestBefriending, e.envelope);
    case 'recordOutcome':
      return env.run(a.recordOutcome, { ...e.envelope, context: c.context, timeline: c.timeline });
    default:
      return undefined; // requestPlace / releasePlace belong to the capacity ledger's activities
  }
}

async function performAll(env: MockActivityEnvironment, a: PathwayActivities, c: PathwayCase): Promise<void> {
  for (const e of c.effects) await perform(env, a, c, e);
}

async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

const brief = (m: OutboxMessage) => [m.channel, m.body];

describe('pathway activities on a full case', () => {
  it('deliver each side effect once, on its channel, under the workflow key', async () => {
    const sink = new MemorySink();
    const { env, activities } = setup(sink);
    const c = fullCase();
    await performAll(env, activities, c);

    // One message per side effect the machine asked for, under its key, carrying its notice.
    const channels: Record<string, string> = {
      notifyReferrer: 'referrer',
      notifySupervisor: 'supervisor',
      requestVolunteerMatch: 'volunteer',
      recordOutcome: 'outcome',
    };
    const asked = c.effects.filter((e) => e.type in channels);
    expect(sink.messages.map((m) => [m.key, m.channel])).toEqual(asked.map((e) => [e.envelope.idempotencyKey, channels[e.type]]));
    sink.messages.forEach((m, i) => {
      if (m.channel === 'referrer' || m.channel === 'supervisor') expect(m.body).toEqual(asked[i]!.params);
    });
    expect(sink.messages.every((m) => m.caseId === 'case-r-100' && m.schemeId === 'default' && m.at === NOW)).toBe(true);

    // What the scenario's events must have led to.
    expect(sink.messages.filter((m) => m.channel === 'referrer').map((m) => m.body)).toEqual([
      { kind: 'accepted' },
      { kind: 'dischargeSummary', reason: 'connected' },
    ]);
    expect(sink.messages.filter((m) => m.channel === 'supervisor').map((m) => m.body)).toEqual(
      expect.arrayContaining([
        { escalationId: 'esc-1', type: 'TRIAGE_OVERDUE', level: 1, stage: 'triage', audience: 'supervisor' },
        { escalationId: 'esc-2', type: 'CHECKIN_OVERDUE', level: 1, stage: 'support', audience: 'supervisor' },
      ]),
    );
    expect(sink.messages.filter((m) => m.channel === 'volunteer').map((m) => m.body)).toEqual([{ kind: 'volunteerMatchRequested' }]);

    const [outcome] = sink.messages.filter((m) => m.channel === 'outcome');
    const record = outcome!.body as OutcomeRecord;
    expect(outcomeRecordSchema.parse(record)).toEqual(record);
    expect(record).toMatchObject({ caseId: 'case-r-100', status: 'discharged', dischargeReason: 'connected', linkWorkerId: 'lw-7' });
    expect(record.dates).toMatchObject({ firstVisitAt: day(10), planAgreedAt: day(13), reviewAt: day(99), dischargedAt: day(99) });
    expect(record.measures.SWEMWBS).toMatchObject({ baseline: { score: 17.43 }, review: { score: 23.21 }, change: 5.78 });
  });

  it('treat a retry of any of them (same key) as done: nothing more is delivered', async () => {
    const sink = new MemorySink();
    const { env, activities } = setup(sink);
    const c = fullCase();
    await performAll(env, activities, c);
    const before = structuredClone(sink.messages);

    const retries = await Promise.all(c.effects.map((e) => perform(env, activities, c, e)));
    expect(sink.messages).toEqual(before);
    const receipts = retries.filter((r): r is { duplicate: boolean } => typeof r === 'object' && r !== null && 'duplicate' in r);
    expect(receipts).toHaveLength(sink.messages.length - 1); // every delivery but the outcome, which returns its record
    expect(receipts.every((r) => r.duplicate)).toBe(true);
  });

  it('return the outcome record that was delivered, the same on a retry', async () => {
    const sink = new MemorySink();
    const { env, activities } = setup(sink);
    const c = fullCase();
    const e = c.effectsOf('recordOutcome')[0]!;
    const first = await perform(env, activities, c, e);
    const again = await perform(env, activities, c, e);
    expect(again).toEqual(first);
    expect(sink.messages.filter((m) => m.channel === 'outcome').map((m) => m.body)).toEqual([first]);
  });
});

describe('pathway activities on other endings', () => {
  it('tell the referrer why a referral was declined, and record it', async () => {
    const sink = new MemorySink();
    const { env, activities } = setup(sink);
    await performAll(env, activities, declinedCase());
    expect(sink.messages.map(brief)).toEqual([
      ['referrer', { kind: 'declined', reason: 'Needs ongoing specialist mental health support' }],
      ['outcome', expect.objectContaining({ caseId: 'case-r-200', status: 'discharged', dischargeReason: 'declined', route: 'pharmacist' })],
    ]);
  });

  it('record an early discharge with its closing measure', async () => {
    const sink = new MemorySink();
    const { env, activities } = setup(sink);
    await performAll(env, activities, earlyDischargeCase());
    expect(sink.messages.filter((m) => m.channel === 'referrer').map((m) => m.body)).toEqual([
      { kind: 'accepted' },
      { kind: 'dischargeSummary', reason: 'withdrew' },
    ]);
    const record = sink.messages.find((m) => m.channel === 'outcome')!.body as OutcomeRecord;
    expect(record).toMatchObject({ dischargeReason: 'withdrew', dates: { dischargedAt: day(35) } });
    expect(record.measures.SWEMWBS).toMatchObject({ baseline: { score: 17.43 }, discharge: { score: 19.25, takenAt: day(30) }, change: 1.82 });
  });

  it('ask the befriending service for a handoff', async () => {
    const sink = new MemorySink();
    const { env, activities } = setup(sink);
    const c = handedOffCase();
    await performAll(env, activities, c);
    const [request] = sink.messages.filter((m) => m.channel === 'befriending');
    expect(request).toEqual({
      key: c.effectsOf('requestBefriending')[0]!.envelope.idempotencyKey,
      channel: 'befriending',
      caseId: 'case-r-100',
      schemeId: 'default',
      at: NOW,
      body: { kind: 'befriendingRequested' },
    });
  });
});

describe('payloads that can never succeed', () => {
  const personal = 'Jane Doe, 943 476 5919, 12 Foyle Street';

  it('fail at once, without retries, and without repeating what was sent', async () => {
    const sink = new MemorySink();
    const { env, activities } = setup(sink);
    const failure = await failureOf(
      env.run(activities.notifyReferrer, { ...envelope, notice: { kind: personal as never, reason: personal.repeat(20) } }),
    );
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe(ACTIVITY_ERROR_TYPES.invalidPayload);
    expect(failure.message).toMatch(/^notifyReferrer: .*notice\.kind.*notice\.reason/);
    expect(JSON.stringify({ m: failure.message, d: failure.details })).not.toMatch(/Jane|943|Foyle/);
    expect(sink.messages).toEqual([]);
  });

  it('carry nothing to the sink but the fields the contract names', async () => {
    const sink = new MemorySink();
    const { env, activities } = setup(sink);
    await env.run(activities.notifySupervisor, {
      ...envelope,
      notice: { escalationId: 'esc-4', type: 'SAFEGUARDING', level: 1, stage: 'support', personName: personal } as never,
    });
    expect(JSON.stringify(sink.messages)).not.toMatch(/Jane/);
    expect(sink.messages[0]!.body).toEqual({ escalationId: 'esc-4', type: 'SAFEGUARDING', level: 1, stage: 'support' });
  });

  it('accept the workflow’s own failure notices to a supervisor', async () => {
    const { env, activities } = setup();
    const receipt = await env.run(activities.notifySupervisor, {
      ...envelope,
      idempotencyKey: 'case-r-1:7:0:recordOutcome:failed',
      notice: { escalationId: 'effect-case-r-1:7:0:recordOutcome', type: 'SIDE_EFFECT_FAILED', level: 1, stage: 'discharged' as const },
    });
    expect(receipt).toEqual({ key: 'case-r-1:7:0:recordOutcome:failed', duplicate: false });
  });

  it('refuse an envelope with no usable key', async () => {
    const { env, activities } = setup();
    const failure = await failureOf(env.run(activities.requestVolunteerMatch, { ...envelope, idempotencyKey: 'has spaces' }));
    expect(failure).toMatchObject({ nonRetryable: true, type: ACTIVITY_ERROR_TYPES.invalidPayload });
    expect(failure.message).toMatch(/idempotencyKey/);
  });

  it('refuse an outcome record that fails the schema, naming the field but not its value', async () => {
    const sink = new MemorySink();
    const { env, activities } = setup(sink);
    const c = fullCase();
    const context = structuredClone(c.context);
    context.support.tier = `tier-${'x'.repeat(125)}`;
    const failure = await failureOf(env.run(activities.recordOutcome, { ...envelope, context, timeline: c.timeline }));
    expect(failure).toMatchObject({ nonRetryable: true, type: ACTIVITY_ERROR_TYPES.invalidPayload });
    expect(failure.message).toMatch(/^recordOutcome: .*tier/);
    expect(failure.message).not.toMatch(/xxxx/);
    expect(sink.messages).toEqual([]);
  });

  it('refuse a person too young for the record, without their age', async () => {
    const { env, activities } = setup();
    const c = new PathwayCase({ referral: { referralId: 'r-600', age: 16 } });
    const e = c.effectsOf('recordOutcome')[0]!;
    const failure = await failureOf(env.run(activities.recordOutcome, { ...e.envelope, context: c.context, timeline: c.timeline }));
    expect(failure).toMatchObject({ nonRetryable: true, type: ACTIVITY_ERROR_TYPES.invalidPayload });
    expect(failure.message).toMatch(/below 18/);
    expect(failure.message).not.toMatch(/16/);
  });

  it('refuse a key reused for a different message', async () => {
    const { env, activities } = setup();
    await env.run(activities.notifyReferrer, { ...envelope, notice: { kind: 'accepted' as const } });
    const failure = await failureOf(env.run(activities.notifyReferrer, { ...envelope, notice: { kind: 'waitlisted' as const } }));
    expect(failure).toMatchObject({ nonRetryable: true, type: ACTIVITY_ERROR_TYPES.keyConflict });
  });
});

describe('a sink that cannot confirm a delivery', () => {
  it('fails the attempt as retryable, and the retry under the same key delivers once', async () => {
    const inner = new MemorySink();
    let outage = 2;
    const flaky: Sink = {
      async deliver(m) {
        if (outage-- > 0) throw Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' });
        return inner.deliver(m);
      },
    };
    const { env, activities } = setup(flaky);
    const call = () => env.run(activities.notifySupervisor, { ...envelope, notice: { escalationId: 'esc-1', type: 'TRIAGE_OVERDUE', level: 1, stage: 'triage' as const } });
    for (let attempt = 0; attempt < 2; attempt++) {
      const failure = await failureOf(call());
      expect(failure).toMatchObject({ nonRetryable: false, type: ACTIVITY_ERROR_TYPES.sinkUnavailable });
      expect(failure.message).toMatch(/ENOSPC/);
    }
    expect(await call()).toEqual({ key: envelope.idempotencyKey, duplicate: false });
    expect(await call()).toEqual({ key: envelope.idempotencyKey, duplicate: true });
    expect(inner.messages).toHaveLength(1);
  });
});

describe('with the file outbox', () => {
  it('a worker restarted mid-case redelivers nothing when the workflow retries every call', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'outbox-activities-'));
    try {
      const c = fullCase();
      const first = new FileOutbox({ dir });
      await performAll(mockEnvironment(), createActivities({ sink: first, now: () => NOW }), c);
      await first.close();
      const written = await readFile(join(dir, OUTBOX_FILE), 'utf8');

      const second = new FileOutbox({ dir });
      await performAll(mockEnvironment(), createActivities({ sink: second, now: () => NOW + 1 }), c);
      await second.close();
      expect(await readFile(join(dir, OUTBOX_FILE), 'utf8')).toBe(written);

      const outcomes = await readOutbox(dir, { channel: 'outcome', caseId: 'case-r-100' });
      expect(outcomes).toHaveLength(1);
      expect(outcomeRecordSchema.parse(outcomes[0]!.body)).toMatchObject({ status: 'discharged', dischargeReason: 'connected' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('activityOptions', () => {
  it('never retries the failures the activities mark permanent, and retries the rest', () => {
    expect(activityOptions.retry?.nonRetryableErrorTypes).toEqual(
      expect.arrayContaining([ACTIVITY_ERROR_TYPES.invalidPayload, ACTIVITY_ERROR_TYPES.keyConflict]),
    );
    expect(activityOptions.retry?.nonRetryableErrorTypes).not.toContain(ACTIVITY_ERROR_TYPES.sinkUnavailable);
    expect(activityOptions.startToCloseTimeout).toBeDefined();
  });

  it('stays importable from workflow code: type-only imports', async () => {
    const source = await readFile(join(__dirname, '../../../activities/options.ts'), 'utf8');
    const imports = source.split('\n').filter((l) => /^import\b/.test(l));
    expect(imports.every((l) => l.startsWith('import type '))).toBe(true);
  });
});
