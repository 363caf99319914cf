/**
 * A store's profile decides a run against it, as a scheduled run would see it: the matrix in the
 * rgw-chromium project (the run's own Ceph RGW) on three cases — a known credentials divergence, a
 * known fall-through divergence, and a case RGW answers as S3 does.
 * - With the committed fixtures/stores/ceph-rgw.json the run passes.
 * - With a copy of it that lacks the credentials entry and wrongly lists the S3-like case, the run
 *   fails, and each failure names its case: a new divergence and a vanished one.
 */
import { test, expect } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runCommand } from '../e2e/helpers.js';
import { exclusive } from '../reliability/helpers.js';

const GREP = '(allow-specific-origin: .* (get-credentials|fetch-get) should|header-fall-through: .* put-json should)';

interface Result {
  title: string;
  status: string;
  message: string;
}

function results(file: string): Result[] {
  const out: Result[] = [];
  type Suite = { suites?: Suite[]; specs?: Array<{ title: string; tests: Array<{ status: string; results: Array<{ errors: Array<{ message?: string }> }> }> }> };
  const walk = (s: Suite) => {
    for (const x of s.suites ?? []) walk(x);
    for (const spec of s.specs ?? []) {
      for (const t of spec.tests) out.push({ title: spec.title, status: t.status, message: t.results.flatMap((r) => r.errors.map((e) => e.message ?? '')).join('\n') });
    }
  };
  for (const s of (JSON.parse(readFileSync(file, 'utf8')) as { suites: Suite[] }).suites) walk(s);
  return out;
}

async function rgwRun(env: Record<string, string>): Promise<{ code: number; results: Result[]; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-store-profile-'));
  try {
    // One nested browser run at a time across the suite's workers (as the reliability runs do).
    const run = await exclusive(() =>
      runCommand(join(ROOT, 'node_modules/.bin/playwright'), ['test', 'tests/browser/verdicts.spec.ts', '--project=rgw-chromium', '--workers=1', '-g', GREP], { CORSPROOF_OUTPUT_DIR: dir, ...env }, 240_000),
    );
    return { code: run.code, results: results(join(dir, 'test-results', 'results.json')), output: run.stdout + run.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the committed Ceph RGW profile passes; without one of its entries the run fails naming the case', async () => {
  test.setTimeout(600_000);
  const committed = await rgwRun({});
  expect(committed.code, committed.output.slice(-3000)).toBe(0);
  expect(committed.results.map((r) => `${r.status} ${r.title}`).sort()).toEqual([
    'expected fetch-get should be allowed',
    'expected get-credentials should be allowed',
    'expected put-json should be allowed',
  ]);

  const dir = mkdtempSync(join(tmpdir(), 'corsproof-profile-copy-'));
  try {
    const profile = JSON.parse(readFileSync(join(ROOT, 'fixtures/stores/ceph-rgw.json'), 'utf8')) as { divergences: Array<Record<string, unknown>> };
    const [credentials, ...rest] = profile.divergences;
    expect(credentials!['headers']).toEqual(['Access-Control-Allow-Credentials']);
    // The credentials entry removed; a case RGW answers as S3 does listed as if it diverged.
    profile.divergences = [...rest, { ...credentials!, fixtures: ['allow-specific-origin'], scenarios: ['fetch-get'] }];
    const file = join(dir, 'ceph-rgw.json');
    writeFileSync(file, JSON.stringify(profile, null, 2));

    const edited = await rgwRun({ CORSPROOF_STORE_PROFILE: file });
    expect(edited.code, edited.output.slice(-3000)).toBe(1);
    const by = Object.fromEntries(edited.results.map((r) => [r.title, r]));
    expect(by['get-credentials should be allowed']!.status).toBe('unexpected');
    expect(by['get-credentials should be allowed']!.message).toContain('new store divergence, allow-specific-origin × get-credentials in chromium');
    expect(by['get-credentials should be allowed']!.message).toContain('the store sent no Access-Control-Allow-Credentials');
    expect(by['fetch-get should be allowed']!.status).toBe('unexpected');
    expect(by['fetch-get should be allowed']!.message).toMatch(new RegExp(`allow-specific-origin × fetch-get in chromium: .*ceph-rgw\\.json divergences\\[${rest.length}\\] lists it as a known divergence .* now answers as S3 would`));
    expect(by['put-json should be allowed']!.status, 'a divergence the copy still lists passes').toBe('expected');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
