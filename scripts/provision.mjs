// Provisions the two Temporal servers this project runs on, from the package registries these
// machines reach (the SDK's own download of them needs the open internet and fails here):
//   - the Temporal CLI (dev server + Web UI), built from its Go module with `go install`;
//   - the Java time-skipping test server, from Maven Central, behind a `<port>` launcher;
//   - Debian's Chromium for the console's browser tests, with apt-get.
// Plain Node with no dependencies, because it runs before `npm ci` has anything installed.
// Idempotent: a stamp file per server records the pinned version that was built.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_VERSION = 'v1.5.1'; // Temporal server 1.29.1 with the Web UI
export const TEST_SERVER_VERSION = '1.38.0'; // io.temporal:temporal-test-server
const LAUNCHER_REVISION = '2'; // bump when the launcher script changes, so caches rewrite it

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const cacheDir = join(root, '.cache', 'temporal');

const cliDir = join(cacheDir, `cli-${TEMPORAL_CLI_VERSION}`);
const testServerDir = join(cacheDir, `test-server-${TEST_SERVER_VERSION}`);

export class ProvisionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ProvisionError';
  }
}

function log(message) {
  process.stderr.write(`[provision] ${message}\n`);
}

function onPath(command) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, command))) return join(dir, command);
  }
  return undefined;
}

const SKIP_SERVER_BUILD =
  'or skip this build by pointing the project at a server you already have:\n' +
  '  TEMPORAL_CLI_PATH=/path/to/temporal, TEMPORAL_TEST_SERVER_PATH=/path/to/test-server, or TEMPORAL_ADDRESS=host:port.';

function requireTool(command, versionArgs, what, install, otherwise = SKIP_SERVER_BUILD) {
  const found = spawnSync(command, versionArgs, { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new ProvisionError(`${command} is needed to ${what} but was not found on PATH.\n  Install it (${install}), ${otherwise}`);
  }
}

/** Runs a long build, printing a heartbeat with elapsed time so a first build never looks hung. */
function runWithProgress(label, command, args, options) {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    let lines = 0;
    let tail = [];
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (chunk) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        lines += 1;
        tail = [...tail.slice(-19), line];
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    const beat = setInterval(() => {
      const seconds = Math.round((Date.now() - started) / 1000);
      log(`${label}: ${seconds}s, ${lines} steps so far (${tail.at(-1)?.slice(0, 90) ?? 'starting'})`);
    }, 15_000);
    child.on('error', (err) => {
      clearInterval(beat);
      reject(new ProvisionError(`${label} could not start ${command}: ${err.message}`));
    });
    child.on('close', (code) => {
      clearInterval(beat);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      if (code === 0) {
        log(`${label}: done in ${seconds}s`);
        resolvePromise();
      } else {
        reject(new ProvisionError(`${label} failed (exit ${code}) after ${seconds}s. Last output:\n${tail.join('\n')}`));
      }
    });
  });
}

/**
 * The Temporal CLI: TEMPORAL_CLI_PATH, else `temporal` on PATH, else built into the cache.
 * v1.5.1 is the newest tag whose go.mod has no `replace` directive, which `go install pkg@version` refuses.
 */
