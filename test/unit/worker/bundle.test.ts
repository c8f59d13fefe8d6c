import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WORKFLOW_BUNDLE_OPTIONS, WORKFLOW_TARGET, ensureWorkflowBundle } from '../../../worker/bundle';

type Config = Parameters<typeof WORKFLOW_BUNDLE_OPTIONS.webpackConfigHook>[0];

describe('the workflow bundle', () => {
  // The bundle the worker runs, built (or reused) through the real bundler and its hook. ES2017
  // output defines a helper for object spread that each spread calls; ES2022 output keeps `...`.
  it(`compiles the workflow code for ${WORKFLOW_TARGET}: object spread stays native`, { timeout: 120_000 }, async () => {
    const code = readFileSync(await ensureWorkflowBundle(), 'utf8');
    expect(code).not.toMatch(/function _object_spread\(/);
    // The pathway's assign actions, as compiled: the helper call would stand where `...` is.
    expect(code).toMatch(/\{\s*\.\.\.context\.support,/);
  });

  it('fails the build when the bundler no longer compiles with one swc-loader rule', () => {
    const hook = WORKFLOW_BUNDLE_OPTIONS.webpackConfigHook;
    expect(() => hook({ module: { rules: [] } } as Config)).toThrow(/one swc-loader rule, found 0/);
    const rule = { test: /\.ts$/, use: { loader: '/x/node_modules/swc-loader/index.js', options: { jsc: { target: 'es2017' } } } };
    const config = hook({ module: { rules: [{ test: /\.js$/, use: ['source-map-loader'] }, rule] } } as unknown as Config);
    expect(config.module!.rules![1]).toBe(rule);
    expect(rule.use.options.jsc.target).toBe(WORKFLOW_TARGET);
  });
});
