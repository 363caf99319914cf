/**
 * Actual (non-OPTIONS) requests carrying Origin (reference §3): never blocked,
 * CORS headers only on a match. Each row names its source: [Sx LEVEL label].
 */
import { expect, test } from '@playwright/test';
import {
  type ActualDecision,
  type CorsConfiguration,
  type CorsRequestFacts,
  type CorsRule,
  type HeaderList,
  decideActual,
  decidePreflight,
  describeDecision,
} from '../../servers/s3/cors/index.js';

const VARY: [string, string] = ['Vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method'];
const cfg = (...rules: CorsRule[]): CorsConfiguration => ({ CORSRules: rules });

/** test_cors_match_origins, first and second configuration [S1]. */
const LOCALHOST_4200 = cfg({ AllowedOrigins: ['https://localhost:4200'], AllowedMethods: ['GET', 'PUT'], MaxAgeSeconds: 3000, AllowedHeaders: ['*'] });
const STAR_4200 = cfg({ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'PUT'], MaxAgeSeconds: 3000, AllowedHeaders: ['*'] });
/** test_cors_match_methods [S1]. */
const GET_ONLY = cfg({ AllowedOrigins: ['https://localhost:4200'], AllowedMethods: ['GET'], MaxAgeSeconds: 3000, AllowedHeaders: ['*'] });
/** test_cors_match_headers, second configuration [S1]. */
const TWO_HEADERS = cfg({
  AllowedOrigins: ['https://localhost:4200'],
  AllowedMethods: ['GET'],
  MaxAgeSeconds: 3000,
  AllowedHeaders: ['x-amz-expected-bucket-owner', 'x-amz-server-side-encryption-customer-algorithm'],
});

function actual(config: CorsConfiguration | undefined, f: Partial<CorsRequestFacts> & { method: string }): ActualDecision {
  return decideActual({ bucketExists: true, config, key: 'test-cors-123', ...f });
}

const ECHO_4200: HeaderList = [
  ['Access-Control-Allow-Origin', 'https://localhost:4200'],
  ['Access-Control-Allow-Credentials', 'true'],
  ['Access-Control-Allow-Methods', 'GET, PUT'],
  ['Access-Control-Max-Age', '3000'],
  VARY,
];

