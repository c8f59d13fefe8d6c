// Runs the codec server so the Web UI and `temporal` CLI can show decrypted payloads. It uses the
// same key configuration as the worker and client (PATHWAY_CODEC_KEYS or PATHWAY_CODEC_KEY_FILE);
// `--dev` falls back to the local dev key that `npm start` mints, so local histories are readable.
//
//   PATHWAY_CODEC_SERVER_PORT     default 8888
//   PATHWAY_CODEC_SERVER_HOST     default 127.0.0.1 (only this machine can ask it to decrypt)
//   PATHWAY_CODEC_CORS_ORIGINS    comma-separated Web UI origins, default the dev server's UI
//   PATHWAY_CODEC_SERVER_TOKEN    optional; callers must send "Authorization: Bearer <token>"
import { z } from 'zod';
import { CodecKeyError, DEFAULT_DEV_KEY_DIR, loadCodecFromEnv, startCodecServer } from '../codec';

const envSchema = z.object({
  PATHWAY_CODEC_SERVER_PORT: z.coerce.number().int().min(0).max(65535).default(8888),
  PATHWAY_CODEC_SERVER_HOST: z.string().min(1).default('127.0.0.1'),
  PATHWAY_CODEC_CORS_ORIGINS: z
    .string()
    .default('http://localhost:8233,http://127.0.0.1:8233')
    .transform((s) => s.split(',').map((o) => o.trim()).filter((o) => o !== ''))
    .pipe(z.array(z.url({ protocol: /^https?$/ }).refine((o) => new URL(o).origin === o, 'must be an origin: scheme://host[:port], no path'))),
  PATHWAY_CODEC_SERVER_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
});

async function main(): Promise<void> {
  const dev = process.argv.includes('--dev');
  const settings = envSchema.safeParse(process.env, { reportInput: false });
  if (!settings.success) {
    throw new CodecKeyError(
      settings.error.issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('\n'),
    );
  }
  const config = settings.data;
  const codec = await loadCodecFromEnv(process.env, dev ? { devKeyDir: DEFAULT_DEV_KEY_DIR } : {});
  if (codec === undefined) {
    throw new CodecKeyError('PATHWAY_CODEC=off: payloads are not encrypted, so there is nothing for a codec server to do.');
  }

  const server = await startCodecServer({
    port: config.PATHWAY_CODEC_SERVER_PORT,
    host: config.PATHWAY_CODEC_SERVER_HOST,
    codec,
    corsOrigins: config.PATHWAY_CODEC_CORS_ORIGINS,
    ...(config.PATHWAY_CODEC_SERVER_TOKEN === undefined ? {} : { authToken: config.PATHWAY_CODEC_SERVER_TOKEN }),
    onError: (err) => process.stderr.write(`[codec-server] ${err instanceof Error ? err.message : String(err)}\n`),
  });

  const endpoint = server.url.replace('127.0.0.1', 'localhost');
  const auth = config.PATHWAY_CODEC_SERVER_TOKEN === undefined ? '' : ' --codec-auth "Bearer $PATHWAY_CODEC_SERVER_TOKEN"';
  process.stdout.write(
    [
      `[codec-server] listening on ${server.url}; encrypting with key "${codec.activeKeyId}", decrypting ${codec.keyIds.join(', ')}`,
      `[codec-server] browser origins allowed: ${config.PATHWAY_CODEC_CORS_ORIGINS.join(', ') || '(none)'}`,
      '',
      'Web UI: start the dev server with the codec endpoint,',
      `  temporal server start-dev --ui-codec-endpoint ${endpoint}`,
      `  or set it in the UI under "Configure data encoder" (Remote Codec Endpoint: ${endpoint}).`,
      'CLI:',
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
  const message = err instanceof CodecKeyError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  const nothingSet = ['PATHWAY_CODEC', 'PATHWAY_CODEC_KEYS', 'PATHWAY_CODEC_KEY_FILE'].every((name) => process.env[name] === undefined);
  const hint = nothingSet && !process.argv.includes('--dev') ? '\nFor local development, --dev uses the dev key that `npm start` creates.' : '';
  process.stderr.write(`[codec-server] cannot start:\n${message}${hint}\n`);
  process.exit(1);
});
