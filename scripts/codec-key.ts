// Mints a payload encryption key. The key line goes to stdout alone, so it can be captured
// (`>> .env`, a secret manager's stdin) without the guidance printed to stderr.
//
//   npx tsx scripts/codec-key.ts               -> k20250114-3f9a:<base64>
//   npx tsx scripts/codec-key.ts --id k3       -> k3:<base64>
//   npx tsx scripts/codec-key.ts --rotate      -> new key, then every key in $PATHWAY_CODEC_KEYS
//   npx tsx scripts/codec-key.ts --file        -> a key file for PATHWAY_CODEC_KEY_FILE
//
// --rotate reads the current keys from the environment, never from argv, which `ps` would show.
import { generateKey, generateKeyId, isValidKeyId, KEY_FILE_ENV, KEYS_ENV, parseKeysEnv } from '../codec/keys';

function fail(message: string): never {
  process.stderr.write(`codec-key: ${message}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
let id: string | undefined;
let rotate = false;
let file = false;
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--id') id = args[++i] ?? fail('--id needs a value');
  else if (arg === '--rotate') rotate = true;
  else if (arg === '--file') file = true;
  else if (arg === '--help' || arg === '-h') {
    process.stderr.write('usage: codec-key [--id <key id>] [--rotate | --file]\n');
    process.exit(0);
  } else fail(`unknown argument ${JSON.stringify(arg)}; see --help`);
}
if (rotate && file) fail('--rotate and --file do not go together');

const keyId = id ?? generateKeyId();
if (!isValidKeyId(keyId)) fail(`key id ${JSON.stringify(keyId)} must be 1-64 of letters, digits, ".", "_", "-"`);
const key = generateKey();

if (file) {
  process.stdout.write(`${JSON.stringify({ active: keyId, keys: { [keyId]: key } }, null, 2)}\n`);
  process.stderr.write(`Save it with mode 600 and point ${KEY_FILE_ENV} at it. Never commit it.\n`);
} else if (rotate) {
  const current = process.env[KEYS_ENV];
  if (current === undefined) fail(`--rotate reads the current keys from ${KEYS_ENV}, which is not set`);
  let existing: ReturnType<typeof parseKeysEnv>;
  try {
    existing = parseKeysEnv(current);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
  if (existing.keys.has(keyId)) fail(`key id "${keyId}" is already in ${KEYS_ENV}`);
  const kept = [...existing.keys].map(([oldId, bytes]) => `${oldId}:${Buffer.from(bytes).toString('base64')}`);
  process.stdout.write(`${[`${keyId}:${key}`, ...kept].join(',')}\n`);
  process.stderr.write(
    `New value for ${KEYS_ENV}: "${keyId}" encrypts from now on; ${[...existing.keys.keys()].join(', ')} still decrypt.\n` +
      `Deploy it to every worker, client and codec server; drop an old key only once nothing it wrote is retained.\n`,
  );
} else {
  process.stdout.write(`${keyId}:${key}\n`);
  process.stderr.write(
    `Set ${KEYS_ENV} to this line (or put it first, before older keys, to rotate). Never commit it.\n`,
  );
}
