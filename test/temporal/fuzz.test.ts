// Property-based fuzzing of everything a host can send: generated payloads for every command (wrong
// types, missing fields, huge strings, unicode, out-of-range scores, events in the wrong state, moves
// a guard forbids) go to real cases in every stage through the update validators, and generated
// referrals and commands go through the client SDK. Every one must be refused with an error that
// names the command and why, never echo what was sent, fail no workflow task, and leave the case's
// history exactly as it was.
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Worker } from '@temporalio/worker';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InvalidInputError, PathwayClient, PersonKey, type HostReferral } from '../../client';
import { Semaphore, mapLimit } from '../../client/pool';
import { hostReferralSchema, referralFacts } from '../../client/referral';
import { COMMAND_TYPES, commandSchemas, parsePolicy, referralFactsSchema, type CommandType, type Stage } from '../../machines';
import { caseViewQuery, commandUpdates, type CaseView } from '../../workflows/definitions';
import { describeIssues } from '../../workflows/refusals';
import { quietRuntime, uniqueTaskQueue } from '../support/temporal';
import { startPathwayWorker, testCodec } from '../support/pathway';
import { driveCase, newStats, planCohort, rng, workflowTaskFailures, type Scenario } from '../support/faults';

/** Every generated string carries this, so an error that repeats any of it is caught. */
const ECHO = 'ECHO~';
const SEED = Number(process.env.FUZZ_SEED ?? 20_251_121);
const WORKFLOW_BATCHES = Number(process.env.FUZZ_WORKFLOW_BATCHES ?? 200);
const BATCH = 50;

// ---- What to send -----------------------------------------------------------------------------------

const lw = { role: 'linkWorker', id: 'lw-1' } as const;
const sup = { role: 'supervisor', id: 'sup-1' } as const;
const swemwbs = { instrument: 'SWEMWBS', answers: [3, 3, 3, 3, 3, 3, 3] };

/** A payload each command's schema accepts: the base every mutation starts from. */
const VALID: Record<CommandType, Record<string, unknown>> = {
  'TRIAGE.ACCEPT': { actor: lw },
  'TRIAGE.DECLINE': { reason: 'Not suitable', actor: lw },
  'TRIAGE.REDIRECT': { service: 'Mental health team', reason: 'Clinical need', actor: lw },
  'CONTACT.ATTEMPT': { outcome: 'reached', channel: 'phone', actor: lw },
  'VISIT.RECORD': { location: 'cafe', durationMinutes: 90, measures: [swemwbs], barriers: ['transport'], actor: lw },
  'PLAN.DRAFT': {
    goals: [{ id: 'g1', text: 'Walk weekly' }],
    activities: [{ id: 'a1', category: 'active', name: 'Walking group', provider: 'Parks' }],
    barrierActions: [{ barrier: 'transport', action: 'transportArranged', note: 'Bus pass' }],
    tier: 'standard',
    volunteer: false,
    actor: lw,
  },
  'PLAN.AGREE': { party: 'person', actor: { role: 'person', id: 'self' } },
  'SESSION.LOG': { kind: 'phone', attended: true, durationMinutes: 30, withVolunteer: false, actor: lw },
  'TIER.CHANGE': { tier: 'intensive', reason: 'Needs more', actor: lw },
  'VOLUNTEER.MATCHED': { volunteerId: 'vol-1', actor: lw },
  'CHECKIN.RECORD': { measures: [swemwbs], actor: lw },
  'REVIEW.RECORD': { measures: [swemwbs], goalsMet: 'some', outcome: 'extend', extensionWeeks: 2, actor: lw },
  'EXTENSION.APPROVE': { actor: sup },
  'EXTENSION.REFUSE': { reason: 'Enough support', actor: sup },
  'BEFRIENDING.RESULT': { result: 'waiting', service: 'Befrienders', actor: lw },
  'SAFEGUARDING.RAISE': { category: 'neglect', actor: lw },
  'SAFEGUARDING.CLEAR': { actor: sup },
  'ESCALATION.ACK': { escalationId: 'fz-none', actor: sup },
  DISCHARGE: { reason: 'withdrew', actor: lw },
  'DUPLICATE.RESOLVE': { resolution: 'notDuplicate', actor: sup },
};

