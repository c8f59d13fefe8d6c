// A command whose call the server times out (DEADLINE_EXCEEDED, as the cluster answered some
// commands at full load in the seeds' programme) is sent again under its own update id: the case applies
// it once and the host gets the case's answer, not a timeout it cannot read. The timeouts are made
// by a gRPC interceptor on the client's connection; the server, worker and case are real.
import { InterceptingCall, Metadata, status, type Interceptor } from '@grpc/grpc-js';
import { Connection, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientHarness, hostReferral, lw, quickPolicy, uniqueScheme, type ClientHarness } from './client.harness';

const UPDATE = '/temporal.api.workflowservice.v1.WorkflowService/UpdateWorkflowExecution';
const timedOut = () => ({ code: status.DEADLINE_EXCEEDED, details: 'context deadline exceeded', metadata: new Metadata() });

/**
 * Times out the first `count` update calls. `reach: true` lets each reach the server and drops its
 * answer on the way back (the command may be applied); `false` stops it before it leaves.
 */
function timeOutUpdates(count: number, reach: boolean) {
  const seen = { calls: 0 };
  const interceptor: Interceptor = (options, nextCall) => {
    if (options.method_definition.path !== UPDATE || ++seen.calls > count) return new InterceptingCall(nextCall(options));
    // Never started, the call below never leaves; its caller hears the timeout.
    if (!reach) {
      return new InterceptingCall(nextCall(options), {
        start: (_metadata, listener) => setImmediate(() => listener.onReceiveStatus(timedOut())),
        sendMessage: () => undefined,
        halfClose: () => undefined,
      });
    }
    // The answer is passed on (grpc-js holds a status until the message is through) under a failed
    // status, so the caller sees only the timeout.
    return new InterceptingCall(nextCall(options), {
      start: (metadata, _listener, next) => next(metadata, { onReceiveStatus: (_status, nextStatus) => nextStatus(timedOut()) }),
    });
  };
  return { interceptor, seen };
}

describe('a command the server timed out', () => {
  let h: ClientHarness;
  const scheme = uniqueScheme('timeout');
  const connections: Connection[] = [];

  beforeAll(async () => {
    h = await clientHarness('timeout');
  });
  afterAll(async () => {
    await h?.close();
    for (const c of connections) await c.close();
  });

  /** A client whose calls pass through `interceptor` in place of the SDK's retries (which never retry a timeout). */
  async function clientThrough(interceptor: Interceptor) {
    const connection = await Connection.connect({ address: h.address, interceptors: [interceptor] });
    connections.push(connection);
    return h.connect({ connection, policies: { [scheme]: quickPolicy(scheme) } });
  }

  async function acceptedUpdates(caseId: string): Promise<number> {
    const { events } = await h.client.temporal.workflow.getHandle(caseId).fetchHistory();
    return (events ?? []).filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'TRIAGE.ACCEPT').length;
  }

  it('is applied once and answered when the first call reached the case', async () => {
    const fault = timeOutUpdates(1, true);
    const client = await clientThrough(fault.interceptor);
    const { case: opened } = await client.refer(hostReferral(scheme));
    const answer = await client.acceptReferral(opened.caseId, { actor: lw });
    expect(fault.seen.calls).toBe(2);
    expect(answer.stage).not.toBe('triage');
    const view = await client.getCase(opened.caseId);
    expect(view.timeline.filter((t) => t.event === 'TRIAGE.ACCEPT')).toHaveLength(1);
    expect(await acceptedUpdates(opened.caseId)).toBe(1);
  });

  it('is applied once when the first call never left', async () => {
    const fault = timeOutUpdates(1, false);
    const client = await clientThrough(fault.interceptor);
    const { case: opened } = await client.refer(hostReferral(scheme));
    await client.acceptReferral(opened.caseId, { actor: lw });
    expect(fault.seen.calls).toBe(2);
    expect(await acceptedUpdates(opened.caseId)).toBe(1);
  });

  it('gives the caller the timeout after four calls, and the case holds the command once', async () => {
    const fault = timeOutUpdates(Infinity, true);
    const client = await clientThrough(fault.interceptor);
    const { case: opened } = await client.refer(hostReferral(scheme));
    await expect(client.acceptReferral(opened.caseId, { actor: lw })).rejects.toBeInstanceOf(WorkflowUpdateRPCTimeoutOrCancelledError);
    expect(fault.seen.calls).toBe(4);
    expect(await acceptedUpdates(opened.caseId)).toBe(1);
  }, 30_000);
});
