// Bad input never reaches a case's history: a refused update is rejected by its synchronous
// validator, on the real dev server (whose speculative workflow tasks leave no events behind).
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { linkWorker, refer, referral, refusalOf, send, until, view, pathwayWorkerOnDevServer, openScheme } from '../support/pathway';

const dev = pathwayWorkerOnDevServer('refusals');
const { taskQueue } = dev;

describe('refused commands', () => {
  it('a bad payload or a forbidden move is refused with a clear reason and leaves the history unchanged', async () => {
    const schemeId = `refusals-${taskQueue}`;
    const pol = await openScheme(dev.client, taskQueue, schemeId);
    const handle = await refer(dev.client, taskQueue, referral({ schemeId }), pol);
    await until(handle, (v) => v.stage === 'triage');
    // The case's own side effects (the referral receipt) finish asynchronously; measure once they
    // have, so only the refused commands could change the history from here.
    let before = -1;
    for (;;) {
      const described = await handle.describe();
      const length = (await handle.fetchHistory()).events!.length;
      if ((described.raw.pendingActivities ?? []).length === 0 && length === before) break;
      before = length;
      await new Promise((r) => setTimeout(r, 500));
    }

    const badPayload = send(handle, 'CONTACT.ATTEMPT', { outcome: 'shouted', channel: 'phone', actor: linkWorker } as never);
    await expect(badPayload).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    expect(await refusalOf(badPayload)).toMatchObject({ type: 'InvalidCommand', message: expect.stringMatching(/^CONTACT\.ATTEMPT refused: outcome: /) });
    expect(await refusalOf(send(handle, 'SESSION.LOG', { kind: 'phone', attended: true, durationMinutes: 20, withVolunteer: false, actor: linkWorker }))).toMatchObject({
      type: 'CommandNotAllowed',
      message: expect.stringMatching(/not a move the pathway allows at stage 'triage' \(allowed now: .*TRIAGE\.ACCEPT/),
    });
    const emptyPlan = { goals: [], activities: [], barrierActions: [], tier: 'standard', volunteer: false, actor: linkWorker };
    expect((await refusalOf(send(handle, 'PLAN.DRAFT', emptyPlan))).message).toContain('goals: a plan needs at least one goal');
    expect((await refusalOf(send(handle, 'ESCALATION.ACK', { escalationId: 'esc-99', actor: { role: 'supervisor', id: 'sup-1' } }))).type).toBe('CommandNotAllowed');
    expect((await refusalOf(send(handle, 'TRIAGE.ACCEPT', { actor: { role: 'linkWorker', id: 'has spaces and a name' } }))).message).toMatch(/actor\.id: must be 1-128 characters/);

    expect((await handle.fetchHistory()).events!.length).toBe(before);
    expect((await view(handle)).stage).toBe('triage');
    // The case still takes a good command after all that.
    expect((await send(handle, 'TRIAGE.ACCEPT', { actor: linkWorker })).stage).toMatch(/allocating|firstContact/);
  });
});
