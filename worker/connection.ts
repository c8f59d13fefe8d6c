// Where the engine's Temporal server is. One rule for worker, client, CLI and scripts alike,
// the same as the `temporal` CLI's: a TOML profile (TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE)
// overridden by TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY and TEMPORAL_TLS_* env vars.
// With none of them set it is the local dev server that `npm start` runs.
import { loadClientConnectConfig } from '@temporalio/envconfig';

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';

export interface ServerTarget {
  address: string;
  namespace: string;
  tls?: unknown;
  apiKey?: string;
  /** Connection options as the SDK takes them (shape shared by Connection and NativeConnection). */
  connectionOptions: { address: string; tls?: any; apiKey?: string; metadata?: Record<string, string> };
}

export function serverTarget(env: Record<string, string | undefined> = process.env): ServerTarget {
  const overrideEnvVars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const config = loadClientConnectConfig({ overrideEnvVars });
  const options = config.connectionOptions as ServerTarget['connectionOptions'];
  const address = options.address ?? DEFAULT_ADDRESS;
  return {
    address,
    namespace: config.namespace ?? DEFAULT_NAMESPACE,
    tls: options.tls,
    apiKey: options.apiKey,
    connectionOptions: { ...options, address },
  };
}
