// The client SDK against a real dev server and worker: referrals (idempotent, conflicting,
// duplicate people), every pathway command, every list filter, and the typed errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CaseNotFoundError,
  CommandRefusedError,
  ConflictingReferralError,
  InvalidInputError,
  PathwayClient,
  SchemeNotFoundError,
  type CaseView,
  type CommandType,
} from '../../client';
import { COMMAND_TYPES } from '../../machines';
import { personFingerprints } from '../../client/person';
import { personIndexShard, personIndexSizeQuery, personIndexWorkflowId } from '../../workflows/person-index-definitions';
import type { personIndex } from '../../workflows/person-index';
import { clientHarness, hostReferral, syntheticNhsNumber, lw, poll, quickPolicy, self, sup, swemwbs, uniqueScheme, worker, type ClientHarness } from './client.harness';

describe('PathwayClient on a dev server', () => {
  let h: ClientHarness;
  let client: PathwayClient;
  const scheme = uniqueScheme('client');
  const sent = new Set<CommandType>();

  beforeAll(async () => {
    h = await clientHarness('client');
    client = await h.connect({ policies: { [scheme]: quickPolicy(scheme, {}, 3000) } });
    await client.setRoster(scheme, [{ id: 'lw-1' }, { id: 'lw-2', cap: 1 }]);
  });
  afterAll(async () => {
    await h?.close();
  });

  // Every command goes through here, so the last test can check that none was left out.
  const send = async <K extends CommandType>(caseId: string, type: K, payload: Parameters<PathwayClient['send']>[2]): Promise<CaseView> => {
    await client.send(caseId, type, payload as never);
    sent.add(type);
    // A command answers what changed; these tests read the whole case after each.
    return client.getCase(caseId);
  };

  describe('refer', () => {
    it('opens a case from facts only and computes the age; nothing about the person reaches the case', async () => {
      const nhsNumber = syntheticNhsNumber();
      const referral = hostReferral(scheme, { referredAt: '2024-06-01T09:00:00Z', person: { givenName: 'Ada', familyName: 'Example', dateOfBirth: '1944-06-02', nhsNumber } });
      const r = await client.refer(referral);
      expect(r.created).toBe(true);
      expect(r.possibleDuplicates).toEqual([]);
      expect(r.case.caseId).toBe(PathwayClient.caseIdFor(referral.referralId));
      expect(r.case.stage).toBe('triage');
      expect(r.case.intakeDigest).toMatch(/^[0-9a-f]{64}$/);
      const record = await client.outcomeRecord(r.case.caseId);
      // One day short of her 80th birthday on the referral date.
      expect(record.ageBand).toBe('75-84');
      const history = JSON.stringify(await client.temporal.workflow.getHandle(r.case.caseId).fetchHistory());
      expect(history).not.toContain('Example');
      expect(history).not.toContain(nhsNumber);
      expect(history).not.toContain('1944-06-02');
    });

    it('returns the existing case for a repeated referral, and refuses a conflicting one', async () => {
      const referral = hostReferral(scheme);
      const first = await client.refer(referral);
      const again = await client.refer(structuredClone(referral));
      expect(again.created).toBe(false);
      expect(again.case.caseId).toBe(first.case.caseId);
      expect(again.case.intakeDigest).toBe(first.case.intakeDigest);
      // Spaces in the NHS number and key order do not make a different referral.
      const nhs = referral.person.nhsNumber!;
      const respaced = { ...referral, person: { dateOfBirth: referral.person.dateOfBirth, nhsNumber: `${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}`, familyName: referral.person.familyName, givenName: referral.person.givenName } };
      expect((await client.refer(respaced)).created).toBe(false);

      const conflicting = client.refer({ ...referral, needs: ['debt'] });
      await expect(conflicting).rejects.toBeInstanceOf(ConflictingReferralError);
      await expect(conflicting).rejects.toMatchObject({ code: 'CONFLICTING_REFERRAL', referralId: referral.referralId });
    });

    it('returns the closed case for a repeat of a discharged referral', async () => {
      const referral = hostReferral(scheme, { flags: ['severeMentalIllness'] });
      const first = await client.refer(referral);
      expect(first.case.stage).toBe('discharged');
      expect(first.case.discharge?.reason).toBe('redirected');
      await client.temporal.workflow.getHandle(first.case.caseId).result();
      const again = await client.refer(referral);
      expect(again).toMatchObject({ created: false, case: { caseId: first.case.caseId, stage: 'discharged' } });
      await expect(client.refer({ ...referral, area: 'Elsewhere' })).rejects.toBeInstanceOf(ConflictingReferralError);
    });

    it('flags a likely duplicate person by NHS number and by name and date of birth', async () => {
      const a = hostReferral(scheme);
      const first = await client.refer(a);
      // Same NHS number, name written differently.
      const b = await client.refer(hostReferral(scheme, { person: { ...a.person, givenName: 'someone else' } }));
      expect(b.created).toBe(true);
      expect(b.possibleDuplicates).toEqual([{ caseId: first.case.caseId, match: 'nhsNumber' }]);
      // Kept in the case, where a supervisor answers it.
      expect(b.case.possibleDuplicates?.cases).toEqual(b.possibleDuplicates);
      const cleared = await send(b.case.caseId, 'DUPLICATE.RESOLVE', { resolution: 'notDuplicate', actor: sup });
      expect(cleared.possibleDuplicates?.resolution?.resolution).toBe('notDuplicate');
      // No NHS number, same name (cased and spaced differently) and date of birth.
      const { nhsNumber: _n, ...noNhs } = a.person;
      const c = await client.refer(hostReferral(scheme, { person: { ...noNhs, familyName: ` ${a.person.familyName.toUpperCase()} ` } }));
      expect(c.possibleDuplicates).toEqual([{ caseId: first.case.caseId, match: 'nameAndDateOfBirth' }]);
      // Repeating a referral gives the same answer and adds nothing to the index.
      // The shards a's fingerprints fall in (the index is sharded by fingerprint).
      const shards = [...new Set(Object.values(personFingerprints(h.personKey, a.person)).map(personIndexShard))];
      const size = () => Promise.all(shards.map((shard) => client.temporal.workflow.getHandle<typeof personIndex>(personIndexWorkflowId(scheme, shard)).query(personIndexSizeQuery)));
      const before = await size();
      expect((await client.refer(a)).possibleDuplicates).toEqual([
        { caseId: b.case.caseId, match: 'nhsNumber' },
        { caseId: c.case.caseId, match: 'nameAndDateOfBirth' },
      ]);
      expect(await size()).toEqual(before);
      // Another scheme's index is its own.
      const other = uniqueScheme('client-other');
      expect((await client.refer(hostReferral(other, { person: a.person }))).possibleDuplicates).toEqual([]);
    });

    it('rejects invalid referrals client-side, naming the field', async () => {
      const bad = [
        [{ person: { givenName: 'A', familyName: 'B', dateOfBirth: '1950-02-30' } }, 'person.dateOfBirth'],
        [{ person: { givenName: 'A', familyName: 'B', dateOfBirth: '1950-02-03', nhsNumber: '1234567890' } }, 'person.nhsNumber'],
        [{ route: 'carrierPigeon' }, 'route'],
        [{ referralId: 'has spaces' }, 'referralId'],
        [{ person: { givenName: 'A', familyName: 'B', dateOfBirth: '2999-01-01' } }, 'person.dateOfBirth'],
        [{ notes: 'free text' }, '(input)'],
        // Ids become plaintext workflow ids: an NHS number or a date of birth is refused in one.
        [{ referralId: '9434765919' }, 'referralId'],
        [{ referralId: 'Jane.Doe_1950-03-14' }, 'referralId'],
      ] as const;
      for (const [override, path] of bad) {
        const err = await client.refer({ ...hostReferral(scheme), ...(override as object) }).catch((e: unknown) => e);
        expect(err, path).toBeInstanceOf(InvalidInputError);
        expect((err as InvalidInputError).issues.map((i) => i.path)).toContain(path);
        // The message names the field, never the value sent.
        expect((err as Error).message).not.toContain('free text');
      }
    });

    it('refuses a policy whose exclusion reason could never fit the referrer notice, before any case starts', async () => {
      const policy = { exclusions: [{ flag: 'respite', service: "Carers' respite service", reason: 'x'.repeat(501) }] };
      const referral = hostReferral(scheme);
      const err = await client.refer(referral, { policy }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as InvalidInputError).issues.map((i) => i.path)).toContain('exclusions[0].reason');
      await expect(client.getCase(`case-${referral.referralId}`)).rejects.toThrow();
    });
  });

  describe('commands', () => {
    it('walks one case through triage, contact, visit, plan, support, hold, review, extension and befriending', async () => {
      const { case: c } = await client.refer(hostReferral(scheme));
      const id = c.caseId;
      await send(id, 'TRIAGE.ACCEPT', { actor: lw });
      const w = worker(await client.waitFor(id, 'firstContact'));
      await send(id, 'CONTACT.ATTEMPT', { outcome: 'noAnswer', channel: 'phone', actor: w });
      expect((await send(id, 'CONTACT.ATTEMPT', { outcome: 'reached', channel: 'phone', actor: w })).stage).toBe('firstVisit');
      expect(
        (await send(id, 'VISIT.RECORD', { location: 'home', durationMinutes: 120, measures: [swemwbs([2, 2, 2, 3, 2, 2, 2])], barriers: ['transport'], actor: w })).stage,
      ).toBe('coProducedPlan');
      await send(id, 'PLAN.DRAFT', {
        goals: [{ id: 'g1', text: 'Back to the lunch club' }],
        activities: [{ id: 'a1', category: 'connecting', name: 'Lunch club' }],
        barrierActions: [{ barrier: 'transport', action: 'transportArranged' }],
        tier: 'standard',
        volunteer: true,
        actor: w,
      });
      await send(id, 'PLAN.AGREE', { party: 'person', actor: self });
      expect((await send(id, 'PLAN.AGREE', { party: 'linkWorker', actor: w })).stage).toBe('support');
      await send(id, 'VOLUNTEER.MATCHED', { volunteerId: 'vol-7', actor: w });
      await send(id, 'SESSION.LOG', { kind: 'accompaniedActivity', attended: true, durationMinutes: 90, withVolunteer: true, actor: w });
      expect((await send(id, 'TIER.CHANGE', { tier: 'intensive', reason: 'needs more support', actor: w })).tier).toBe('intensive');
      await send(id, 'CHECKIN.RECORD', { measures: [swemwbs([3, 3, 3, 3, 3, 3, 3])], actor: w });

      const held = await send(id, 'SAFEGUARDING.RAISE', { category: 'selfNeglect', actor: w });
      expect(held.stage).toBe('onHold');
      const concern = held.openEscalations.find((e) => e.type === 'SAFEGUARDING')!;
      const acked = await send(id, 'ESCALATION.ACK', { escalationId: concern.id, actor: sup });
      expect(acked.openEscalations).toEqual([]);
      expect((await send(id, 'SAFEGUARDING.CLEAR', { actor: sup })).stage).toBe('support');

      await client.waitFor(id, ['review'], { intervalMs: 100 });
      const pending = await send(id, 'REVIEW.RECORD', { measures: [swemwbs([4, 4, 3, 4, 4, 4, 3])], goalsMet: 'some', outcome: 'extend', extensionWeeks: 1, actor: w });
      expect(pending.stage).toBe('extensionPending');
      expect(pending.openEscalations.map((e) => e.type)).toContain('EXTENSION_APPROVAL');
      expect((await send(id, 'EXTENSION.REFUSE', { reason: 'plan complete enough', actor: sup })).stage).toBe('review');
      await send(id, 'REVIEW.RECORD', { measures: [], goalsMet: 'some', outcome: 'extend', extensionWeeks: 1, actor: w });
      expect((await send(id, 'EXTENSION.APPROVE', { actor: sup })).stage).toBe('support');

      await client.waitFor(id, 'review');
      expect((await send(id, 'REVIEW.RECORD', { measures: [], goalsMet: 'all', outcome: 'befriend', actor: w })).stage).toBe('befriendingHandoff');
      expect((await send(id, 'BEFRIENDING.RESULT', { result: 'waiting', actor: w })).stage).toBe('befriendingHandoff');
      const done = await send(id, 'BEFRIENDING.RESULT', { result: 'accepted', service: 'Age UK befriending', actor: w });
      expect(done.stage).toBe('discharged');
      expect(done.discharge?.reason).toBe('handedOff');
      expect((await client.timeline(id)).map((t) => t.event)).toEqual(expect.arrayContaining(['REFERRAL', 'DEADLINE.REVIEW', 'BEFRIENDING.RESULT']));
    });

    it('declines, redirects and discharges', async () => {
      const [a, b, c] = await Promise.all([1, 2, 3].map(() => client.refer(hostReferral(scheme))));
      expect((await send(a!.case.caseId, 'TRIAGE.DECLINE', { reason: 'outside the area', actor: lw })).discharge?.reason).toBe('declined');
      expect((await send(b!.case.caseId, 'TRIAGE.REDIRECT', { service: 'Debt advice', reason: 'debt only', actor: lw })).discharge?.reason).toBe('redirected');
      await send(c!.case.caseId, 'TRIAGE.ACCEPT', { actor: lw });
      expect((await send(c!.case.caseId, 'DISCHARGE', { reason: 'withdrew', actor: sup })).discharge?.reason).toBe('withdrew');
    });

    it('has a named method for each command', async () => {
      const { case: c } = await client.refer(hostReferral(scheme));
      const v = await client.acceptReferral(c.caseId, { actor: lw });
      expect(v.stage).not.toBe('triage');
      expect((await client.discharge(c.caseId, { reason: 'movedAway', actor: sup })).discharge?.reason).toBe('movedAway');
    });

    it('says why a move was refused, with the stage', async () => {
      const { case: c } = await client.refer(hostReferral(scheme));
      const err = await client.recordFirstVisit(c.caseId, { location: 'home', durationMinutes: 60, measures: [], barriers: [], actor: lw }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommandRefusedError);
      expect(err).toMatchObject({ code: 'COMMAND_REFUSED', stage: 'triage', command: 'VISIT.RECORD', caseId: c.caseId });
      expect((err as CommandRefusedError).reason).toMatch(/allowed now: .*TRIAGE\.ACCEPT/);

      const notSupervisor = await client.clearSafeguarding(c.caseId, { actor: lw }).catch((e: unknown) => e);
      expect(notSupervisor).toBeInstanceOf(CommandRefusedError);

      await client.declineReferral(c.caseId, { reason: 'not eligible', actor: lw });
      await client.temporal.workflow.getHandle(c.caseId).result();
      const closed = await client.acceptReferral(c.caseId, { actor: lw }).catch((e: unknown) => e);
      expect(closed).toBeInstanceOf(CommandRefusedError);
      expect(closed).toMatchObject({ stage: 'discharged' });
    });

    it('validates payloads before sending and names the field', async () => {
      const { case: c } = await client.refer(hostReferral(scheme));
      const err = await client.recordContactAttempt(c.caseId, { outcome: 'maybe' as never, channel: 'phone', actor: lw }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidInputError);
      expect((err as InvalidInputError).issues[0]?.path).toBe('outcome');
      const badActor = await client.acceptReferral(c.caseId, { actor: { role: 'linkWorker', id: 'Jane Smith' } }).catch((e: unknown) => e);
      expect((badActor as InvalidInputError).issues[0]?.path).toBe('actor.id');
      await expect(client.send(c.caseId, 'NOPE' as CommandType, {} as never)).rejects.toBeInstanceOf(InvalidInputError);
      await expect(client.getCase('not-a-case')).rejects.toBeInstanceOf(InvalidInputError);
    });

    it('gives up waiting for a stage after the timeout', async () => {
      const { case: c } = await client.refer(hostReferral(scheme));
      await expect(client.waitFor(c.caseId, 'support', { timeoutMs: 300, intervalMs: 50 })).rejects.toThrow(/still at stage 'triage'/);
      expect((await client.waitFor(c.caseId, (v) => v.sequence >= 1)).stage).toBe('triage');
    });

    it('reports an unknown case as not found', async () => {
      await expect(client.getCase('case-nobody-here')).rejects.toBeInstanceOf(CaseNotFoundError);
      await expect(client.acceptReferral('case-nobody-here', { actor: lw })).rejects.toBeInstanceOf(CaseNotFoundError);
      await expect(client.caseloads(uniqueScheme('none'))).rejects.toBeInstanceOf(SchemeNotFoundError);
    });
  });

  describe('reading', () => {
    it('lists cases by scheme, stage, link worker, tier, escalated and open', async () => {
      const s = uniqueScheme('list');
      const c2 = await h.connect({ policies: { [s]: quickPolicy(s, {}, 60_000) } });
      await c2.setRoster(s, [{ id: 'lw-a' }]);
      const [triage, support, held, closed] = await Promise.all([1, 2, 3, 4].map(() => c2.refer(hostReferral(s))));
      const toSupport = async (id: string, tier: string) => {
        await c2.acceptReferral(id, { actor: lw });
        const w = worker(await poll(() => c2.getCase(id), (v) => v.stage === 'firstContact', 'a place'));
        await c2.recordContactAttempt(id, { outcome: 'reached', channel: 'phone', actor: w });
        await c2.recordFirstVisit(id, { location: 'cafe', durationMinutes: 60, measures: [], barriers: [], actor: w });
        await c2.draftPlan(id, { goals: [{ id: 'g', text: 'walk' }], activities: [{ id: 'a', category: 'active', name: 'Walking group' }], barrierActions: [], tier, volunteer: false, actor: w });
        await c2.agreePlan(id, { party: 'person', actor: self });
        return c2.agreePlan(id, { party: 'linkWorker', actor: w });
      };
      await toSupport(support!.case.caseId, 'light');
      await c2.acceptReferral(held!.case.caseId, { actor: lw });
      await c2.raiseSafeguarding(held!.case.caseId, { category: 'financialAbuse', actor: lw });
      await c2.declineReferral(closed!.case.caseId, { reason: 'duplicate', actor: lw });

      const ids = (rows: Array<{ caseId: string }>) => rows.map((r) => r.caseId).sort();
      const expectList = (filters: Parameters<PathwayClient['listCases']>[0], expected: string[]) =>
        poll(() => c2.listCases({ scheme: s, ...filters }), (rows) => JSON.stringify(ids(rows)) === JSON.stringify([...expected].sort()), `list ${JSON.stringify(filters)}`);

      const all = [triage, support, held, closed].map((r) => r!.case.caseId);
      await expectList({}, all);
      await expectList({ stage: 'triage' }, [triage!.case.caseId]);
      await expectList({ stage: 'support' }, [support!.case.caseId]);
      await expectList({ tier: 'light' }, [support!.case.caseId]);
      await expectList({ linkWorker: 'lw-a' }, [support!.case.caseId, held!.case.caseId]);
      await expectList({ escalated: true }, [held!.case.caseId]);
      await expectList({ escalated: false }, [triage!.case.caseId, support!.case.caseId, closed!.case.caseId]);
      await expectList({ open: false }, [closed!.case.caseId]);
      await expectList({ stage: 'discharged', open: false }, [closed!.case.caseId]);
      await expectList({ overdue: true }, []);
      const rows = await c2.listCases({ scheme: s, stage: 'support' });
      expect(rows[0]).toMatchObject({ stage: 'support', tier: 'light', linkWorkerId: 'lw-a', schemeId: s, open: true, escalated: false, overdue: false });
      expect(rows[0]!.nextDueAt).toBeGreaterThan(Date.now());
      expect(await c2.listCases({ scheme: s, limit: 2 })).toHaveLength(2);
      await expect(c2.listCases({ stage: 'nowhere' as never })).rejects.toBeInstanceOf(InvalidInputError);
      await expect(c2.listCases({ scheme: "x' OR 1=1" })).rejects.toBeInstanceOf(InvalidInputError);

      const escalations = await poll(() => c2.escalations({ scheme: s }), (e) => e.length === 1, 'the escalation');
      expect(escalations[0]).toMatchObject({ type: 'SAFEGUARDING', caseId: held!.case.caseId, caseStage: 'onHold', linkWorkerId: 'lw-a' });

      const loads = await c2.caseloads(s);
      expect(loads.linkWorkers).toEqual([{ id: 'lw-a', open: 2, cap: 25, cases: [held!.case.caseId, support!.case.caseId].sort() }]);
      expect((await c2.allCaseloads()).map((l) => l.schemeId)).toContain(s);
    });

    it('lists a case as overdue when a deadline passed and nothing acted on it (its worker is down)', async () => {
      const s = uniqueScheme('overdue');
      const queue = `${h.taskQueue}-stalled`;
      const stop = await h.startWorker(queue);
      const stalled = await h.connect({ taskQueue: queue, policies: { [s]: quickPolicy(s, { deadlines: { triage: 4000 } }) } });
      // refer returns once the case has run its first task, so its next due time is published.
      const { case: c } = await stalled.refer(hostReferral(s));
      await stop();
      const rows = await poll(() => stalled.listCases({ scheme: s, overdue: true }), (r) => r.length === 1, 'the overdue case', 10_000);
      expect(rows[0]).toMatchObject({ caseId: c.caseId, overdue: true });
      expect(await stalled.listCases({ scheme: s, overdue: false })).toEqual([]);
    });

    it('orders escalations oldest first across cases', async () => {
      const s = uniqueScheme('esc');
      const c3 = await h.connect({ policies: { [s]: quickPolicy(s) } });
      const first = await c3.refer(hostReferral(s));
      const second = await c3.refer(hostReferral(s));
      await c3.raiseSafeguarding(second.case.caseId, { category: 'neglect', actor: lw });
      await c3.raiseSafeguarding(first.case.caseId, { category: 'abuse', actor: lw });
      const list = await poll(() => c3.escalations({ scheme: s }), (e) => e.length === 2, 'two escalations');
      expect(list.map((e) => e.caseId)).toEqual([second.case.caseId, first.case.caseId]);
      expect(list[0]!.raisedAt).toBeLessThanOrEqual(list[1]!.raisedAt);
    });

    it('rejects a bad roster', async () => {
      await expect(client.setRoster(scheme, [{ id: 'a' }, { id: 'a' }])).rejects.toBeInstanceOf(InvalidInputError);
      await expect(client.setRoster(scheme, [{ id: 'Jane Smith' }])).rejects.toBeInstanceOf(InvalidInputError);
    });
  });

  it('sent every pathway command at least once', () => {
    expect([...sent].sort()).toEqual([...COMMAND_TYPES].sort());
  });
});
