// Runs the codec server so the Web UI and `temporal` CLI can show decrypted payloads. It uses the
// same key configuration as the worker and client (PATHWAY_CODEC_KEYS or PATHWAY_CODEC_KEY_FILE);
// `--dev` falls back to the local dev key and codec-server token that `npm start` mints, so local
// histories are readable by whoever on this machine can read `.cache/codec/`.
//
//   PATHWAY_CODEC_SERVER_PORT      default 8888
//   PATHWAY_CODEC_SERVER_HOST      default 127.0.0.1; any other address needs TLS (below)
//   PATHWAY_CODEC_CORS_ORIGINS     comma-separated Web UI origins, default the dev server's UI
//   PATHWAY_CODEC_SERVER_TOKEN     required (16+ characters; --dev: the token npm start keeps);
//                                  callers send "Authorization: Bearer <token>"
//   PATHWAY_CODEC_SERVER_TLS_CERT  PEM certificate and key files: the server speaks HTTPS
//   PATHWAY_CODEC_SERVER_TLS_KEY
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  CodecKeyError,
  CodecServerConfigError,
  DEFAULT_DEV_KEY_DIR,
  DEV_CODEC_TOKEN_FILE,
  devCodecServerToken,
  loadCodecFromEnv,
  MIN_TOKEN_LENGTH,
  startCodecServer,
} from '../codec';

const envSchema = z.object({
  PATHWAY_CODEC_SERVER_PORT: z.coerce.number().int().min(0).max(65535).default(8888),
  PATHWAY_CODEC_SERVER_HOST: z.string().min(1).default('127.0.0.1'),
  PATHWAY_CODEC_CORS_ORIGINS: z
    .string()
    .default('http://localhost:8233,http://127.0.0.1:8233')
    .transform((s) => s.split(',').map((o) => o.trim()).filter((o) => o !== ''))
    .pipe(z.array(z.url({ protocol: /^https?$/ }).refine((o) => new URL(o).origin === o, 'must be an origin: scheme://host[:port], no path'))),
  PATHWAY_CODEC_SERVER_TOKEN: z.string().min(MIN_TOKEN_LENGTH, `must be at least ${MIN_TOKEN_LENGTH} characters`).optional(),
  PATHWAY_CODEC_SERVER_TLS_CERT: z.string().min(1).optional(),
  PATHWAY_CODEC_SERVER_TLS_KEY: z.string().min(1).optional(),
});

async function main(): Promise<void> {
  const dev = process.argv.includes('--dev');
  const settings = envSchema.safeParse(process.env, { reportInput: false });
  if (!settings.success) {
    throw new CodecKeyError(settings.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('\n'));
  }
  const config = settings.data;
  if ((config.PATHWAY_CODEC_SERVER_TLS_CERT === undefined) !== (config.PATHWAY_CODEC_SERVER_TLS_KEY === undefined)) {
    throw new CodecServerConfigError('set both PATHWAY_CODEC_SERVER_TLS_CERT and PATHWAY_CODEC_SERVER_TLS_KEY, or neither');
  }
  const codec = await loadCodecFromEnv(process.env, dev ? { devKeyDir: DEFAULT_DEV_KEY_DIR } : {});
  if (codec === undefined) {
    throw new CodecKeyError('PATHWAY_CODEC=off: payloads are not encrypted, so there is nothing for a codec server to do.');
  }
  const token = config.PATHWAY_CODEC_SERVER_TOKEN ?? (dev ? (await devCodecServerToken()).token : undefined);
  if (token === undefined) {
    throw new CodecServerConfigError(
      `PATHWAY_CODEC_SERVER_TOKEN is not set: the codec server decrypts for whoever holds its token, so it needs one ` +
        `(at least ${MIN_TOKEN_LENGTH} random characters, e.g. \`openssl rand -base64 32\`), or --dev for the one npm start keeps.`,
    );
  }
  const tls =
    config.PATHWAY_CODEC_SERVER_TLS_CERT !== undefined && config.PATHWAY_CODEC_SERVER_TLS_KEY !== undefined
      ? { cert: readFileSync(config.PATHWAY_CODEC_SERVER_TLS_CERT), key: readFileSync(config.PATHWAY_CODEC_SERVER_TLS_KEY) }
      : undefined;

  const server = await startCodecServer({
    port: config.PATHWAY_CODEC_SERVER_PORT,
    host: config.PATHWAY_CODEC_SERVER_HOST,
    codec,
    corsOrigins: config.PATHWAY_CODEC_CORS_ORIGINS,
    authToken: token,
    ...(tls && { tls }),
    // Key ids and causes go to this log, never to the caller.
    onError: (err) => process.stderr.write(`[codec-server] ${err instanceof Error ? err.message : String(err)}\n`),
  });

  const endpoint = server.url.replace('127.0.0.1', 'localhost');
  const auth = config.PATHWAY_CODEC_SERVER_TOKEN === undefined ? ` --codec-auth "Bearer $(cat ${DEV_CODEC_TOKEN_FILE})"` : ' --codec-auth "Bearer $PATHWAY_CODEC_SERVER_TOKEN"';
  process.stdout.write(
    [
      `[codec-server] listening on ${server.url}; encrypting with key "${codec.activeKeyId}", decrypting ${codec.keyIds.length} key(s)`,
      `[codec-server] browser origins allowed: ${config.PATHWAY_CODEC_CORS_ORIGINS.join(', ') || '(none)'}; every request needs the token`,
      '',
      'Web UI: "Configure data encoder": Remote Codec Endpoint ' + endpoint + ', and "Pass the user access token" on.',
      '  The UI then sends "Authorization: Bearer <its signed-in user\'s token>", which must be this token; a UI',
      '  without sign-in (the dev server\'s) sends none and shows payloads encrypted. The CLI always can:',
      `  temporal workflow show --workflow-id <id> --codec-endpoint ${endpoint}${auth}`,
      '',
    ].join('\n'),
  );

  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  const message =
    err instanceof CodecKeyError || err instanceof CodecServerConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  const nothingSet = ['PATHWAY_CODEC', 'PATHWAY_CODEC_KEYS', 'PATHWAY_CODEC_KEY_FILE'].every((name) => process.env[name] === undefined);
  const hint = nothingSet && !process.argv.includes('--dev') ? '\nFor local development, --dev uses the dev key and token that `npm start` creates.' : '';
  process.stderr.write(`[codec-server] cannot start:\n${message}${hint}\n`);
  process.exit(1);
});
