// The clone's CLI as JavaScript, compiled on first use and whenever a source changes, so that
// `npx corsproof` in a clone starts as fast as the installed package (which runs dist/).
//
// Why: through tsx's loader every module import — corsproof's own and every package's — is a round
// trip to the loader's thread. Measured here, `corsproof check` reached its first engine launch
// 1.94 s after the process started through tsx and 1.05 s from the compiled tree; four pairs
// alternating with CORSPROOF_TSX=1: 11.9 s against 13.0 s (median), 19.9 s of CPU against 21.9 s.
//
// What: esbuild (already a dependency: the page's SDK bundle) turns each .ts file of the CLI's
// source folders into a .js file at the same place under node_modules/.cache/corsproof/clone/ —
// file for file, no bundling, type imports dropped as tsc would (verbatimModuleSyntax). Every other
// file of those folders, and the folders and files the code finds next to itself (fixtures/,
// scripts/, tests/, playwright.config.ts), are symbolic links to the clone's own, so data edits are
// live and `new URL('../fixtures/', import.meta.url)` resolves as it does in the clone. The
// compiled tree is reused while every source file keeps its size and mtime; any change (or a new
// or deleted file) compiles it again (≈ 0.3 s). A source esbuild cannot compile returns undefined,
// and bin/corsproof.mjs runs the sources through tsx, which reports the error as before.
//
// Clones only: the installed package has no sources and runs dist/.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

/** The CLI's source folders (what tsconfig.build.json compiles for the package). */
export const SOURCE_DIRS = ['cli', 'engines', 'harness', 'lib', 'servers', 'stores'];
/** What the code finds next to itself outside those folders: linked, not compiled. */
export const LINKED = ['fixtures', 'scripts', 'tests', 'playwright.config.ts', 'package.json', 'tsconfig.json'];

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const s = statSync(p);
    if (s.isDirectory()) walk(p, out);
    else out.push({ path: p, size: s.size, mtimeMs: s.mtimeMs });
  }
  return out;
}

/**
 * The compiled clone's root for the clone at `root` (built now if missing or stale), or undefined
 * when it cannot be built. `cache` is where compiled trees live.
 */
export async function cloneBuild(root, cache = join(root, 'node_modules', '.cache', 'corsproof')) {
  const files = SOURCE_DIRS.filter((d) => existsSync(join(root, d))).flatMap((d) => walk(join(root, d), []));
  const stamp = createHash('sha256');
  for (const f of files) stamp.update(`${relative(root, f.path)}\0${f.size}\0${f.mtimeMs}\n`);
  const key = stamp.update(process.version).digest('hex').slice(0, 16);
  const out = join(cache, 'clone', key);
  if (existsSync(join(out, '.complete'))) return out;
  try {
    const esbuild = createRequire(join(root, 'package.json'))('esbuild');
    const work = `${out}.build-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    const ts = files.filter((f) => /\.ts$/.test(f.path) && !/\.d\.ts$/.test(f.path)).map((f) => f.path);
    await esbuild.build({
      entryPoints: ts,
      outdir: work,
      outbase: root,
      bundle: false,
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      sourcemap: 'linked',
      sourcesContent: false,
      tsconfig: join(root, 'tsconfig.json'),
      logLevel: 'silent',
    });
    // Every source file as itself too (runner.js, harness.html, the .ts the page's SDK bundle is
    // built from), so a module finds whatever it looks for next to itself.
    for (const f of files) {
      const to = join(work, relative(root, f.path));
      mkdirSync(dirname(to), { recursive: true });
      symlinkSync(f.path, to);
    }
    for (const name of LINKED) if (existsSync(join(root, name))) symlinkSync(join(root, name), join(work, name));
    writeFileSync(join(work, '.complete'), `${new Date().toISOString()}\n`);
    try {
      renameSync(work, out);
    } catch (e) {
      // Another process built the same tree first: use its tree, never replace it under it.
      rmSync(work, { recursive: true, force: true });
      if (!existsSync(join(out, '.complete'))) throw e;
    }
    // Trees of older sources: removed a day after they were built (a process started from one
    // may still be running).
    for (const name of readdirSync(join(cache, 'clone'))) {
      const p = join(cache, 'clone', name);
      if (name !== key && Date.now() - statSync(p).mtimeMs > 24 * 3600_000) rmSync(p, { recursive: true, force: true });
    }
    return out;
  } catch {
    rmSync(`${out}.build-${process.pid}`, { recursive: true, force: true });
    return undefined;
  }
}
