// What the case's connections to community services tell it (workflows/connection.ts): each one's
// latest status and attendance, taken in any stage until discharge. A signal cannot be refused: one
// that does not parse, names another case's connection, or meets a closed case is ignored. Like a
// capacity answer, it is applied as it arrives: it is in history where it arrived, so replay agrees.
import { setHandler } from '@temporalio/workflow';
import { befriendingServiceId, type PathwayEvent } from '../../machines';
import type { ConnectionSummary } from '../../machines/connection';
import { connectionSummarySchema } from '../../machines/connection';
import { changed, CHANGES } from '../changes';
import { connectionChangedSignal, connectionWorkflowId } from '../connection-definitions';
import { caseWorkflowId } from '../definitions';
import type { CaseState } from './state';

/** The befriending provider's word, as the case's BEFRIENDING.RESULT would carry it; undefined while it has none. */
const BEFRIENDING_ANSWERS: Partial<Record<ConnectionSummary['status'], 'accepted' | 'unavailable'>> = {
  accepted: 'accepted',
  declined: 'unavailable',
  noResponse: 'unavailable',
};

export function registerConnectionNews(state: CaseState): void {
  setHandler(connectionChangedSignal, (summary) => {
    const parsed = connectionSummarySchema.safeParse(summary);
    // The case's id from its referral, not from workflowInfo: the same in every run, and a history
    // replayed under another workflow id (pathway check --replay) still takes its own news.
    const caseId = caseWorkflowId(state.snapshot.context.referral.referralId);
    if (!parsed.success || !parsed.data.connectionId.startsWith(`${caseId}:`)) return;
    const event: PathwayEvent = { type: 'CONNECTION.CHANGED', connection: parsed.data, at: Date.now() };
    if (state.snapshot.can(event)) state.apply(event);
    takeBefriendingAnswer(state, caseId, parsed.data);
  });
}

/**
 * An answer the handoff's connection gave while the case could not take it (a safeguarding hold:
 * the news is kept among the case's connections, the case is `onHold`): taken once the case is back
 * in the handoff. Called at every wake of the case's loop, as kept capacity answers are.
 */
export function takeKeptBefriendingAnswer(state: CaseState): void {
  if (state.stage !== 'befriendingHandoff') return;
  const caseId = caseWorkflowId(state.snapshot.context.referral.referralId);
  const id = connectionWorkflowId(caseId, befriendingServiceId(state.snapshot.context.policy));
  const kept = state.snapshot.context.connections?.find((c) => c.connectionId === id);
  if (kept) takeBefriendingAnswer(state, caseId, kept);
}

/**
 * The befriending handoff's connection answered: the case takes it as BEFRIENDING.RESULT while it
 * waits in the handoff. Whichever comes first, this or a host's own BEFRIENDING.RESULT, decides;
 * the later one meets a case that has moved on, and this one is then dropped.
 */
function takeBefriendingAnswer(state: CaseState, caseId: string, connection: ConnectionSummary): void {
  const result = BEFRIENDING_ANSWERS[connection.status];
  if (result === undefined || state.stage !== 'befriendingHandoff') return;
  if (connection.connectionId !== connectionWorkflowId(caseId, befriendingServiceId(state.snapshot.context.policy))) return;
  // Only an answer to this request: a connection left open from an earlier handoff (the request
  // then found it running and kept it) answered that one, which the case has already settled.
  const requestedAt = state.snapshot.context.befriending.requestedAt;
  if (requestedAt === undefined || connection.proposedAt < requestedAt) return;
  // Asked only when such an answer arrives, so a case that never hears one writes no marker.
  if (!changed(CHANGES.befriendingConnection)) return;
  const event: PathwayEvent = {
    type: 'BEFRIENDING.RESULT',
    result,
    ...(result === 'accepted' && { service: connection.serviceId }),
    actor: { role: 'host', id: connection.providerId },
    at: Date.now(),
  };
  if (state.snapshot.can(event)) state.apply(event);
}
