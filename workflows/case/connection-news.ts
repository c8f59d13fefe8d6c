// What the case's connections to community services tell it (workflows/connection.ts): each one's
// latest status and attendance, taken in any stage until discharge. A signal cannot be refused: one
// that does not parse, names another case's connection, or meets a closed case is ignored. Like a
// capacity answer, it is applied as it arrives: it is in history where it arrived, so replay agrees.
import { setHandler } from '@temporalio/workflow';
import type { PathwayEvent } from '../../machines';
import { connectionSummarySchema } from '../../machines/connection';
import { connectionChangedSignal } from '../connection-definitions';
import { caseWorkflowId } from '../definitions';
import type { CaseState } from './state';

export function registerConnectionNews(state: CaseState): void {
  setHandler(connectionChangedSignal, (summary) => {
    const parsed = connectionSummarySchema.safeParse(summary);
    // The case's id from its referral, not from workflowInfo: the same in every run, and a history
    // replayed under another workflow id (pathway check --replay) still takes its own news.
    const own = `${caseWorkflowId(state.snapshot.context.referral.referralId)}:`;
    if (!parsed.success || !parsed.data.connectionId.startsWith(own)) return;
    const event: PathwayEvent = { type: 'CONNECTION.CHANGED', connection: parsed.data, at: Date.now() };
    if (state.snapshot.can(event)) state.apply(event);
  });
}
