/**
 * The HTML matrix (harness/matrix-reporter.ts): the overview grid opens it, one cell per fixture ×
 * scenario × engine, each naming its case in words and linking to its cell in the detailed tables;
 * no JavaScript; nothing prints "undefined" for a remote run, which keeps no server record.
 */
import { test, expect } from '@playwright/test';
import { cellId, matrixHtml, matrixMarkdown, matrixOverviewHtml, rowFromEvidence, type MatrixRow } from '../../harness/matrix-reporter.js';
import { remoteCase } from './evidence-sample.js';
import type { EngineBuild } from '../../engines/types.js';

const row = (fixture: string, scenario: string, engine: string, over: Partial<MatrixRow> = {}): MatrixRow => ({
  fixture,
  scenario,
  engine,
  engineBuild: `${engine} 1 (system, /usr/bin/${engine})`,
  expected: 'allowed',
  observed: 'allowed',
  preflightSent: false,
  serverRecord: true,
  preflights: 0,
  actualRequests: 1,
  readableHeaders: [],
  status: 'passed',
  test: `${scenario} should be allowed`,
  ...over,
});

const blocked = { expected: 'blocked', expectedReason: 'missing-allow-origin', observed: 'blocked', reason: ['missing-allow-origin'] } as const;
const rows: MatrixRow[] = [
  ...['chromium', 'firefox', 'webkit'].map((e) => row('no-cors', 'fetch-get', e, { ...blocked, reason: [...blocked.reason] })),
  ...['chromium', 'firefox', 'webkit'].map((e) => row('allow-all', 'fetch-get', e)),
  row('allow-all', 'read-etag', 'chromium', { expected: 'hidden', observed: 'hidden' }),
  row('allow-all', 'read-etag', 'firefox', { expected: 'hidden', observed: 'hidden' }),
  // WebKit read the header the others could not: a failed test, and the engines disagree.
  row('allow-all', 'read-etag', 'webkit', { expected: 'hidden', observed: 'allowed', status: 'failed' }),
];

test('the overview has one linked cell per fixture × scenario × engine, each link landing on a cell of the details', () => {
  const html = matrixHtml(rows);
  const overview = matrixOverviewHtml(rows);
  expect(html.indexOf(overview)).toBeGreaterThan(-1);
  expect(html.indexOf('<section class="overview"')).toBeLessThan(html.indexOf('<table class="detail"'));
  const links = [...overview.matchAll(/<td class="([^"]*)"><a href="#([^"]+)" title="([^"]*)" aria-label="([^"]*)">/g)];
  // 2 fixtures × 2 scenarios × 3 engines, of which no-cors × read-etag did not run.
  expect(links).toHaveLength(9);
  for (const [, , id, title, label] of links) {
    expect(html, id).toContain(`<td id="${id}"`);
    expect(title).toBe(label);
  }
  expect(overview.match(/<td class="none[^"]*"><span title="no-cors × read-etag in chromium: no result \(the case did not run\)"/g)).toHaveLength(1);
  expect(html).not.toContain('<script');
});

test('a cell says fixture, scenario, engine, verdict and reason in words; failed tests and divergences are marked', () => {
  const overview = matrixOverviewHtml(rows);
  const label = (fixture: string, scenario: string, engine: string) =>
    new RegExp(`<td class="([^"]*)"><a href="#${cellId(fixture, scenario, engine)}" title="([^"]*)"`).exec(overview)!;
  expect(label('no-cors', 'fetch-get', 'firefox').slice(1)).toEqual(['blocked', 'no-cors × fetch-get in firefox: blocked (missing-allow-origin)']);
  expect(label('allow-all', 'read-etag', 'chromium').slice(1)).toEqual(['hidden diverges first', 'allow-all × read-etag in chromium: hidden; the engines disagree on the verdict']);
  expect(label('allow-all', 'read-etag', 'webkit').slice(1)).toEqual([
    'failed diverges last',
    'allow-all × read-etag in webkit: allowed; test FAILED, expected hidden; the engines disagree on the verdict',
  ]);
  expect(overview).toContain('<b class="bad">1 fixture × scenario pairs where the engines disagree</b>');
  expect(overview).toContain('<b>webkit</b>: 2 allowed, 1 blocked, 0 hidden, <b class="bad">1 failed</b>');
});

test('a remote run (no server record) prints no "undefined" and does not claim request counts it never saw', () => {
  const engineBuild: EngineBuild = { engine: 'firefox', source: 'system', path: '/usr/bin/firefox-esr', driver: 'playwright-bidi', product: 'Firefox ESR', version: '153.8.0' };
  const e = { ...remoteCase(), engineBuild };
  const r = rowFromEvidence(e, 'passed', 'get-credentials should be blocked (credentials-flag)');
  expect(r).toMatchObject({ serverRecord: false, preflights: 0, actualRequests: 0 });
  const html = matrixHtml([r]);
  expect(html).toContain('no server record (remote endpoint)');
  expect(html).not.toContain('preflights 0');
  for (const text of [html, matrixMarkdown([r])]) expect(text).not.toContain('undefined');
});
