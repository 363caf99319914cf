/**
 * Exact wire behaviour of the REST endpoint, per /work/shared/reference/s3-cors-semantics.md:
 * preflight answers (§2), CORS headers on actual requests including error responses (§3), the S3
 * error document (§2.2), and authentication of configuration changes.
 */
import { test, expect } from '@playwright/test';
import type { BucketServer } from '../../servers/bucket/index.js';
import type { ExchangeLog } from '../../servers/exchange-log.js';
import { raw, signedRaw, startServer, wireHeaders, REQUEST_ID, type RawResponse } from './helpers.js';

const ORIGIN = 'https://localhost:4200';
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';
const NOT_ALLOWED =
  "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

let server: BucketServer;
let log: ExchangeLog;

test.beforeAll(async () => {
  ({ server, log } = await startServer());
  const { store } = server;
  store.createBucket('cors-bucket');
  store.setCors('cors-bucket', {
    CORSRules: [
      { AllowedOrigins: [ORIGIN], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'], MaxAgeSeconds: 3000 },
      { AllowedOrigins: ['http://expose.example'], AllowedMethods: ['GET', 'HEAD'], ExposeHeaders: ['ETag', 'x-amz-request-id'] },
    ],
  });
  store.putObject('cors-bucket', 'private.txt', 'not public');
  store.createBucket('star-bucket');
  store.setCors('star-bucket', { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] });
  store.createBucket('plain-bucket');
  store.createBucket('public-bucket');
  store.setCors('public-bucket', { CORSRules: [{ AllowedOrigins: [ORIGIN], AllowedMethods: ['GET'] }] });
  store.setPolicy(
    'public-bucket',
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::public-bucket/*' },
        { Effect: 'Allow', Principal: { AWS: '*' }, Action: 's3:ListBucket', Resource: 'arn:aws:s3:::public-bucket' },
      ],
    }),
  );
  store.putObject('public-bucket', 'hello.txt', 'hello', 'text/plain');
});
test.afterAll(() => server.close());

function errorBody(r: RawResponse, inner: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${inner}<RequestId>${r.headers['x-amz-request-id']}</RequestId><HostId>${r.headers['x-amz-id-2']}</HostId></Error>`;
}

function expectS3Envelope(r: RawResponse) {
  expect(r.headers['x-amz-request-id']).toMatch(REQUEST_ID);
  expect(r.headers['x-amz-id-2']).toMatch(/^[A-Za-z0-9+/=]{76}$/);
  expect(r.headers['date']).toMatch(/GMT$/);
}

test.describe('preflight', () => {
  test('should answer a matched preflight exactly like the recorded S3 response', async () => {
    // [S1 opt-right-origin]: ACRM PUT, no ACRH.
    const r = await raw(server, 'OPTIONS', '/cors-bucket/some/key.txt', { Origin: ORIGIN, 'Access-Control-Request-Method': 'PUT' });
    expect(r.status).toBe(200);
    expectS3Envelope(r);
    expect(wireHeaders(r)).toEqual([
      ['Access-Control-Allow-Origin', ORIGIN],
      ['Access-Control-Allow-Credentials', 'true'],
      ['Access-Control-Allow-Methods', 'GET, PUT'],
      ['Access-Control-Max-Age', '3000'],
      ['Vary', VARY],
      ['Content-Length', '0'],
      ['Server', 'AmazonS3'],
    ]);
    expect(r.body.length).toBe(0);
  });

  test('should answer a wildcard-origin rule with exactly ACAO *, ACAM and Vary', async () => {
    const r = await raw(server, 'OPTIONS', '/star-bucket/x', { Origin: 'http://anything.example', 'Access-Control-Request-Method': 'GET' });
    expect(r.status).toBe(200);
    expect(wireHeaders(r)).toEqual([
      ['Access-Control-Allow-Origin', '*'],
      ['Access-Control-Allow-Methods', 'GET'],
      ['Vary', VARY],
      ['Content-Length', '0'],
      ['Server', 'AmazonS3'],
    ]);
  });

  test('should lowercase requested headers in ACAH and ignore a bogus Authorization header', async () => {
    const r = await raw(server, 'OPTIONS', '/cors-bucket/k', {
      Origin: ORIGIN,
      'Access-Control-Request-Method': 'GET',
      'Access-Control-Request-Headers': 'X-Amz-Meta-A,content-type',
      Authorization: 'AWS4-HMAC-SHA256 Credential=nobody/20200101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00',
    });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-headers']).toBe('x-amz-meta-a, content-type');
  });

  test('should refuse a preflight without Origin with 400 BadRequest and close the connection', async () => {
    const r = await raw(server, 'OPTIONS', '/cors-bucket/k', { 'Access-Control-Request-Method': 'GET' });
    expect(r.status).toBe(400);
    expectS3Envelope(r);
    expect(wireHeaders(r)).toEqual([
      ['Content-Type', 'application/xml'],
      ['Server', 'AmazonS3'],
    ]);
    expect(r.headers['connection']).toBe('close');
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.text).toBe(errorBody(r, '<Code>BadRequest</Code><Message>Insufficient information. Origin request header needed.</Message>'));
  });

  test('should refuse a preflight on a missing bucket with 403 Bucket not found', async () => {
    const r = await raw(server, 'OPTIONS', '/no-such-bucket/k', { Origin: ORIGIN });
    expect(r.status).toBe(403);
    expect(wireHeaders(r)).toEqual([
      ['Content-Type', 'application/xml'],
      ['Server', 'AmazonS3'],
    ]);
    expect(r.text).toBe(
      errorBody(r, '<Code>AccessForbidden</Code><Message>CORSResponse: Bucket not found</Message><Method>OPTIONS</Method><ResourceType>BUCKET</ResourceType>'),
    );
  });

  test('should refuse a preflight on a bucket without CORS with 403 CORS is not enabled', async () => {
    const r = await raw(server, 'OPTIONS', '/plain-bucket/k', { Origin: ORIGIN, 'Access-Control-Request-Method': 'PUT' });
    expect(r.status).toBe(403);
    expect(r.text).toBe(
      errorBody(
        r,
        '<Code>AccessForbidden</Code><Message>CORSResponse: CORS is not enabled for this bucket.</Message><Method>PUT</Method><ResourceType>BUCKET</ResourceType>',
      ),
    );
  });

  test('should refuse a preflight without Access-Control-Request-Method with 400', async () => {
    const r = await raw(server, 'OPTIONS', '/cors-bucket/k', { Origin: ORIGIN });
    expect(r.status).toBe(400);
    expect(r.text).toBe(errorBody(r, '<Code>BadRequest</Code><Message>Invalid Access-Control-Request-Method: null</Message>'));
  });

  test('should refuse an unmatched preflight on the bucket root with ResourceType BUCKET', async () => {
    const r = await raw(server, 'OPTIONS', '/cors-bucket', { Origin: 'http://other.example', 'Access-Control-Request-Method': 'GET' });
    expect(r.status).toBe(403);
    expect(r.headers['vary']).toBeUndefined();
    expect(r.text).toBe(errorBody(r, `<Code>AccessForbidden</Code><Message>${NOT_ALLOWED}</Message><Method>GET</Method><ResourceType>BUCKET</ResourceType>`));
  });

  test('should log every preflight with its exact response headers and a note', async () => {
    await raw(server, 'OPTIONS', '/cors-bucket/logged?corsproof-case=wire-log', { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET' });
    const x = await log.waitFor((e) => e.caseId === 'wire-log', 2000);
    expect(x.server).toBe('bucket');
    expect(x.responseHeaders['access-control-allow-origin']).toBe(ORIGIN);
    expect(x.responseHeaders['server']).toBe('AmazonS3');
    expect(x.note).toContain('rule');
  });
});

test.describe('actual requests', () => {
  test('should add CORS headers, without ACAH, to a matched anonymous GET', async () => {
    // ACRH on an actual request must be allowed by the rule (§1.5); this rule has no AllowedHeader.
    const r = await raw(server, 'GET', '/public-bucket/hello.txt', { Origin: ORIGIN, 'Access-Control-Request-Headers': 'x-foo' });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    const ok = await raw(server, 'GET', '/public-bucket/hello.txt', { Origin: ORIGIN });
    expect(ok.status).toBe(200);
    expect(wireHeaders(ok)).toEqual([
      ['Access-Control-Allow-Origin', ORIGIN],
      ['Access-Control-Allow-Credentials', 'true'],
      ['Access-Control-Allow-Methods', 'GET'],
      ['Vary', VARY],
      ['Last-Modified', expect.stringMatching(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/)],
      ['ETag', '"5d41402abc4b2a76b9719d911017c592"'],
      ['Accept-Ranges', 'bytes'],
      ['Content-Type', 'text/plain'],
      ['Content-Length', '5'],
      ['Server', 'AmazonS3'],
    ]);
    expect(ok.text).toBe('hello');
  });

  test('should send no CORS headers and no Vary without Origin or without a matching rule', async () => {
    for (const headers of [{}, { Origin: 'http://other.example' }] as Array<Record<string, string>>) {
      const r = await raw(server, 'GET', '/public-bucket/hello.txt', headers);
      expect(r.status).toBe(200);
      expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-') || h === 'vary')).toEqual([]);
    }
  });

  test('should carry CORS headers on a 404 NoSuchKey', async () => {
    const r = await raw(server, 'GET', '/public-bucket/missing.txt', { Origin: ORIGIN });
    expect(r.status).toBe(404);
    expect(r.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(r.headers['access-control-allow-methods']).toBe('GET');
    expect(r.headers['vary']).toBe(VARY);
    expect(r.text).toBe(errorBody(r, '<Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>missing.txt</Key>'));
  });

  test('should carry CORS headers on a 403 AccessDenied', async () => {
    const r = await raw(server, 'GET', '/cors-bucket/private.txt', { Origin: ORIGIN });
    expect(r.status).toBe(403);
    expect(r.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(r.headers['access-control-allow-credentials']).toBe('true');
    expect(r.headers['vary']).toBe(VARY);
    expect(r.text).toBe(errorBody(r, '<Code>AccessDenied</Code><Message>Access Denied</Message>'));
  });

  test('should answer 403 rather than 404 for a missing key when the caller may not list the bucket', async () => {
    const r = await raw(server, 'GET', '/cors-bucket/missing.txt', { Origin: 'http://expose.example' });
    expect(r.status).toBe(403);
    expect(r.headers['access-control-expose-headers']).toBe('ETag, x-amz-request-id');
  });

  test('should use ACRM, not the HTTP method, to match an actual request', async () => {
    const r = await raw(server, 'GET', '/public-bucket/hello.txt', { Origin: ORIGIN, 'Access-Control-Request-Method': 'PUT' });
    expect(r.status).toBe(200);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('should answer NoSuchBucket without CORS headers', async () => {
    const r = await raw(server, 'GET', '/no-such-bucket/k', { Origin: ORIGIN });
    expect(r.status).toBe(404);
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect(r.text).toBe(errorBody(r, '<Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message><BucketName>no-such-bucket</BucketName>'));
  });

  test('should ignore unknown query parameters and refuse unimplemented sub-resources with 501', async () => {
    const ok = await raw(server, 'GET', '/public-bucket/hello.txt?corsproof-case=x&x-id=GetObject&whatever', {});
    expect(ok.status).toBe(200);
    const acl = await raw(server, 'GET', '/public-bucket/hello.txt?acl', { Origin: ORIGIN });
    expect(acl.status).toBe(501);
    expect(acl.text).toContain('<Code>NotImplemented</Code>');
    expect(acl.headers['access-control-allow-origin']).toBe(ORIGIN);
  });

  test('should answer HEAD errors without a body', async () => {
    const r = await raw(server, 'HEAD', '/public-bucket/missing.txt');
    expect(r.status).toBe(404);
    expect(r.body.length).toBe(0);
  });

  test('should serve byte ranges and conditional requests', async () => {
    const part = await raw(server, 'GET', '/public-bucket/hello.txt', { Range: 'bytes=1-3' });
    expect(part.status).toBe(206);
    expect(part.text).toBe('ell');
    expect(part.headers['content-range']).toBe('bytes 1-3/5');
    const notModified = await raw(server, 'GET', '/public-bucket/hello.txt', { 'If-None-Match': '"5d41402abc4b2a76b9719d911017c592"' });
    expect(notModified.status).toBe(304);
  });
});

test.describe('authentication', () => {
  test('should refuse an unsigned PutBucketCors with 403 AccessDenied and store nothing', async () => {
    const xml = '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>';
    const r = await raw(server, 'PUT', '/plain-bucket?cors', { 'Content-MD5': 'AAAAAAAAAAAAAAAAAAAAAA==' }, xml);
    expect(r.status).toBe(403);
    expect(r.text).toContain('<Code>AccessDenied</Code>');
    expect(server.store.getCors('plain-bucket')).toBeUndefined();
  });

  test('should refuse unsigned bucket creation, deletion, policy and website changes', async () => {
    for (const [method, path] of [
      ['PUT', '/new-bucket'],
      ['DELETE', '/plain-bucket'],
      ['PUT', '/plain-bucket?policy'],
      ['DELETE', '/public-bucket?policy'],
      ['PUT', '/plain-bucket?website'],
      ['DELETE', '/cors-bucket?cors'],
      ['GET', '/'],
    ] as const) {
      const r = await raw(server, method, path, {}, method === 'PUT' ? '{}' : undefined);
      expect(r.status, `${method} ${path}`).toBe(403);
    }
    expect(server.store.bucketNames()).toContain('plain-bucket');
    expect(server.store.getCors('cors-bucket')).toBeDefined();
  });

  test('should require Content-MD5 or a checksum on a signed PutBucketCors and verify the MD5', async () => {
    const xml = '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>';
    const none = await signedRaw(server, 'PUT', '/plain-bucket?cors', {}, xml);
    expect(none.status).toBe(400);
    expect(none.text).toBe(errorBody(none, '<Code>InvalidRequest</Code><Message>Missing required header for this request: Content-MD5</Message>'));
    const wrong = await signedRaw(server, 'PUT', '/plain-bucket?cors', { 'content-md5': '1B2M2Y8AsgTpgAmY7PhCfg==' }, xml);
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('<Code>BadDigest</Code>');
    const { createHash } = await import('node:crypto');
    const good = await signedRaw(server, 'PUT', '/plain-bucket?cors', { 'content-md5': createHash('md5').update(xml).digest('base64') }, xml);
    expect(good.status).toBe(200);
    expect(server.store.getCors('plain-bucket')).toEqual({ CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] });
    const json = '{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}';
    const notXml = await signedRaw(server, 'PUT', '/plain-bucket?cors', { 'content-md5': createHash('md5').update(json).digest('base64') }, json);
    expect(notXml.status).toBe(400);
    expect(notXml.text).toContain('<Code>MalformedXML</Code>');
    const del = await signedRaw(server, 'DELETE', '/plain-bucket?cors');
    expect(del.status).toBe(204);
  });

  test('should answer GetBucketCors without configuration with NoSuchCORSConfiguration and BucketName', async () => {
    const r = await signedRaw(server, 'GET', '/plain-bucket?cors');
    expect(r.status).toBe(404);
    expect(r.text).toBe(
      errorBody(r, '<Code>NoSuchCORSConfiguration</Code><Message>The CORS configuration does not exist</Message><BucketName>plain-bucket</BucketName>'),
    );
  });

  test('should reject a wrong signature and an unknown access key', async () => {
    const wrong = await signedRaw(server, 'GET', '/public-bucket?cors', {}, undefined, { accessKeyId: 'corsproof', secretAccessKey: 'x' });
    expect(wrong.status).toBe(403);
    expect(wrong.text).toContain('<Code>SignatureDoesNotMatch</Code>');
    // S3 keeps CORS headers on authentication failures too (§3).
    const withOrigin = await signedRaw(server, 'GET', '/public-bucket/hello.txt', { origin: ORIGIN }, undefined, { accessKeyId: 'corsproof', secretAccessKey: 'x' });
    expect(withOrigin.status).toBe(403);
    expect(withOrigin.headers['access-control-allow-origin']).toBe(ORIGIN);
    const unknown = await signedRaw(server, 'GET', '/', {}, undefined, { accessKeyId: 'someone', secretAccessKey: 'corsproof-secret' });
    expect(unknown.status).toBe(403);
    expect(unknown.text).toContain('<Code>InvalidAccessKeyId</Code>');
  });
});
