// Client, worker and tests must build the same converter and default to the same task queue, or a
// payload the worker wrote will not decode in the client and a referral will wait on a queue no
// worker polls. They share codec/defaults.ts; these tests hold each side to it.
import { describe, expect, it } from 'vitest';
import { ENCRYPTED_FAILURE_CONVERTER_PATH, KEYS_ENV, generateKey, loadCodecFromEnv } from '../../../codec';
import { DEFAULT_TASK_QUEUE, pathwayDataConverter, taskQueueFromEnv } from '../../../codec/defaults';
import { DEFAULT_TASK_QUEUE as CLIENT_TASK_QUEUE, clientDataConverter } from '../../../client';
import { DEFAULT_TASK_QUEUE as WORKER_TASK_QUEUE, pathwayDataConverter as workerDataConverter } from '../../../worker/create';

describe('engine defaults shared by client, worker and tests', () => {
  it('builds one data converter for every side', () => {
    expect(clientDataConverter).toBe(pathwayDataConverter);
    expect(workerDataConverter).toBe(pathwayDataConverter);
  });

  it('always moves failure messages into payloads, and puts payloads through the codec when there is one', async () => {
    expect(pathwayDataConverter(undefined)).toEqual({ failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH });
    const codec = (await loadCodecFromEnv({ [KEYS_ENV]: `k1:${generateKey()}` }))!;
    expect(pathwayDataConverter(codec)).toEqual({ payloadCodecs: [codec], failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH });
  });

  it('defaults to one task queue, which PATHWAY_TASK_QUEUE overrides', () => {
    expect(CLIENT_TASK_QUEUE).toBe(DEFAULT_TASK_QUEUE);
    expect(WORKER_TASK_QUEUE).toBe(DEFAULT_TASK_QUEUE);
    expect(taskQueueFromEnv({})).toBe('social-prescribing');
    expect(taskQueueFromEnv({ PATHWAY_TASK_QUEUE: 'scheme-a' })).toBe('scheme-a');
  });
});
