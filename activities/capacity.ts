// The case's side of the capacity ledger: asking for a place and giving one back. Activities,
// because they may have to start the scheme's ledger (signal-with-start), which workflow code cannot.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { EffectInput } from './contract';
import { ledgerWorkflowId } from '../workflows/definitions';
import { releasePlaceSignal, requestPlaceSignal } from '../workflows/ledger-definitions';
import type { capacityLedger } from '../workflows/capacity-ledger';

/** A place asked for or given back (activities/contract.ts). */
export type PlaceArgs = EffectInput<'requestPlace'>;

export function createCapacityActivities({ client }: { client: Client }) {
  const ledger = (schemeId: string, caseloadCap: number) => ({
    workflowId: ledgerWorkflowId(schemeId),
    taskQueue: Context.current().info.taskQueue,
    args: [{ schemeId, caseloadCap }] as Parameters<typeof capacityLedger>,
  });
  return {
    // Idempotent through the ledger: a repeated request for the same case gets the same answer.
    async requestPlace({ caseId, schemeId, caseloadCap }: PlaceArgs): Promise<void> {
      await client.workflow.signalWithStart<typeof capacityLedger, [{ caseId: string; at: number }]>('capacityLedger', {
        ...ledger(schemeId, caseloadCap),
        signal: requestPlaceSignal,
        signalArgs: [{ caseId, at: Context.current().info.scheduledTimestampMs }],
      });
    },
    async releasePlace({ caseId, schemeId, caseloadCap }: PlaceArgs): Promise<void> {
      await client.workflow.signalWithStart<typeof capacityLedger, [{ caseId: string }]>('capacityLedger', {
        ...ledger(schemeId, caseloadCap),
        signal: releasePlaceSignal,
        signalArgs: [{ caseId }],
      });
    },
  };
}

export type CapacityActivities = ReturnType<typeof createCapacityActivities>;
