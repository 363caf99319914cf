/**
 * The remote-target mode, proved against a second, separately started `corsproof serve` used only
 * through the S3 API (as a real endpoint would be): the matrix applies each configuration to that
 * bucket, waits until it takes effect, runs the scenarios in all three engines, and afterwards the
 * bucket has exactly the CORS configuration it had before, and no leftover objects.
 */
import { test, expect } from '@playwright/test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetBucketCorsCommand, ListObjectsV2Command, PutBucketCorsCommand, S3Client, type CORSRule } from '@aws-sdk/client-s3';
import { ROOT, runCommand, startServe, tally } from './helpers.js';
import { loadScenarios } from '../../harness/data.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'corsproof', AWS_SECRET_ACCESS_KEY: 'corsproof-secret', AWS_REGION: 'us-east-1' };
const BEFORE: CORSRule[] = [{ ID: 'left-alone', AllowedOrigins: ['https://keep.example.net'], AllowedMethods: ['GET', 'HEAD'], AllowedHeaders: ['x-keep'], MaxAgeSeconds: 42 }];
const FIXTURES = ['allow-specific-origin', 'no-cors', 'rule-order-wildcard-first'];

/**
 * A separately started `corsproof serve` with bucket corsproof-remote holding BEFORE; `body` uses it
 * as a remote endpoint, then the bucket must hold exactly BEFORE again and no case objects.
 */
async function againstRemoteBucket(body: (endpoint: string) => Promise<void>): Promise<void> {
  const remote = await startServe();
  const s3 = new S3Client({
    endpoint: remote.bucket,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: CREDS.AWS_ACCESS_KEY_ID, secretAccessKey: CREDS.AWS_SECRET_ACCESS_KEY },
  });
  try {
    await s3.send(new CreateBucketCommand({ Bucket: 'corsproof-remote' }));
    await s3.send(new PutBucketCorsCommand({ Bucket: 'corsproof-remote', CORSConfiguration: { CORSRules: BEFORE } }));
    await body(remote.bucket);
    const after = await s3.send(new GetBucketCorsCommand({ Bucket: 'corsproof-remote' }));
    expect(after.CORSRules, 'the previous CORS configuration is back').toEqual(BEFORE);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: 'corsproof-remote', Prefix: 'corsproof/' }));
    expect(left.KeyCount ?? 0, 'no case objects left behind').toBe(0);
  } finally {
    s3.destroy();
    await remote.stop();
  }
}

test('the matrix runs against a remote endpoint and leaves its bucket as it found it', async () => {
  test.setTimeout(300_000);
  await againstRemoteBucket(async (endpoint) => {
    const dir = mkdtempSync(join(tmpdir(), 'corsproof-remote-'));
    // The configuration's own reporters, results under CORSPROOF_OUTPUT_DIR: results.json and the matrix.
    const out = join(dir, 'test-results', 'results.json');
    const run = await runCommand(
      join(ROOT, 'node_modules/.bin/playwright'),
      ['test', 'tests/browser/verdicts.spec.ts', '--project=chromium', '--project=firefox', '--project=webkit', '-g', `(${FIXTURES.join('|')}):`],
      { ...CREDS, CORSPROOF_TARGET: endpoint, CORSPROOF_TARGET_BUCKET: 'corsproof-remote', CORSPROOF_OUTPUT_DIR: dir },
      240_000,
    );
    const counts = tally(JSON.parse(readFileSync(out, 'utf8')));
    await test.info().attach('remote-run.json', { body: JSON.stringify({ code: run.code, counts }, null, 2), contentType: 'application/json' });
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    // Seen as a remote store, corsproof's own server answers every replayed request as S3 does.
    const matrix = JSON.parse(readFileSync(join(dir, 'test-results', 'cors-matrix.json'), 'utf8')) as {
      stores: Array<{ cases: number; divergences: number; headerDifferences: unknown[]; unexplained: string[] }>;
    };
    expect(matrix.stores.map((s) => ({ cases: s.cases, divergences: s.divergences, headerDifferences: s.headerDifferences, unexplained: s.unexplained }))).toEqual([
      { cases: FIXTURES.length * loadScenarios().length * 3, divergences: 0, headerDifferences: [], unexplained: [] },
    ]);
    for (const engine of ['chromium', 'firefox', 'webkit']) {
      expect(counts[engine], `${engine} ran against the remote endpoint`).toMatchObject({ expected: FIXTURES.length * loadScenarios().length, other: 0 });
    }
  });
});

test('corsproof check runs against a remote endpoint, one engine after the other, and leaves its bucket as it found it', async () => {
  test.setTimeout(240_000);
  await againstRemoteBucket(async (endpoint) => {
    const dir = mkdtempSync(join(tmpdir(), 'corsproof-remote-check-'));
    const file = join(dir, 'cors.json');
    // http, as the endpoint here is: an https page calling it would be mixed content (WebKit blocks it).
    const origin = 'http://app.shop.test';
    writeFileSync(file, JSON.stringify([{ AllowedOrigins: [origin], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['content-type'] }]));
    // The endpoint and credentials from the project's .env, as a user keeps them.
    const vars = { ...CREDS, CORSPROOF_TARGET: endpoint, CORSPROOF_TARGET_BUCKET: 'corsproof-remote' };
    writeFileSync(join(dir, '.env'), Object.entries(vars).map(([k, v]) => `${k}=${v}\n`).join(''));
    const run = await runCommand(
      process.execPath,
      [join(ROOT, 'bin/corsproof.mjs'), 'check', file, '--origin', origin, '--scenarios', 'fetch-get,put-json,delete'],
      { ...Object.fromEntries(Object.keys(vars).map((k) => [k, undefined])), CORSPROOF_OUTPUT_DIR: undefined },
      200_000,
      dir,
    );
    await test.info().attach('check-output.txt', { body: run.stdout + run.stderr, contentType: 'text/plain' });
    expect(run.code, run.stdout.slice(-3000)).toBe(0);
    for (const engine of ['chromium', 'firefox', 'webkit']) {
      expect(run.stdout).toMatch(new RegExp(`${engine}\\s+2 allowed, 1 blocked, 0 header hidden\\s+— all as predicted`));
    }
    const matrix = JSON.parse(readFileSync(join(dir, 'test-results', 'cors-matrix.json'), 'utf8')) as { rows: Array<{ target?: string }> };
    expect(matrix.rows).toHaveLength(9);
    for (const r of matrix.rows) expect(r.target, 'every case went to the remote bucket').toContain('bucket corsproof-remote (remote)');
  });
});
