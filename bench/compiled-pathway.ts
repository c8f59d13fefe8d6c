// The pathway's modules compiled the way the worker's bundler compiles them (swc, the same options
// as the SDK's webpack rule, at a chosen language level), so the machine benchmark times the code a
// case runs, not what tsx makes of it for a script: tsx keeps every function's name with a call at
// each closure it creates, which the bundle does not do.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { transformFileSync } from '@swc/core';
import type * as Machines from '../machines';
import type * as Stepper from '../workflows/runtime/pathway-stepper';
import { root } from './support';

export interface CompiledPathway {
  target: string;
  machines: typeof Machines;
  stepper: typeof Stepper;
}

/** The machine's modules, its stages' folder included. */
const machineSources = (dir: string): string[] =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `${dir}/${f}`);

const SOURCES = [...machineSources('machines'), ...machineSources('machines/stages'), 'workflows/runtime/pathway-stepper.ts'];

const outDir = (target: string) => join(root, '.cache', 'bench-pathway', target);

/**
 * Compiles the machine and the stepper for `target` under .cache (inside the project, so `xstate`
 * and `zod` resolve from its node_modules). CommonJS stands in for webpack's module wrapper:
 * either way an import is a property read on the imported module's object.
 */
export function compilePathway(target: string): void {
  for (const source of SOURCES) {
    const { code } = transformFileSync(join(root, source), {
      jsc: { target: target as 'es2017', parser: { syntax: 'typescript', decorators: true } },
      module: { type: 'commonjs' },
      swcrc: false,
      configFile: false,
    });
    const file = join(outDir(target), source.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, code);
  }
}

/** Loads what compilePathway(target) wrote. */
export function loadCompiledPathway(target: string): CompiledPathway {
  return {
    target,
    // Compiled at run time into a folder of its own, so loaded by path rather than imported.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    machines: require(join(outDir(target), 'machines', 'index.js')) as typeof Machines,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    stepper: require(join(outDir(target), 'workflows', 'runtime', 'pathway-stepper.js')) as typeof Stepper,
  };
}
