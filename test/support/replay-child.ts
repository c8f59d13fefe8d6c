// Replays kept case histories in a process of its own and prints one JSON line: how many replayed
// and which failed. Run by test/temporal/replay.test.ts so that a history whose workflow task
// never finishes (a loop that never yields, which also blocks the process that replays it) fails
// the test on a clock instead of hanging the whole suite.
// Usage: node --import tsx test/support/replay-child.ts <workflow bundle> <history.bin>...
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { Runtime, Worker } from '@temporalio/worker';
import { EncryptionCodec, importKeyring, readKeyFile } from '../../codec';
import { pathwayDataConverter } from '../../codec/defaults';

async function main() {
  const [codePath, ...files] = process.argv.slice(2);
  Runtime.install({ logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never });
  const keyring = importKeyring(readKeyFile(join(__dirname, '..', 'fixtures', 'codec-test-keys.json')));
  const results = Worker.runReplayHistories(
    { workflowBundle: { codePath: codePath! }, dataConverter: pathwayDataConverter(new EncryptionCodec(keyring)) },
    files.map((f) => ({ workflowId: basename(f), history: temporal.api.history.v1.History.decode(readFileSync(f)) })),
  );
  const failures: string[] = [];
  let count = 0;
  for await (const result of results) {
    count += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.name}: ${result.error.message}`);
  }
  process.stdout.write(`${JSON.stringify({ count, failures })}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
