// What a client, a worker and the tests must agree on to reach the same cases: the data converter
// (a payload the worker wrote must decode in the client, and a failure message too) and the task
// queue. Built here once; client/, worker/, scripts and tests import it rather than build their own.
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import { ENCRYPTED_FAILURE_CONVERTER_PATH, dataConverterFor } from './index';

/** The task queue the pathway worker polls, and a client sends to, unless `PATHWAY_TASK_QUEUE` says otherwise. */
export const DEFAULT_TASK_QUEUE = 'social-prescribing';

/** Task queue names go into list queries between quotes: letters, digits and `._:/-` only. */
export const TASK_QUEUE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;

/** The task queue named by `PATHWAY_TASK_QUEUE`, else the default. */
export function taskQueueFromEnv(env: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env): string {
  return env['PATHWAY_TASK_QUEUE'] ?? DEFAULT_TASK_QUEUE;
}

/**
 * The converter worker, client and tests share: payloads through the codec, and failure messages
 * and stacks moved into payloads so the codec covers them too.
 */
export function pathwayDataConverter(codec: PayloadCodec | undefined): DataConverter {
  return { ...dataConverterFor(codec), failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH };
}
