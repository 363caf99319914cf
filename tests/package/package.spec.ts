/**
 * corsproof as users install it. `npm pack` builds the tarball (prepack: tsc to dist/); a fresh
 * project outside the clone — a copy of examples/upload-page — installs it with
 * `npm install -D <tarball> @playwright/test@1.64.1`, and then:
 * - the tarball holds what a user needs (compiled JavaScript, declarations, the matrix spec) and
 *   none of corsproof's own tests or fixture configurations;
 * - `npx corsproof lint|explain` print exactly what they print from the clone;
 * - `npx corsproof check` runs the matrix from the installed package in the three engines and
 *   writes its results under the user's project, not into node_modules;
 * - the example's own Playwright tests (one configuration lets the upload through, one blocks it)
 *   pass in Chromium, Firefox and WebKit through `corsproof/test`, with corsproof's evidence
 *   attached; and a test using Playwright's `page` gets the page in the engines Playwright drives
 *   and, on WebKitGTK's MiniBrowser, fails with the message that points to `corsproof.visit()`.
 */
import { test, expect } from '@playwright/test';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import getPort from 'get-port';
import { ROOT, runCommand, tally, type Ran } from '../e2e/helpers.js';
import { resolveEngine } from '../../engines/index.js';

test.describe.configure({ mode: 'serial' });

// As a user runs it: in the project, without the outer run's output folder (CORSPROOF_OUTPUT_DIR).
const run = (cmd: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<Ran> =>
  runCommand(cmd, args, { CORSPROOF_OUTPUT_DIR: undefined, ...env }, timeoutMs, cwd);

const tail = (r: Ran) => `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`;

let work: string;
let tarball: string;
let project: string;
const timings: Record<string, number> = {};

async function timed<T>(what: string, f: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await f();
  } finally {
    timings[what] = Math.round((Date.now() - t0) / 1000);
  }
}

test.beforeAll(async () => {
  test.setTimeout(600_000);
  work = mkdtempSync(join(tmpdir(), 'corsproof-package-'));
  const packed = await timed('npm pack', () => run('npm', ['pack', '--pack-destination', work], ROOT, 300_000));
  expect(packed.code, tail(packed)).toBe(0);
  const name = readdirSync(work).find((f) => /^corsproof-.*\.tgz$/.test(f));
  expect(name, tail(packed)).toBeDefined();
  tarball = join(work, name!);
  // The example as a user has it: its own package.json, page, Playwright config and tests.
  project = join(work, 'upload-page');
  cpSync(join(ROOT, 'examples', 'upload-page'), project, {
    recursive: true,
    filter: (src) => !/(^|\/)(node_modules|test-results|playwright-report)(\/|$)/.test(relative(ROOT, src)),
  });
  const installed = await timed('npm install', () =>
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '-D', tarball, '@playwright/test@1.64.1'], project, 540_000),
  );
  expect(installed.code, tail(installed)).toBe(0);
});

test.afterAll(async () => {
  await test.info().attach('timings.json', { body: JSON.stringify(timings, null, 2), contentType: 'application/json' });
  if (work) rmSync(work, { recursive: true, force: true });
});

test('the tarball holds compiled JavaScript, declarations and the matrix spec, and none of corsproof’s own tests', async () => {
  const listed = await run('tar', ['-tzf', tarball], work, 60_000);
  const files = listed.stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  await test.info().attach('files.txt', { body: `${files.join('\n')}\n\n${statSync(tarball).size} bytes packed\n`, contentType: 'text/plain' });
  for (const f of ['package.json', 'README.md', 'bin/corsproof.mjs', 'dist/cli/main.js', 'dist/lib/test.js', 'dist/lib/test.d.ts', 'dist/lib/index.d.ts', 'dist/playwright.config.js', 'dist/tests/browser/verdicts.spec.js', 'dist/servers/site/public/runner.js', 'dist/scripts/provision.mjs']) {
    expect(files, f).toContain(f);
  }
  expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), 'no TypeScript sources').toEqual([]);
  expect(files.filter((f) => /^(tests|dist\/tests\/(unit|server|e2e|reliability|package)|fixtures|dist\/fixtures\/cors|examples|bench)\//.test(f)), 'no tests or fixture configurations').toEqual([]);
});

