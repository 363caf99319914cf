/**
 * Flakes: a small slice of the CORS matrix — three fixtures (allowed, blocked at the response,
 * blocked at the preflight) × two scenarios (simple GET, preflighted PUT) — in all three engines,
 * three times over (`--repeat-each=3`), as a child `npx playwright test` with the JSON reporter.
 * Every repetition of a case must give the same status and the same observed verdict.
 * The whole matrix five times over: scripts/repeat-matrix.sh.
 */
import { test, expect } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, exclusive, runNpx } from './helpers.js';
import { verdictDifferences, type JsonReport } from './report-json.js';

const GREP = '(allow-specific-origin|wrong-port|no-allowed-headers): .* (fetch-get|put-custom-header) should';
const REPEAT = 3;

test(`a matrix slice gives the same verdict in every one of ${REPEAT} repetitions, in every engine`, async ({}, testInfo) => {
  test.setTimeout(360_000);
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-flakes-'));
  try {
    const reportFile = join(dir, 'report.json');
    const r = await exclusive(() => runNpx(
      ['playwright', 'test', '--project=chromium', '--project=firefox', '--project=webkit', '-g', GREP, `--repeat-each=${REPEAT}`, '--reporter=json', '--workers=2', `--output=${join(dir, 'results')}`],
      childEnv({ PLAYWRIGHT_JSON_OUTPUT_FILE: reportFile, CORSPROOF_OUTPUT_DIR: dir }),
      220_000,
    ));
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport;
    const { tests, repetitions, differences, groups } = verdictDifferences(report, (p) => readFileSync(p, 'utf8'));
    const table = [...groups].map(([key, reps]) => `${reps.map((x) => `${x.status}/${x.verdict ?? '-'}`).join(' ')}  ${key}`);
    await testInfo.attach('repetitions.txt', { body: table.join('\n'), contentType: 'text/plain' });
    console.log(`[flakes] ${tests} cases × ${REPEAT} = ${repetitions} runs in ${Math.round(r.ms / 1000)} s; ${differences.length} verdict differences; exit ${r.code}`);

    expect(report.errors ?? [], 'the run itself had no errors').toEqual([]);
    expect(tests, '3 fixtures × 2 scenarios × 3 engines').toBe(18);
    expect(repetitions).toBe(18 * REPEAT);
    for (const [key, reps] of groups) {
      expect(reps.length, key).toBe(REPEAT);
      expect(reps.every((x) => x.verdict !== undefined), `${key}: every repetition recorded the engine's verdict`).toBe(true);
    }
    expect(differences, 'cases whose repetitions disagree').toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
