// Who may act on a case, and refusals that name their rule, through the published client against
// a dev server and a real worker: a link worker acts only on their own cases (or those of a
// colleague they cover for under the scheme's policy), the two sides of a plan come from two
// actors, and an extension past the scheme's length or count is refused with the limit and count.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandRefusedError, type CaseView, type PathwayClient } from '../../client';
import { clientHarness, hostReferral, quickPolicy, sup, swemwbs, uniqueScheme, type ClientHarness } from './client.harness';

const lwA = { role: 'linkWorker', id: 'lw-a' } as const;
const lwB = { role: 'linkWorker', id: 'lw-b' } as const;
const lwC = { role: 'linkWorker', id: 'lw-c' } as const;
const host = { role: 'host', id: 'host-1' } as const;

describe('case ownership and named refusals', () => {
  let h: ClientHarness;
  let client: PathwayClient;
  const scheme = uniqueScheme('owner');

  beforeAll(async () => {
    h = await clientHarness('ownership');
    // One policy week is a second: the maximum extension (2000 ms) is 2 weeks, and one is allowed.
    const policy = quickPolicy(scheme, { ownership: { covering: { 'lw-a': ['lw-c'] } }, extension: { maxCount: 1, maxLength: 2000 } }, 1500);
    client = await h.connect({ policies: { [scheme]: policy } });
    await client.setRoster(scheme, [{ id: 'lw-a' }]);
  });
  afterAll(async () => {
    await h?.close();
  });

  async function refusal(attempt: Promise<unknown>): Promise<CommandRefusedError> {
    const err = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CommandRefusedError);
    return err as CommandRefusedError;
  }

  /** What a refused command must leave alone: the case's sequence, stage and timeline. */
  const unchanged = (before: CaseView, after: CaseView) => {
    expect(after.sequence).toBe(before.sequence);
    expect(after.stage).toBe(before.stage);
    expect(after.timeline).toEqual(before.timeline);
  };

  it("refuses a colleague's contact attempt on another link worker's case, takes a covering colleague's", { timeout: 60_000 }, async () => {
    const { case: opened } = await client.refer(hostReferral(scheme));
    const id = opened.caseId;
    // Before allocation any link worker may act.
    await client.acceptReferral(id, { actor: lwB });
    const allocated = await client.waitFor(id, 'firstContact');
    expect(allocated.linkWorkerId).toBe('lw-a');

    const err = await refusal(client.recordContactAttempt(id, { outcome: 'noAnswer', channel: 'phone', actor: lwB }));
    expect(err).toMatchObject({ code: 'COMMAND_REFUSED', command: 'CONTACT.ATTEMPT', stage: 'firstContact', rule: 'caseOwnership' });
    expect(err.reason).toBe(`case ${id} is allocated to another link worker`);
    unchanged(allocated, await client.getCase(id));

    const covered = await client.recordContactAttempt(id, { outcome: 'noAnswer', channel: 'phone', actor: lwC });
    expect(covered.sequence).toBe(allocated.sequence + 1);
    expect((await client.recordContactAttempt(id, { outcome: 'reached', channel: 'phone', actor: lwA })).stage).toBe('firstVisit');
  });

  it('needs two actors for the plan, and names the extension limits it refuses', { timeout: 60_000 }, async () => {
    const { case: opened } = await client.refer(hostReferral(scheme));
    const id = opened.caseId;
    await client.acceptReferral(id, { actor: lwA });
    await client.waitFor(id, 'firstContact');
    await client.recordContactAttempt(id, { outcome: 'reached', channel: 'phone', actor: lwA });
    await client.recordFirstVisit(id, { location: 'home', durationMinutes: 90, measures: [swemwbs([2, 2, 2, 3, 2, 2, 2])], barriers: [], actor: lwA });
    await client.draftPlan(id, {
      goals: [{ id: 'g1', text: 'Back to the lunch club' }],
      activities: [{ id: 'a1', category: 'connecting', name: 'Lunch club' }],
      barrierActions: [],
      tier: 'standard',
      volunteer: false,
      actor: lwA,
    });

    // The person's side is the person's (or the host's on their behalf), never the link worker's.
    const staffForPerson = await refusal(client.agreePlan(id, { party: 'person', actor: lwA }));
    expect(staffForPerson.rule).toBe('planAgreementParty');
    await client.agreePlan(id, { party: 'person', actor: host });
    const half = await client.getCase(id);
    const bothSides = await refusal(client.agreePlan(id, { party: 'linkWorker', actor: host }));
    expect(bothSides).toMatchObject({ stage: 'coProducedPlan', rule: 'planAgreementDistinctActors', reason: 'the same actor cannot agree both sides of the plan' });
    unchanged(half, await client.getCase(id));
    expect((await client.getCase(id)).plan.agreedBy.linkWorker).toBeUndefined();
    expect((await client.agreePlan(id, { party: 'linkWorker', actor: lwA })).stage).toBe('support');

    const atReview = await client.waitFor(id, 'review', { intervalMs: 100 });
    const tooLong = await refusal(client.recordReview(id, { measures: [], goalsMet: 'some', outcome: 'extend', extensionWeeks: 10, actor: lwA }));
    expect(tooLong).toMatchObject({ stage: 'review', rule: 'extensionMaxLength', reason: "an extension of 10 weeks is longer than this scheme's maximum of 2" });
    unchanged(atReview, await client.getCase(id));

    expect((await client.recordReview(id, { measures: [], goalsMet: 'some', outcome: 'extend', extensionWeeks: 1, actor: lwA })).stage).toBe('extensionPending');
    const notSupervisor = await refusal(client.approveExtension(id, { actor: lwA }));
    expect(notSupervisor).toMatchObject({ rule: 'supervisorOnly', reason: "only a supervisor may approve an extension (actor role was 'linkWorker')" });
    expect((await client.approveExtension(id, { actor: sup })).stage).toBe('support');

    const again = await client.waitFor(id, 'review', { intervalMs: 100 });
    const pastCount = await refusal(client.recordReview(id, { measures: [], goalsMet: 'some', outcome: 'extend', extensionWeeks: 1, actor: lwA }));
    expect(pastCount).toMatchObject({ stage: 'review', rule: 'extensionMaxCount', reason: 'this case has used 1 of 1 extensions' });
    unchanged(again, await client.getCase(id));
    expect((await client.recordReview(id, { measures: [], goalsMet: 'all', outcome: 'discharge', actor: lwA })).stage).toBe('discharged');
  });
});
