// What the engine's metrics need from inside a workflow, observed by an interceptor and handed to
// the worker through a sink (worker/metrics.ts turns them into Prometheus figures): workflow code
// cannot touch prom-client, and a sink call is not a command, so nothing here changes a history.
// Sinks are not called while a workflow replays, so each observation is made once.
//
// - Deadline lateness: when a timer fires, how far the activation's time is past the time the
//   timer fell due (the workflow's time when it was started plus its duration). The due times are
//   rebuilt on replay from the same calls, so a case evicted from the cache still measures.
// - Commands refused: the update validator's refusals, by command and the rule that said no (the
//   refusal's `rule`, or its failure type); never the payload or the message.
// - Provider answers: a connection's workflow says, once, how its provider answered (accepted,
//   declined, or noResponse when the deadline declined for them) and how long after sending, in
//   workflow time; by scheme only, never the connection, case or service.
import { ApplicationFailure, proxySinks, workflowInfo, type Sinks, type WorkflowInterceptors } from '@temporalio/workflow';

export interface EngineObservationSinks extends Sinks {
  engine: {
    deadlineLate(workflowType: string, lateMs: number): void;
    commandRefused(command: string, rule: string): void;
    connectionAnswered(schemeId: string, outcome: ConnectionAnswer, afterMs: number): void;
  };
}

/** How a provider's answer to a connection ended its wait: the metric's `outcome` label. */
export const CONNECTION_ANSWERS = ['accepted', 'declined', 'noResponse'] as const;
export type ConnectionAnswer = (typeof CONNECTION_ANSWERS)[number];

/**
 * For the connection workflow: tells the worker's metrics how a provider answered, the moment the
 * connection leaves `sent`. A sink call, not a command, and dropped on replay: counted once.
 */
export function observeConnectionAnswer(schemeId: string, outcome: ConnectionAnswer, afterMs: number): void {
  proxySinks<EngineObservationSinks>().engine.connectionAnswered(schemeId, outcome, Math.max(0, afterMs));
}

/** The failure types a validator refuses a command with (workflows/case.ts, the ledger, the person index). */
const REFUSALS = ['CommandNotAllowed', 'InvalidCommand', 'CommandConflict'];

export const interceptors = (): WorkflowInterceptors => {
  const { engine } = proxySinks<EngineObservationSinks>();
  const dueAt = new Map<number, number>();
  return {
    outbound: [
      {
        startTimer(input, next) {
          dueAt.set(input.seq, Date.now() + input.durationMs);
          return next(input);
        },
      },
    ],
    internals: [
      {
        activate(input, next) {
          const at = input.activation.timestamp;
          const now = at ? Number(at.seconds ?? 0) * 1000 + Math.floor((at.nanos ?? 0) / 1e6) : undefined;
          for (const job of input.activation.jobs ?? []) {
            const seq = job.fireTimer?.seq;
            if (seq == null) continue;
            const due = dueAt.get(seq);
            dueAt.delete(seq);
            // Not even handed to the sink on replay: a replaying worker (`pathway replay`, tests) has none.
            if (due !== undefined && now !== undefined && !input.activation.isReplaying) engine.deadlineLate(workflowInfo().workflowType, Math.max(0, now - due));
          }
          return next(input);
        },
      },
    ],
    inbound: [
      {
        validateUpdate(input, next) {
          try {
            next(input);
          } catch (err) {
            if (err instanceof ApplicationFailure && err.type && REFUSALS.includes(err.type)) {
              const rule = (err.details?.[0] as { rule?: unknown } | undefined)?.rule;
              engine.commandRefused(input.name, typeof rule === 'string' ? rule : err.type);
            }
            throw err;
          }
        },
      },
    ],
  };
};
