// The workflow bundle, built ahead of time: bundling with webpack takes seconds, loading a
// prebuilt bundle a fraction of that, and a worker's start-up is what a restart after a crash waits on.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode, type BundleOptions } from '@temporalio/worker';
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
 * The language level the workflow code is compiled to. The SDK compiles it for ES2017, which turns
 * every object spread, the way the pathway's assign actions build each new context, into a call
 * to a helper that copies property by property: a pathway step then costs 1.5x what it costs as
 * ES2022 (`npm run bench:machine` runs both). Workers run on Node 20, whose V8 runs ES2022 as it
 * is; the code means the same at either level, so running cases replay alike.
 */
export const WORKFLOW_TARGET = 'es2022';
/** What @temporalio/worker 1.24's bundler compiles the workflow code for unless told otherwise. */
export const SDK_DEFAULT_TARGET = 'es2017';

/** Points the bundler's compiler of the project's TypeScript at `target`. */
function compileFor(target: string): NonNullable<BundleOptions['webpackConfigHook']> {
  return (config) => {
    const rules = (config.module?.rules ?? []) as Array<{ use?: { loader?: string; options?: { jsc?: { target?: string } } } }>;
    const swc = rules.filter((rule) => rule.use?.loader?.includes('swc-loader') && rule.use.options?.jsc);
    // An SDK that bundles differently must fail the build loudly, not quietly fall back to ES2017.
    if (swc.length !== 1) throw new Error(`expected the workflow bundler to compile TypeScript with one swc-loader rule, found ${swc.length}`);
    swc[0]!.use!.options!.jsc!.target = target;
    return config;
  };
}

/**
 * What every bundle of the workflows needs besides its workflows module: the failure converter
 * that encrypts failure messages, the interceptor that lets a case apply due deadlines before a
 * command (workflows/runtime/before-commands.ts), the gate that traces a case started with a trace
 * context, the observations behind the engine's metrics, the modules every case shares, and the language level.
 * Workers, tests and benchmarks that bundle use these.
 */
export const WORKFLOW_BUNDLE_OPTIONS = {
  failureConverterPath: ENCRYPTED_FAILURE_CONVERTER_PATH,
  // The trace gate (workflows/runtime/trace-gate.ts) traces only the cases started with a trace,
  // and the observations the engine's metrics take from inside a workflow (engine-observations.ts).
  workflowInterceptorModules: ['before-commands.ts', 'trace-gate.ts', 'engine-observations.ts'].map((m) => join(root, 'workflows', 'runtime', m)),
  preloadModules: [join(root, 'workflows', 'runtime', 'shared-modules.ts')],
  webpackConfigHook: compileFor(WORKFLOW_TARGET),
};

const quiet = { trace() {}, debug() {}, info() {}, log() {}, warn: console.warn, error: console.error };

/**
 * Path of an up-to-date bundle of `workflowsPath` (the project's workflows by default), building it
 * only when its sources changed since the last build. `target` is for benchmarks that compare
 * language levels; everything else runs WORKFLOW_TARGET.
 */
export async function ensureWorkflowBundle(workflowsPath = join(root, 'workflows', 'index.ts'), name = 'workflows', target = WORKFLOW_TARGET): Promise<string> {
  const key = sourceHash([workflowsPath]);
  const path = join(bundleDir, `${name}-${target === WORKFLOW_TARGET ? '' : `${target}-`}${key}.js`);
  if (existsSync(path)) return path;
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    ...WORKFLOW_BUNDLE_OPTIONS,
    webpackConfigHook: compileFor(target),
    logger: quiet,
  });
  mkdirSync(bundleDir, { recursive: true });
  writeFileSync(path, code);
  return path;
}

if (require.main === module) {
  void ensureWorkflowBundle().then((path) => console.log(`workflow bundle: ${path}`));
}
