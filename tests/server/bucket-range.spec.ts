/**
 * Range GETs (RFC 9110 §14 as S3 serves them): 206 with Content-Range, 416 InvalidRange, the ranges
 * S3 ignores, HEAD, conditional requests before ranges, and checksums never sent for a range.
 */
import { test, expect } from '@playwright/test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { BucketServer } from '../../servers/bucket/index.js';
import { raw, s3Client, startServer } from './helpers.js';

let server: BucketServer;
let s3: S3Client;
const BODY = '0123456789abcdefghij'; // 20 bytes

test.beforeAll(async () => {
  ({ server } = await startServer({ anonymousAccess: 'open' }));
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'ranges' }));
  await s3.send(new PutObjectCommand({ Bucket: 'ranges', Key: 'r.txt', Body: BODY }));
});
test.afterAll(() => server.close());

test('should answer each satisfiable single range with 206 and its Content-Range', async () => {
  const cases: Array<[range: string, body: string, contentRange: string]> = [
    ['bytes=0-0', '0', 'bytes 0-0/20'],
    ['bytes=5-9', '56789', 'bytes 5-9/20'],
    ['bytes=15-', 'fghij', 'bytes 15-19/20'],
    ['bytes=-3', 'hij', 'bytes 17-19/20'],
    ['bytes=10-999', 'abcdefghij', 'bytes 10-19/20'],
    ['bytes=-50', BODY, 'bytes 0-19/20'],
  ];
  for (const [range, body, contentRange] of cases) {
    const r = await raw(server, 'GET', '/ranges/r.txt', { Range: range });
    expect.soft([r.status, r.text, r.headers['content-range'], r.headers['content-length'], r.headers['accept-ranges']], range).toEqual([
      206,
      body,
      contentRange,
      String(body.length),
      'bytes',
    ]);
  }
});

test('should answer 416 InvalidRange for an unsatisfiable range, with the size S3 reports', async () => {
  for (const range of ['bytes=20-', 'bytes=25-30', 'bytes=-0']) {
    const r = await raw(server, 'GET', '/ranges/r.txt', { Range: range });
    expect.soft(r.status, range).toBe(416);
    expect.soft(r.text, range).toContain(`<Code>InvalidRange</Code><Message>The requested range is not satisfiable</Message><RangeRequested>${range}</RangeRequested><ActualObjectSize>20</ActualObjectSize>`);
  }
});

test('should serve the whole object for ranges S3 ignores', async () => {
  // Several ranges, another unit, and malformed values: S3 answers 200 with the whole object.
  for (const range of ['bytes=0-1,5-6', 'items=0-1', 'bytes=abc', 'bytes=-']) {
    const r = await raw(server, 'GET', '/ranges/r.txt', { Range: range });
    expect.soft([r.status, r.text], range).toEqual([200, BODY]);
  }
});

test('should give HEAD the range\'s headers without a body, and let conditions win over the range', async () => {
  const head = await raw(server, 'HEAD', '/ranges/r.txt', { Range: 'bytes=2-5' });
  expect([head.status, head.headers['content-length'], head.headers['content-range'], head.body.length]).toEqual([206, '4', 'bytes 2-5/20', 0]);
  const etag = server.store.getObject('ranges', 'r.txt')!.etag;
  expect((await raw(server, 'GET', '/ranges/r.txt', { Range: 'bytes=0-1', 'If-None-Match': etag })).status).toBe(304);
  expect((await raw(server, 'GET', '/ranges/r.txt', { Range: 'bytes=0-1', 'If-Match': '"other"' })).status).toBe(412);
  expect((await raw(server, 'GET', '/ranges/r.txt', { Range: 'bytes=0-1', 'If-Match': etag })).status).toBe(206);
});

test('should serve ranges to the SDK and leave the stored checksum off a partial answer', async () => {
  const got = await s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'r.txt', Range: 'bytes=3-6' }));
  expect([got.$metadata.httpStatusCode, got.ContentRange, got.ContentLength]).toEqual([206, 'bytes 3-6/20', 4]);
  expect(await got.Body!.transformToString()).toBe('3456');
  // The object has a CRC32 (the SDK sent one); the SDK asks for it, but a range must not carry it.
  expect(got.ChecksumCRC32).toBeUndefined();
  const whole = await s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'r.txt' }));
  expect(whole.ChecksumCRC32).toMatch(/^[A-Za-z0-9+/]{6}==$/);
  expect(whole.ChecksumType).toBe('FULL_OBJECT');
  try {
    await s3.send(new GetObjectCommand({ Bucket: 'ranges', Key: 'r.txt', Range: 'bytes=100-' }));
    throw new Error('expected InvalidRange');
  } catch (e) {
    expect(e).toBeInstanceOf(S3ServiceException);
    expect([(e as S3ServiceException).name, (e as S3ServiceException).$metadata.httpStatusCode]).toEqual(['InvalidRange', 416]);
  }
});

test('should read an object stored in one request as part 1 of 1', async () => {
  const p1 = await raw(server, 'GET', '/ranges/r.txt?partNumber=1');
  expect([p1.status, p1.text, p1.headers['content-range']]).toEqual([206, BODY, 'bytes 0-19/20']);
  const p2 = await raw(server, 'GET', '/ranges/r.txt?partNumber=2');
  expect(p2.status).toBe(416);
  expect(p2.text).toContain('<Code>InvalidPartNumber</Code>');
  const both = await raw(server, 'GET', '/ranges/r.txt?partNumber=1', { Range: 'bytes=0-1' });
  expect([both.status, /<Message>([^<]+)/.exec(both.text)?.[1]]).toEqual([400, 'Cannot specify both Range header and partNumber query parameter']);
  expect((await raw(server, 'GET', '/ranges/r.txt?partNumber=0')).text).toContain('<Code>InvalidArgument</Code>');
});

test('should put CORS headers on 206 and 416 answers and expose Content-Range only when configured', async () => {
  server.store.setCors('ranges', { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'], AllowedHeaders: ['Range'], ExposeHeaders: ['Content-Range'] }] });
  try {
    const part = await raw(server, 'GET', '/ranges/r.txt', { Range: 'bytes=1-2', Origin: 'http://app.example' });
    expect([part.status, part.headers['access-control-allow-origin'], part.headers['access-control-expose-headers']]).toEqual([206, '*', 'Content-Range']);
    const bad = await raw(server, 'GET', '/ranges/r.txt', { Range: 'bytes=99-', Origin: 'http://app.example' });
    expect([bad.status, bad.headers['access-control-allow-origin']]).toEqual([416, '*']);
  } finally {
    server.store.setCors('ranges', undefined);
  }
});
