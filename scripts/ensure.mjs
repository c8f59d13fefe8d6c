// Runs before `npm start` and `npm test`: installs whatever a fresh clone is missing, so each is one
// command. `--for=start` needs only the dev server; tests also need the time-skipping server, the
// HAPI FHIR validator and Chromium (the console's browser tests drive Debian's).
import { ensureChromium, ensureFhirValidator, ensureNodeModules, ensureTemporalCli, ensureTestServer, externalServer, ProvisionError } from './provision.mjs';

const purpose = process.argv.find((a) => a.startsWith('--for='))?.slice('--for='.length) ?? 'test';
const started = Date.now();

try {
  ensureNodeModules();
  const builds = [];
  if (externalServer()) {
    process.stderr.write(`[provision] TEMPORAL_ADDRESS=${externalServer()}: using that server, starting none\n`);
  } else {
    builds.push(ensureTemporalCli());
  }
  if (purpose === 'test') builds.push(ensureTestServer(), ensureFhirValidator(), ensureChromium());
  // Go and Maven builds overlap: the first run on a fresh machine is bounded by the slower one.
  await Promise.all(builds);
  process.stderr.write(`[provision] ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
} catch (err) {
  if (err instanceof ProvisionError) {
    process.stderr.write(`\n[provision] ${err.message}\n\n`);
    process.exit(1);
  }
  throw err;
}