test.describe('actual requests', () => {
  type Row = { title: string; config?: CorsConfiguration; f: Partial<CorsRequestFacts> & { method: string }; reason: ActualDecision['reason']; headers: HeaderList };
  const rows: Row[] = [
    // [S1 AWS-REC get-no-origin][S5][S18 trafficserver#3954]: no headers, no Vary
    { title: 'a GET without Origin gets no CORS headers and no Vary', config: LOCALHOST_4200, f: { method: 'GET' }, reason: 'no-origin', headers: [] },
    // UNVERIFIED choice (decide.ts): an empty Origin counts as absent
    { title: 'a GET with an empty Origin gets no CORS headers', config: STAR_4200, f: { method: 'GET', origin: '' }, reason: 'no-origin', headers: [] },
    // [S1 AWS-REC test_cors_http_get_no_config]
    { title: 'a GET on a bucket without configuration gets no CORS headers', f: { method: 'GET', origin: 'whatever' }, reason: 'no-config', headers: [] },
    // [S11] NoSuchBucket carries none
    { title: 'a request to a missing bucket gets no CORS headers', config: STAR_4200, f: { method: 'GET', origin: 'https://a.example', bucketExists: false }, reason: 'no-bucket', headers: [] },
    // [S1 AWS-REC get-right-origin]
    { title: 'a GET from the allowed origin gets the preflight header set without ACAH', config: LOCALHOST_4200, f: { method: 'GET', origin: 'https://localhost:4200' }, reason: 'matched', headers: ECHO_4200 },
    // [S1 AWS-REC get-wrong-origin]
    { title: 'a GET from another scheme gets no CORS headers and no Vary', config: LOCALHOST_4200, f: { method: 'GET', origin: 'http://localhost:4200' }, reason: 'no-match', headers: [] },
    // [S1 AWS-REC get-random-wildcard-origin]
    {
      title: 'a GET matched by a * rule gets ACAO * and no credentials',
      config: STAR_4200,
      f: { method: 'GET', origin: 'http://random:1234' },
      reason: 'matched',
      headers: [['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Methods', 'GET, PUT'], ['Access-Control-Max-Age', '3000'], VARY],
    },
    // [S1 AWS-REC get-op]
    {
      title: 'a GET allowed by method gets headers listing the rule methods',
      config: GET_ONLY,
      f: { method: 'GET', origin: 'https://localhost:4200' },
      reason: 'matched',
      headers: [['Access-Control-Allow-Origin', 'https://localhost:4200'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'GET'], ['Access-Control-Max-Age', '3000'], VARY],
    },
    // [S1 AWS-REC put-op] the PUT itself succeeds (the engine never blocks); only the headers are missing
    { title: 'a PUT the rule does not allow gets no CORS headers', config: GET_ONLY, f: { method: 'PUT', origin: 'https://localhost:4200' }, reason: 'no-match', headers: [] },
    // [S1 AWS-REC get-wrong-op] ACRM overrides the HTTP method
    { title: 'a GET carrying ACRM PUT is matched as a PUT and gets nothing', config: GET_ONLY, f: { method: 'GET', origin: 'https://localhost:4200', accessControlRequestMethod: 'PUT' }, reason: 'no-match', headers: [] },
    // [S10] the reverse
    {
      title: 'a PUT carrying ACRM GET gets the GET rule headers',
      config: GET_ONLY,
      f: { method: 'PUT', origin: 'https://localhost:4200', accessControlRequestMethod: 'GET' },
      reason: 'matched',
      headers: [['Access-Control-Allow-Origin', 'https://localhost:4200'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'GET'], ['Access-Control-Max-Age', '3000'], VARY],
    },
    // [S1 AWS-REC get-non-allowed-with-acl] ACRH on a GET is checked
    { title: 'a GET carrying a non-allowed ACRH gets no CORS headers', config: TWO_HEADERS, f: { method: 'GET', origin: 'https://localhost:4200', accessControlRequestHeaders: 'x-amz-request-payer' }, reason: 'no-match', headers: [] },
    // [S1 AWS-REC get-non-allowed] real request headers are never checked (the engine is not even told them)
    {
      title: 'a GET without ACRH matches whatever real headers it carries',
      config: TWO_HEADERS,
      f: { method: 'GET', origin: 'https://localhost:4200' },
      reason: 'matched',
      headers: [['Access-Control-Allow-Origin', 'https://localhost:4200'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'GET'], ['Access-Control-Max-Age', '3000'], VARY],
    },
    // UNVERIFIED choice (decide.ts): never ACAH on an actual request [S13]
    {
      title: 'a GET carrying an allowed ACRH gets headers but no Access-Control-Allow-Headers',
      config: TWO_HEADERS,
      f: { method: 'GET', origin: 'https://localhost:4200', accessControlRequestHeaders: 'x-amz-expected-bucket-owner' },
      reason: 'matched',
      headers: [['Access-Control-Allow-Origin', 'https://localhost:4200'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'GET'], ['Access-Control-Max-Age', '3000'], VARY],
    },
    // [S18 s3proxy#343] HEAD is its own method
    { title: 'a HEAD against a GET-only rule gets no CORS headers', config: GET_ONLY, f: { method: 'HEAD', origin: 'https://localhost:4200' }, reason: 'no-match', headers: [] },
    // [S11 corsHeaders.js website bucket] ACAM GET, HEAD
    {
      title: 'a HEAD against a GET and HEAD rule gets CORS headers',
      config: cfg({ AllowedOrigins: ['http://www.example.com'], AllowedMethods: ['GET', 'HEAD'] }),
      f: { method: 'HEAD', origin: 'http://www.example.com' },
      reason: 'matched',
      headers: [['Access-Control-Allow-Origin', 'http://www.example.com'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'GET, HEAD'], VARY],
    },
    // [S17 #1893] ETag is exposed only when listed
    {
      title: 'ExposeHeaders come on actual responses too',
      config: cfg({ AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['ETag'] }),
      f: { method: 'GET', origin: 'https://a.example' },
      reason: 'matched',
      headers: [['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Methods', 'GET'], ['Access-Control-Expose-Headers', 'ETag'], VARY],
    },
    // [S10] a missing key answers 404 with CORS headers: the decision ignores the key
    { title: 'a GET of a key that does not exist still gets CORS headers', config: LOCALHOST_4200, f: { method: 'GET', origin: 'https://localhost:4200', key: 'missing/key' }, reason: 'matched', headers: ECHO_4200 },
  ];
  for (const row of rows) {
    test(row.title, () => {
      const d = actual(row.config, row.f);
      expect(d.reason).toBe(row.reason);
      expect(d.headers).toEqual(row.headers);
      expect(d.rule === undefined).toBe(row.reason !== 'matched');
    });
  }

  test('an actual response carries exactly the preflight headers minus Access-Control-Allow-Headers', () => {
    // §3 "Matched rule" [S1][S11]
    const config = cfg({ AllowedOrigins: ['https://*.example.com'], AllowedMethods: ['PUT', 'GET'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag', 'x-amz-version-id'], MaxAgeSeconds: 600 });
    const pre = decidePreflight({ method: 'OPTIONS', origin: 'https://app.example.com', accessControlRequestMethod: 'PUT', accessControlRequestHeaders: 'content-type', bucketExists: true, config });
    const act = decideActual({ method: 'PUT', origin: 'https://app.example.com', bucketExists: true, config });
    if (pre.kind !== 'allowed') throw new Error(describeDecision(pre));
    expect(act.headers).toEqual(pre.headers.filter(([n]) => n !== 'Access-Control-Allow-Headers'));
    expect(pre.headers.some(([n]) => n === 'Access-Control-Allow-Headers')).toBe(true);
  });

  test('describeDecision explains actual requests', () => {
    const config = cfg({ ID: 'site', AllowedOrigins: ['https://site.example'], AllowedMethods: ['GET'] }, { AllowedOrigins: ['*'], AllowedMethods: ['HEAD'] });
    expect(describeDecision(actual(config, { method: 'GET', origin: 'https://site.example' }))).toBe('CORS headers added: rule #0 (ID site) matched.');
    expect(describeDecision(actual(config, { method: 'HEAD', origin: 'https://site.example' }))).toBe('CORS headers added: rule #1 matched, after rule #0 (ID site) origin ✓ method ✗ headers ✓.');
    expect(describeDecision(actual(config, { method: 'PUT', origin: 'https://x.example' }))).toBe(
      'No CORS headers: no rule matched: rule #0 (ID site) origin ✗ method ✗ headers ✓; rule #1 origin ✓ method ✗ headers ✓.',
    );
    expect(describeDecision(actual(config, { method: 'GET' }))).toBe('No CORS headers: the request has no Origin header.');
    expect(describeDecision(actual(undefined, { method: 'GET', origin: 'x' }))).toBe('No CORS headers: the bucket has no CORS configuration.');
    expect(describeDecision(actual(config, { method: 'GET', origin: 'x', bucketExists: false }))).toBe('No CORS headers: the bucket does not exist.');
  });
});

test.describe('purity', () => {
  test('editing a configuration object in place changes the next decision', () => {
    // The engine caches compiled configurations; the cache must never serve stale rules.
    const config = cfg({ AllowedOrigins: ['https://a.example'], AllowedMethods: ['GET'] });
    const facts = { method: 'GET', origin: 'https://b.example', bucketExists: true, config };
    expect(decideActual(facts).reason).toBe('no-match');
    (config.CORSRules[0] as CorsRule).AllowedOrigins[0] = 'https://b.example';
    expect(decideActual(facts).reason).toBe('matched');
    (config.CORSRules[0] as CorsRule).MaxAgeSeconds = 9;
    expect(decideActual(facts).headers).toContainEqual(['Access-Control-Max-Age', '9']);
    config.CORSRules.unshift({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] });
    expect(decideActual(facts).headers[0]).toEqual(['Access-Control-Allow-Origin', '*']);
  });

  test('deciding does not modify the facts or the configuration', () => {
    const config = cfg({ AllowedOrigins: ['https://a.example'], AllowedMethods: ['GET'], AllowedHeaders: ['X-Upper'] });
    const facts: CorsRequestFacts = { method: 'OPTIONS', origin: 'https://a.example', accessControlRequestMethod: 'GET', accessControlRequestHeaders: 'X-Upper', bucketExists: true, config, key: 'k' };
    const before = JSON.stringify(facts);
    decidePreflight(facts);
    decideActual({ ...facts, method: 'GET' });
    expect(JSON.stringify(facts)).toBe(before);
  });
});
