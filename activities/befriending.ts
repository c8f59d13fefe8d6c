// The befriending handoff as a connection (docs/connections.md): when the case asks for befriending,
// the requestBefriending activity also starts a connection to the scheme's befriending service, so
// it shows among the case's connections, gets the provider's deadline and nudges, and the
// provider's answer reaches the case as any connection's does. Started here, not by the case, so
// the case's own commands are what they were.
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { safeIdSchema } from '../machines/ids';
import { connectionStartOptions, connectionWorkflowId, type ConnectionWorkflowInput } from '../workflows/connection-definitions';
import type { ActivityEnvelope } from '../workflows/definitions';
import type { pathwayConnection } from '../workflows/connection';
import type { BefriendingConnectionArgs } from './contract';

export const befriendingArgsSchema = z.object({
  serviceId: safeIdSchema,
  responseDeadline: z.number().int().min(1),
  nudges: z.array(z.number().int().min(1)).max(10),
  linkWorkerId: safeIdSchema.optional(),
}) satisfies z.ZodType<BefriendingConnectionArgs>;

/** The directory's term for befriending services: the next match when this one cannot help. */
const BEFRIENDING_NEED = 'befriending';

/**
 * Starts the connection, or finds it already running (a retried activity, a second handoff while the
 * first request is still open): one open connection per service per case, as when a link worker proposes.
 */
export async function startBefriendingConnection(client: Client, envelope: ActivityEnvelope, args: BefriendingConnectionArgs): Promise<void> {
  const connectionId = connectionWorkflowId(envelope.caseId, args.serviceId);
  const input: ConnectionWorkflowInput = {
    connectionId,
    caseId: envelope.caseId,
    schemeId: envelope.schemeId,
    serviceId: args.serviceId,
    providerId: args.serviceId,
    // Befriending is a social connection: the directory's taxonomy maps it to `connecting`.
    category: 'connecting',
    responseDeadline: args.responseDeadline,
    nudges: args.nudges,
    match: { needs: [BEFRIENDING_NEED] },
    tried: [],
    proposedBy: { role: 'linkWorker', id: args.linkWorkerId ?? 'pathway' },
  };
  await client.workflow.start<typeof pathwayConnection>('pathwayConnection', connectionStartOptions(input, Context.current().info.taskQueue, 'USE_EXISTING'));
}
