// The person index keeps its answers across continue-as-new, and its history holds no identifiers.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { personFingerprints } from '../../client/person';
import { personIndexShard, personIndexSizeQuery, personIndexWorkflowId } from '../../workflows/person-index-definitions';
import type { personIndex } from '../../workflows/person-index';
import { clientHarness, hostReferral, uniqueScheme, type ClientHarness } from './client.harness';

let h: ClientHarness;
beforeAll(async () => {
  h = await clientHarness('person-index');
});
afterAll(async () => {
  await h?.close();
});

it('continues as new with its state and still finds duplicates', async () => {
  const scheme = uniqueScheme('pidx');
  const first = hostReferral(scheme);
  // The shard the person's NHS-number fingerprint falls in, started to continue as new early.
  const shard = personIndexShard(personFingerprints(h.personKey, first.person).nhsNumber!);
  const index = await h.client.temporal.workflow.start<typeof personIndex>('personIndex', {
    workflowId: personIndexWorkflowId(scheme, shard),
    taskQueue: h.taskQueue,
    args: [{ schemeId: scheme, shard, limits: { historyEvents: 15 } }],
  });
  const original = await h.client.refer(first);
  const people = Array.from({ length: 8 }, () => hostReferral(scheme));
  for (const p of people) await h.client.refer(p);
  // The same person referred again, under new referral ids: every one lands in the shard.
  const repeats = [];
  for (let i = 0; i < 5; i++) repeats.push(await h.client.refer(hostReferral(scheme, { person: first.person })));

  const again = await h.client.refer(hostReferral(scheme, { person: first.person }));
  expect(again.possibleDuplicates).toEqual([original, ...repeats].map((r) => ({ caseId: r.case.caseId, match: 'nhsNumber' })));
  const size = await h.client.temporal.workflow.getHandle(personIndexWorkflowId(scheme, shard)).query(personIndexSizeQuery);
  expect(size.cases).toBeGreaterThanOrEqual(7);

  const latest = await h.client.temporal.workflow.getHandle(personIndexWorkflowId(scheme, shard)).describe();
  expect(latest.runId).not.toBe(index.firstExecutionRunId);

  const history = JSON.stringify(await h.client.temporal.workflow.getHandle(personIndexWorkflowId(scheme, shard), index.firstExecutionRunId).fetchHistory());
  expect(history).toContain('WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  for (const p of [first, ...people]) {
    expect(history).not.toContain(p.person.familyName);
    expect(history).not.toContain(p.person.nhsNumber!);
  }
});
