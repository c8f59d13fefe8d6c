// Provisions what `npm run cluster` runs, from the registries these machines reach, in the style of
// provision.mjs (pinned, cached in the git-ignored .cache/cluster, idempotent, progress shown):
//   - the Temporal server and its SQL schema tool, built from the Go module at the version the
//     CLI's dev server embeds, so the cluster and `npm start` run the same server code;
//   - the Temporal Web UI server, built from its Go module at the version the CLI embeds;
//   - PostgreSQL from Debian's package (apt-get) when this machine has none.
// Plain Node, like provision.mjs, so it runs before anything else is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProvisionError, root } from './provision.mjs';

export const TEMPORAL_SERVER_VERSION = 'v1.29.1'; // what the CLI v1.5.1 embeds (its go.mod)
export const UI_SERVER_VERSION = 'v2.42.1'; // github.com/temporalio/ui-server/v2, as the CLI v1.5.1 embeds
const STAMP = `${TEMPORAL_SERVER_VERSION}+ui-${UI_SERVER_VERSION}`;

export const clusterCacheDir = join(root, '.cache', 'cluster');
const binDir = join(clusterCacheDir, 'bin');
// The UI's command is also called `server`: a folder of its own keeps the two apart.
const uiBinDir = join(clusterCacheDir, 'ui-bin');

function log(message) {
  process.stderr.write(`[cluster] ${message}\n`);
}

function goEnv(name) {
  const out = spawnSync('go', ['env', name], { encoding: 'utf8' });
  if (out.error || out.status !== 0) {
    throw new ProvisionError(
      'Go is needed to build the Temporal server for the cluster but `go` was not found on PATH.\n' +
        '  Install Go 1.24 or newer (e.g. `apt-get install golang` or from go.dev), or run the engine against a\n' +
        '  cluster you already have: TEMPORAL_ADDRESS=host:port npm start.',
    );
  }
  return out.stdout.trim();
}

function goInstall(label, gobin, pkgs) {
  log(`building ${label} from its Go module (first time only; a few minutes)`);
  const started = Date.now();
  // Inherit output: `go install -v` prints each package as it compiles, which is the progress.
  const result = spawnSync('go', ['install', '-v', ...pkgs], {
    env: { ...process.env, GOBIN: gobin, GOFLAGS: [process.env.GOFLAGS, '-mod=mod'].filter(Boolean).join(' ') },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) throw new ProvisionError(`go install of ${label} failed (exit ${result.status}); see the output above.`);
  log(`${label}: built in ${((Date.now() - started) / 1000).toFixed(0)}s`);
}

/**
 * The server, the schema tool and the Web UI server, plus the folder of the server's Go module
 * (its SQL schemas and config templates ship inside it).
 */
export function ensureClusterBinaries() {
  const server = join(binDir, 'server');
  const sqlTool = join(binDir, 'sql');
  const ui = join(uiBinDir, 'server');
  const stamp = join(clusterCacheDir, 'version');
  const modCache = goEnv('GOMODCACHE');
  const moduleDir = join(modCache, 'go.temporal.io', `server@${TEMPORAL_SERVER_VERSION}`);
  const built = existsSync(server) && existsSync(sqlTool) && existsSync(ui) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === STAMP;
  if (!built) {
    mkdirSync(binDir, { recursive: true });
    mkdirSync(uiBinDir, { recursive: true });
    goInstall(`the Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool`, binDir, [
      `go.temporal.io/server/cmd/server@${TEMPORAL_SERVER_VERSION}`,
      `go.temporal.io/server/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
    ]);
    goInstall(`the Temporal Web UI server ${UI_SERVER_VERSION}`, uiBinDir, [`github.com/temporalio/ui-server/v2/cmd/server@${UI_SERVER_VERSION}`]);
    writeFileSync(stamp, `${STAMP}\n`);
  }
  if (!existsSync(join(moduleDir, 'schema'))) {
    const dl = spawnSync('go', ['mod', 'download', `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`], { stdio: 'inherit' });
    if (dl.status !== 0 || !existsSync(join(moduleDir, 'schema'))) {
      throw new ProvisionError(`the Temporal server module's schemas are not in ${moduleDir} and go mod download could not fetch them.`);
    }
  }
  return { server, sqlTool, ui, moduleDir };
}

function findPostgresBin() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(base, versions[0], 'bin') : undefined;
}

/** The folder holding initdb, postgres and pg_ctl; installs Debian's postgresql package when missing. */
export function ensurePostgres() {
  if (process.env.PATHWAY_PG_BIN) {
    if (!existsSync(join(process.env.PATHWAY_PG_BIN, 'initdb'))) throw new ProvisionError(`PATHWAY_PG_BIN=${process.env.PATHWAY_PG_BIN} has no initdb.`);
    return process.env.PATHWAY_PG_BIN;
  }
  const found = findPostgresBin();
  if (found) return found;
  const apt = spawnSync('apt-get', ['--version'], { encoding: 'utf8' });
  if (apt.error || apt.status !== 0 || process.getuid?.() !== 0) {
    throw new ProvisionError(
      'PostgreSQL is needed for the cluster and was not found in /usr/lib/postgresql, and it cannot be installed here\n' +
        '  (apt-get missing or not running as root). Install PostgreSQL 12 or newer (Debian: `apt-get install postgresql`)\n' +
        '  or set PATHWAY_PG_BIN to the folder holding its initdb and postgres.',
    );
  }
  log('installing PostgreSQL with apt-get (first time only)');
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'postgresql']]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) throw new ProvisionError(`apt-get ${args.join(' ')} failed (exit ${r.status}).`);
  }
  const installed = findPostgresBin();
  if (!installed) throw new ProvisionError('apt-get installed postgresql but no initdb is in /usr/lib/postgresql/*/bin.');
  return installed;
}
