// Consent at the door and the facts a host reads back, through the published client against a real
// dev server and worker: a referral without consent is refused before anything is stored; consent
// withdrawn makes the person index forget the case; barriers, redirects, possible duplicates and
// the person's own words are in the view, timeline and outcome record; a mental-health route and
// conversion are in the cohort report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRefusedError, ConsentRequiredError, PathwayClient } from '../../client';
import { personIndexSizeQuery, personIndexWorkflowId } from '../../workflows/person-index-definitions';
import type { personIndex } from '../../workflows/person-index';
import { allShards } from '../../activities/person-index';
import { clientHarness, hostReferral, lw, poll, quickPolicy, self, sup, swemwbs, uniqueScheme, type ClientHarness } from './client.harness';

describe('consent and readable facts', () => {
  let h: ClientHarness;
  let client: PathwayClient;
  const scheme = uniqueScheme('facts');

  beforeAll(async () => {
    h = await clientHarness('facts');
    client = await h.connect({ policies: { [scheme]: quickPolicy(scheme, {}, 1500) } });
    await client.setRoster(scheme, [{ id: 'lw-1' }]);
  });
  afterAll(async () => {
    await h?.close();
  });

  // The index is sharded by fingerprint: a scheme's figures are those of the shards that exist.
  const shardsOf = async (s: string) => {
    const found = await Promise.all(allShards().map(async (shard) => ((await exists(personIndexWorkflowId(s, shard))) ? shard : undefined)));
    return found.filter((shard): shard is string => shard !== undefined);
  };
  const indexSize = async (s: string) => {
    const sizes = await Promise.all(
      (await shardsOf(s)).map((shard) => client.temporal.workflow.getHandle<typeof personIndex>(personIndexWorkflowId(s, shard)).query(personIndexSizeQuery)),
    );
    return sizes.reduce((sum, size) => ({ fingerprints: sum.fingerprints + size.fingerprints, cases: sum.cases + size.cases }), { fingerprints: 0, cases: 0 });
  };
  const exists = (workflowId: string) =>
    client.temporal.workflow
      .getHandle(workflowId)
      .describe()
      .then(() => true, () => false);

  /** Accepted, reached and visited: the case is at its co-produced plan. */
  const toPlan = async (caseId: string, barriers: Array<'transport' | 'confidence' | 'money'>) => {
    await client.acceptReferral(caseId, { actor: lw });
    await client.waitFor(caseId, 'firstContact');
    await client.recordContactAttempt(caseId, { outcome: 'reached', channel: 'phone', actor: lw });
    await client.recordFirstVisit(caseId, { location: 'cafe', durationMinutes: 60, measures: [swemwbs([2, 2, 2, 2, 2, 2, 2])], barriers, actor: lw });
    return client.getCase(caseId);
  };
  const toSupport = async (caseId: string) => {
    await toPlan(caseId, []);
    await client.draftPlan(caseId, { goals: [{ id: 'g', text: 'Lunch club' }], activities: [{ id: 'a', category: 'connecting', name: 'Lunch club' }], barrierActions: [], tier: 'standard', volunteer: false, actor: lw });
    await client.agreePlan(caseId, { party: 'person', actor: self });
    return client.agreePlan(caseId, { party: 'linkWorker', actor: lw });
  };

  it('refuses a referral without consent and starts and stores nothing', async () => {
    const s = uniqueScheme('noconsent');
    const referral = hostReferral(s, { consent: false });
    const err = await client.refer(referral).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConsentRequiredError);
    expect(err).toMatchObject({ code: 'CONSENT_REQUIRED', field: 'consent', referralId: referral.referralId });
    expect((err as Error).message).not.toContain(referral.person.familyName);
    // No case, and no person index (so no fingerprint) for the scheme.
    expect(await exists(PathwayClient.caseIdFor(referral.referralId))).toBe(false);
    expect(await shardsOf(s)).toEqual([]);
    // The same referral with consent is a new case, not a conflicting repeat of a stored one.
    expect((await client.refer({ ...referral, consent: true })).created).toBe(true);
  });

  it('forgets the person in the index when they withdraw consent', async () => {
    const a = hostReferral(scheme);
    const first = await client.refer(a);
    const second = await client.refer(hostReferral(scheme, { person: a.person }));
    expect(second.possibleDuplicates).toEqual([{ caseId: first.case.caseId, match: 'nhsNumber' }]);
    const before = await indexSize(scheme);

    const closed = await client.discharge(first.case.caseId, { reason: 'consentWithdrawn', actor: lw });
    expect(closed.discharge?.reason).toBe('consentWithdrawn');
    // The case's own activity signals the index; its two fingerprints go, the second case's stay.
    // The case closes only once its effects are done, the signal to every shard among them.
    await client.temporal.workflow.getHandle(first.case.caseId).result();
    const forgotten = await indexSize(scheme);
    expect(forgotten.cases).toBeLessThan(before.cases);
    // A repeat of the withdrawn referral returns the closed case and does not put the person back.
    const repeat = await client.refer(a);
    expect(repeat).toMatchObject({ created: false, possibleDuplicates: [], case: { discharge: { reason: 'consentWithdrawn' } } });
    expect(await indexSize(scheme)).toEqual(forgotten);
    const third = await client.refer(hostReferral(scheme, { person: a.person }));
    expect(third.possibleDuplicates).toEqual([{ caseId: second.case.caseId, match: 'nhsNumber' }]);
    // Only the case id crossed to the index: its history holds no name.
    const histories = await Promise.all((await shardsOf(scheme)).map((shard) => client.temporal.workflow.getHandle(personIndexWorkflowId(scheme, shard)).fetchHistory()));
    const history = JSON.stringify(histories);
    expect(history).toContain('forgetCase');
    expect(history).not.toContain(a.person.familyName);
  });

  it('shows the barriers named at the first visit in the view and the outcome record', async () => {
    const { case: c } = await client.refer(hostReferral(scheme));
    const view = await toPlan(c.caseId, ['transport', 'confidence']);
    expect(view.firstVisit).toMatchObject({ location: 'cafe', durationMinutes: 60, barriers: ['transport', 'confidence'] });
    expect((await client.outcomeRecord(c.caseId)).barriers).toEqual(['transport', 'confidence']);
  });

  it('shows where a referral was redirected and why, in the view, timeline and outcome record', async () => {
    const { case: c } = await client.refer(hostReferral(scheme));
    await client.redirectReferral(c.caseId, { service: 'Community mental health team', reason: 'needs clinical care first', actor: lw });
    const view = await client.getCase(c.caseId);
    expect(view.triage).toMatchObject({ decision: 'redirected', service: 'Community mental health team', reason: 'needs clinical care first' });
    expect(view.timeline.at(-1)).toMatchObject({ event: 'TRIAGE.REDIRECT', to: 'discharged', detail: 'Community mental health team' });
    expect((await client.outcomeRecord(c.caseId)).redirect).toEqual({ service: 'Community mental health team', reason: 'needs clinical care first' });
  });

  it('keeps a possible duplicate in the case, lists it, and lets a supervisor resolve it', async () => {
    const s = uniqueScheme('dups');
    const c2 = await h.connect({ policies: { [s]: quickPolicy(s) } });
    const a = hostReferral(s);
    const first = await c2.refer(a);
    const second = await c2.refer(hostReferral(s, { person: { ...a.person, nhsNumber: undefined } as typeof a.person }));
    const third = await c2.refer(hostReferral(s, { person: a.person }));
    const flagged = [{ caseId: first.case.caseId, match: 'nameAndDateOfBirth' }];
    // In the case itself, not only in refer's answer.
    expect(second.case.possibleDuplicates).toMatchObject({ cases: flagged });
    expect((await c2.getCase(second.case.caseId)).possibleDuplicates?.cases).toEqual(flagged);
    expect((await c2.timeline(second.case.caseId)).map((t) => [t.event, t.detail])).toContainEqual(['DUPLICATES.FLAGGED', 'nameAndDateOfBirth']);
    expect((await c2.outcomeRecord(second.case.caseId)).possibleDuplicates).toEqual({ cases: flagged });
    // A repeat of the referral changes nothing in the case.
    const again = await c2.refer(hostReferral(s, { referralId: second.case.referralId, person: { ...a.person, nhsNumber: undefined } as typeof a.person }));
    expect(again.case.sequence).toBe((await c2.getCase(second.case.caseId)).sequence);

    const ids = (rows: Array<{ caseId: string }>) => rows.map((r) => r.caseId).sort();
    // A referral is flagged with the earlier cases it matches; the first case has nothing to match.
    expect(third.possibleDuplicates).toEqual([
      { caseId: first.case.caseId, match: 'nhsNumber' },
      { caseId: second.case.caseId, match: 'nameAndDateOfBirth' },
    ]);
    const listed = await poll(() => c2.listCases({ scheme: s, possibleDuplicate: true }), (rows) => rows.length === 2, 'two flagged cases');
    expect(ids(listed)).toEqual([second.case.caseId, third.case.caseId].sort());
    expect(listed.every((r) => r.possibleDuplicate)).toBe(true);

    // Only a supervisor resolves.
    await expect(c2.resolveDuplicate(second.case.caseId, { resolution: 'notDuplicate', actor: lw })).rejects.toBeInstanceOf(CommandRefusedError);
    await c2.resolveDuplicate(second.case.caseId, { resolution: 'notDuplicate', actor: sup });
    const cleared = await c2.getCase(second.case.caseId);
    expect(cleared.possibleDuplicates?.resolution).toMatchObject({ resolution: 'notDuplicate', by: sup });
    expect(cleared.stage).toBe('triage');
    const closed = await c2.resolveDuplicate(third.case.caseId, { resolution: 'duplicate', of: first.case.caseId, actor: sup });
    expect(closed.discharge?.reason).toBe('duplicate');
    expect((await c2.outcomeRecord(third.case.caseId)).possibleDuplicates?.resolution).toBe('duplicate');
    await poll(() => c2.listCases({ scheme: s, possibleDuplicate: true }), (rows) => rows.length === 0, 'no flag left unresolved');
    await poll(() => c2.listCases({ scheme: s, possibleDuplicate: false }), (rows) => rows.length === 3, 'every case unflagged');
  });

  it('keeps the person’s own account from the review, encrypted in history', async () => {
    const { case: c } = await client.refer(hostReferral(scheme));
    await toSupport(c.caseId);
    await client.waitFor(c.caseId, 'review');
    const words = 'I go to the café every day now';
    await client.recordReview(c.caseId, { measures: [], goalsMet: 'all', outcome: 'discharge', personAccount: words, actor: lw });
    const view = await client.getCase(c.caseId);
    expect(view.measures.review?.personAccount).toBe(words);
    expect((await client.outcomeRecord(c.caseId)).personAccount).toBe(words);
    // Payload only: the codec encrypts it like every payload, and no search attribute holds it.
    const history = JSON.stringify(await client.temporal.workflow.getHandle(c.caseId).fetchHistory());
    expect(history).not.toContain('every day now');
    const described = JSON.stringify(await client.temporal.workflow.getHandle(c.caseId).describe());
    expect(described).not.toContain('every day now');
    // Bounded.
    await expect(
      client.recordReview(c.caseId, { measures: [], goalsMet: 'all', outcome: 'discharge', personAccount: 'x'.repeat(2001), actor: lw }),
    ).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('counts referrals from secondary mental-health services by their own route, and reports conversion', async () => {
    const s = uniqueScheme('conv');
    const c3 = await h.connect({ policies: { [s]: quickPolicy(s, {}, 60_000) } });
    await c3.setRoster(s, [{ id: 'lw-1' }]);
    const [mh, visited, planned, none] = await Promise.all(
      (['secondaryMentalHealth', 'GP', 'GP', 'GP'] as const).map((route) => c3.refer(hostReferral(s, { route }))),
    );
    const clientFor = client;
    client = c3;
    try {
      await toPlan(visited!.case.caseId, ['money']);
      await toSupport(planned!.case.caseId);
    } finally {
      client = clientFor;
    }
    expect(mh!.case.stage).toBe('triage');
    const { report } = await poll(() => c3.report({ schemeId: s }), (r) => r.records.length === 4, 'four records');
    expect(report.system.referralsByRoute).toContainEqual({ key: 'secondaryMentalHealth', count: 1 });
    expect(report.system.referralsByRoute).toContainEqual({ key: 'GP', count: 3 });
    // Four referred; two reached a first visit, one an agreed plan.
    expect(report.conversion).toEqual({ referredToFirstVisit: 50, referredToPlanAgreed: 25 });
    expect(none!.case.stage).toBe('triage');
  });
});
