/**
 * `corsproof lint`, in-process: S3's validation errors (one test per error class), every warning
 * id on a configuration where it is true and on one where it is not, the S3 CORS note's three
 * configurations, output formats and exit statuses.
 */
import { readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { lint, lintText, type LintReport } from '../../cli/lint.js';
import type { WarningId } from '../../cli/lint-rules.js';
import { memoryIo, sample } from './cli-samples/memory-io.js';

const ids = (r: LintReport): WarningId[] => r.warnings.map((w) => w.id);
const rules = (...rs: object[]): string => JSON.stringify(rs);
const lintRules = (...rs: object[]): LintReport => lintText(rules(...rs));
const base = { AllowedOrigins: ['https://app.example.com'], AllowedMethods: ['GET'] };

async function run(argv: string[], stdin = '') {
  const io = memoryIo(stdin);
  const code = await lint(argv, io);
  return { code, out: io.out(), err: io.err() };
}

test.describe('the S3 CORS note’s configurations', () => {
  test('should lint "allow a specific origin" clean', async () => {
    const r = await run([sample('note-specific-origin.json')]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('S3 accepts it; no warnings.');
    expect(r.err).toBe('');
  });

  test('should lint "allow all origins" clean: a * rule for public GETs is what * is for', async () => {
    const r = await run([sample('note-allow-all.json'), '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ valid: true, shape: 'console-json', errors: [], warnings: [] });
  });

  test('should warn on the hands-on configuration only that WebKit caps MaxAgeSeconds 3000', async () => {
    for (const file of ['note-hands-on.json', 'note-hands-on.xml']) {
      const r = lintText(readFileSync(sample(file)));
      expect(r.valid).toBe(true);
      expect(ids(r)).toEqual(['max-age-capped']);
      expect(r.warnings[0]!.message).toBe('MaxAgeSeconds 3000 is more than WebKit (600 s) honours');
      expect(r.warnings[0]!.why).toContain('WebKit after 600 s, Chromium after 3000 s and Firefox after 3000 s');
    }
  });

  test('should catch the note’s trailing-slash warning and give the fixed origin', async () => {
    const r = await run([sample('note-trailing-slash.json'), '--format', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as LintReport;
    expect(out.warnings[0]).toEqual({
      id: 'origin-trailing-slash',
      ruleIndex: 0,
      message: 'AllowedOrigin "http://my-bucket-html.s3-website-eu-west-1.amazonaws.com/" ends with "/"',
      why: expect.stringContaining('No Trailing Slash!'),
      fix: 'write "http://my-bucket-html.s3-website-eu-west-1.amazonaws.com"',
    });
  });
});

test.describe('S3 validation errors', () => {
  test('should report an unsupported method with S3’s code, message and rule, then the other invalid rules', async () => {
    const r = await run([sample('bad-method.json'), '--format', 'json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.out) as LintReport;
    expect(out.valid).toBe(false);
    expect(out.shape).toBe('console-json');
    expect(out.errors).toEqual([
      {
        status: 400,
        code: 'InvalidRequest',
        message: 'Found unsupported HTTP method in CORS config. Unsupported method is PATCH',
        ruleIndex: 1,
        ruleId: 'patches',
        reportedByS3: true,
      },
      {
        status: 400,
        code: 'InvalidRequest',
        message: 'AllowedOrigin "https://*.example.*" can not have more than one wildcard.',
        ruleIndex: 2,
        reportedByS3: false,
      },
    ]);
    expect(out.warnings).toEqual([]);
  });

  test('should report two wildcards in an AllowedOrigin of an XML document', async () => {
    const r = await run([sample('two-wildcards.xml')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('PutBucketCors XML — S3 would refuse it (PutBucketCors answers 400 InvalidRequest).');
    expect(r.out).toContain('✗ rule #0 (ID sites): InvalidRequest: AllowedOrigin "http://*.example.*" can not have more than one wildcard.');
  });

  test('should report two wildcards in an AllowedHeader', () => {
    const r = lintText(readFileSync(sample('header-wildcards.json')));
    expect(r.errors[0]).toMatchObject({ code: 'InvalidRequest', message: 'AllowedHeader "x-*-*" can not have more than one wildcard.', ruleIndex: 0 });
  });

  test('should report a wildcard in an ExposeHeader (CLI JSON)', () => {
    const r = lintText(readFileSync(sample('expose-wildcard.json')));
    expect(r.shape).toBe('cli-json');
    expect(r.errors[0]).toMatchObject({
      code: 'InvalidRequest',
      message: 'ExposeHeader "x-amz-meta-*" contains wildcard. We currently do not support wildcard for ExposeHeader.',
    });
  });

  test('should report a rule without AllowedMethods as MalformedXML, with the detail S3 does not give', async () => {
    const r = await run([sample('missing-methods.json')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      '✗ rule #0: MalformedXML: The XML you provided was not well-formed or did not validate against our published schema\n    rule #0: AllowedMethods is required (at least one entry)',
    );
  });

  test('should report an empty rule list as MalformedXML of the document', () => {
    const r = lintText('{"CORSRules": []}');
    expect(r.errors).toEqual([
      expect.objectContaining({ code: 'MalformedXML', detail: 'CORSRules is empty: at least one rule is required', reportedByS3: true }),
    ]);
    expect(r.errors[0]!.ruleIndex).toBeUndefined();
  });

  test('should report JSON that does not parse with its position', async () => {
    const r = await run([sample('not-json.json')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("MalformedJSON: Invalid JSON: Expecting ',' delimiter: line 5 column 5 (char 69)");
    expect(r.out).toContain('not valid JSON');
  });

  test('should report XML that is not well-formed', () => {
    const r = lintText('<CORSConfiguration><CORSRule></CORSConfiguration>');
    expect(r.shape).toBe('xml');
    expect(r.errors[0]).toMatchObject({ code: 'MalformedXML', detail: expect.stringContaining('XML is not well-formed') });
  });

  test('should report more than 100 rules', () => {
    const r = lintText(rules(...Array.from({ length: 101 }, () => base)));
    expect(r.errors[0]).toMatchObject({ code: 'InvalidRequest', message: 'The number of CORS rules should not exceed allowed limit of 100 rules.' });
  });

  test('should report an over-long ID, a negative MaxAgeSeconds and an unknown key', () => {
    expect(lintRules({ ...base, ID: 'x'.repeat(256) }).errors[0]).toMatchObject({ code: 'InvalidArgument', ruleIndex: 0 });
    expect(lintRules({ ...base, MaxAgeSeconds: -1 }).errors[0]).toMatchObject({ code: 'MalformedXML', detail: 'rule #0: MaxAgeSeconds -1 is negative' });
    expect(lintRules({ ...base, ExposedHeaders: ['ETag'] }).errors[0]).toMatchObject({
      code: 'MalformedXML',
      detail: expect.stringContaining('did you mean "ExposeHeaders"?'),
    });
  });

  test('should report a document over 64 KB', () => {
    const big = `<CORSConfiguration><CORSRule><AllowedOrigin>${'a'.repeat(70_000)}</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>`;
    expect(lintText(big).errors[0]).toMatchObject({ code: 'MaxMessageLengthExceeded' });
  });
});

test.describe('warnings', () => {
  test('origin-trailing-slash and origin-path: never match; a wildcard before the path does not save them', () => {
    const r = lintRules({ ...base, AllowedOrigins: ['https://*.example.com/', 'https://www.example.com/app/index.html', 'https://example.com?x', 'https://example.com'] });
    expect(r.warnings.map((w) => [w.id, w.fix])).toEqual([
      ['origin-trailing-slash', 'write "https://*.example.com"'],
      ['origin-path', 'write "https://www.example.com"'],
      ['origin-path', 'write "https://example.com"'],
    ]);
  });

  test('origin-no-scheme: a bare host or "" never matches; a leading * or an "http*" head can', () => {
    const r = lintText(readFileSync(sample('origin-pitfalls.json')));
    expect(r.warnings.filter((w) => w.id === 'origin-no-scheme').map((w) => w.message)).toEqual([
      'AllowedOrigin "my-bucket-html.s3-website-eu-west-1.amazonaws.com" has no scheme',
    ]);
    expect(ids(lintRules({ ...base, AllowedOrigins: ['', 'localhost:3000', 'www.*.com'] }))).toEqual(['origin-no-scheme', 'origin-no-scheme', 'origin-no-scheme']);
    expect(ids(lintRules({ ...base, AllowedOrigins: ['*.example.com', 'http*', 'https://*', 'null'] }))).toEqual([]);
  });

  test('origin-uppercase: scheme or host in upper case; the fix lowercases only those', () => {
    const r = lintRules({ ...base, AllowedOrigins: ['HTTPS://App.Example.com:8443', 'https://app.example.com:8443'] });
    expect(r.warnings.map((w) => [w.id, w.fix])).toEqual([['origin-uppercase', 'write "https://app.example.com:8443"']]);
  });

  test('origin-default-port: :443 on https and :80 on http, not the other way round, not :8443', () => {
    const r = lintRules({
      ...base,
      AllowedOrigins: ['https://a.example.com:443', 'http://*.example.com:80', 'http://b.example.com:443', 'https://c.example.com:80', 'https://d.example.com:8443'],
    });
    expect(r.warnings.map((w) => [w.id, w.fix])).toEqual([
      ['origin-default-port', 'write "https://a.example.com"'],
      ['origin-default-port', 'write "http://*.example.com"'],
    ]);
  });

  test('wildcard-origin-credentials: * mixed with specific origins, or * with Authorization; not * alone', () => {
    const mixed = lintRules({ ...base, AllowedOrigins: ['*', 'https://app.example.com'] });
    expect(ids(mixed)).toEqual(['wildcard-origin-credentials']);
    expect(mixed.warnings[0]!.message).toBe('rule lists "*" together with specific origins ("https://app.example.com")');
    const auth = lintRules({ ...base, AllowedOrigins: ['*'], AllowedHeaders: ['authorization'] });
    expect(ids(auth)).toEqual(['wildcard-origin-credentials']);
    expect(auth.warnings[0]!.message).toContain('Authorization');
    expect(ids(lintRules({ ...base, AllowedOrigins: ['*'], AllowedHeaders: ['*'] }))).toEqual([]);
    expect(ids(lintRules({ ...base, AllowedHeaders: ['Authorization'] }))).toEqual([]);
  });

  test('missing-allowed-headers: PUT/POST/DELETE without AllowedHeaders (or with an empty list); not GET/HEAD', () => {
    expect(ids(lintRules({ ...base, AllowedMethods: ['DELETE'] }))).toEqual(['missing-allowed-headers']);
    expect(ids(lintRules({ ...base, AllowedMethods: ['DELETE'], AllowedHeaders: [] }))).toEqual(['missing-allowed-headers']);
    expect(ids(lintRules({ ...base, AllowedMethods: ['DELETE'], AllowedHeaders: ['content-type'] }))).toEqual([]);
    expect(ids(lintRules({ ...base, AllowedMethods: ['GET', 'HEAD'] }))).toEqual([]);
  });

  test('etag-not-exposed: PUT or POST without ETag in ExposeHeaders; ETag in any case is enough', () => {
    const r = lintRules({ ...base, AllowedMethods: ['PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['x-amz-request-id'] });
    expect(ids(r)).toEqual(['etag-not-exposed']);
    expect(r.warnings[0]!.fix).toBe('add "ETag" to ExposeHeaders (e.g. "ExposeHeaders": ["x-amz-request-id", "ETag"])');
    expect(ids(lintRules({ ...base, AllowedMethods: ['POST'], AllowedHeaders: ['*'], ExposeHeaders: ['etag'] }))).toEqual([]);
    expect(ids(lintRules({ ...base, AllowedMethods: ['DELETE'], AllowedHeaders: ['*'] }))).toEqual([]);
  });

  test('max-age-capped: names exactly the engines whose cap is exceeded', () => {
    const msg = (n: number) => lintRules({ ...base, MaxAgeSeconds: n }).warnings.map((w) => w.message);
    expect(msg(600)).toEqual([]);
    expect(msg(601)).toEqual(['MaxAgeSeconds 601 is more than WebKit (600 s) honours']);
    expect(msg(7201)).toEqual(['MaxAgeSeconds 7201 is more than WebKit (600 s) and Chromium (7200 s) honour']);
    expect(msg(86401)).toEqual(['MaxAgeSeconds 86401 is more than WebKit (600 s), Chromium (7200 s) and Firefox (86400 s) honour']);
  });

  test('duplicate-rule and shadowed-rule on a realistic configuration', () => {
    const r = lintText(readFileSync(sample('shadowed.json')));
    expect(r.warnings.map((w) => [w.id, w.ruleIndex, w.ruleId, w.message])).toEqual([
      ['shadowed-rule', 1, 'app-reads', 'rule can never match: every request it allows is matched first by rule #0 (ID everyone-reads)'],
      ['duplicate-rule', 3, 'everyone-reads-again', 'rule is identical to rule #0 (ID everyone-reads)'],
    ]);
    expect(r.warnings[0]!.why).toContain('its ExposeHeaders never reach a browser');
  });

  test('shadowed-rule: covered per origin pattern by different earlier rules', () => {
    const r = lintRules(
      { AllowedOrigins: ['https://a.example.com'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'] },
      { AllowedOrigins: ['https://*.example.org'], AllowedMethods: ['GET'], AllowedHeaders: ['x-amz-*'] },
      { AllowedOrigins: ['https://a.example.com', 'https://b.example.org'], AllowedMethods: ['GET'], AllowedHeaders: ['X-Amz-Meta-*'] },
    );
    expect(r.warnings.filter((w) => w.id === 'shadowed-rule').map((w) => [w.ruleIndex, w.message])).toEqual([
      [2, 'rule can never match: every request it allows is matched first by rule #0 and rule #1'],
    ]);
  });

  test('shadowed-rule: not when the later rule allows a header, a method or an origin the earlier ones do not', () => {
    const earlier = { AllowedOrigins: ['https://*.example.com'], AllowedMethods: ['GET'], AllowedHeaders: ['x-amz-*'] };
    const shadowed = (later: object) => ids(lintRules(earlier, later)).includes('shadowed-rule');
    expect(shadowed({ AllowedOrigins: ['https://a.example.com'], AllowedMethods: ['GET'], AllowedHeaders: ['x-amz-date'] })).toBe(true);
    expect(shadowed({ AllowedOrigins: ['https://a.example.com'], AllowedMethods: ['GET'] })).toBe(true);
    expect(shadowed({ AllowedOrigins: ['https://a.example.com'], AllowedMethods: ['GET'], AllowedHeaders: ['*'] })).toBe(false);
    expect(shadowed({ AllowedOrigins: ['https://a.example.com'], AllowedMethods: ['GET'], AllowedHeaders: ['x-*'] })).toBe(false);
    expect(shadowed({ AllowedOrigins: ['https://a.example.com'], AllowedMethods: ['GET', 'HEAD'] })).toBe(false);
    expect(shadowed({ AllowedOrigins: ['https://*'], AllowedMethods: ['GET'] })).toBe(false);
    expect(shadowed({ AllowedOrigins: ['https://example.com'], AllowedMethods: ['GET'] })).toBe(false);
    // "https://*.example.com" does not contain "*.example.com" ("http://a.example.com" escapes it).
    expect(shadowed({ AllowedOrigins: ['*.example.com'], AllowedMethods: ['GET'] })).toBe(false);
  });

  test('should attach ruleIndex and ruleId to every warning', () => {
    const r = lintText(readFileSync(sample('upload-pitfalls.json')));
    expect(r.warnings.map((w) => [w.ruleIndex, w.ruleId, w.id])).toEqual([
      [0, 'uploads', 'missing-allowed-headers'],
      [0, 'uploads', 'etag-not-exposed'],
      [0, 'uploads', 'max-age-capped'],
      [1, 'public', 'wildcard-origin-credentials'],
      [1, 'public', 'max-age-capped'],
    ]);
    for (const w of r.warnings) {
      expect(w.message.length).toBeGreaterThan(10);
      expect(w.why.length).toBeGreaterThan(10);
      expect(w.fix.length).toBeGreaterThan(5);
    }
  });
});

test.describe('command line', () => {
  test('should read stdin for "-" and print text with every warning’s why and fix', async () => {
    const r = await run(['-'], rules({ ...base, AllowedOrigins: ['https://app.example.com/'] }));
    expect(r.code).toBe(0);
    expect(r.out).toContain('<stdin>: S3 console JSON, 1 rule — S3 accepts it; 1 warning.');
    expect(r.out).toMatch(/⚠ rule #0 {2}origin-trailing-slash\n {4}AllowedOrigin .*\n {4}why: .*\n {4}fix: write "https:\/\/app\.example\.com"\./);
  });

  test('--strict: warnings fail (exit 1); a clean document still passes', async () => {
    expect((await run([sample('note-hands-on.json'), '--strict'])).code).toBe(1);
    expect((await run([sample('note-specific-origin.json'), '--strict'])).code).toBe(0);
  });

  test('--help prints the usage with the note’s example and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Usage: corsproof lint <file>');
    expect(r.out).toContain('http://my-bucket-html.s3-website-eu-west-1.amazonaws.com/');
    for (const id of ['origin-trailing-slash', 'shadowed-rule', 'max-age-capped']) expect(r.out).toContain(id);
  });

  const usage: Array<[string, string[], RegExp]> = [
    ['an unknown flag', ['--nope', 'x.json'], /^Unknown option --nope for corsproof lint \(see corsproof lint --help\)\.\n$/],
    ['no file', [], /^corsproof lint needs a CORS configuration file \(or - for stdin\)/],
    ['two files', ['a.json', 'b.json'], /^corsproof lint takes one CORS configuration file/],
    ['a bad --format', ['--format', 'yaml', 'a.json'], /^--format must be text or json, got "yaml"/],
    ['--format without a value', ['a.json', '--format'], /^--format needs a value/],
    ['a value on --strict', ['--strict=yes', 'a.json'], /^--strict takes no value/],
    ['a missing file', ['does-not-exist.json'], /^Cannot read does-not-exist\.json: no such file\.\n$/],
    ['a directory', [sample('')], /: it is a directory\.\n$/],
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
