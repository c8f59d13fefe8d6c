import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLocalDevTarget, isRemoteTarget, serverTarget } from '../../../worker/connection';

const dir = mkdtempSync(join(tmpdir(), 'connection-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('which Temporal targets are production', () => {
  it('the local dev server, with nothing configured, is not, and only it gets a dev key', () => {
    const target = serverTarget({ TEMPORAL_CONFIG_FILE: join(dir, 'none.toml') });
    expect(isRemoteTarget(target)).toBe(false);
    expect(isLocalDevTarget(target, {})).toBe(true);
    // A loopback address set by hand is not remote, but no dev key is minted for it either.
    const local = serverTarget({ TEMPORAL_ADDRESS: '127.0.0.1:7233' });
    expect(isRemoteTarget(local)).toBe(false);
    expect(isLocalDevTarget(local, { TEMPORAL_ADDRESS: '127.0.0.1:7233' })).toBe(false);
  });

  it('a cluster is, however it was named: address, TLS, API key, or a TOML profile', () => {
    expect(isRemoteTarget(serverTarget({ TEMPORAL_ADDRESS: 'my-cluster.example:7233' }))).toBe(true);
    expect(isRemoteTarget(serverTarget({ TEMPORAL_ADDRESS: 'localhost:7233', TEMPORAL_API_KEY: 'k' }))).toBe(true);
    expect(isRemoteTarget({ address: '[::1]:7233', connectionOptions: { address: '[::1]:7233', tls: {} } })).toBe(true);
    const file = join(dir, 'temporal.toml');
    writeFileSync(file, '[profile.prod]\naddress = "prod.tmprl.cloud:7233"\nnamespace = "sp"\n');
    const env = { TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' };
    const profiled = serverTarget(env);
    expect(profiled.address).toBe('prod.tmprl.cloud:7233');
    expect(isRemoteTarget(profiled)).toBe(true);
    expect(isLocalDevTarget(profiled, env)).toBe(false);
  });
});
