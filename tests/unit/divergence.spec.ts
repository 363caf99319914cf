/**
 * Store divergences (harness/divergence.ts) on what Ceph RGW 16.2.15 really answered: the replayed
 * exchanges in store-samples/ceph-rgw.json were recorded from a live cluster by
 * stores/record-samples.ts (re-record, never edit). Each test names one difference a user meets.
 */
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { fillPlaceholders, fixtureExpectation, expectationFor, loadFixtures, loadScenarios } from '../../harness/data.js';
import { makeOrigins } from '../../harness/origins.js';
import { classifyCase, compareWithS3, decidingDifferences, replayDecider, s3AnswerFor, type StoreComparison } from '../../harness/divergence.js';
import { storeSummaries } from '../../harness/store-report.js';
import type { ReplayedExchange } from '../../harness/replay.js';
import { predict } from '../../harness/oracle.js';
import { impliedRequests } from '../../harness/replay.js';

const recorded = JSON.parse(readFileSync(new URL('./store-samples/ceph-rgw.json', import.meta.url), 'utf8')) as {
  version: string;
  siteOrigin: string;
  endpoint: string;
  samples: Array<{ fixture: string; scenario: string; exchanges: ReplayedExchange[] }>;
};
const origins = makeOrigins(Number(new URL(recorded.siteOrigin).port), Number(new URL(recorded.endpoint).port));
const fixtures = loadFixtures();
const scenarios = loadScenarios();

function compare(fixtureId: string, scenarioId: string): StoreComparison {
  const sample = recorded.samples.find((s) => s.fixture === fixtureId && s.scenario === scenarioId);
  if (!sample) throw new Error(`no recorded sample for ${fixtureId} × ${scenarioId}`);
  const f = fixtures.find((x) => x.id === fixtureId)!;
  const cors = f.cors === null ? undefined : { CORSRules: fillPlaceholders(f.cors, origins) };
  return compareWithS3(cors, scenarios.find((s) => s.id === scenarioId)!, origins.SITE_ORIGIN, sample.exchanges);
}
const kinds = (c: StoreComparison) => [...new Set(c.differences.map((d) => `${d.request}:${d.kind}`))].sort();
const expected = (fixtureId: string, scenarioId: string, engine: 'chromium' | 'firefox' | 'webkit', at?: 'preflight' | 'response') =>
  expectationFor(fixtureExpectation(fixtures.find((x) => x.id === fixtureId)!, scenarioId), engine, at);

test('the samples come from Ceph RGW 16.2', () => {
  expect(recorded.version).toMatch(/ceph version 16\.2\./);
  expect(recorded.samples.every((s) => s.exchanges.every((x) => x.replay === true && !x.error))).toBe(true);
});

test('should name the missing Access-Control-Allow-Credentials as what blocks a credentialed GET', () => {
  const c = compare('allow-specific-origin', 'get-credentials');
  expect(c.s3.verdict).toBe('allowed');
  expect(c.store).toMatchObject({ verdict: 'blocked', reason: 'credentials-flag', at: 'response' });
  const deciding = decidingDifferences(c);
  expect(deciding.map((d) => d.kind)).toEqual(['no-allow-credentials']);
  expect(deciding[0]!.text).toBe('the store sent no Access-Control-Allow-Credentials (S3 sends true, the GET response), so credentialed requests fail in every engine');
});

test('should classify an engine that blocks on the missing credentials flag as a store divergence, in every engine', () => {
  const c = compare('allow-specific-origin', 'get-credentials');
  for (const engine of ['chromium', 'firefox', 'webkit'] as const) {
    const r = classifyCase({ engine, expected: expected('allow-specific-origin', 'get-credentials', engine), observed: 'blocked', engineReasons: ['credentials-flag'], comparison: c });
    expect(r.status).toBe('store-divergence');
    if (r.status !== 'store-divergence') continue;
    expect(r.divergence).toMatchObject({ kind: 'verdict', s3: 'allowed', store: 'blocked (credentials-flag at the response)', headers: ['Access-Control-Allow-Credentials'] });
    expect(r.divergence.summary).toContain('the store sent no Access-Control-Allow-Credentials');
  }
});

test('should report the same header difference without a divergence when the request is not credentialed', () => {
  const c = compare('allow-specific-origin', 'fetch-get');
  expect(c.store.verdict).toBe('allowed');
  // The rule allows GET only, so RGW's "requested method only" Allow-Methods happens to equal S3's.
  expect(kinds(c)).toEqual(['actual:no-allow-credentials', 'actual:vary']);
  expect(decidingDifferences(c)).toEqual([]);
  expect(classifyCase({ engine: 'chromium', expected: expected('allow-specific-origin', 'fetch-get', 'chromium'), observed: 'allowed', comparison: c })).toEqual({ status: 'as-s3' });
});

