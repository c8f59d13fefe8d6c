// The worker process: `npx tsx worker/main.ts`. Connects where TEMPORAL_* env vars say (the local dev
// server by default), encrypts payloads with the configured key, and shuts down gracefully on
// SIGINT/SIGTERM (the SDK's runtime finishes in-flight tasks before it exits).
import { loadCodecFromEnv, DEFAULT_DEV_KEY_DIR } from '../codec';
import { isLocalDevTarget, isRemoteTarget, serverTarget } from './connection';
import { taskQueueFromEnv } from '../codec/defaults';
import { createPathwayWorker } from './create';

async function main() {
  const target = serverTarget();
  // Any server but this machine's is production (encrypted or refused); only the local dev server
  // gets a dev key minted for it.
  const codec = await loadCodecFromEnv(process.env, {
    production: isRemoteTarget(target),
    ...(isLocalDevTarget(target) && { devKeyDir: DEFAULT_DEV_KEY_DIR }),
  });
  const taskQueue = taskQueueFromEnv(process.env);
  const started = Date.now();
  const { worker, close } = await createPathwayWorker({
    address: target.address,
    namespace: target.namespace,
    taskQueue,
    codec,
    connectionOptions: target.connectionOptions,
  });
  console.log(`worker ready in ${Date.now() - started}ms: ${target.address} namespace=${target.namespace} taskQueue=${taskQueue}`);
  try {
    await worker.run();
  } finally {
    await close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
