#!/usr/bin/env node
'use strict';
// The `pathway` command. In a clone it runs the TypeScript source through tsx (no build step to
// forget); in an installed package, which ships only the build, it runs dist/.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

function fromSource() {
  const source = join(__dirname, 'cli.ts');
  if (!existsSync(source)) return undefined;
  try {
    require('tsx/cjs/api').register();
  } catch {
    return undefined;
  }
  return require(source);
}

const cli = fromSource() ?? require(join(__dirname, '..', 'dist', 'client', 'cli.js'));
cli.main(process.argv.slice(2));