export async function ensureTemporalCli() {
  if (process.env.TEMPORAL_CLI_PATH) {
    if (!existsSync(process.env.TEMPORAL_CLI_PATH)) {
      throw new ProvisionError(`TEMPORAL_CLI_PATH=${process.env.TEMPORAL_CLI_PATH} does not exist.`);
    }
    return process.env.TEMPORAL_CLI_PATH;
  }
  const onUserPath = onPath('temporal');
  if (onUserPath) return onUserPath;

  const binary = join(cliDir, 'bin', 'temporal');
  const stamp = join(cliDir, 'version');
  if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === TEMPORAL_CLI_VERSION) {
    return binary;
  }
  requireTool('go', ['version'], 'build the Temporal CLI dev server', 'Go 1.24 or newer, e.g. `apt-get install golang` or from go.dev');
  mkdirSync(join(cliDir, 'bin'), { recursive: true });
  log(`building the Temporal CLI ${TEMPORAL_CLI_VERSION} from its Go module (first time only; a few minutes)`);
  await runWithProgress(
    `go install temporal ${TEMPORAL_CLI_VERSION}`,
    'go',
    ['install', '-v', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`],
    { env: { ...process.env, GOBIN: join(cliDir, 'bin') } },
  );
  writeFileSync(stamp, `${TEMPORAL_CLI_VERSION}\n`);
  return binary;
}

/**
 * The time-skipping test server: TEMPORAL_TEST_SERVER_PATH, else the Java server from Maven Central
 * behind a launcher that takes `<port>` like the native binary the SDK would have downloaded.
 */
export async function ensureTestServer() {
  if (process.env.TEMPORAL_TEST_SERVER_PATH) {
    if (!existsSync(process.env.TEMPORAL_TEST_SERVER_PATH)) {
      throw new ProvisionError(`TEMPORAL_TEST_SERVER_PATH=${process.env.TEMPORAL_TEST_SERVER_PATH} does not exist.`);
    }
    return process.env.TEMPORAL_TEST_SERVER_PATH;
  }
  const launcher = join(testServerDir, 'temporal-test-server');
  const stamp = join(testServerDir, 'version');
  if (existsSync(launcher) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === `${TEST_SERVER_VERSION}+${LAUNCHER_REVISION}`) {
    return launcher;
  }
  requireTool('java', ['-version'], 'run the time-skipping test server', 'a JDK 11 or newer, e.g. `apt-get install openjdk-17-jre-headless`');
  requireTool('mvn', ['-v'], 'fetch the time-skipping test server from Maven Central', 'Apache Maven, e.g. `apt-get install maven`');
  mkdirSync(testServerDir, { recursive: true });
  writeFileSync(
    join(testServerDir, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.provision</groupId>
  <artifactId>temporal-test-server-launcher</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEST_SERVER_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`,
  );
  log(`fetching io.temporal:temporal-test-server:${TEST_SERVER_VERSION} and its dependencies from Maven Central`);
  await runWithProgress(
    `mvn temporal-test-server ${TEST_SERVER_VERSION}`,
    'mvn',
    ['-B', '-ntp', 'dependency:copy-dependencies', '-DoutputDirectory=lib', '-DincludeScope=runtime'],
    { cwd: testServerDir },
  );
  const jars = readdirSync(join(testServerDir, 'lib')).filter((f) => f.endsWith('.jar'));
  if (!jars.some((j) => j.startsWith('temporal-test-server-'))) {
    throw new ProvisionError(`Maven finished but no temporal-test-server jar is in ${join(testServerDir, 'lib')}.`);
  }
  // The SDK runs `<launcher> <port> [extra args]`. Time skipping stays off at start, as with the
  // native binary: the SDK's client unlocks it only while it awaits a result (started unlocked, the
  // server skips a new workflow straight past its 10-year default timeout before a worker polls).
  writeFileSync(
    launcher,
    `#!/bin/sh
dir=$(cd "$(dirname "$0")" && pwd)
exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$dir/lib/*" io.temporal.testserver.TestServer "$@"
`,
  );
  chmodSync(launcher, 0o755);
  writeFileSync(stamp, `${TEST_SERVER_VERSION}+${LAUNCHER_REVISION}\n`);
  return launcher;
}

export const FHIR_VALIDATOR_VERSION = '8.6.5'; // ca.uhn.hapi.fhir validation artifacts (8.6.5: newest 8.x whose hapi-fhir-validation this registry serves)
const FHIR_LAUNCHER_REVISION = '1'; // bump when scripts/fhir-validator/Validate.java changes, so caches recompile it
export const fhirValidatorDir = join(root, '.cache', 'fhir-validator', `hapi-${FHIR_VALIDATOR_VERSION}`);

/**
 * The HAPI FHIR R4 validator the tests check every FHIR resource with: its jars from Maven Central
 * and the project's launcher (scripts/fhir-validator/Validate.java) compiled against them. Returns
 * the `java` arguments that start it (`-cp <jars>:<classes> Validate`), to which callers add theirs.
 */