test('should name the origin echoed for a * rule on the preflight, and * on the actual response', () => {
  const c = compare('allow-all-origins', 'get-custom-header');
  const echo = c.differences.filter((d) => d.kind === 'origin-echoed-for-wildcard');
  expect(echo.map((d) => d.request)).toEqual(['preflight']);
  expect(echo[0]!.text).toBe('the store echoed the origin where S3 sends * (the GET preflight)');
  expect(echo[0]).toMatchObject({ s3: '*', store: origins.SITE_ORIGIN });
  // Not credentialed: the echo changes nothing a browser does.
  expect(c.store.verdict).toBe(c.s3.verdict);
});

test('should see no divergence for a credentialed GET on a * rule: RGW sends * on the actual response, as S3 does', () => {
  for (const fixture of ['allow-all-origins', 'rule-order-wildcard-first']) {
    const c = compare(fixture, 'get-credentials');
    expect(c.s3).toMatchObject({ verdict: 'blocked', reason: 'wildcard-with-credentials' });
    expect(c.store).toMatchObject({ verdict: 'blocked', reason: 'wildcard-with-credentials' });
    expect(classifyCase({ engine: 'firefox', expected: expected(fixture, 'get-credentials', 'firefox'), observed: 'blocked', engineReasons: ['wildcard-with-credentials'], comparison: c }).status).toBe('as-s3');
  }
});

test('should name a refused preflight as no fall-through to a later rule on headers', () => {
  const c = compare('header-fall-through', 'get-custom-header');
  expect(c.s3.verdict).toBe('allowed');
  expect(c.store).toMatchObject({ verdict: 'blocked', reason: 'missing-allow-origin', at: 'preflight', why: 'the store refused the preflight (403 AccessDenied)' });
  const [d, ...rest] = decidingDifferences(c);
  expect(rest).toEqual([]);
  expect(d).toMatchObject({ kind: 'preflight-refused', request: 'preflight', method: 'GET', s3: origins.SITE_ORIGIN, store: null });
  expect(d!.text).toBe(
    'the store refused the GET preflight (403 AccessDenied, no Access-Control-Allow-Origin) where S3 allows it: no fall-through to a later rule on headers: rule 1 (dates-only) matches the origin and GET but not x-corsproof-demo; S3 goes on to rule 2 (uploads), the store stops at the first rule for the origin',
  );
});

test('should name a refused PUT preflight as no fall-through to a later rule on methods', () => {
  const c = compare('header-fall-through', 'put-json');
  expect(c.store).toMatchObject({ verdict: 'blocked', reason: 'missing-allow-origin', at: 'preflight' });
  expect(decidingDifferences(c).map((d) => d.text)).toEqual([
    'the store refused the PUT preflight (403 AccessDenied, no Access-Control-Allow-Origin) where S3 allows it: no fall-through to a later rule on methods: rule 1 (dates-only) matches the origin but not PUT; S3 goes on to rule 2 (uploads), the store stops at the first rule for the origin',
  ]);
});

test('should name a missing Access-Control-Allow-Origin on an actual PUT as no fall-through on methods', () => {
  const c = compare('header-fall-through', 'put-custom-header');
  const actual = c.differences.find((d) => d.request === 'actual');
  expect(actual).toMatchObject({ kind: 'allow-origin-missing', method: 'PUT' });
  expect(actual!.text).toContain('no fall-through to a later rule on methods: rule 1 (dates-only) matches the origin but not PUT');
});

test('should classify the refused preflight per engine, with WebKit reading it as a non-2xx preflight', () => {
  const c = compare('header-fall-through', 'get-custom-header');
  const chromium = classifyCase({ engine: 'chromium', expected: expected('header-fall-through', 'get-custom-header', 'chromium'), observed: 'blocked', engineReasons: ['missing-allow-origin'], comparison: c });
  expect(chromium).toMatchObject({ status: 'store-divergence', divergence: { kind: 'verdict', store: 'blocked (missing-allow-origin at the preflight)', headers: ['Access-Control-Allow-Origin'] } });
  // engine-differences.json: WebKit reports a refused preflight by its status.
  const webkit = classifyCase({ engine: 'webkit', expected: expected('header-fall-through', 'get-custom-header', 'webkit'), observed: 'blocked', engineReasons: ['preflight-status'], comparison: c });
  expect(webkit.status).toBe('store-divergence');
});

test('should call a verdict that neither S3 nor the store explains unexplained, not a store divergence', () => {
  const c = compare('allow-specific-origin', 'fetch-get');
  const r = classifyCase({ engine: 'chromium', expected: expected('allow-specific-origin', 'fetch-get', 'chromium'), observed: 'blocked', engineReasons: ['origin-mismatch'], comparison: c });
  expect(r.status).toBe('unexplained');
  if (r.status === 'unexplained') expect(r.message).toBe("the engine's verdict, blocked (origin-mismatch), is neither S3's (allowed) nor what the store's replayed answers give (allowed: every CORS check passes)");
});

