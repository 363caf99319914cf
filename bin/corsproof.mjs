#!/usr/bin/env node
// Entry point of `npx corsproof`. In a clone the CLI is TypeScript, loaded through tsx's ESM loader;
// the installed package has no sources, only their compiled form in dist/ (built by prepack).
import { existsSync } from 'node:fs';

const source = new URL('../cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