export async function ensureFhirValidator() {
  const classes = join(fhirValidatorDir, 'classes');
  const stamp = join(fhirValidatorDir, 'version');
  const wanted = `${FHIR_VALIDATOR_VERSION}+${FHIR_LAUNCHER_REVISION}`;
  const command = { java: 'java', args: ['-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-cp', `${join(fhirValidatorDir, 'lib', '*')}${delimiter}${classes}`, 'Validate'] };
  if (existsSync(join(classes, 'Validate.class')) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === wanted) return command;
  const rerun = 'then run `npm run provision` again (the FHIR validation test needs it).';
  requireTool('java', ['-version'], 'run the HAPI FHIR validator', 'a JDK 17 or newer, e.g. `apt-get install openjdk-17-jdk-headless`', rerun);
  requireTool('javac', ['-version'], 'compile the HAPI FHIR validator launcher', 'a JDK, not only a JRE, e.g. `apt-get install openjdk-17-jdk-headless`', rerun);
  requireTool('mvn', ['-v'], 'fetch the HAPI FHIR validator from Maven Central', 'Apache Maven, e.g. `apt-get install maven`', rerun);
  mkdirSync(fhirValidatorDir, { recursive: true });
  const dependency = (artifactId) =>
    `    <dependency><groupId>ca.uhn.hapi.fhir</groupId><artifactId>${artifactId}</artifactId><version>${FHIR_VALIDATOR_VERSION}</version></dependency>`;
  writeFileSync(
    join(fhirValidatorDir, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.provision</groupId>
  <artifactId>fhir-validator-launcher</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${['hapi-fhir-validation', 'hapi-fhir-structures-r4', 'hapi-fhir-validation-resources-r4', 'hapi-fhir-caching-caffeine'].map(dependency).join('\n')}
  </dependencies>
</project>
`,
  );
  log(`fetching the HAPI FHIR ${FHIR_VALIDATOR_VERSION} R4 validator and its dependencies from Maven Central`);
  await runWithProgress(
    `mvn hapi-fhir-validation ${FHIR_VALIDATOR_VERSION}`,
    'mvn',
    ['-B', '-ntp', 'dependency:copy-dependencies', '-DoutputDirectory=lib', '-DincludeScope=runtime'],
    { cwd: fhirValidatorDir },
  );
  const jars = readdirSync(join(fhirValidatorDir, 'lib')).filter((f) => f.endsWith('.jar'));
  if (!jars.some((j) => j.startsWith('hapi-fhir-validation-'))) {
    throw new ProvisionError(`Maven finished but no hapi-fhir-validation jar is in ${join(fhirValidatorDir, 'lib')}.`);
  }
  mkdirSync(classes, { recursive: true });
  await runWithProgress(
    'javac Validate.java',
    'javac',
    ['-nowarn', '-d', classes, '-cp', join(fhirValidatorDir, 'lib', '*'), join(root, 'scripts', 'fhir-validator', 'Validate.java')],
    {},
  );
  writeFileSync(stamp, `${wanted}\n`);
  return command;
}

/** node_modules from the committed lockfile, when they are missing or incomplete. */
export function ensureNodeModules() {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const wanted = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  const missing = wanted.filter((name) => !existsSync(join(root, 'node_modules', name, 'package.json')));
  if (missing.length === 0) return;
  log(`installing node modules (${missing.length} missing, e.g. ${missing[0]}) with npm ci`);
  const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (ci.status === 0) return;
  // A registry mirror that lacks other platforms' optional builds (e.g. @swc/core-darwin-*) makes
  // the lockfile omit them, and npm ci then refuses it as out of sync although nothing this
  // platform needs is missing. npm install honours the same locked versions and installs.
  if (/can only install packages when your package\.json and package-lock\.json/.test(ci.stderr ?? '')) {
    log('npm ci refused the lockfile over optional builds for other platforms; installing the locked versions with npm install');
    const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save'], { cwd: root, stdio: 'inherit' });
    if (install.status === 0) return;
    throw new ProvisionError(`npm install failed with exit ${install.status}.`);
  }
  process.stderr.write(ci.stderr ?? '');
  throw new ProvisionError(`npm ci failed with exit ${ci.status}.`);
}

/** Whether the user pointed us at a server of their own, in which case we start none. */
export function externalServer() {
  return process.env.TEMPORAL_ADDRESS ? process.env.TEMPORAL_ADDRESS : undefined;
}

/**
 * Debian's Chromium for the console's browser tests (playwright-core drives it; no browser
 * download, which this machine's closed network refuses). CHROMIUM_PATH points at another build.
 */
export async function ensureChromium() {
  const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (existsSync(path)) return path;
  if (process.env.CHROMIUM_PATH) throw new ProvisionError(`CHROMIUM_PATH=${path} does not exist.`);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot || !onPath('apt-get')) {
    throw new ProvisionError(
      'Chromium is needed for the console\'s browser tests but /usr/bin/chromium is missing.\n' +
        '  Install it (as root: apt-get update && apt-get install -y chromium), or point CHROMIUM_PATH at a Chromium or Chrome binary.',
    );
  }
  await runWithProgress('chromium: apt-get update', 'apt-get', ['update'], {});
  await runWithProgress('chromium: apt-get install', 'apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (!existsSync(path)) throw new ProvisionError(`apt-get installed chromium but ${path} is still missing.`);
  return path;
}
