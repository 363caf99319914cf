#!/usr/bin/env node
// `npm pack` / `npm publish` (prepack): compiles corsproof to dist/ so the installed package runs
// without a TypeScript toolchain in the user's project.
//
// tsc, not a bundler: one tool gives both the JavaScript and the .d.ts files; the output keeps the
// sources' folder layout (dist/servers/site/index.js next to dist/servers/site/public/runner.js),
// so every `new URL('./…', import.meta.url)` finds its file as it does in the clone; and
// `corsproof check` hands Playwright a spec file and a config that must stay separate modules.
// Files that are not TypeScript (the in-page runner, the harness page, scenario data, the
// provisioning script) are copied next to the compiled modules.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) {
  console.error('[build] tsc failed; the package was not built.');
  process.exit(r.status ?? 1);
}

// Non-TypeScript files of the compiled source folders (runner.js, harness.html, …).
const SOURCE_DIRS = ['lib', 'cli', 'engines', 'harness', 'servers'];
const copied = [];
function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) copyAssets(p);
    else if (!/\.(c|m)?ts$/.test(name)) {
      cpSync(p, join(dist, relative(root, p)));
      copied.push(relative(root, p));
    }
  }
}
for (const d of SOURCE_DIRS) if (existsSync(join(root, d))) copyAssets(join(root, d));

// Data the shipped code reads: the request scenarios, the client flows' descriptions, the engine
// wording table and the store profiles (not the fixture configurations: those are corsproof's own
// test matrix).
for (const p of ['fixtures/scenarios', 'fixtures/flows', 'fixtures/engine-differences.json', 'fixtures/stores', 'scripts/provision.mjs']) {
  cpSync(join(root, p), join(dist, p), { recursive: true });
  copied.push(p);
}
console.log(`[build] dist/: compiled ${SOURCE_DIRS.join(', ')}, playwright.config.ts, the matrix spec; copied ${copied.join(', ')}`);
