// `pathway check --replay DIR`: recorded case histories replayed against the current workflow code
// with the SDK's replayer, so a pathway change that would break running cases fails on the
// developer's desk instead of in production.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Runtime, Worker } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import { ensureWorkflowBundle } from '../worker/bundle';
import { pathwayDataConverter } from '../worker/create';

export interface ReplayOutcome {
  count: number;
  /** `file: error name: message`; the SDK's messages name the command that no longer matches. */
  failures: string[];
}

/** The histories in `dir`: `*.history.bin` (protobuf, as the fixtures) or `*.json` (as `temporal workflow show -o json`). */
export function historyFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.history.bin') || f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

function readHistory(file: string): temporal.api.history.v1.IHistory {
  const bytes = readFileSync(file);
  if (file.endsWith('.bin')) return temporal.api.history.v1.History.decode(bytes);
  return JSON.parse(bytes.toString('utf8')) as temporal.api.history.v1.IHistory;
}

let runtimeInstalled = false;

export async function replayHistories(files: string[], codec: PayloadCodec | undefined): Promise<ReplayOutcome> {
  if (!runtimeInstalled) {
    // The replayer's own log lines are noise here; failures come back as results.
    Runtime.install({ logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
    runtimeInstalled = true;
  }
  const codePath = await ensureWorkflowBundle();
  const failures: string[] = [];
  let count = 0;
  const histories = files.map((f) => ({ workflowId: basename(f), history: readHistory(f) }));
  for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath }, dataConverter: pathwayDataConverter(codec) }, histories)) {
    count += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.name}: ${result.error.message}`);
  }
  return { count, failures };
}
