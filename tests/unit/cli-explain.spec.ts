/**
 * `corsproof explain`, in-process: the preflight decision, the matching rule or the per-rule
 * ✓/✗, S3's exact answers, and the verdict and message per engine — on the S3 CORS note's
 * configurations and on broken ones.
 */
import { readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { explain, explainRequest, type Explanation, type ExplainRequest } from '../../cli/explain.js';
import { parseCorsConfiguration, type CorsConfiguration } from '../../servers/s3/cors/index.js';
import { predict } from '../../harness/oracle.js';
import { classify } from '../../harness/reasons.js';
import { ENGINE_NAMES } from '../../engines/types.js';
import { NOTE_ORIGIN, memoryIo, sample } from './cli-samples/memory-io.js';

function config(file: string): CorsConfiguration {
  const p = parseCorsConfiguration(readFileSync(sample(file)));
  if (!p.ok) throw new Error(`${file}: ${p.error.message}`);
  return p.config;
}

const request = (r: Partial<ExplainRequest>): ExplainRequest => ({
  origin: NOTE_ORIGIN,
  method: 'GET',
  headers: {},
  credentials: false,
  key: 'extra-page.html',
  url: 'https://my-bucket-assets.s3.amazonaws.com/extra-page.html',
  ...r,
});

async function run(argv: string[], stdin = '') {
  const io = memoryIo(stdin);
  const code = await explain(argv, io);
  return { code, out: io.out(), err: io.err() };
}

const verdicts = (x: Explanation) => Object.fromEntries(ENGINE_NAMES.map((e) => [e, x.engines[e].verdict === 'blocked' ? x.engines[e].reason : x.engines[e].verdict]));

test.describe('the note’s hands-on configuration, from the website origin', () => {
  const hands = config('note-hands-on.json');

  test('GET: no preflight, rule #0 matches, S3’s exact headers, allowed everywhere', () => {
    const x = explainRequest(hands, request({}));
    expect(x.preflight.needed).toBe(false);
    expect(x.preflight.why).toBe('GET is a CORS-safelisted method and every request header is safelisted');
    expect(x.rule).toEqual({ index: 0 });
    expect(x.actual).toMatchObject({ sent: true, reason: 'matched', rule: { index: 0 } });
    expect(x.actual.headers).toEqual([
      ['Access-Control-Allow-Origin', NOTE_ORIGIN],
      ['Access-Control-Allow-Credentials', 'true'],
      ['Access-Control-Allow-Methods', 'GET'],
      ['Access-Control-Max-Age', '3000'],
      ['Vary', 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method'],
    ]);
    expect(verdicts(x)).toEqual({ chromium: 'allowed', firefox: 'allowed', webkit: 'allowed' });
  });

  test('GET with x-custom: preflighted, refused 403 (headers ✗), WebKit words it as the 403', () => {
    const x = explainRequest(hands, request({ headers: { 'x-custom': '1' } }));
    expect(x.preflight).toMatchObject({
      needed: true,
      why: 'x-custom is not a CORS-safelisted request header',
      request: [['Origin', NOTE_ORIGIN], ['Access-Control-Request-Method', 'GET'], ['Access-Control-Request-Headers', 'x-custom']],
      response: { status: 403, code: 'AccessForbidden', method: 'GET', resourceType: 'OBJECT', reason: 'no-match', headers: [] },
    });
    expect(x.preflight.response!.message).toMatch(/^CORSResponse: This CORS request is not allowed\. This is usually because the evalution of Origin/);
    expect(x.preflight.response!.evaluations).toEqual([{ rule: { index: 0 }, origin: true, method: true, headers: false, rejectedHeaders: ['x-custom'] }]);
    expect(x.rule).toBeNull();
    expect(x.actual.sent).toBe(false);
    expect(x.prediction).toMatchObject({ verdict: 'blocked', reason: 'missing-allow-origin', at: 'preflight' });
    expect(verdicts(x)).toEqual({ chromium: 'missing-allow-origin', firefox: 'missing-allow-origin', webkit: 'preflight-status' });
    expect(x.engines.webkit.message).toBe('Preflight response is not successful. Status code: 403');
    expect(x.engines.webkit.note).toContain('WebKitGTK 2.50.6');
    expect(x.engines.firefox.message).toContain('Status code: 403.');
    expect(x.engines.chromium.message).toContain("Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header");
    // What explain prints is what the harness would classify as that engine's reason.
    for (const e of ENGINE_NAMES) {
      expect(classify(e, [{ stream: 'console', type: 'error', text: x.engines[e].message! }])!.reasons).toContain(x.engines[e].reason);
    }
  });

  test('GET with Authorization (the header the rule allows): preflight 200 with the echoed header', () => {
    const x = explainRequest(hands, request({ headers: { Authorization: 'Bearer t' } }));
    expect(x.preflight.response).toMatchObject({ status: 200, rule: { index: 0 } });
    expect(x.preflight.response!.headers).toContainEqual(['Access-Control-Allow-Headers', 'authorization']);
    expect(x.rule).toEqual({ index: 0 });
    expect(x.prediction.verdict).toBe('allowed');
  });

  test('from the https origin (wrong scheme): no rule matches the actual GET, blocked at the response', () => {
    const x = explainRequest(hands, request({ origin: NOTE_ORIGIN.replace('http:', 'https:') }));
    expect(x.actual).toMatchObject({ sent: true, reason: 'no-match', headers: [] });
    expect(x.actual.evaluations).toEqual([{ rule: { index: 0 }, origin: false, method: true, headers: true, rejectedHeaders: [] }]);
    expect(verdicts(x)).toEqual({ chromium: 'missing-allow-origin', firefox: 'missing-allow-origin', webkit: 'missing-allow-origin' });
    expect(x.engines.chromium.message).not.toContain('preflight');
    expect(x.engines.firefox.message).toContain('Status code: 200.');
  });

  test('the verdict is the matrix oracle’s, on the same one-step scenario', () => {
    const x = explainRequest(hands, request({ method: 'PUT', headers: { 'Content-Type': 'application/json' } }));
    const p = predict(hands, {
      id: 'explain', description: '', object: { key: 'extra-page.html', contentType: 'text/plain', body: '' },
      preflight: { method: 'PUT', headers: 'content-type' },
      steps: [{ kind: 'fetch', method: 'PUT', headers: { 'Content-Type': 'application/json' } }],
    }, NOTE_ORIGIN);
    const { reasonText: _text, ...prediction } = x.prediction;
    expect(prediction).toEqual(p);
    expect(x.preflight.response!.evaluations[0]).toMatchObject({ method: false, headers: false, rejectedHeaders: ['content-type'] });
  });
});

test.describe('other configurations', () => {
  test('"allow all origins" with credentials: S3 answers *, every engine refuses the wildcard', () => {
    const x = explainRequest(config('note-allow-all.json'), request({ credentials: true }));
    expect(x.actual.headers[0]).toEqual(['Access-Control-Allow-Origin', '*']);
    expect(x.prediction).toMatchObject({ verdict: 'blocked', reason: 'wildcard-with-credentials', at: 'response' });
    expect(x.engines.webkit.message).toBe('Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true.');
    expect(x.engines.firefox.message).toContain('‘https://my-bucket-assets.s3.amazonaws.com/extra-page.html’');
  });

  test('the trailing-slash configuration: origin ✗ — no rule ever matches a browser', () => {
    const x = explainRequest(config('note-trailing-slash.json'), request({}));
    expect(x.actual.evaluations[0]).toMatchObject({ origin: false, method: true });
    expect(x.prediction).toMatchObject({ verdict: 'blocked', reason: 'missing-allow-origin' });
  });

  test('a shadowed rule: the earlier rule answers, and later ones are not examined', () => {
    const x = explainRequest(config('shadowed.json'), request({ origin: 'https://app.example.com', headers: { 'x-amz-date': '20260210T000000Z' } }));
    expect(x.rule).toEqual({ index: 0, id: 'everyone-reads' });
    expect(x.preflight.response!.evaluations).toHaveLength(1);
  });

  test('a PUT without AllowedHeaders in the rule: the JSON PUT’s content-type is refused', () => {
    const x = explainRequest(config('upload-pitfalls.json'), request({ origin: 'https://app.example.com', method: 'PUT', headers: { 'content-type': 'application/json' } }));
    expect(x.preflight.response!.evaluations.map((e) => [e.rule.id, e.origin, e.method, e.headers])).toEqual([
      ['uploads', true, true, false],
      ['public', true, false, true],
    ]);
    expect(x.prediction.verdict).toBe('blocked');
  });

  test('a POST of text/plain is not preflighted, a PATCH is and S3 refuses its method with 400', () => {
    const all = { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'POST', 'PUT'], AllowedHeaders: ['*'] }] };
    expect(explainRequest(all, request({ method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' } })).preflight.needed).toBe(false);
    const patch = explainRequest(all, request({ method: 'PATCH' }));
    expect(patch.preflight.response).toMatchObject({ status: 400, code: 'BadRequest', message: 'Invalid Access-Control-Request-Method: PATCH' });
  });
});

test('same origin (the page on the bucket’s own endpoint): no preflight, CORS does not apply', () => {
  const none = { CORSRules: [{ AllowedOrigins: ['https://elsewhere.example.com'], AllowedMethods: ['GET'] }] };
  const x = explainRequest(none, request({ origin: 'https://my-bucket-assets.s3.amazonaws.com', method: 'PUT', headers: { 'x-custom': '1' } }));
  expect(x.preflight).toMatchObject({ needed: false, why: expect.stringContaining('same origin') });
  expect(verdicts(x)).toEqual({ chromium: 'allowed', firefox: 'allowed', webkit: 'allowed' });
});

test.describe('command line', () => {
  test('text output: the note’s hands-on configuration with x-custom', async () => {
    const r = await run([sample('note-hands-on.json'), '--origin', NOTE_ORIGIN, '--method', 'GET', '--header', 'x-custom']);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toContain('Preflight: yes — x-custom is not a CORS-safelisted request header.');
    expect(r.out).toContain('  rule #0     origin ✓  method ✓  headers ✗ (x-custom not allowed)\n  → no rule matches.');
    expect(r.out).toContain('S3 answers the preflight: 403 Forbidden, no Access-Control-* headers:\n  <Code>AccessForbidden</Code>');
    expect(r.out).toContain('Actual request: not sent — the browser stops at the failed preflight.');
    expect(r.out).toMatch(/ {2}webkit {4}blocked — preflight answered with a non-2xx status\n {6}Preflight response is not successful\. Status code: 403/);
  });

  test('json output, an XML document on stdin, --key and --endpoint', async () => {
    const xml = readFileSync(sample('note-hands-on.xml'), 'utf8');
    const r = await run(['-', '--origin', NOTE_ORIGIN, '--method', 'get', '--key', 'img/a b.png', '--endpoint', 'https://my-bucket-assets.s3.eu-west-1.amazonaws.com', '--format', 'json'], xml);
    expect(r.code).toBe(0);
    const x = JSON.parse(r.out) as Explanation;
    expect(x.request).toMatchObject({ method: 'GET', key: 'img/a b.png', url: 'https://my-bucket-assets.s3.eu-west-1.amazonaws.com/img/a%20b.png' });
    expect(x.rule).toEqual({ index: 0 });
    expect(Object.keys(x.engines)).toEqual(['chromium', 'firefox', 'webkit']);
  });

  test('--help prints the usage with the note’s example', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`corsproof explain cors.json --origin ${NOTE_ORIGIN} --method GET`);
  });

  test('a document S3 would refuse: exit 1, one sentence on stderr', async () => {
    const r = await run([sample('bad-method.json'), '--origin', NOTE_ORIGIN, '--method', 'GET']);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      `${sample('bad-method.json')} is not a configuration S3 accepts: InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is PATCH (rule #1, ID patches). Run corsproof lint for details.\n`,
    );
  });

  const usage: Array<[string, string[], RegExp]> = [
    ['no --origin', ['x.json', '--method', 'GET'], /^corsproof explain needs --origin/],
    ['no --method', ['x.json', '--origin', NOTE_ORIGIN], /^corsproof explain needs --method/],
    ['an origin with a trailing slash', ['x.json', '--origin', `${NOTE_ORIGIN}/`, '--method', 'GET'], new RegExp(`did you mean ${NOTE_ORIGIN.replace(/\./g, '\\.')}\\?\\n$`)],
    ['an origin with a default port', ['x.json', '--origin', 'https://a.example.com:443', '--method', 'GET'], /did you mean https:\/\/a\.example\.com\?/],
    ['an origin without a scheme', ['x.json', '--origin', 'a.example.com', '--method', 'GET'], /is not an origin as a browser sends it/],
    ['a forbidden header', ['x.json', '--origin', NOTE_ORIGIN, '--method', 'GET', '--header', 'Origin: x'], /forbidden request header/],
    ['a forbidden method', ['x.json', '--origin', NOTE_ORIGIN, '--method', 'TRACE'], /forbidden method/],
    ['an unknown flag', ['x.json', '--origin', NOTE_ORIGIN, '--method', 'GET', '--credential'], /^Unknown option --credential for corsproof explain/],
    ['--origin without a value', ['x.json', '--method', 'GET', '--origin'], /^--origin needs a value/],
    ['a missing file', ['nope.json', '--origin', NOTE_ORIGIN, '--method', 'GET'], /^Cannot read nope\.json: no such file\.\n$/],
  ];
  for (const [what, argv, message] of usage) {
    test(`should exit 2 with one sentence on stderr for ${what}`, async () => {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    });
  }
});

