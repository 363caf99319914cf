/**
 * `corsproof check` on a configuration that is not among the fixtures: the CLI runs the matrix
 * suite for the given page origin in all three engines, writes the matrix, and ends with a
 * one-screen summary per origin × engine. The origin is an https one on the default port, as most
 * sites are: every engine reaches it through its loopback proxy (nothing listens on 443), and trusts
 * the run's certificate the way a real one is trusted (Chromium keeps no HTTP cache for a response
 * whose certificate error it was told to ignore, which made img-then-fetch read "allowed" there).
 */
import { test, expect } from '@playwright/test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
});
