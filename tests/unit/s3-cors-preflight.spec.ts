/**
 * Preflight (OPTIONS) decisions (reference §0, §1.5, §2). Each row names its
 * source: [Sx LEVEL label]. Expected header lists are complete and ordered.
 */
import { expect, test } from '@playwright/test';
import {
  type CorsConfiguration,
  type CorsRequestFacts,
  type CorsRule,
  type HeaderList,
  type PreflightDecision,
  decidePreflight,
  describeDecision,
} from '../../servers/s3/cors/index.js';

const VARY: [string, string] = ['Vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method'];
const NOT_ALLOWED =
  "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

const cfg = (...rules: CorsRule[]): CorsConfiguration => ({ CORSRules: rules });

/** The rule of LocalStack's AWS-recorded test_cors_match_origins. */
const LOCALHOST_4200 = cfg({ AllowedOrigins: ['https://localhost:4200'], AllowedMethods: ['GET', 'PUT'], MaxAgeSeconds: 3000, AllowedHeaders: ['*'] });
const STAR_4200 = cfg({ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'PUT'], MaxAgeSeconds: 3000, AllowedHeaders: ['*'] });
/** test_cors_match_headers, second configuration. */
const TWO_HEADERS = cfg({
  AllowedOrigins: ['https://localhost:4200'],
  AllowedMethods: ['GET'],
  MaxAgeSeconds: 3000,
  AllowedHeaders: ['x-amz-expected-bucket-owner', 'x-amz-server-side-encryption-customer-algorithm'],
});

function preflight(config: CorsConfiguration | undefined, headers: { origin?: string; acrm?: string; acrh?: string }, extra: Partial<CorsRequestFacts> = {}): PreflightDecision {
  return decidePreflight({
    method: 'OPTIONS',
    origin: headers.origin,
    accessControlRequestMethod: headers.acrm,
    accessControlRequestHeaders: headers.acrh,
    bucketExists: true,
    config,
    key: 'test-cors-123',
    ...extra,
  });
}

// ---- Refusals, in S3's order of checks (§2.1) ---------------------------------------------------

