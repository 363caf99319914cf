#!/usr/bin/env node
// Entry point of `npx corsproof`. In a clone the CLI is TypeScript: compiled to JavaScript in
// node_modules/.cache/corsproof/clone/ when its sources change (CORSPROOF_TSX=1: loaded through
// tsx's ESM loader instead); the installed package has no sources, only their compiled form in
// dist/ (built by prepack).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const source = new URL('../cli/main.ts', import.meta.url);
let main;
if (existsSync(source)) {
  // A clone: its sources compiled to JavaScript on first use and after each change
  // (scripts/clone-build.mjs), else run through tsx (which also reports a source that does not compile).
  const { cloneBuild } = await import('../scripts/clone-build.mjs');
  const compiled = process.env.CORSPROOF_TSX === '1' ? undefined : await cloneBuild(fileURLToPath(new URL('..', import.meta.url)));
  if (compiled) {
    process.setSourceMapsEnabled(true);
    ({ main } = await import(pathToFileURL(`${compiled}/cli/main.js`).href));
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    ({ main } = await import(source.href));
  }
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