test('same origin GET: the browser sends no Origin, so S3 evaluates no rule and adds no CORS headers', async () => {
  const x = explainRequest(config('note-allow-all.json'), request({ origin: 'https://my-bucket-assets.s3.amazonaws.com' }));
  expect(x.actual).toMatchObject({ sent: true, origin: false, reason: 'no-origin', headers: [] });
  expect(verdicts(x)).toEqual({ chromium: 'allowed', firefox: 'allowed', webkit: 'allowed' });
  const r = await run([sample('note-allow-all.json'), '--origin', 'https://bucket.s3.amazonaws.com', '--method', 'GET']);
  expect(r.out).toContain('Actual request: GET /index.html without Origin (a same-origin GET or HEAD carries none)\nS3 evaluates no rule');
  expect(r.out).toContain('Verdict: allowed in every engine — same origin: CORS does not apply.');
});

test('a method Fetch does not normalise is sent as written (and needs a preflight that S3 refuses)', () => {
  const all = { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET', 'PUT'] }] };
  const x = explainRequest(all, request({ method: 'patch' }));
  expect(x.preflight).toMatchObject({ needed: true, why: 'patch is not a CORS-safelisted method (GET, HEAD, POST)' });
  expect(x.preflight.request).toContainEqual(['Access-Control-Request-Method', 'patch']);
  expect(x.prediction).toMatchObject({ verdict: 'blocked', at: 'preflight' });
});