const marked = (a: fc.Arbitrary<string>) => a.map((s) => `${ECHO}${s}`);
const weirdString: fc.Arbitrary<string> = fc.oneof(
  marked(fc.string({ unit: 'grapheme', maxLength: 30 })),
  marked(fc.string({ unit: 'binary', maxLength: 30 })),
  marked(fc.constantFrom('\u202egnp.exe', 'a\u0000b', '\ud800', 'e\u0301\u0301\u0301', '👨‍👩‍👧‍👦', 'DROP TABLE cases;--', '${7*7}', '<img src=x>', '../../etc/passwd', ' padded ')),
  // Huge: far past every limit, in characters that are several bytes each.
  fc.integer({ min: 501, max: 60_000 }).map((n) => `${ECHO}${'é'.repeat(n)}`),
  fc.constantFrom('', ' ', '\t\n'),
);
const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(weirdString, { maxLength: 3 }),
  fc.dictionary(weirdString, weirdString, { maxKeys: 3 }),
  weirdString,
);
const badNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ max: -1 }),
  fc.integer({ min: 1441 }),
  fc.double({ min: 0.01, max: 1e6, noInteger: true, noNaN: true }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, 1e308, -1e-9),
);
/** Wellbeing scores out of range, the wrong number of answers, an unknown instrument. */
const badMeasures: fc.Arbitrary<unknown> = fc.oneof(
  fc
    .record({
      instrument: fc.constantFrom('SWEMWBS', 'GAD7', 'PHQ9', 'UCLA3', 'ONS4'),
      answers: fc.array(fc.oneof(fc.integer({ min: -20, max: 40 }), fc.double({ noNaN: true })), { maxLength: 12 }),
    })
    .map((m) => [m]),
  marked(fc.string({ maxLength: 8 })).map((instrument) => [{ instrument, answers: [1, 2, 3] }]),
);

type Path = Array<string | number>;

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [];
  const entries: Array<[string | number, unknown]> = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
}

const REMOVE = Symbol('remove');

function setAt(value: unknown, path: Path, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  const next = setAt(copy[head!], rest, replacement);
  if (next === REMOVE) delete copy[head!];
  else copy[head!] = next;
  return copy;
}

/** One change to a valid payload: a field dropped, or given a wrong type, a weird or huge string, a bad number or bad scores. */
function mutation(template: unknown): fc.Arbitrary<(v: unknown) => unknown> {
  const paths = pathsOf(template);
  return fc.record({
    path: fc.constantFrom(...paths),
    to: fc.oneof(
      { weight: 2, arbitrary: fc.constant<unknown>(REMOVE) },
      { weight: 3, arbitrary: wrongType },
      { weight: 3, arbitrary: weirdString },
      { weight: 2, arbitrary: badNumber },
      { weight: 1, arbitrary: badMeasures },
    ),
  }).map(({ path, to }) => (v: unknown) => setAt(v, path, to));
}

