// `npm run console`: the console alone, against the Temporal server the environment names (the
// same variables as the CLI; a local dev server by default, e.g. the one `npm start` runs).
import { PathwayClient } from '../client';
import { DEFAULT_DEV_KEY_DIR } from '../codec';
import { describeConsole, startConsoleServer } from './server';

async function main() {
  const client = await PathwayClient.connect({ devKeyDir: DEFAULT_DEV_KEY_DIR });
  // Schemes the dev accounts see: CONSOLE_SCHEMES, else every scheme with a roster on this queue.
  const schemes = process.env.CONSOLE_SCHEMES?.split(',').filter(Boolean) ?? (await client.allCaseloads()).map((c) => c.schemeId);
  const server = await startConsoleServer({ client, schemes: schemes.length ? schemes : ['demo'] });
  console.log(describeConsole(server));
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      void server.close().then(() => client.close()).then(() => process.exit(0));
    });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
