// The case's side of the scheme's person index: when the person withdraws consent, the index must
// forget the case's fingerprints. The case holds no fingerprint, so it cannot know which shard holds
// its own: the signal (the case id and nothing else) goes to every shard of the scheme that exists.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { EffectInput } from './contract';
import { forgetCaseSignal, PERSON_INDEX_SHARDS, personIndexWorkflowId } from '../workflows/person-index-definitions';

/** Shards signalled at once: 256 one after another would take seconds, all at once would flood the server. */
const SIGNALS_IN_FLIGHT = 16;

export function allShards(): string[] {
  return Array.from({ length: PERSON_INDEX_SHARDS }, (_, i) => i.toString(16).padStart(2, '0'));
}

export function createPersonIndexActivities({ client }: { client: Client }) {
  return {
    // Idempotent: forgetting a case a shard no longer (or never) held changes nothing, and a shard
    // that was never started holds nobody.
    async forgetPerson({ caseId, schemeId }: EffectInput<'forgetPerson'>): Promise<void> {
      const shards = allShards();
      for (let i = 0; i < shards.length; i += SIGNALS_IN_FLIGHT) {
        await Promise.all(
          shards.slice(i, i + SIGNALS_IN_FLIGHT).map(async (shard) => {
            try {
              await client.workflow.getHandle(personIndexWorkflowId(schemeId, shard)).signal(forgetCaseSignal, { caseId });
            } catch (err) {
              if (!(err instanceof WorkflowNotFoundError)) throw err;
            }
          }),
        );
      }
    },
  };
}

export type PersonIndexActivities = ReturnType<typeof createPersonIndexActivities>;