/** As the worker will see it: JSON, so undefined fields vanish and NaN is null. */
function asSent(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** A payload that fails the command's schema, so the validator must refuse it as invalid. */
function invalidPayload(type: CommandType): fc.Arbitrary<unknown> {
  const schema = commandSchemas[type];
  const template = VALID[type];
  return fc
    .oneof(
      { weight: 6, arbitrary: fc.array(mutation(template), { minLength: 1, maxLength: 3 }).map((ms) => ms.reduce<unknown>((v, m) => m(v), template)) },
      { weight: 1, arbitrary: fc.anything({ maxDepth: 2, stringUnit: 'binary' }) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(undefined, null, [], {}, 0, '', [template]) },
    )
    .map(asSent)
    .filter((v) => !schema.safeParse(v).success);
}

// ---- Which moves each stage refuses ---------------------------------------------------------------

/** Allowed (by event type) in each stage, from the machine; a guard may still refuse them. */
const ALLOWED: Record<Stage, CommandType[]> = {
  triage: ['TRIAGE.ACCEPT', 'TRIAGE.DECLINE', 'TRIAGE.REDIRECT'],
  allocating: [],
  waitlisted: [],
  firstContact: ['CONTACT.ATTEMPT'],
  firstVisit: ['VISIT.RECORD'],
  coProducedPlan: ['PLAN.DRAFT', 'PLAN.AGREE'],
  support: ['TIER.CHANGE', 'SESSION.LOG', 'CHECKIN.RECORD', 'VOLUNTEER.MATCHED'],
  review: ['REVIEW.RECORD'],
  extensionPending: ['EXTENSION.APPROVE', 'EXTENSION.REFUSE'],
  befriendingHandoff: ['BEFRIENDING.RESULT'],
  onHold: ['SAFEGUARDING.CLEAR'],
  discharged: [],
};
/** Taken in every open stage (with guards), so never sent as a "wrong state" probe. */
const EVERYWHERE: CommandType[] = ['DISCHARGE', 'ESCALATION.ACK', 'SAFEGUARDING.RAISE', 'DUPLICATE.RESOLVE'];

/** Valid payloads whose event the stage does not take at all. */
function wrongState(stage: Stage): fc.Arbitrary<{ type: CommandType; payload: unknown }> {
  const types = COMMAND_TYPES.filter((t) => !ALLOWED[stage].includes(t) && !EVERYWHERE.includes(t));
  return fc.constantFrom(...types).map((type) => ({ type, payload: VALID[type] }));
}

const dupMeasures = [swemwbs, swemwbs];
/** Valid payloads of an event the stage takes, that its guard refuses for this case as it stands. */
const GUARDED: Partial<Record<Stage, Array<{ type: CommandType; payload: unknown }>>> = {
  firstVisit: [{ type: 'VISIT.RECORD', payload: { ...VALID['VISIT.RECORD'], measures: dupMeasures } }],
  coProducedPlan: [
    { type: 'PLAN.DRAFT', payload: { ...VALID['PLAN.DRAFT'], tier: 'platinum' } },
    { type: 'PLAN.DRAFT', payload: { ...VALID['PLAN.DRAFT'], goals: [{ id: 'g1', text: 'a' }, { id: 'g1', text: 'b' }] } },
    { type: 'PLAN.AGREE', payload: { party: 'linkWorker', actor: { role: 'person', id: 'self' } } },
  ],
  support: [
    { type: 'SESSION.LOG', payload: { ...VALID['SESSION.LOG'], withVolunteer: true } },
    { type: 'TIER.CHANGE', payload: { ...VALID['TIER.CHANGE'], tier: 'standard' } },
    { type: 'TIER.CHANGE', payload: { ...VALID['TIER.CHANGE'], tier: 'platinum' } },
    { type: 'VOLUNTEER.MATCHED', payload: VALID['VOLUNTEER.MATCHED'] },
    { type: 'CHECKIN.RECORD', payload: { measures: dupMeasures, actor: lw } },
  ],
  review: [
    { type: 'REVIEW.RECORD', payload: { ...VALID['REVIEW.RECORD'], extensionWeeks: 40 } },
    { type: 'REVIEW.RECORD', payload: { ...VALID['REVIEW.RECORD'], outcome: 'discharge', measures: dupMeasures } },
  ],
  extensionPending: [
    { type: 'EXTENSION.APPROVE', payload: { actor: lw } },
    { type: 'EXTENSION.REFUSE', payload: { reason: 'No', actor: { role: 'host', id: 'gp-system' } } },
  ],
  onHold: [
    { type: 'SAFEGUARDING.CLEAR', payload: { actor: lw } },
    { type: 'DISCHARGE', payload: { reason: 'withdrew', actor: lw } },
  ],
};

interface Probe {
  type: CommandType;
  payload: unknown;
  expected: 'InvalidCommand' | 'CommandNotAllowed';
}

function probeFor(c: FuzzCase): fc.Arbitrary<Probe> {
  const invalid = fc.constantFrom(...COMMAND_TYPES).chain((type) => invalidPayload(type).map((payload): Probe => ({ type, payload, expected: 'InvalidCommand' })));
  const ack = (escalationId: string, actor: object) => ({ type: 'ESCALATION.ACK' as CommandType, payload: { escalationId, actor } });
  const guarded = [...(GUARDED[c.stage] ?? []), ...c.openEscalations.map((id) => ack(id, lw))];
  const notAllowed = fc.oneof(
    wrongState(c.stage),
    // An escalation this case never raised, even from a supervisor.
    fc.stringMatching(/^fz-[a-z0-9]{1,12}$/).map((id) => ack(id, sup)),
    ...(guarded.length > 0 ? [fc.constantFrom(...guarded)] : []),
  ).map((p): Probe => ({ ...p, expected: 'CommandNotAllowed' }));
  return fc.oneof({ weight: 3, arbitrary: invalid }, { weight: 2, arbitrary: notAllowed });
}

/** What went wrong with one refusal, or undefined if it was refused as it should be. */
function judge(probe: Probe, outcome: unknown): string | undefined {
  if (!(outcome instanceof WorkflowUpdateFailedError)) return `${probe.type}: not refused by the validator (${outcome instanceof Error ? outcome.message : 'accepted'})`;
  const cause = outcome.cause;
  if (!(cause instanceof ApplicationFailure)) return `${probe.type}: refused without an ApplicationFailure`;
  if (cause.type !== probe.expected) return `${probe.type}: refused as ${cause.type}, expected ${probe.expected}: ${cause.message}`;
  const prefix = `${probe.type} refused: `;
  if (!cause.message.startsWith(prefix) || cause.message.length < prefix.length + 5) return `${probe.type}: unclear message ${JSON.stringify(cause.message)}`;
  if (`${cause.message}${JSON.stringify(cause.details ?? [])}`.includes(ECHO)) return `${probe.type}: the refusal repeats what was sent`;
  if (probe.expected === 'InvalidCommand' && !((cause.details?.[0] as { issues?: unknown[] } | undefined)?.issues?.length)) return `${probe.type}: no issues listed`;
  return undefined;
}

// ---- Cases in every stage ---------------------------------------------------------------------------

const taskQueue = uniqueTaskQueue('fuzz');
const schemeId = `fuzz-${taskQueue.slice(-8)}`;
// Real-time deadlines (days and weeks) never fire during the run; the review falls due at once
// where a case is to be fuzzed at or after its review.
const quickReview = parsePolicy({ schemeId, deadlines: { review: 1000 } });
const slowReview = parsePolicy({ schemeId, deadlines: { review: '100w' } });

const TARGETS: Array<{ stage: Stage; scenario: Scenario; until: (v: CaseView) => boolean }> = [
  { stage: 'triage', scenario: 'connected', until: (v) => v.stage === 'triage' },
  { stage: 'firstContact', scenario: 'connected', until: (v) => v.stage === 'firstContact' },
  { stage: 'firstVisit', scenario: 'connected', until: (v) => v.stage === 'firstVisit' },
  { stage: 'coProducedPlan', scenario: 'befriended', until: (v) => v.stage === 'coProducedPlan' && v.plan.draft !== undefined },
  { stage: 'support', scenario: 'befriended', until: (v) => v.stage === 'support' },
  { stage: 'review', scenario: 'befriended', until: (v) => v.stage === 'review' },
  { stage: 'extensionPending', scenario: 'extended', until: (v) => v.stage === 'extensionPending' },
  { stage: 'befriendingHandoff', scenario: 'befriended', until: (v) => v.stage === 'befriendingHandoff' },
  { stage: 'onHold', scenario: 'safeguarding', until: (v) => v.stage === 'onHold' },
];

interface FuzzCase {
  stage: Stage;
  /** Open escalations, which only a supervisor may acknowledge. */
  openEscalations: string[];
  caseId: string;
  historyLength: number;
  sequence: number;
  lane: Semaphore;
}

/** The history length once the case has stopped moving on its own: no activity pending, nothing new for a while. */
async function settled(temporal: Client, caseId: string): Promise<number> {
  const handle = temporal.workflow.getHandle(caseId);
  let last = -1;
  for (;;) {
    const pending = (await handle.describe()).raw.pendingActivities?.length ?? 0;
    const length = (await handle.fetchHistory()).events!.length;
    if (pending === 0 && length === last) return length;
    last = length;
    await new Promise((r) => setTimeout(r, 700));
  }
}

let client: PathwayClient;
let worker: Worker;
let closeWorker: () => Promise<void>;
let running: Promise<void>;
const fuzzCases: FuzzCase[] = [];
const figures = { workflowInputs: 0, referInputs: 0, sendInputs: 0, schemaInputs: 0 };

beforeAll(async () => {
  quietRuntime();
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  ({ worker, close: closeWorker } = await startPathwayWorker({ address, namespace, taskQueue }));
  running = worker.run();
  client = await PathwayClient.connect({ address, namespace, taskQueue, codec: await testCodec(), personKey: PersonKey.generate() });
  await client.setRoster(schemeId, [{ id: 'lw-1' }]);
  const people = planCohort(rng(SEED), TARGETS.length, schemeId, `fz-${taskQueue.slice(-8)}`);
  const stats = newStats();
  await mapLimit(TARGETS, TARGETS.length, async (target, i) => {
    const c = people[i]!;
    await client.refer(c.referral, { policy: target.stage === 'support' ? slowReview : quickReview });
    const reached = await driveCase(client.temporal, c.caseId, target.scenario, stats, { giveUpMs: 60_000, until: target.until });
    // A case handed off to befriending hears from its befriending connection just after: wait for that.
    const v =
      target.stage === 'befriendingHandoff' ? await client.waitFor(c.caseId, (x) => (x.connections ?? []).some((n) => n.status === 'sent'), { timeoutMs: 60_000 }) : reached;
    const historyLength = await settled(client.temporal, c.caseId);
    fuzzCases[i] = { stage: target.stage, openEscalations: v.openEscalations.map((e) => e.id), caseId: c.caseId, historyLength, sequence: v.sequence, lane: new Semaphore(8) };
  });
});

afterAll(async () => {
  await client?.close();
  worker?.shutdown();
  await running;
  await closeWorker?.();
  console.log(
    `[fuzz] inputs refused: ${figures.workflowInputs} through the case workflow's validators, ${figures.referInputs} referrals and ` +
      `${figures.sendInputs} commands through the client, ${figures.schemaInputs} straight through the command schemas; ` +
      `total ${figures.workflowInputs + figures.referInputs + figures.sendInputs + figures.schemaInputs}`,
  );
});

describe('the case workflow', () => {
  it(`refuses ${WORKFLOW_BATCHES * BATCH} generated commands across every stage, and no case changes`, { timeout: 600_000 }, async () => {
    const temporal: Client = client.temporal;
    const probes = fc.array(
      fc.integer({ min: 0, max: TARGETS.length - 1 }).chain((i) => probeFor(fuzzCases[i]!).map((probe) => ({ i, probe }))),
      { minLength: BATCH, maxLength: BATCH },
    );
    await fc.assert(
      fc.asyncProperty(probes, async (batch) => {
        const problems = (
          await mapLimit(batch, 32, ({ i, probe }) =>
            fuzzCases[i]!.lane.run(async () => {
              figures.workflowInputs += 1;
              const handle = temporal.workflow.getHandle(fuzzCases[i]!.caseId);
              const outcome = await handle.executeUpdate(commandUpdates[probe.type] as never, { args: [probe.payload] }).then(
                () => undefined,
                (err: unknown) => err,
              );
              const problem = judge(probe, outcome);
              return problem && `${fuzzCases[i]!.stage}: ${problem}`;
            }),
          )
        ).filter((p): p is string => p !== undefined);
        expect(problems).toEqual([]);
      }),
      // No shrinking: each step would resend a whole batch, and the failing batch already lists every problem.
      { seed: SEED, numRuns: WORKFLOW_BATCHES, endOnFailure: true },
    );

    for (const c of fuzzCases) {
      const handle = temporal.workflow.getHandle(c.caseId);
      const events = (await handle.fetchHistory()).events!;
      expect(events.slice(c.historyLength).map((e) => e.eventType), `${c.stage}: events added`).toEqual([]);
      expect(events.length, `${c.stage}: history length`).toBe(c.historyLength);
      expect(await workflowTaskFailures(temporal, c.caseId), `${c.stage}: failed workflow tasks`).toEqual([]);
      const v = await handle.query(caseViewQuery);
      expect([v.stage, v.sequence]).toEqual([c.stage, c.sequence]);
      // Unharmed: a supervisor can still close it.
      const closed = await client.discharge(c.caseId, { reason: 'withdrew', actor: sup });
      expect(closed.stage).toBe('discharged');
    }
  });
});

describe('the client SDK', () => {
  const template: HostReferral = {
    referralId: 'ref-fuzz-1',
    schemeId,
    route: 'GP',
    area: 'Bogside',
    needs: ['loneliness'],
    consent: true,
    person: { givenName: 'Fuzz', familyName: 'Person', dateOfBirth: '1950-03-14', nhsNumber: '9434765919', contact: { phone: '07700 900123' } },
  };
  /** Would the client refuse it? Its schema, then the age the date of birth gives. */
  const refused = (input: unknown) => {
    const parsed = hostReferralSchema.safeParse(input);
    return !parsed.success || !referralFactsSchema.safeParse(referralFacts(parsed.data, Date.now())).success;
  };
  const badReferral = fc
    .oneof(
      { weight: 8, arbitrary: fc.array(mutation(template), { minLength: 1, maxLength: 3 }).map((ms) => ms.reduce<unknown>((v, m) => m(v), template)) },
      // Dates of birth that exist but give an age outside 0-130, or are not dates at all.
      { weight: 2, arbitrary: fc.constantFrom('1850-01-01', '2999-12-31', '1950-02-30', '1950-13-01', '14/03/1950').map((dateOfBirth) => ({ ...template, person: { ...template.person, dateOfBirth } })) },
      { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
    )
    .map(asSent)
    .filter(refused);

  it('refuses generated referrals before anything is started, naming fields and never repeating values', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(badReferral, async (input) => {
        figures.referInputs += 1;
        const error = await client.refer(input as HostReferral).then(() => undefined, (err: unknown) => err);
        expect(error).toBeInstanceOf(InvalidInputError);
        const { issues, message } = error as InvalidInputError;
        expect(issues.length).toBeGreaterThan(0);
        expect(`${message}${JSON.stringify(issues)}`).not.toContain(ECHO);
      }),
      { seed: SEED, numRuns: 2000 },
    );
    // Only the cases this file opened on purpose exist on its task queue.
    let cases = 0;
    for await (const _ of client.temporal.workflow.list({ query: `TaskQueue = '${taskQueue}' AND WorkflowType = 'pathwayCase'` })) cases += 1;
    expect(cases).toBe(TARGETS.length);
  });

  it('refuses generated command payloads before sending them', { timeout: 120_000 }, async () => {
    const caseId = fuzzCases[0]!.caseId;
    const before = (await client.temporal.workflow.getHandle(caseId).fetchHistory()).events!.length;
    const input = fc.constantFrom(...COMMAND_TYPES).chain((type) => invalidPayload(type).map((payload) => ({ type, payload })));
    await fc.assert(
      fc.asyncProperty(input, async ({ type, payload }) => {
        figures.sendInputs += 1;
        const error = await client.send(caseId, type, payload as never).then(() => undefined, (err: unknown) => err);
        expect(error).toBeInstanceOf(InvalidInputError);
        expect((error as InvalidInputError).message).not.toContain(ECHO);
      }),
      { seed: SEED, numRuns: 3000 },
    );
    expect((await client.temporal.workflow.getHandle(caseId).fetchHistory()).events!.length).toBe(before);
  });

  it('the command schemas behind the validators never throw, and describe every refusal by path without the value', () => {
    const input = fc.constantFrom(...COMMAND_TYPES).chain((type) => fc.oneof(invalidPayload(type), fc.anything()).map((payload) => ({ type, payload })));
    fc.assert(
      fc.property(input, ({ type, payload }) => {
        figures.schemaInputs += 1;
        const result = commandSchemas[type].safeParse(payload);
        if (result.success) return;
        const described = describeIssues(result.error.issues);
        expect(described.length).toBeGreaterThan(0);
        expect(described).not.toContain(ECHO);
      }),
      { seed: SEED, numRuns: 10_000 },
    );
  });
});
