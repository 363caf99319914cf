/**
 * `corsproof check`'s closing lines come from the matrix file: a case with no row there (its test
 * failed before the engine ran it, e.g. the engine did not start) is named, never counted as
 * "as predicted".
 */
import { test, expect } from '@playwright/test';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSummary } from '../../cli/check.js';

const ORIGIN = 'https://app.shop.test';
const row = (engine: string, scenario: string, observed: string, status = 'passed') => ({ fixture: 'check-app-shop-test', engine, scenario, observed, status });

function matrix(rows: object[]): string {
  const out = mkdtempSync(join(tmpdir(), 'corsproof-summary-'));
  mkdirSync(join(out, 'test-results'));
  writeFileSync(join(out, 'test-results', 'cors-matrix.json'), JSON.stringify({ rows }));
  return out;
}

test('an engine with every case run and as predicted says so; one with a case missing names it', () => {
  const out = matrix([
    row('chromium', 'fetch-get', 'allowed'),
    row('chromium', 'delete', 'blocked'),
    row('webkit', 'fetch-get', 'allowed'),
  ]);
  const text = checkSummary([ORIGIN], ['chromium', 'webkit'], ['fetch-get', 'delete'], out);
  expect(text).toMatch(/https:\/\/app\.shop\.test {2}chromium {2}1 allowed, 1 blocked, 0 header hidden {2}— all as predicted/);
  expect(text).toMatch(/https:\/\/app\.shop\.test {2}webkit {4}1 allowed, 0 blocked, 0 header hidden\n/);
  expect(text).toContain('did not run (see the report): delete');
});

test('a case against the prediction is named with its scenario', () => {
  const out = matrix([row('firefox', 'fetch-get', 'blocked', 'failed')]);
  expect(checkSummary([ORIGIN], ['firefox'], ['fetch-get'], out)).toContain('— 1 NOT as S3 + the standard predict: fetch-get');
});

test('corsproof check’s own runner says why an engine did not run, and where each case’s evidence is', () => {
  const out = matrix([row('chromium', 'fetch-get', 'allowed')]);
  const errors = new Map([[`${ORIGIN} webkit`, ['webkit: could not start WebKitGTK (system, /usr/bin/MiniBrowser) via minibrowser: no display\nTo get a working webkit, install …']]]);
  const text = checkSummary([ORIGIN], ['chromium', 'webkit'], ['fetch-get'], out, { errors });
  expect(text).toMatch(/chromium {2}1 allowed, 0 blocked, 0 header hidden {2}— all as predicted/);
  expect(text).toMatch(/webkit {4}no results \(the engine did not run\)\n {6}webkit: could not start WebKitGTK .* no display\n/);
  expect(text).not.toContain('see the report');
  expect(text).toContain('Each case: test-results/check/');
});

test('with no matrix at all, each origin × engine that failed says why', () => {
  const out = mkdtempSync(join(tmpdir(), 'corsproof-summary-'));
  const text = checkSummary([ORIGIN], ['firefox'], ['fetch-get'], out, { errors: new Map([[`${ORIGIN} firefox`, ['firefox: could not start']]]) });
  expect(text).toContain('No matrix was written');
  expect(text).toContain(`${ORIGIN} firefox: firefox: could not start`);
});