test.describe('preflight refusals', () => {
  type Row = {
    title: string;
    config?: CorsConfiguration;
    h: { origin?: string; acrm?: string; acrh?: string };
    extra?: Partial<CorsRequestFacts>;
    expect: { status: 400 | 403; code: string; message: string; reason: string; method?: string; resourceType?: 'BUCKET' | 'OBJECT' };
  };
  const badRequest = (message: string, reason: string) => ({ status: 400 as const, code: 'BadRequest', message, reason });
  const NO_ORIGIN = badRequest('Insufficient information. Origin request header needed.', 'no-origin');
  const rows: Row[] = [
    // Step 1 [S1 AWS-REC options-no-origin, opt-no-origin, opt-referer]
    { title: 'no Origin on a configured bucket is 400 BadRequest', config: LOCALHOST_4200, h: { acrm: 'PUT' }, expect: NO_ORIGIN },
    { title: 'no Origin on a bucket without configuration is 400 BadRequest', h: {}, expect: NO_ORIGIN },
    { title: 'no Origin on a missing bucket is 400 BadRequest before the bucket lookup', h: { acrm: 'GET' }, extra: { bucketExists: false }, expect: NO_ORIGIN },
    // UNVERIFIED choice (decide.ts): an empty Origin counts as absent, as [S2][S12].
    { title: 'an empty Origin counts as no Origin', config: STAR_4200, h: { origin: '', acrm: 'GET' }, expect: NO_ORIGIN },
    // Step 2 [S1 AWS-REC options-with-origin]
    {
      title: 'a missing bucket is 403 Bucket not found with Method OPTIONS when there is no ACRM',
      h: { origin: 'whatever' },
      extra: { bucketExists: false },
      expect: { status: 403, code: 'AccessForbidden', message: 'CORSResponse: Bucket not found', reason: 'no-bucket', method: 'OPTIONS', resourceType: 'BUCKET' },
    },
    {
      title: 'a missing bucket names the ACRM as Method when there is one',
      h: { origin: 'whatever', acrm: 'PUT' },
      extra: { bucketExists: false },
      expect: { status: 403, code: 'AccessForbidden', message: 'CORSResponse: Bucket not found', reason: 'no-bucket', method: 'PUT', resourceType: 'BUCKET' },
    },
    // Step 3 [S1 AWS-REC options-with-origin-and-method, options-with-origin-no-method]
    {
      title: 'a bucket without configuration is 403 CORS not enabled, resource BUCKET even on an object URL',
      h: { origin: 'whatever', acrm: 'PUT' },
      expect: { status: 403, code: 'AccessForbidden', message: 'CORSResponse: CORS is not enabled for this bucket.', reason: 'no-config', method: 'PUT', resourceType: 'BUCKET' },
    },
    {
      title: 'a bucket without configuration and no ACRM names Method OPTIONS',
      h: { origin: 'whatever' },
      expect: { status: 403, code: 'AccessForbidden', message: 'CORSResponse: CORS is not enabled for this bucket.', reason: 'no-config', method: 'OPTIONS', resourceType: 'BUCKET' },
    },
    // Step 4 [S10 status][S11][S12 message]
    { title: 'no ACRM on a configured bucket is 400 Invalid Access-Control-Request-Method: null', config: STAR_4200, h: { origin: 'https://a.example' }, expect: badRequest('Invalid Access-Control-Request-Method: null', 'bad-request-method') },
    // Step 4b — UNVERIFIED choice (decide.ts): 400 naming the value, as [S12]
    { title: 'an ACRM outside the five methods is 400 naming it', config: STAR_4200, h: { origin: 'https://a.example', acrm: 'PATCH' }, expect: badRequest('Invalid Access-Control-Request-Method: PATCH', 'bad-request-method') },
    { title: 'a lowercase ACRM is 400 naming it', config: STAR_4200, h: { origin: 'https://a.example', acrm: 'get' }, expect: badRequest('Invalid Access-Control-Request-Method: get', 'bad-request-method') },
    // Step 5 [S1 AWS-REC opt-wrong-origin (OBJECT)]
    {
      title: 'a wrong scheme is 403 not allowed on the OBJECT with the ACRM as Method',
      config: LOCALHOST_4200,
      h: { origin: 'http://localhost:4200', acrm: 'PUT' },
      expect: { status: 403, code: 'AccessForbidden', message: NOT_ALLOWED, reason: 'no-match', method: 'PUT', resourceType: 'OBJECT' },
    },
    // [S1 AWS-REC 2024-03-01 (BUCKET)]
    {
      title: 'no match at the bucket root names resource BUCKET',
      config: LOCALHOST_4200,
      h: { origin: 'http://localhost:4200', acrm: 'PUT' },
      extra: { key: undefined },
      expect: { status: 403, code: 'AccessForbidden', message: NOT_ALLOWED, reason: 'no-match', method: 'PUT', resourceType: 'BUCKET' },
    },
    // [S1 AWS-REC test_cors_match_methods opt-put]
    {
      title: 'a method the rule does not allow is 403 not allowed',
      config: cfg({ AllowedOrigins: ['https://localhost:4200'], AllowedMethods: ['GET'], MaxAgeSeconds: 3000, AllowedHeaders: ['*'] }),
      h: { origin: 'https://localhost:4200', acrm: 'PUT' },
      expect: { status: 403, code: 'AccessForbidden', message: NOT_ALLOWED, reason: 'no-match', method: 'PUT', resourceType: 'OBJECT' },
    },
    // [S1 AWS-REC opt-get-non-allowed]
    {
      title: 'a requested header no AllowedHeader matches is 403 not allowed',
      config: TWO_HEADERS,
      h: { origin: 'https://localhost:4200', acrm: 'GET', acrh: 'x-amz-request-payer' },
      expect: { status: 403, code: 'AccessForbidden', message: NOT_ALLOWED, reason: 'no-match', method: 'GET', resourceType: 'OBJECT' },
    },
    // [S1 AWS-REC test_put_cors_default_values opt-get-headers][S10 test_cors_header_option]
    {
      title: 'any requested header is refused by a rule without AllowedHeader',
      config: cfg({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }),
      h: { origin: 'localhost:4566', acrm: 'GET', acrh: 'x-amz-request-payer' },
      expect: { status: 403, code: 'AccessForbidden', message: NOT_ALLOWED, reason: 'no-match', method: 'GET', resourceType: 'OBJECT' },
    },
    // [S1 AWS-REC 2024-03-01 options_fails_partial_origin]
    {
      title: 'a trailing-slash Origin does not match a partial wildcard',
      config: cfg({ AllowedOrigins: ['http://*.origin.com'], AllowedMethods: ['GET'] }),
      h: { origin: 'http://test.origin.com/', acrm: 'GET' },
      expect: { status: 403, code: 'AccessForbidden', message: NOT_ALLOWED, reason: 'no-match', method: 'GET', resourceType: 'OBJECT' },
    },
    // INFERRED §1.5: browsers never send a trailing slash [S20]
    {
      title: 'a configured trailing-slash origin never matches a browser Origin',
      config: cfg({ AllowedOrigins: ['http://my-bucket-html.s3-website-eu-west-1.amazonaws.com/'], AllowedMethods: ['GET'], AllowedHeaders: ['*'] }),
      h: { origin: 'http://my-bucket-html.s3-website-eu-west-1.amazonaws.com', acrm: 'GET' },
      expect: { status: 403, code: 'AccessForbidden', message: NOT_ALLOWED, reason: 'no-match', method: 'GET', resourceType: 'OBJECT' },
    },
    // [S5 AWS-DOC][S13 AWS-OBS] the port is compared literally
    {
      title: 'an explicit default port does not match an origin without one',
      config: cfg({ AllowedOrigins: ['http://www.example.com'], AllowedMethods: ['GET'] }),
      h: { origin: 'http://www.example.com:80', acrm: 'GET' },
      expect: { status: 403, code: 'AccessForbidden', message: NOT_ALLOWED, reason: 'no-match', method: 'GET', resourceType: 'OBJECT' },
    },
    // UNVERIFIED choice (match.ts): origins compare case-sensitively, as [S2][S12][S15]
    {
      title: 'an Origin differing only in case does not match',
      config: LOCALHOST_4200,
      h: { origin: 'https://LOCALHOST:4200', acrm: 'GET' },
      expect: { status: 403, code: 'AccessForbidden', message: NOT_ALLOWED, reason: 'no-match', method: 'GET', resourceType: 'OBJECT' },
    },
    // [S10][S11] anchored: the wildcard does not match the bare domain
    {
      title: 'http://*.example.com does not match http://example.com',
      config: cfg({ AllowedOrigins: ['http://*.example.com'], AllowedMethods: ['GET'] }),
      h: { origin: 'http://example.com', acrm: 'GET' },
      expect: { status: 403, code: 'AccessForbidden', message: NOT_ALLOWED, reason: 'no-match', method: 'GET', resourceType: 'OBJECT' },
    },
    // UNVERIFIED suggestion §9: Origin null is a literal string
    {
      title: 'Origin null does not match a specific origin',
      config: LOCALHOST_4200,
      h: { origin: 'null', acrm: 'GET' },
      expect: { status: 403, code: 'AccessForbidden', message: NOT_ALLOWED, reason: 'no-match', method: 'GET', resourceType: 'OBJECT' },
    },
  ];
  for (const row of rows) {
    test(row.title, () => {
      const d = preflight(row.config, row.h, row.extra);
      expect(d.kind).toBe('refused');
      if (d.kind !== 'refused') return;
      const { evaluations: _, ...rest } = d;
      const want: Record<string, unknown> = { kind: 'refused', ...row.expect };
      expect(rest).toEqual(want);
    });
  }

  test('a refusal before the rules are read carries no rule evaluations', () => {
    for (const d of [preflight(STAR_4200, { acrm: 'GET' }), preflight(undefined, { origin: 'x', acrm: 'GET' }), preflight(STAR_4200, { origin: 'x' })]) {
      expect(d.evaluations).toEqual([]);
    }
  });

  test('a no-match refusal reports how every rule fared', () => {
    const config = cfg(
      { ID: 'uploads', AllowedOrigins: ['https://app.example'], AllowedMethods: ['PUT'], AllowedHeaders: ['content-type'] },
      { AllowedOrigins: ['https://other.example'], AllowedMethods: ['GET'] },
    );
    const d = preflight(config, { origin: 'https://app.example', acrm: 'PUT', acrh: 'Content-Type, X-Trace' });
    expect(d.evaluations).toEqual([
      { rule: { index: 0, id: 'uploads' }, origin: true, method: true, headers: false, rejectedHeaders: ['x-trace'] },
      { rule: { index: 1 }, origin: false, method: false, headers: false, rejectedHeaders: ['content-type', 'x-trace'] },
    ]);
    expect(describeDecision(d)).toBe(
      'Preflight refused (403 AccessForbidden): no rule matched: rule #0 (ID uploads) origin ✓ method ✓ headers ✗ (x-trace not allowed); rule #1 origin ✗ method ✗ headers ✗ (content-type, x-trace not allowed).',
    );
  });
});