test('npx corsproof lint and explain print what they print from the clone', async () => {
  const cors = join(project, 'cors.json');
  writeFileSync(cors, JSON.stringify([{ AllowedOrigins: ['http://app.example.test'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['content-type'], ExposeHeaders: ['ETag'] }]));
  for (const args of [['lint', 'cors.json'], ['explain', 'cors.json', '--origin', 'http://app.example.test', '--method', 'PUT', '--header', 'content-type']]) {
    const installed = await run('npx', ['corsproof', ...args], project, 60_000);
    const clone = await run(process.execPath, [join(ROOT, 'bin', 'corsproof.mjs'), ...args], project, 60_000);
    expect(installed.code, tail(installed)).toBe(0);
    expect(installed.stdout, args.join(' ')).toBe(clone.stdout);
  }
});

test('npx corsproof check runs in the three engines from the installed package and writes under the project', async () => {
  test.setTimeout(300_000);
  const origin = `http://app.example.test:${await getPort({ host: '127.0.0.1' })}`;
  const r = await timed('corsproof check (2 scenarios)', () =>
    run('npx', ['corsproof', 'check', 'cors.json', '--origin', origin, '--scenarios', 'fetch-get,put-json'], project, 240_000),
  );
  await test.info().attach('check-output.txt', { body: r.stdout + r.stderr, contentType: 'text/plain' });
  expect(r.code, tail(r)).toBe(0);
  for (const engine of ['chromium', 'firefox', 'webkit']) {
    expect(r.stdout, `a summary line for ${engine}`).toMatch(new RegExp(`${origin.replace(/[.:/]/g, '\\$&')}\\s+${engine}\\s+\\d+ allowed, \\d+ blocked, \\d+ header hidden\\s+— all as predicted`));
  }
  expect(existsSync(join(project, 'test-results', 'cors-matrix.json')), 'the matrix is in the project').toBe(true);
  expect(existsSync(join(project, 'test-results', 'check', `${new URL(origin).host.replace(/[^a-z0-9]+/gi, '-')}-webkit`, 'put-json', 'evidence.json')), 'each case’s evidence is in the project').toBe(true);
  const pkg = join(project, 'node_modules', 'corsproof');
  for (const d of ['', 'dist']) {
    for (const out of ['test-results', 'playwright-report']) expect(existsSync(join(pkg, d, out)), `nothing written into the package: ${join(d, out)}`).toBe(false);
  }
});

test('the example’s tests pass in Chromium, Firefox and WebKit through corsproof/test; Playwright’s page where Playwright drives the engine', async () => {
  test.setTimeout(420_000);
  // A user's test that uses Playwright's own page next to corsproof's bucket and evidence.
  writeFileSync(
    join(project, 'tests', 'own-page.spec.ts'),
    `import { test, expect } from 'corsproof/test';
import { fileURLToPath } from 'node:url';

test('the upload through Playwright’s page, from the page’s files served by corsproof.serve()', async ({ page, corsproof }) => {
  const app = await corsproof.serve(fileURLToPath(new URL('../public/', import.meta.url)));
  corsproof.setCors({ CORSRules: [{ AllowedOrigins: [app], AllowedMethods: ['PUT'], AllowedHeaders: ['*'] }] });
  const put = await corsproof.presign('PUT', 'own/page.txt');
  await page.goto(app + '/index.html?put=' + encodeURIComponent(put));
  await page.locator('#file').setInputFiles({ name: 'page.txt', mimeType: 'text/plain', buffer: Buffer.from('via page') });
  await page.getByRole('button', { name: 'Upload' }).click();
  await expect(page.getByRole('status')).toHaveText('Uploaded page.txt');
  expect(corsproof.preflights()).toHaveLength(1);
  expect(corsproof.getObject('own/page.txt')?.body.toString()).toBe('via page');
  expect(corsproof.corsErrors()).toEqual([]);
});
`,
  );
  const port = await getPort({ host: '127.0.0.1' });
  const report = join(project, 'results.json');
  const r = await timed('example tests (3 engines)', () =>
    run('npx', ['playwright', 'test', '--reporter=list,json'], project, 400_000, { PORT: String(port), PLAYWRIGHT_JSON_OUTPUT_NAME: report, CI: '1' }),
  );
  await test.info().attach('example-output.txt', { body: r.stdout + r.stderr, contentType: 'text/plain' });
  const json = JSON.parse(readFileSync(report, 'utf8')) as Parameters<typeof tally>[0];
  const byProject = tally(json);
  const minibrowser = resolveEngine('webkit').driver === 'minibrowser';
  // The example's two tests everywhere; own-page everywhere but on MiniBrowser (no Playwright page).
  for (const engine of ['chromium', 'firefox', 'webkit']) {
    const failing = engine === 'webkit' && minibrowser ? 1 : 0;
    expect(byProject[engine], `${engine}\n${tail(r)}`).toMatchObject({ expected: 3 - failing, other: failing });
    expect(byProject[engine]!.engines, `${engine}: the engine annotation`).toHaveLength(1);
  }
  if (minibrowser) {
    expect(r.stdout, 'MiniBrowser: page fails with the message that points to visit()').toContain('there is no Playwright `page`, `context` or `browser` in this engine. Use `corsproof.visit(url, { actions, until })`');
    expect(r.code).not.toBe(0);
  } else {
    expect(r.code, tail(r)).toBe(0);
  }
  // corsproof's evidence next to every test's results.
  const evidence = readdirSync(join(project, 'test-results'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('corsproof-evidence.json'));
  expect(evidence.length, 'evidence.json per test').toBeGreaterThanOrEqual(6);
  const blocked = evidence
    .map((f) => JSON.parse(readFileSync(join(project, 'test-results', f), 'utf8')) as { exchanges: Array<{ method: string; status: number }>; corsErrors: unknown[] })
    .filter((e) => e.exchanges.some((x) => x.method === 'OPTIONS' && x.status === 403));
  expect(blocked.length, 'the blocked upload in three engines, each with the refused preflight and the engine’s message').toBe(3);
  for (const e of blocked) expect(e.corsErrors.length).toBeGreaterThan(0);
});
