// The worker process's logs as JSON lines (pino), one object per line, with the case id and the
// workflow id on everything logged in a case's context. Only named, non-personal fields are kept
// from the SDK's metadata: ids, types, attempt and timing, and an error's name, never its message
// or the payloads, which can carry what a person told their link worker.
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import pino, { type DestinationStream } from 'pino';

const KEPT = ['workflowId', 'runId', 'workflowType', 'activityId', 'activityType', 'attempt', 'taskQueue', 'namespace', 'sdkComponent', 'durationMs', 'isLocal'] as const;
const LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** The fields of SDK log metadata a log line may carry. */
export function safeLogFields(meta: LogMetadata | undefined): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (!meta) return fields;
  for (const key of KEPT) if (meta[key] !== undefined) fields[key] = meta[key];
  if (typeof fields.workflowId === 'string' && fields.workflowId.startsWith('case-')) fields.caseId = fields.workflowId;
  const error = meta.error ?? meta.failure;
  if (error && typeof error === 'object') fields.errorName = (error as { name?: string }).name ?? 'Error';
  return fields;
}

/** A Temporal SDK logger writing JSON lines to `destination` (stderr by default, so stdout keeps the readiness line). */
export function jsonLogger(opts: { level?: string; destination?: DestinationStream } = {}): Logger {
  const log = pino({ level: opts.level ?? process.env.PATHWAY_LOG_LEVEL ?? 'info', base: { pid: process.pid } }, opts.destination ?? pino.destination(2));
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => log[LEVEL[level]](safeLogFields(meta), message);
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}