// ---- Allowed preflights: the exact header list ------------------------------------------------

test.describe('allowed preflights', () => {
  type Row = { title: string; config: CorsConfiguration; h: { origin: string; acrm: string; acrh?: string }; headers: HeaderList; rule?: number };
  const rows: Row[] = [
    // [S1 AWS-REC opt-right-origin] — the byte-exact §2.3 example
    {
      title: 'the recorded exact-origin preflight echoes the Origin with credentials, all methods and max-age',
      config: LOCALHOST_4200,
      h: { origin: 'https://localhost:4200', acrm: 'PUT' },
      headers: [['Access-Control-Allow-Origin', 'https://localhost:4200'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'GET, PUT'], ['Access-Control-Max-Age', '3000'], VARY],
    },
    // [S1 AWS-REC opt-random-wildcard-origin]
    {
      title: 'a * rule answers ACAO * without credentials',
      config: STAR_4200,
      h: { origin: 'http://random:1234', acrm: 'PUT' },
      headers: [['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Methods', 'GET, PUT'], ['Access-Control-Max-Age', '3000'], VARY],
    },
    // [S1 AWS-REC test_put_cors_default_values opt-get] non-URL origins match *
    {
      title: 'the minimal * GET rule answers exactly ACAO, ACAM and Vary',
      config: cfg({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }),
      h: { origin: 'localhost:4566', acrm: 'GET' },
      headers: [['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Methods', 'GET'], VARY],
    },
    // [S1 AWS-REC test_cors_expose_headers opt-get]
    {
      title: 'ExposeHeaders are sent as written in configuration order',
      config: cfg({ AllowedOrigins: ['*'], AllowedMethods: ['GET'], ExposeHeaders: ['x-amz-id-2', 'x-amz-request-id', 'x-amz-request-payer'] }),
      h: { origin: 'localhost:4566', acrm: 'GET' },
      headers: [['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Methods', 'GET'], ['Access-Control-Expose-Headers', 'x-amz-id-2, x-amz-request-id, x-amz-request-payer'], VARY],
    },
    // [S1 AWS-REC test_cors_match_headers opt-get]
    {
      title: 'a single requested header is echoed in ACAH',
      config: cfg({ AllowedOrigins: ['https://localhost:4200'], AllowedMethods: ['GET'], MaxAgeSeconds: 3000, AllowedHeaders: ['*'] }),
      h: { origin: 'https://localhost:4200', acrm: 'GET', acrh: 'x-amz-request-payer' },
      headers: [['Access-Control-Allow-Origin', 'https://localhost:4200'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'GET'], ['Access-Control-Allow-Headers', 'x-amz-request-payer'], ['Access-Control-Max-Age', '3000'], VARY],
    },
    // [S1 AWS-REC opt-get-two] request order kept
    {
      title: 'two requested headers are echoed in request order',
      config: cfg({ AllowedOrigins: ['https://localhost:4200'], AllowedMethods: ['GET'], MaxAgeSeconds: 3000, AllowedHeaders: ['*'] }),
      h: { origin: 'https://localhost:4200', acrm: 'GET', acrh: 'x-amz-request-payer, x-amz-expected-bucket-owner' },
      headers: [['Access-Control-Allow-Origin', 'https://localhost:4200'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'GET'], ['Access-Control-Allow-Headers', 'x-amz-request-payer, x-amz-expected-bucket-owner'], ['Access-Control-Max-Age', '3000'], VARY],
    },
    // [S1 AWS-REC opt-get-allowed]
    {
      title: 'a requested header named exactly in AllowedHeader is allowed',
      config: TWO_HEADERS,
      h: { origin: 'https://localhost:4200', acrm: 'GET', acrh: 'x-amz-expected-bucket-owner' },
      headers: [['Access-Control-Allow-Origin', 'https://localhost:4200'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'GET'], ['Access-Control-Allow-Headers', 'x-amz-expected-bucket-owner'], ['Access-Control-Max-Age', '3000'], VARY],
    },
    // [S1 AWS-REC 2025-07-07] the browser's no-space form is answered with ", "
    {
      title: 'ACRH a,b is answered a, b',
      config: cfg({ AllowedOrigins: ['*'], AllowedMethods: ['PUT'], AllowedHeaders: ['*'] }),
      h: { origin: 'https://a.example', acrm: 'PUT', acrh: 'a,b' },
      headers: [['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Methods', 'PUT'], ['Access-Control-Allow-Headers', 'a, b'], VARY],
    },
    // [S1 AWS-REC][S11] empties dropped, items trimmed, names lowercased
    {
      title: 'ACRH items are trimmed, lowercased and empty items dropped',
      config: cfg({ AllowedOrigins: ['*'], AllowedMethods: ['PUT'], AllowedHeaders: ['*'] }),
      h: { origin: 'https://a.example', acrm: 'PUT', acrh: ' Content-Type,, Expires ,' },
      headers: [['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Methods', 'PUT'], ['Access-Control-Allow-Headers', 'content-type, expires'], VARY],
    },
    // [S1 AWS-REC get-bucket-cors-casing / opt-get-allowed-diff-casing] both sides case-insensitive
    {
      title: 'a mixed-case requested header matches a lowercase AllowedHeader and is answered lowercased',
      config: TWO_HEADERS,
      h: { origin: 'https://localhost:4200', acrm: 'GET', acrh: 'x-AMZ-expected-BUCKET-owner' },
      headers: [['Access-Control-Allow-Origin', 'https://localhost:4200'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'GET'], ['Access-Control-Allow-Headers', 'x-amz-expected-bucket-owner'], ['Access-Control-Max-Age', '3000'], VARY],
    },
    {
      title: 'a mixed-case AllowedHeader matches a lowercase requested header',
      config: cfg({ AllowedOrigins: ['*'], AllowedMethods: ['PUT'], AllowedHeaders: ['x-AMZ-server-SIDE-encryption'] }),
      h: { origin: 'https://a.example', acrm: 'PUT', acrh: 'x-amz-server-side-encryption' },
      headers: [['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Methods', 'PUT'], ['Access-Control-Allow-Headers', 'x-amz-server-side-encryption'], VARY],
    },
    // [S4][S11 AWS-targeted] x-amz-* is a prefix wildcard
    {
      title: 'the x-amz-* AllowedHeader allows every x-amz- header the browser asks for',
      config: cfg({ AllowedOrigins: ['https://app.example'], AllowedMethods: ['PUT'], AllowedHeaders: ['content-type', 'x-amz-*'] }),
      h: { origin: 'https://app.example', acrm: 'PUT', acrh: 'content-type,x-amz-content-sha256,x-amz-date,x-amz-meta-owner' },
      headers: [['Access-Control-Allow-Origin', 'https://app.example'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'PUT'], ['Access-Control-Allow-Headers', 'content-type, x-amz-content-sha256, x-amz-date, x-amz-meta-owner'], VARY],
    },
    // [S1 AWS-REC 2024-02-29 options_match_partial_origin] partial wildcards echo and get ACAC
    {
      title: 'a partial wildcard origin is echoed and gets Access-Control-Allow-Credentials',
      config: cfg({ AllowedOrigins: ['http://*.origin.com'], AllowedMethods: ['GET'] }),
      h: { origin: 'http://test.origin.com', acrm: 'GET' },
      headers: [['Access-Control-Allow-Origin', 'http://test.origin.com'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'GET'], VARY],
    },
    // [S11] all methods in configuration order, not the ACRM [S1][S13] vs [S7]
    {
      title: 'ACAM lists all the rule methods in configuration order whatever the ACRM',
      config: cfg({ AllowedOrigins: ['http://www.allowedwebsite.com'], AllowedMethods: ['PUT', 'POST', 'DELETE', 'GET'] }),
      h: { origin: 'http://www.allowedwebsite.com', acrm: 'DELETE' },
      headers: [['Access-Control-Allow-Origin', 'http://www.allowedwebsite.com'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'PUT, POST, DELETE, GET'], VARY],
    },
    // §2.3 header order, every header present
    {
      title: 'all seven headers come in S3 order',
      config: cfg({ AllowedOrigins: ['https://a.example'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 60 }),
      h: { origin: 'https://a.example', acrm: 'PUT', acrh: 'content-type' },
      headers: [
        ['Access-Control-Allow-Origin', 'https://a.example'],
        ['Access-Control-Allow-Credentials', 'true'],
        ['Access-Control-Allow-Methods', 'GET, PUT'],
        ['Access-Control-Allow-Headers', 'content-type'],
        ['Access-Control-Expose-Headers', 'ETag'],
        ['Access-Control-Max-Age', '60'],
        VARY,
      ],
    },
    // CONSENSUS [S2][S12]: an empty ACRH is as if absent
    {
      title: 'an empty ACRH is treated as absent',
      config: cfg({ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }),
      h: { origin: 'https://a.example', acrm: 'GET', acrh: '' },
      headers: [['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Methods', 'GET'], VARY],
    },
    // UNVERIFIED choice (match.ts): duplicates are echoed
    {
      title: 'a repeated requested header is echoed twice',
      config: cfg({ AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: ['*'] }),
      h: { origin: 'https://a.example', acrm: 'GET', acrh: 'x-a,X-A' },
      headers: [['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Methods', 'GET'], ['Access-Control-Allow-Headers', 'x-a, x-a'], VARY],
    },
    // UNVERIFIED choice (decide.ts): MaxAgeSeconds 0 is sent
    {
      title: 'MaxAgeSeconds 0 is sent as Access-Control-Max-Age 0',
      config: cfg({ AllowedOrigins: ['*'], AllowedMethods: ['GET'], MaxAgeSeconds: 0 }),
      h: { origin: 'https://a.example', acrm: 'GET' },
      headers: [['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Methods', 'GET'], ['Access-Control-Max-Age', '0'], VARY],
    },
    // UNVERIFIED suggestion §9: Origin null matched literally
    {
      title: 'Origin null matches an AllowedOrigin of null and is echoed',
      config: cfg({ AllowedOrigins: ['null'], AllowedMethods: ['GET'] }),
      h: { origin: 'null', acrm: 'GET' },
      headers: [['Access-Control-Allow-Origin', 'null'], ['Access-Control-Allow-Credentials', 'true'], ['Access-Control-Allow-Methods', 'GET'], VARY],
    },
    // The seed note's fix, from the website origin, with the Authorization header it allows
    {
      title: "the seed note's fixed configuration allows its website origin with Authorization",
      config: cfg({ AllowedHeaders: ['Authorization'], AllowedMethods: ['GET'], AllowedOrigins: ['http://my-bucket-html.s3-website-eu-west-1.amazonaws.com'], ExposeHeaders: [], MaxAgeSeconds: 3000 }),
      h: { origin: 'http://my-bucket-html.s3-website-eu-west-1.amazonaws.com', acrm: 'GET', acrh: 'authorization' },
      headers: [
        ['Access-Control-Allow-Origin', 'http://my-bucket-html.s3-website-eu-west-1.amazonaws.com'],
        ['Access-Control-Allow-Credentials', 'true'],
        ['Access-Control-Allow-Methods', 'GET'],
        ['Access-Control-Allow-Headers', 'authorization'],
        ['Access-Control-Max-Age', '3000'],
        VARY,
      ],
    },
  ];
  for (const row of rows) {
    test(row.title, () => {
      const d = preflight(row.config, row.h);
      expect(d).toMatchObject({ kind: 'allowed', status: 200, rule: { index: row.rule ?? 0 } });
      if (d.kind === 'allowed') expect(d.headers).toEqual(row.headers);
    });
  }

  test('a non-existent key does not matter to a preflight', () => {
    // [S10][S11][S13] object existence is not checked; the engine is never told.
    const a = preflight(STAR_4200, { origin: 'https://a.example', acrm: 'GET' }, { key: 'no/such/key' });
    expect(a.kind).toBe('allowed');
  });
});

// ---- Rule order: first match, fall-through, * vs echo -----------------------------------------

test.describe('first matching rule in document order', () => {
  const specific: CorsRule = { ID: 'specific', AllowedOrigins: ['https://app.example'], AllowedMethods: ['GET'] };
  const star: CorsRule = { ID: 'star', AllowedOrigins: ['*'], AllowedMethods: ['GET'] };

  test('a specific rule before a * rule echoes its origin with credentials', () => {
    // [S11 corsPreflight.js "access-control-allow-origin header value"]
    const d = preflight(cfg(specific, star), { origin: 'https://app.example', acrm: 'GET' });
    expect(d).toMatchObject({ kind: 'allowed', rule: { index: 0, id: 'specific' } });
    if (d.kind === 'allowed') expect(d.headers.slice(0, 2)).toEqual([['Access-Control-Allow-Origin', 'https://app.example'], ['Access-Control-Allow-Credentials', 'true']]);
  });

  test('another origin falls to the * rule and gets *', () => {
    const d = preflight(cfg(specific, star), { origin: 'https://else.example', acrm: 'GET' });
    expect(d).toMatchObject({ kind: 'allowed', rule: { index: 1, id: 'star' } });
    if (d.kind === 'allowed') expect(d.headers[0]).toEqual(['Access-Control-Allow-Origin', '*']);
  });

  test('a * rule before a specific rule answers * even to the specific origin', () => {
    const d = preflight(cfg(star, specific), { origin: 'https://app.example', acrm: 'GET' });
    expect(d).toMatchObject({ kind: 'allowed', rule: { index: 0, id: 'star' } });
    if (d.kind === 'allowed') {
      expect(d.headers[0]).toEqual(['Access-Control-Allow-Origin', '*']);
      expect(d.headers.map(([n]) => n)).not.toContain('Access-Control-Allow-Credentials');
    }
  });

  test('a rule listing * and a specific origin answers * to that origin without credentials', () => {
    // CONSENSUS [S2][S12]; UNVERIFIED on AWS
    const d = preflight(cfg({ AllowedOrigins: ['https://app.example', '*'], AllowedMethods: ['GET'] }), { origin: 'https://app.example', acrm: 'GET' });
    if (d.kind !== 'allowed') throw new Error(describeDecision(d));
    expect(d.headers).toEqual([['Access-Control-Allow-Origin', '*'], ['Access-Control-Allow-Methods', 'GET'], VARY]);
  });

  test('a rule failing only on headers falls through to the next rule', () => {
    // [S3][S6][S11 "Access-Control-Allow-Headers header value"]
    const config = cfg(
      { ID: 'narrow', AllowedOrigins: ['https://app.example'], AllowedMethods: ['PUT'], AllowedHeaders: ['content-type'] },
      { ID: 'wide', AllowedOrigins: ['https://app.example'], AllowedMethods: ['PUT', 'POST'], AllowedHeaders: ['*'], MaxAgeSeconds: 5 },
    );
    const d = preflight(config, { origin: 'https://app.example', acrm: 'PUT', acrh: 'content-type,x-custom' });
    expect(d).toMatchObject({ kind: 'allowed', rule: { index: 1, id: 'wide' } });
    if (d.kind !== 'allowed') return;
    expect(d.headers).toEqual([
      ['Access-Control-Allow-Origin', 'https://app.example'],
      ['Access-Control-Allow-Credentials', 'true'],
      ['Access-Control-Allow-Methods', 'PUT, POST'],
      ['Access-Control-Allow-Headers', 'content-type, x-custom'],
      ['Access-Control-Max-Age', '5'],
      VARY,
    ]);
    expect(d.evaluations).toEqual([
      { rule: { index: 0, id: 'narrow' }, origin: true, method: true, headers: false, rejectedHeaders: ['x-custom'] },
      { rule: { index: 1, id: 'wide' }, origin: true, method: true, headers: true, rejectedHeaders: [] },
    ]);
    expect(describeDecision(d)).toBe('Preflight allowed (200): rule #1 (ID wide) matched, after rule #0 (ID narrow) origin ✓ method ✓ headers ✗ (x-custom not allowed).');
  });

  test('the first of two matching rules wins', () => {
    const config = cfg({ AllowedOrigins: ['*'], AllowedMethods: ['GET'], MaxAgeSeconds: 1 }, { AllowedOrigins: ['*'], AllowedMethods: ['GET'], MaxAgeSeconds: 2 });
    const d = preflight(config, { origin: 'https://a.example', acrm: 'GET' });
    expect(d).toMatchObject({ kind: 'allowed', rule: { index: 0 } });
    if (d.kind === 'allowed') expect(d.headers).toContainEqual(['Access-Control-Max-Age', '1']);
    expect(describeDecision(d)).toBe('Preflight allowed (200): rule #0 matched.');
  });
});

// ---- Origin and header globs (§1.5) -------------------------------------------------------------

test.describe('wildcard matching', () => {
  type Row = { pattern: string; value: string; match: boolean };
  // [S10 AWS-OBS test_cors_origin_wildcard & friends; S11 AWS-targeted]
  const origins: Row[] = [
    { pattern: 'start*end', value: 'startend', match: true },
    { pattern: 'start*end', value: 'start1end', match: true },
    { pattern: 'start*end', value: 'start12end', match: true },
    { pattern: 'start*end', value: '0start12end', match: false },
    { pattern: 'prefix*', value: 'prefix', match: true },
    { pattern: 'prefix*', value: 'prefix.suffix', match: true },
    { pattern: 'prefix*', value: 'bla.prefix', match: false },
    { pattern: '*suffix', value: 'foo.suffix', match: true },
    { pattern: '*suffix', value: 'foo.suffix.get', match: false },
    { pattern: '*.allowedorigin.com', value: '.allowedorigin.com', match: true },
    { pattern: 'http://*.allowedorigin.com', value: 'http://test.allowedorigin.com', match: true },
    { pattern: 'http://*.allowedorigin.com', value: 'http://.allowedorigin.comtest', match: false },
    { pattern: 'http://www.allowedorigin.*', value: 'http://www.allowedorigin.test', match: true },
    { pattern: 'http://www.allowedorigin.*', value: 'testhttp://www.allowedorigin.', match: false },
    // INFERRED §1.5: * spans dots
    { pattern: 'http://*.example.com', value: 'http://a.b.example.com', match: true },
    // [S1 AWS-REC] non-URL origins match *
    { pattern: '*', value: 'whatever', match: true },
    { pattern: '*', value: 'localhost:4566', match: true },
  ];
  for (const row of origins) {
    test(`AllowedOrigin ${row.pattern} ${row.match ? 'matches' : 'does not match'} Origin ${row.value}`, () => {
      const d = preflight(cfg({ AllowedOrigins: [row.pattern], AllowedMethods: ['GET'] }), { origin: row.value, acrm: 'GET' });
      expect(d.kind).toBe(row.match ? 'allowed' : 'refused');
    });
  }

  // [S4][S11 AWS-targeted]
  const headers: Row[] = [
    { pattern: 'x-amz-*', value: 'x-amz-date', match: true },
    { pattern: 'x-amz-*', value: 'X-Amz-Content-Sha256', match: true },
    { pattern: 'x-amz-*', value: 'x-amz-', match: true },
    { pattern: 'x-amz-*', value: 'content-type', match: false },
    { pattern: 'x-amz-*', value: 'x-amzdate', match: false },
    { pattern: 'amz-*', value: 'amz-meta-header-test', match: true },
    { pattern: 'amz-*', value: 'x-amz-meta', match: false },
    { pattern: '*-id', value: 'x-request-id', match: true },
    { pattern: '*', value: 'anything-at-all', match: true },
  ];
  for (const row of headers) {
    test(`AllowedHeader ${row.pattern} ${row.match ? 'allows' : 'does not allow'} requested header ${row.value}`, () => {
      const d = preflight(cfg({ AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: [row.pattern] }), { origin: 'https://a.example', acrm: 'GET', acrh: row.value });
      expect(d.kind).toBe(row.match ? 'allowed' : 'refused');
    });
  }

  test('a configuration with two wildcards in one pattern is still matched anchored at both ends', () => {
    // Never stored by S3 (validation refuses it), but the engine must not misbehave on unvalidated input.
    const config = cfg({ AllowedOrigins: ['https://*.cdn.*.example'], AllowedMethods: ['GET'] });
    expect(preflight(config, { origin: 'https://a.cdn.eu.example', acrm: 'GET' }).kind).toBe('allowed');
    expect(preflight(config, { origin: 'https://a.cdn.example', acrm: 'GET' }).kind).toBe('refused');
  });
});

// ---- Explanations -----------------------------------------------------------------------------

test.describe('describeDecision for preflights', () => {
  const rows: Array<{ title: string; d: () => PreflightDecision; text: string }> = [
    { title: 'a missing Origin is explained', d: () => preflight(STAR_4200, { acrm: 'GET' }), text: 'Preflight refused (400 BadRequest): the request has no Origin header.' },
    { title: 'a missing bucket is explained', d: () => preflight(STAR_4200, { origin: 'x' }, { bucketExists: false }), text: 'Preflight refused (403 AccessForbidden): the bucket does not exist.' },
    { title: 'a missing configuration is explained', d: () => preflight(undefined, { origin: 'x', acrm: 'GET' }), text: 'Preflight refused (403 AccessForbidden): the bucket has no CORS configuration.' },
    { title: 'a missing ACRM is explained', d: () => preflight(STAR_4200, { origin: 'x' }), text: 'Preflight refused (400 BadRequest): the request has no Access-Control-Request-Method header.' },
    { title: 'an invalid ACRM is explained', d: () => preflight(STAR_4200, { origin: 'x', acrm: 'PATCH' }), text: 'Preflight refused (400 BadRequest): Access-Control-Request-Method "PATCH" is not one of GET, PUT, POST, DELETE, HEAD.' },
  ];
  for (const row of rows) test(row.title, () => expect(describeDecision(row.d())).toBe(row.text));
});
