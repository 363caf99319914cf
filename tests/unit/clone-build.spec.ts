/**
 * The clone's CLI compiled to JavaScript (scripts/clone-build.mjs), on a small clone of its own:
 * modules find their data next to themselves, data edits are live, a changed source is compiled
 * again, and a source that does not compile leaves the choice to tsx.
 */
import { test, expect } from '@playwright/test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
// @ts-expect-error a plain .mjs script of the clone, without declarations
import { cloneBuild } from '../../scripts/clone-build.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
let clone: string;

function write(rel: string, text: string): void {
  mkdirSync(join(clone, rel, '..'), { recursive: true });
  writeFileSync(join(clone, rel), text);
}

test.beforeEach(() => {
  clone = mkdtempSync(join(tmpdir(), 'corsproof-clone-'));
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  write('package.json', '{ "type": "module" }\n');
  write('tsconfig.json', readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'));
  write('fixtures/greeting.txt', 'hello');
  write('servers/site/public/runner.js', '// the page runner');
  write('harness/greet.ts', `import { readFileSync } from 'node:fs';\nimport type { Stats } from 'node:fs';\nexport type Unused = Stats;\nexport const greet = (who: string): string => readFileSync(new URL('../fixtures/greeting.txt', import.meta.url), 'utf8') + ', ' + who;\n`);
  write('cli/main.ts', `import { readFileSync } from 'node:fs';\nimport { greet } from '../harness/greet.js';\nexport async function main(): Promise<string> {\n  return greet('clone') + ' | ' + readFileSync(new URL('../servers/site/public/runner.js', import.meta.url), 'utf8');\n}\n`);
});
test.afterEach(() => rmSync(clone, { recursive: true, force: true }));

async function run(dir: string): Promise<string> {
  // A fresh URL per import: each tree's modules are their own.
  return (await import(pathToFileURL(join(dir, 'cli', 'main.js')).href)).main();
}

test('the compiled clone runs, finds its data next to itself, and is reused while no source changes', async () => {
  const first: string = await cloneBuild(clone);
  expect(first).toContain(join(clone, 'node_modules', '.cache', 'corsproof', 'clone'));
  expect(await run(first)).toBe('hello, clone | // the page runner');
  expect(await cloneBuild(clone)).toBe(first);
  // Data is linked, not copied: an edit is seen without compiling again.
  write('fixtures/greeting.txt', 'hi');
  expect(await cloneBuild(clone)).toBe(first);
  expect(readFileSync(join(first, 'fixtures', 'greeting.txt'), 'utf8')).toBe('hi');
});

test('a changed or added source is compiled again; one that does not compile gives undefined', async () => {
  const first: string = await cloneBuild(clone);
  write('harness/greet.ts', `export const greet = (who: string): string => 'changed, ' + who;\n`);
  utimesSync(join(clone, 'harness/greet.ts'), new Date(), new Date(Date.now() + 5_000));
  const second: string = await cloneBuild(clone);
  expect(second).not.toBe(first);
  expect(await run(second)).toBe('changed, clone | // the page runner');
  write('harness/extra.ts', 'export const x: number = 1;\n');
  const third: string = await cloneBuild(clone);
  expect(third).not.toBe(second);
  write('harness/broken.ts', 'export const = ;\n');
  expect(await cloneBuild(clone)).toBeUndefined();
});
