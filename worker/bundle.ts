// The workflow bundle, built ahead of time: bundling with webpack takes seconds, loading a
// prebuilt bundle a fraction of that, and a worker's start-up is what a restart after a crash waits on.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ENCRYPTED_FAILURE_CONVERTER_PATH } from '../codec';

const root = resolve(__dirname, '..');
const bundleDir = join(root, '.cache', 'bundle');

// Everything the workflow code can import: a change in any of it must rebuild the bundle.
const SOURCES = ['worker/bundle.ts', 'workflows', 'machines', 'activities/options.ts', 'codec/failure-converter.js', 'evidence/outcomeRecord.ts', 'package-lock.json'];

function sourceHash(extra: string[]): string {
  const hash = createHash('sha256');
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) visit(join(path, name));
    } else {
      hash.update(path.slice(root.length)).update(readFileSync(path));
    }
  };
  [...SOURCES.map((s) => join(root, s)), ...extra].forEach(visit);
  return hash.digest('hex').slice(0, 16);
}

/**
 * What every bundle of the workflows needs besides its workflows module: the failure converter
 * that encrypts failure messages, and the interceptor that lets a case apply due deadlines before
 * a command (workflows/before-commands.ts). Workers, tests and benchmarks that bundle use these.
 */
export const WORKFLOW_BUNDLE_OPTIONS = {
  failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH,
  workflowInterceptorModules: [join(root, 'workflows', 'before-commands.ts')],
  preloadModules: [join(root, 'workflows', 'shared-modules.ts')],
};

const quiet = { trace() {}, debug() {}, info() {}, log() {}, warn: console.warn, error: console.error };

/**
 * Path of an up-to-date bundle of `workflowsPath` (the project's workflows by default), building it
 * only when its sources changed since the last build.
 */
export async function ensureWorkflowBundle(workflowsPath = join(root, 'workflows', 'index.ts'), name = 'workflows'): Promise<string> {
  const key = sourceHash([workflowsPath]);
  const path = join(bundleDir, `${name}-${key}.js`);
  if (existsSync(path)) return path;
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    ...WORKFLOW_BUNDLE_OPTIONS,
    logger: quiet,
  });
  mkdirSync(bundleDir, { recursive: true });
  writeFileSync(path, code);
  return path;
}

if (require.main === module) {
  ensureWorkflowBundle().then((path) => console.log(`workflow bundle: ${path}`));
}
