// The project modules loaded into the workflow sandbox's shared cache serve every case a worker
// holds. These tests hold the preload to what makes that safe: it loads only the modules it lists
// (each one frozen at its namespace, so the sandbox's deep freeze leaves their schemas writable),
// none of them reaches the workflow runtime, and none keeps state at module level.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..', '..', '..');
const preload = join(root, 'workflows', 'runtime', 'shared-modules.ts');

/** The modules a source file loads at run time: type-only imports are erased by the compiler. */
function valueImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const found: string[] = [];
  const statement = /^(?:import|export)\s+([\s\S]*?)\s*from\s+'([^']+)';/gm;
  for (const [, clause, target] of source.matchAll(statement)) {
    if (/^type\s/.test(clause!)) continue;
    const braces = /^\{([\s\S]*)\}$/.exec(clause!.trim());
    const names = braces ? braces[1]!.split(',').map((s) => s.trim()).filter(Boolean) : [];
    if (braces && names.length > 0 && names.every((n) => n.startsWith('type '))) continue;
    found.push(target!);
  }
  for (const [, target] of source.matchAll(/^import\s+'([^']+)';/gm)) found.push(target!);
  return found;
}

function resolveRelative(from: string, target: string): string {
  const base = resolve(dirname(from), target);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) if (existsSync(candidate)) return candidate;
  throw new Error(`cannot resolve ${target} from ${relative(root, from)}`);
}

/** Every project file the preload loads, and every package any of them imports. */
function preloadGraph() {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    for (const target of valueImports(file)) {
      if (!target.startsWith('.')) {
        packages.add(target);
        continue;
      }
      const path = resolveRelative(file, target);
      if (files.has(path)) continue;
      files.add(path);
      visit(path);
    }
  };
  visit(preload);
  return { files, packages };
}

/** The files the preload names in `import * as`: the ones it freezes at their namespace. */
function shieldedFiles(): Set<string> {
  const source = readFileSync(preload, 'utf8');
  return new Set([...source.matchAll(/^import \* as \w+ from '([^']+)';/gm)].map(([, t]) => resolveRelative(preload, t!)));
}

describe('modules shared by every case in a worker', () => {
  it('reads imports as the compiler keeps them', () => {
    // The reader itself, on a known file: pathway.ts loads xstate and its stages' modules.
    const imports = valueImports(join(root, 'machines', 'pathway.ts'));
    expect(imports).toContain('xstate');
    expect(imports).toContain('./stages/support');
    expect(imports.length).toBeGreaterThanOrEqual(6);
  });

  it('loads only project modules it freezes at their namespace', () => {
    const { files } = preloadGraph();
    const shielded = shieldedFiles();
    const unlisted = [...files].filter((f) => !shielded.has(f)).map((f) => relative(root, f));
    // A module loaded but not listed would be deep-frozen by the sandbox: its schemas would throw
    // on their first parse.
    expect(unlisted).toEqual([]);
    expect(files.size).toBeGreaterThanOrEqual(10);
  });

  it('freezes every namespace it imports: the list names each one', () => {
    // Each module is named twice in the preload, in its import and in SHARED_PROJECT_MODULES; one
    // imported but not listed would go unfrozen at its namespace and be deep-frozen by the sandbox.
    const source = readFileSync(preload, 'utf8');
    const imported = [...source.matchAll(/^import \* as (\w+) from '[^']+';/gm)].map(([, name]) => name!);
    const listBody = /SHARED_PROJECT_MODULES = \[([^\]]*)\]/.exec(source)?.[1] ?? '';
    const listed = listBody.split(',').map((s) => s.trim()).filter(Boolean);
    expect([...listed].sort()).toEqual([...imported].sort());
    expect(listed.length).toBeGreaterThanOrEqual(10);
  });

  it('reaches no workflow runtime and no library but zod and xstate', () => {
    const { packages } = preloadGraph();
    expect([...packages].sort()).toEqual(['xstate', 'zod']);
  });

  it('keeps no state at module level in any shared module', () => {
    const { files } = preloadGraph();
    const stateful = /^(?:export\s+)?(?:let|var)\s|^(?:export\s+)?const\s+\w+\s*(?::[^=]+)?=\s*new\s+(?:Map|Set|WeakMap|WeakSet|Array)\b/m;
    const offenders = [...files].filter((f) => stateful.test(readFileSync(f, 'utf8'))).map((f) => relative(root, f));
    expect(offenders).toEqual([]);
  });
});

describe('freezing shared data', () => {
  it('freezes lists and tables all the way down, and leaves schemas and class instances writable', async () => {
    const { freezeData } = await import('../../../workflows/runtime/freeze-data');
    const { z } = await import('zod');
    const schema = z.object({ id: z.string().regex(/^[a-z]+$/) });
    const table = { routes: ['gp', 'self'], nested: { deep: [{ n: 1 }] }, schema, when: new Date(0) };
    freezeData(table);
    expect(Object.isFrozen(table)).toBe(true);
    expect(Object.isFrozen(table.routes)).toBe(true);
    expect(Object.isFrozen(table.nested.deep[0])).toBe(true);
    expect(() => (table.routes as string[]).push('x')).toThrow(TypeError);
    expect(Object.isFrozen(schema)).toBe(false);
    expect(Object.isFrozen(table.when)).toBe(false);
    // The schema still parses, pattern and all, after the table around it was frozen.
    expect(schema.safeParse({ id: 'abc' }).success).toBe(true);
    expect(schema.safeParse({ id: 'ABC' }).success).toBe(false);
  });
});