test('should name list formatting and the requested-method-only Allow-Methods without calling them divergences', () => {
  const etag = compare('expose-headers', 'read-etag');
  const sep = etag.differences.find((d) => d.kind === 'list-separator');
  expect(sep).toMatchObject({ header: 'Access-Control-Expose-Headers', s3: 'ETag, x-amz-request-id', store: 'ETag,x-amz-request-id' });
  expect(etag.store.verdict).toBe('allowed');
  const del = compare('full-access', 'delete');
  const methods = del.differences.filter((d) => d.kind === 'allow-methods-requested-only');
  expect(methods.map((d) => `${d.request} ${d.store}`)).toEqual(['preflight DELETE', 'actual DELETE']);
  expect(methods[0]!.s3).toBe('GET, PUT, POST, DELETE, HEAD');
  expect(del.store.verdict).toBe('allowed');
});

test('should name Vary: Origin only on preflights and no Vary on * responses', () => {
  const c = compare('allow-all-origins', 'get-custom-header');
  const vary = c.differences.filter((d) => d.kind === 'vary');
  expect(vary.map((d) => `${d.request}: ${d.store}`)).toEqual(['preflight: Origin', 'actual: null']);
  expect(vary[0]!.s3).toBe('Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
});

test('should find no difference where neither S3 nor the store answers with CORS headers', () => {
  expect(compare('no-cors', 'get-custom-header').differences).toEqual([]);
  expect(compare('no-cors', 'img-plain').differences).toEqual([]);
  expect(compare('trailing-slash', 'fetch-get').differences).toEqual([]);
});

test('should summarise a store: divergences by header with engines and cases, and header differences per kind', () => {
  const rows = recorded.samples.map((sample) => {
    const c = compare(sample.fixture, sample.scenario);
    const observed = c.store.verdict;
    const cls = classifyCase({ engine: 'firefox', expected: expected(sample.fixture, sample.scenario, 'firefox', c.s3.at), observed, ...(c.store.reason ? { engineReasons: [c.store.reason] } : {}), comparison: c });
    const divergence = cls.status === 'store-divergence' ? cls.divergence : undefined;
    return {
      fixture: sample.fixture,
      scenario: sample.scenario,
      engine: 'firefox',
      status: 'passed',
      store: {
        label: 'Ceph RGW 16.2.15',
        endpoint: recorded.endpoint,
        verdict: cls.status,
        ...(divergence ? { divergence: { kind: divergence.kind, s3: divergence.s3, store: divergence.store, headers: divergence.headers, difference: divergence.causes.map((d) => d.text).join('; ') } } : {}),
        profile: { status: 'unprofiled', message: '' },
        differences: c.differences.map((d) => ({ kind: d.kind, header: d.header, request: d.request, text: d.text })),
      },
    };
  });
  const [s] = storeSummaries(rows);
  expect(s!.divergences).toBe(4);
  expect(s!.byDifference.map((g) => `${g.headers.join(',')}: ${g.cases.join(' | ')}`)).toEqual([
    'Access-Control-Allow-Credentials: allow-specific-origin × get-credentials',
    // The same difference (no fall-through on methods for a PUT) groups its cases.
    'Access-Control-Allow-Origin: header-fall-through × put-custom-header | header-fall-through × put-json',
    'Access-Control-Allow-Origin: header-fall-through × get-custom-header',
  ]);
  const keys = s!.headerDifferences.map((h) => `${h.request}:${h.kind}`);
  for (const k of ['actual:no-allow-credentials', 'preflight:origin-echoed-for-wildcard', 'preflight:preflight-refused', 'actual:vary', 'preflight:allow-methods-requested-only']) expect(keys).toContain(k);
  expect(s!.headerDifferences.every((h) => h.cases > 0 && h.example.startsWith('the store'))).toBe(true);
});

test("a replay answered as S3 answers gives the oracle's prediction for every case and engine (flows and the HTTP cache included)", () => {
  const keep = (p: ReturnType<typeof predict>) => ({ verdict: p.verdict, reason: p.reason, at: p.at, preflights: p.preflights, actualRequests: p.actualRequests, readable: p.readable });
  for (const f of fixtures) {
    const cors = f.cors === null ? undefined : { CORSRules: fillPlaceholders(f.cors, origins) };
    for (const s of scenarios) {
      const implied = impliedRequests(s.steps, origins.SITE_ORIGIN, { object: (m) => `http://store.test/b/${s.object.key}?m=${m}`, bucket: 'http://store.test/b' });
      const asS3 = implied.map((x) => {
        const a = s3AnswerFor(cors, s.object.key, x.resource === 'object' ? x : { ...x });
        return { ...x, replay: true as const, status: a.status, responseHeaders: a.headers, bodyPreview: a.code ? `<Error><Code>${a.code}</Code></Error>` : '', durationMs: 0 };
      });
      for (const engine of ['chromium', 'firefox', 'webkit'] as const) {
        const viaReplay = predict(cors, s, origins.SITE_ORIGIN, undefined, engine, replayDecider(asS3));
        expect(keep(viaReplay), `${f.id} × ${s.id} in ${engine}`).toEqual(keep(predict(cors, s, origins.SITE_ORIGIN, undefined, engine)));
      }
    }
  }
});
