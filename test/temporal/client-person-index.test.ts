// The person index keeps its answers across continue-as-new, and its history holds no identifiers.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { personIndexSizeQuery, personIndexWorkflowId } from '../../workflows/person-index-definitions';
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
  const index = await h.client.temporal.workflow.start<typeof personIndex>('personIndex', {
    workflowId: personIndexWorkflowId(scheme),
    taskQueue: h.taskQueue,
    args: [{ schemeId: scheme, limits: { historyEvents: 15 } }],
  });
  const first = hostReferral(scheme);
  const original = await h.client.refer(first);
  const people = Array.from({ length: 8 }, () => hostReferral(scheme));
  for (const p of people) await h.client.refer(p);

  const again = await h.client.refer(hostReferral(scheme, { person: first.person }));
  expect(again.possibleDuplicates).toEqual([{ caseId: original.case.caseId, match: 'nhsNumber' }]);
  expect(await index.query(personIndexSizeQuery)).toEqual({ fingerprints: 2 * 9, cases: 10 });

  const latest = await h.client.temporal.workflow.getHandle(personIndexWorkflowId(scheme)).describe();
  expect(latest.runId).not.toBe(index.firstExecutionRunId);

  const history = JSON.stringify(await h.client.temporal.workflow.getHandle(personIndexWorkflowId(scheme), index.firstExecutionRunId).fetchHistory());
  expect(history).toContain('WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  for (const p of [first, ...people]) {
    expect(history).not.toContain(p.person.familyName);
    expect(history).not.toContain(p.person.nhsNumber!);
  }
});
