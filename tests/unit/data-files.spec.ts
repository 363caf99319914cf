/**
 * The data files are checked when they load: a mistake in a fixture, a scenario or the
 * engine-differences table is an error naming the file, the key and what is allowed — never a
 * silent fallback (an `expect` key with a typo used to be ignored, the case falling back to "*").
 */
import { test, expect } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileError, loadEngineDifferences, loadFixtures, loadScenarios, parseFixture, parseScenario } from '../../harness/data.js';

const scenarioIds = loadScenarios().map((s) => s.id);
const good = {
  description: 'a fixture',
  cors: [{ AllowedMethods: ['GET'], AllowedOrigins: ['{{SITE_ORIGIN}}'] }],
  expect: { '*': { verdict: 'allowed' } },
};

function problem(value: unknown): string {
  try {
    parseFixture('/somewhere/fixtures/cors/typo.json', value, scenarioIds);
  } catch (e) {
    expect(e).toBeInstanceOf(DataFileError);
    return (e as Error).message;
  }
  throw new Error('the fixture was accepted');
}

test('every committed data file loads', () => {
  expect(loadScenarios().length).toBeGreaterThan(0);
  expect(loadFixtures().length).toBeGreaterThan(0);
  expect(loadEngineDifferences().length).toBeGreaterThan(0);
});

test('a correct fixture loads', () => {
  expect(parseFixture('x/ok.json', good, scenarioIds).id).toBe('ok');
});

test('an expect key that names no scenario is refused, naming the file and the key', () => {
  const msg = problem({ ...good, expect: { ...good.expect, 'fetch-gte': { verdict: 'allowed' } } });
  expect(msg).toContain('typo.json');
  expect(msg).toContain('expect.fetch-gte: no scenario is named "fetch-gte"');
  expect(msg).toContain('fetch-get');
});

test('a reason nobody classifies is refused with the allowed reasons', () => {
  const msg = problem({ ...good, expect: { '*': { verdict: 'blocked', reason: 'missing-acao' } } });
  expect(msg).toContain('expect.*.reason');
  expect(msg).toContain('missing-allow-origin');
});

test('an unknown verdict, an unknown key and a missing default are refused', () => {
  expect(problem({ ...good, expect: { '*': { verdict: 'allow' } } })).toContain('expect.*.verdict');
  const extra = problem({ ...good, expectations: {} });
  expect(extra).toContain('Unrecognized key: "expectations"');
  expect(extra).toContain('allowed here: description, source, cors, expect');
  expect(problem({ ...good, expect: { 'fetch-get': { verdict: 'allowed' } } })).toContain('expect: no "*" default and no expectation for');
});

test('a per-engine reason for an engine that does not exist is refused', () => {
  const msg = problem({
    ...good,
    expect: { '*': { verdict: 'blocked', reason: 'missing-allow-origin', engines: { safari: { reason: 'preflight-status', why: 'x' } } } },
  });
  expect(msg).toContain('expect.*.engines');
});

test('a configuration S3 would refuse, or an unknown placeholder, is refused', () => {
  expect(problem({ ...good, cors: [{ AllowedMethods: ['get'], AllowedOrigins: ['*'] }] })).toContain(
    'cors: S3 would refuse this configuration: InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is get',
  );
  expect(problem({ ...good, cors: [{ AllowedMethods: ['GET'], AllowedOrigins: ['{{PAGE_ORIGIN}}'] }] })).toContain(
    'unknown placeholder {{PAGE_ORIGIN}} (allowed: {{SITE_ORIGIN}}',
  );
});

test('a scenario step of an unknown kind is refused', () => {
  const scenario = {
    description: 's',
    object: { key: 'k', contentType: 'text/plain', body: 'x' },
    preflight: false,
    steps: [{ kind: 'websocket' }],
  };
  expect(() => parseScenario('fixtures/scenarios/ws.json', scenario)).toThrow(/ws\.json: steps\[0\]\.kind: /);
});

test('a fixtures directory with a typo makes loading fail with file and key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-data-'));
  try {
    mkdirSync(join(dir, 'cors'));
    writeFileSync(join(dir, 'cors', 'mine.json'), JSON.stringify({ ...good, expect: { '*': { verdict: 'allowed' }, 'put-jsn': { verdict: 'allowed' } } }));
    expect(() => loadFixtures(join(dir, 'cors'))).toThrow(/mine\.json: expect\.put-jsn: no scenario is named "put-jsn"/);
    writeFileSync(join(dir, 'cors', 'mine.json'), '{"description": ');
    expect(() => loadFixtures(join(dir, 'cors'))).toThrow(/mine\.json: not valid JSON/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
