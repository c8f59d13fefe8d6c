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

/** The env vars that point the engine somewhere other than the local dev server. */
export const TARGET_ENV_VARS = ['TEMPORAL_ADDRESS', 'TEMPORAL_PROFILE', 'TEMPORAL_CONFIG_FILE'] as const;

function addressHost(address: string): string {
  const bracketed = /^\[([^\]]+)\]/.exec(address);
  if (bracketed) return bracketed[1]!;
  const colons = address.split(':').length - 1;
  // host:port, or a bare IPv6 address (several colons, no port to take off).
  return colons === 1 ? address.slice(0, address.lastIndexOf(':')) : address;
}

/**
 * A Temporal server beyond this machine, or reached with TLS or an API key (a cluster, however it
 * was configured: env vars, a TOML profile, the default config file, or explicit options). Such a
 * target is production: payloads must be encrypted or refused. A loopback address could still be
 * a tunnel to a cluster; set NODE_ENV=production for that.
 */
export function isRemoteTarget(target: Pick<ServerTarget, 'address' | 'connectionOptions'>): boolean {
  const host = addressHost(target.address);
  const loopback = host === 'localhost' || host.startsWith('127.') || host === '::1';
  return !loopback || Boolean(target.connectionOptions.tls) || Boolean(target.connectionOptions.apiKey);
}

/** The local dev server `npm start` runs: nothing configured, and the default address. Only it gets a minted dev key. */
export function isLocalDevTarget(target: Pick<ServerTarget, 'address' | 'connectionOptions'>, env: Record<string, string | undefined> = process.env): boolean {
  return TARGET_ENV_VARS.every((name) => !env[name]) && target.address === DEFAULT_ADDRESS && !isRemoteTarget(target);
}
