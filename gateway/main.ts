// `npm run gateway`: the FHIR gateway on its own, against a running server and worker (`npm start`
// runs it beside them). Settings from the environment: TEMPORAL_* as the worker, GATEWAY_* (see
// gateway/server.ts and docs/fhir.md).
import { DEFAULT_DEV_KEY_DIR } from '../codec';
import { PathwayClient } from '../client';
import { devInstructions, startGateway } from './server';

async function main() {
  const production = process.env['NODE_ENV'] === 'production';
  const client = await PathwayClient.connect(production ? {} : { devKeyDir: DEFAULT_DEV_KEY_DIR });
  const gateway = await startGateway({ client });
  console.log(gateway.devToken ? devInstructions(gateway.url, gateway.devToken) : `FHIR gateway: ${gateway.url}/fhir`);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void gateway.close().then(() => client.close()).then(() => process.exit(0));
    });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
