// `npm run gateway` (and `npm run console`): the one HTTP server, the FHIR gateway with the
// supervisor console under `/console`, against a running Temporal server and worker (`npm start`
// runs it beside them). Settings from the environment: TEMPORAL_* as the worker, GATEWAY_* and
// CONSOLE_* (see http/server.ts, docs/fhir.md and docs/console.md).
import { DEFAULT_DEV_KEY_DIR } from '../codec';
import { PathwayClient } from '../client';
import { describeHttpApp, startHttpApp } from '../http/server';

async function main() {
  const production = process.env['NODE_ENV'] === 'production';
  const client = await PathwayClient.connect(production ? {} : { devKeyDir: DEFAULT_DEV_KEY_DIR });
  // Schemes the console's dev accounts see: CONSOLE_SCHEMES, else every scheme with a roster on this queue.
  const schemes = process.env['CONSOLE_SCHEMES']?.split(',').filter(Boolean) ?? (await client.allCaseloads()).map((c) => c.schemeId);
  const server = await startHttpApp({ client, consoleSchemes: schemes.length ? schemes : ['demo'] });
  console.log(describeHttpApp(server));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void server.close().then(() => client.close()).then(() => process.exit(0));
    });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
