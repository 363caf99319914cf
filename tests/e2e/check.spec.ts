/**
 * `corsproof check` on a configuration that is not among the fixtures: the CLI runs the matrix
 * suite for the given page origin in all three engines, writes the matrix, and ends with a
 * one-screen summary per origin × engine. The origin is an https one on the default port, as most
 * sites are: every engine reaches it through its loopback proxy (nothing listens on 443), and trusts
 * the run's certificate the way a real one is trusted (Chromium keeps no HTTP cache for a response
 * whose certificate error it was told to ignore, which made img-then-fetch read "allowed" there).
 *
 * The check runs its cases itself (harness/check-run.ts); `--report` runs the same cases as the
 * matrix suite's Playwright tests for the HTML report. Both are held to the same rules and must
 * write the same verdicts.
 */
import { test, expect } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCommand } from './helpers.js';

test('corsproof check proves a user configuration for a user origin in all three engines', async () => {
  test.setTimeout(300_000);
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-check-'));
  const origin = 'https://app.shop.test';
  const file = join(dir, 'cors.json');
  // Not a fixture: uploads from the app with metadata, public reads for everyone else.
  writeFileSync(
    file,
    JSON.stringify([
      { ID: 'app-uploads', AllowedOrigins: [origin], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['content-type', 'x-amz-meta-*'], ExposeHeaders: ['ETag'] },
      { ID: 'public-read', AllowedOrigins: ['*'], AllowedMethods: ['GET', 'HEAD'] },
    ]),
  );
  // Its own results folder: this run must not clean or overwrite the outer run's.
  const run = await runCommand(process.execPath, [join(ROOT, 'bin/corsproof.mjs'), 'check', file, '--origin', origin], { CORSPROOF_OUTPUT_DIR: dir }, 240_000);
  await test.info().attach('check-output.txt', { body: run.stdout + run.stderr, contentType: 'text/plain' });
  expect(run.code, run.stdout.slice(-3000)).toBe(0);
  for (const engine of ['chromium', 'firefox', 'webkit']) {
    expect(run.stdout, `a summary line for ${engine}`).toMatch(new RegExp(`${origin.replace(/[.:/]/g, '\\$&')}\\s+${engine}\\s+\\d+ allowed, \\d+ blocked, \\d+ header hidden\\s+— all as predicted`));
  }
  const matrix = JSON.parse(readFileSync(join(dir, 'test-results', 'cors-matrix.json'), 'utf8')) as { rows: Array<{ engine: string; scenario: string; observed: string }> };
  const engines = new Set(matrix.rows.map((r) => r.engine));
  expect([...engines].sort()).toEqual(['chromium', 'firefox', 'webkit']);
  const byScenario = (s: string) => matrix.rows.filter((r) => r.scenario === s).map((r) => r.observed);
  expect(byScenario('put-amz-meta'), 'metadata uploads pass through rule app-uploads').toEqual(['allowed', 'allowed', 'allowed']);
  expect(byScenario('read-etag'), 'ETag is exposed').toEqual(['allowed', 'allowed', 'allowed']);
  expect(byScenario('delete'), 'DELETE is allowed by no rule').toEqual(['blocked', 'blocked', 'blocked']);
  // A cached no-CORS image answers the later CORS fetch in Chromium and WebKit (Firefox fetches again).
  const imgThenFetch = Object.fromEntries(matrix.rows.filter((r) => r.scenario === 'img-then-fetch').map((r) => [r.engine, r.observed]));
  expect(imgThenFetch, 'img-then-fetch over https').toEqual({ chromium: 'blocked', firefox: 'allowed', webkit: 'blocked' });
  // Each case's evidence: the engine's message, its network events and the bucket's record.
  const evidence = JSON.parse(readFileSync(join(dir, 'test-results', 'check', 'app-shop-test-webkit', 'delete', 'evidence.json'), 'utf8')) as {
    engineBuild: { product: string };
    classification?: { message: string };
    exchanges: Array<{ method: string }>;
  };
  expect(evidence.engineBuild.product).toMatch(/WebKit/);
  expect(evidence.classification?.message, 'the engine’s own words for the refused DELETE').toBeTruthy();
  expect(evidence.exchanges.map((x) => x.method), 'the refused preflight, in the bucket’s record').toEqual(['OPTIONS']);
  expect(readFileSync(join(dir, 'test-results', 'check', 'app-shop-test-webkit', 'delete', 'transcript.txt'), 'utf8')).toContain('OPTIONS');
});

test('corsproof check --report runs the same cases as Playwright tests and writes the HTML report', async () => {
  test.setTimeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-check-report-'));
  const origin = 'http://app.shop.test';
  const file = join(dir, 'cors.json');
  writeFileSync(file, JSON.stringify([{ AllowedOrigins: [origin], AllowedMethods: ['GET'] }]));
  const args = ['check', file, '--origin', origin, '--scenarios', 'fetch-get,put-json', '--engines', 'chromium'];
  const observed = async (extra: string[], out: string) => {
    const run = await runCommand(process.execPath, [join(ROOT, 'bin/corsproof.mjs'), ...args, ...extra], { CORSPROOF_OUTPUT_DIR: out }, 150_000);
    await test.info().attach(`check${extra.join('')}-output.txt`, { body: run.stdout + run.stderr, contentType: 'text/plain' });
    expect(run.code, run.stdout.slice(-3000)).toBe(0);
    expect(run.stdout).toMatch(/chromium\s+1 allowed, 1 blocked, 0 header hidden\s+— all as predicted/);
    const rows = (JSON.parse(readFileSync(join(out, 'test-results', 'cors-matrix.json'), 'utf8')) as { rows: Array<{ scenario: string; observed: string; reason?: string[]; status: string }> }).rows;
    return rows.map((r) => ({ scenario: r.scenario, observed: r.observed, reason: r.reason, status: r.status })).sort((a, b) => a.scenario.localeCompare(b.scenario));
  };
  const reportDir = join(dir, 'report');
  const viaPlaywright = await observed(['--report'], reportDir);
  expect(existsSync(join(reportDir, 'playwright-report', 'index.html')), 'Playwright’s HTML report').toBe(true);
  expect(await observed([], join(dir, 'own')), 'the same verdicts and reasons either way').toEqual(viaPlaywright);
  expect(viaPlaywright.map((r) => r.observed)).toEqual(['allowed', 'blocked']);
});

test('an engine that cannot start fails the check with its reason, and the other engines still run', async () => {
  test.setTimeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-check-broken-'));
  const file = join(dir, 'cors.json');
  writeFileSync(file, JSON.stringify([{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }]));
  // A file that exists but is no Firefox: the engine is chosen, and its start fails.
  const run = await runCommand(
    process.execPath,
    [join(ROOT, 'bin/corsproof.mjs'), 'check', file, '--origin', 'http://app.shop.test', '--scenarios', 'fetch-get', '--engines', 'chromium,firefox'],
    { CORSPROOF_OUTPUT_DIR: dir, CORSPROOF_FIREFOX_PATH: '/bin/false' },
    90_000,
  );
  await test.info().attach('check-output.txt', { body: run.stdout + run.stderr, contentType: 'text/plain' });
  expect(run.code, 'a check with an engine missing is not a pass').not.toBe(0);
  expect(run.stdout).toMatch(/chromium\s+1 allowed, 0 blocked, 0 header hidden\s+— all as predicted/);
  expect(run.stdout).toMatch(/firefox\s+no results \(the engine did not run\)\n\s+firefox: could not start .*\/bin\/false/);
});
