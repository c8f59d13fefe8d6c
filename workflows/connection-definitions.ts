// The connection workflow's typed surface: how it is started, what providers and link workers send
// it, what it answers, and what it tells its case. Imported by the client, the worker and the
// activities alike (docs/connections.md).
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ConnectionActor, ConnectionCommand, ConnectionStatus, ConnectionSummary } from '../machines/connection';
import { providerKey, schemeKey } from './search-attributes';

/**
 * A connection's workflow id: its case's id, the word `conn` and the service's directory id, all
 * ids without personal data. One open connection per service per case; a closed one may be
 * proposed again (the id is reused).
 */
export function connectionWorkflowId(caseId: string, serviceId: string): string {
  return `${caseId}:conn:${serviceId}`;
}

/**
 * How a connection's workflow is started, by the client (a link worker proposes) and by the
 * befriending handoff's activity alike: plain options, so this module stays free of Temporal's
 * client for the workflow bundle that imports it. What differs is `ifOpen`: a proposal is refused
 * while a connection to the service is open (`FAIL`), the handoff joins it (`USE_EXISTING`, a
 * retried activity or a second handoff). A closed connection's id is reused either way.
 */
export function connectionStartOptions(input: ConnectionWorkflowInput, taskQueue: string, ifOpen: 'FAIL' | 'USE_EXISTING') {
  return {
    workflowId: input.connectionId,
    taskQueue,
    args: [input] as [ConnectionWorkflowInput],
    workflowIdConflictPolicy: ifOpen,
    workflowIdReusePolicy: 'ALLOW_DUPLICATE' as const,
    // The scheme and the provider's organisation id (never the person): a directory import finds
    // the scheme's open connections (serviceRemoved), a provider its open onward referrals.
    typedSearchAttributes: [
      { key: schemeKey, value: input.schemeId },
      { key: providerKey, value: input.providerId },
    ],
  };
}

/** What the next-match suggestion asks the directory: the plan's needs and barriers, never the person. */
export interface ConnectionMatchBasis {
  needs: string[];
  area?: string;
  needsStepFree?: boolean;
  needsFree?: boolean;
}

export interface ConnectionWorkflowInput {
  connectionId: string;
  caseId: string;
  schemeId: string;
  serviceId: string;
  providerId: string;
  category: ConnectionSummary['category'];
  /** From the case's policy (`connections`), in milliseconds. */
  responseDeadline: number;
  nudges: number[];
  match: ConnectionMatchBasis;
  /** Services this case already tried (declined, no response): never suggested again. */
  tried: string[];
  proposedBy: ConnectionActor;
}

/** One update for every provider or link-worker command; it answers the connection as it now stands. */
export const connectionCommandUpdate = defineUpdate<ConnectionSummary, [ConnectionCommand]>('connectionCommand');

export interface ConnectionView extends ConnectionSummary {
  caseId: string;
  schemeId: string;
  /** Nudges still to come, as absolute times. */
  nudgesDue: number[];
  /** The latest attendances' times. */
  attendedAt: number[];
  declineReason?: string;
  /** When the connection heard that a directory re-import no longer lists its service. */
  serviceRemovedAt?: number;
  /** What the directory suggested when the connection ended without the person joining. */
  suggestions: Array<{ serviceId: string; name: string; explanation: string }>;
}

export const connectionViewQuery = defineQuery<ConnectionView>('connectionView');

/**
 * A directory re-import no longer lists the connection's service (client `serviceRemoved`). A
 * signal, not a command: nobody acts, nothing can be refused, and an ended connection ignores it.
 */
export const serviceRemovedSignal = defineSignal<[]>('serviceRemoved');

/** A connection's change, sent to its case so the case knows each connection's status and attendance. */
export const connectionChangedSignal = defineSignal<[ConnectionSummary]>('connectionChanged');

export type { ConnectionStatus };
