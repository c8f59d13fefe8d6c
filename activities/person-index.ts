// The case's side of the scheme's person index: when the person withdraws consent, the index must
// forget the case's fingerprints. An activity, because it may have to start the index
// (signal-with-start), which workflow code cannot; the signal carries the case id and nothing else.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { ActivityEnvelope } from '../workflows/definitions';
import { forgetCaseSignal, personIndexWorkflowId, type ForgetCaseRequest } from '../workflows/person-index-definitions';
import type { personIndex } from '../workflows/person-index';

export function createPersonIndexActivities({ client }: { client: Client }) {
  return {
    // Idempotent: forgetting a case the index no longer (or never) held changes nothing.
    async forgetPerson({ caseId, schemeId }: ActivityEnvelope): Promise<void> {
      await client.workflow.signalWithStart<typeof personIndex, [ForgetCaseRequest]>('personIndex', {
        workflowId: personIndexWorkflowId(schemeId),
        taskQueue: Context.current().info.taskQueue,
        args: [{ schemeId }],
        signal: forgetCaseSignal,
        signalArgs: [{ caseId }],
      });
    },
  };
}

export type PersonIndexActivities = ReturnType<typeof createPersonIndexActivities>;
