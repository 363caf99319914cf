/**
 * The bucket server through the real AWS SDK for JavaScript v3 (path style): every request is
 * SigV4-signed by the SDK and verified by the server by re-signing.
 */
import { test, expect } from '@playwright/test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetBucketCorsCommand,
  GetBucketPolicyCommand,
  GetBucketWebsiteCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import type { BucketServer } from '../../servers/bucket/index.js';
import { checksumOf } from '../../servers/bucket/checksums.js';
import { raw, s3Client, s3Error, signedRaw, startServer } from './helpers.js';

let server: BucketServer;
let s3: S3Client;

test.beforeAll(async () => {
  ({ server } = await startServer());
  s3 = s3Client(server);
});
test.afterAll(() => server.close());

test('should create, head, list and delete buckets', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'sdk-buckets' }));
  await s3.send(new HeadBucketCommand({ Bucket: 'sdk-buckets' }));
  const list = await s3.send(new ListBucketsCommand({}));
  expect(list.Buckets?.map((b) => b.Name)).toContain('sdk-buckets');
  await s3.send(new PutObjectCommand({ Bucket: 'sdk-buckets', Key: 'k', Body: 'x' }));
  const notEmpty = await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'sdk-buckets' })));
  expect(notEmpty.name).toBe('BucketNotEmpty');
  expect(notEmpty.$metadata.httpStatusCode).toBe(409);
  await s3.send(new DeleteObjectCommand({ Bucket: 'sdk-buckets', Key: 'k' }));
  await s3.send(new DeleteBucketCommand({ Bucket: 'sdk-buckets' }));
  const gone = await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'sdk-buckets' })));
  expect(gone.$metadata.httpStatusCode).toBe(404);
  const bad = await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })));
  expect(bad.name).toBe('InvalidBucketName');
});

test('should store and return objects with S3 headers', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'sdk-objects' }));
  const body = Buffer.from('héllo, bytes \u0000\u00ff', 'utf8');
  const put = await s3.send(
    new PutObjectCommand({ Bucket: 'sdk-objects', Key: 'dir/a b+c.txt', Body: body, ContentType: 'text/plain; charset=utf-8', Metadata: { who: 'me' } }),
  );
  expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'sdk-objects', Key: 'dir/a b+c.txt' }));
  expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body);
  expect(got.ContentType).toBe('text/plain; charset=utf-8');
  expect(got.ContentLength).toBe(body.length);
  expect(got.ETag).toBe(put.ETag);
  expect(got.Metadata).toEqual({ who: 'me' });
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'sdk-objects', Key: 'dir/a b+c.txt' }));
  expect(head.LastModified).toBeInstanceOf(Date);
  await s3.send(new PutObjectCommand({ Bucket: 'sdk-objects', Key: 'dir/b', Body: 'b' }));
  await s3.send(new PutObjectCommand({ Bucket: 'sdk-objects', Key: 'other', Body: 'o' }));
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-objects', Prefix: 'dir/' }));
  expect(listed.Contents?.map((c) => c.Key)).toEqual(['dir/a b+c.txt', 'dir/b']);
  expect(listed.KeyCount).toBe(2);
  const page = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-objects', MaxKeys: 1 }));
  expect(page.IsTruncated).toBe(true);
  const next = await s3.send(new ListObjectsV2Command({ Bucket: 'sdk-objects', MaxKeys: 5, ContinuationToken: page.NextContinuationToken! }));
  expect(next.Contents?.map((c) => c.Key)).toEqual(['dir/b', 'other']);
  const missing = await s3Error(s3.send(new GetObjectCommand({ Bucket: 'sdk-objects', Key: 'nope' })));
  expect(missing.name).toBe('NoSuchKey');
});

test('should accept a streamed (aws-chunked) upload', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'sdk-stream' }));
  const data = Buffer.alloc(200_000, 7);
  await s3.send(new PutObjectCommand({ Bucket: 'sdk-stream', Key: 's', Body: Readable.from([data.subarray(0, 70_000), data.subarray(70_000)]), ContentLength: data.length }));
  expect(server.store.getObject('sdk-stream', 's')?.body.equals(data)).toBe(true);
});

test('should verify the flexible checksums the SDK computes, and refuse a wrong one with BadDigest', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'sdk-checksums' }));
  const data = Buffer.from('The quick brown fox jumps over the lazy dog');
  const expected = { CRC32: 'QU+jOQ==', CRC32C: 'ImIEBA==', SHA1: 'L9ThxnotKPzthJ7hu3bnORuT6xI=', SHA256: '16j7swfXgJRpypq8sAguT41WUeRtPNt2LQLQvzfJ5ZI=' } as const;
  for (const algorithm of ['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const) {
    // The SDK computes the checksum itself (a header, or an aws-chunked trailer for a stream).
    const put = await s3.send(new PutObjectCommand({ Bucket: 'sdk-checksums', Key: algorithm, Body: data, ChecksumAlgorithm: algorithm }));
    expect(put[`Checksum${algorithm}`], `${algorithm} echoed`).toBe(expected[algorithm]);
    const streamed = await s3.send(
      new PutObjectCommand({ Bucket: 'sdk-checksums', Key: `${algorithm}-stream`, Body: Readable.from([data]), ContentLength: data.length, ChecksumAlgorithm: algorithm }),
    );
    expect(streamed[`Checksum${algorithm}`], `${algorithm} trailer echoed`).toBe(expected[algorithm]);
    const name = `x-amz-checksum-${algorithm.toLowerCase()}`;
    // A well-formed value of other bytes: BadDigest naming the algorithm, as S3 words it.
    const wrong = await signedRaw(server, 'PUT', `/sdk-checksums/${algorithm}-wrong`, { [name]: checksumOf(algorithm, Buffer.from('other bytes'))! }, data);
    expect(wrong.status, `${algorithm}: a wrong value is refused`).toBe(400);
    expect(wrong.text).toContain(`<Code>BadDigest</Code><Message>The ${algorithm} you specified did not match the calculated checksum.</Message>`);
    expect(server.store.getObject('sdk-checksums', `${algorithm}-wrong`), 'nothing stored').toBeUndefined();
    // A value that is no checksum of this algorithm at all (another one's length): InvalidRequest.
    const malformed = await signedRaw(server, 'PUT', `/sdk-checksums/${algorithm}-malformed`, { [name]: expected[algorithm === 'SHA256' ? 'CRC32' : 'SHA256'] }, data);
    expect(malformed.text).toContain(`<Code>InvalidRequest</Code><Message>Value for ${name} header is invalid.</Message>`);
  }
});

test('should round-trip a bucket CORS configuration as sent', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'sdk-cors' }));
  const none = await s3Error(s3.send(new GetBucketCorsCommand({ Bucket: 'sdk-cors' })));
  expect(none.name).toBe('NoSuchCORSConfiguration');
  expect(none.$metadata.httpStatusCode).toBe(404);
  expect(none.message).toBe('The CORS configuration does not exist');
  const rules = [
    { ID: 'first', AllowedOrigins: ['http://A.example', 'https://*.b.example'], AllowedMethods: ['PUT', 'GET'], AllowedHeaders: ['X-Amz-Meta-Foo', '*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 30 },
    { AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
  ];
  await s3.send(new PutBucketCorsCommand({ Bucket: 'sdk-cors', CORSConfiguration: { CORSRules: rules } }));
  const got = await s3.send(new GetBucketCorsCommand({ Bucket: 'sdk-cors' }));
  expect(got.CORSRules).toEqual(rules);
  const invalid = await s3Error(
    s3.send(new PutBucketCorsCommand({ Bucket: 'sdk-cors', CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }] } })),
  );
  expect(invalid.name).toBe('InvalidRequest');
  expect(invalid.message).toBe('Found unsupported HTTP method in CORS config. Unsupported method is PATCH');
  expect((await s3.send(new GetBucketCorsCommand({ Bucket: 'sdk-cors' }))).CORSRules).toEqual(rules);
  const del = await s3.send(new DeleteBucketCorsCommand({ Bucket: 'sdk-cors' }));
  expect(del.$metadata.httpStatusCode).toBe(204);
  const again = await s3.send(new DeleteBucketCorsCommand({ Bucket: 'sdk-cors' }));
  expect(again.$metadata.httpStatusCode).toBe(204);
});

test('should store bucket policies and website configurations', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'sdk-site' }));
  const noPolicy = await s3Error(s3.send(new GetBucketPolicyCommand({ Bucket: 'sdk-site' })));
  expect(noPolicy.name).toBe('NoSuchBucketPolicy');
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::sdk-site/*' }],
  });
  await s3.send(new PutBucketPolicyCommand({ Bucket: 'sdk-site', Policy: policy }));
  expect((await s3.send(new GetBucketPolicyCommand({ Bucket: 'sdk-site' }))).Policy).toBe(policy);
  const badPolicy = await s3Error(s3.send(new PutBucketPolicyCommand({ Bucket: 'sdk-site', Policy: '{"Statement": [' })));
  expect(badPolicy.name).toBe('MalformedPolicy');
  const noSite = await s3Error(s3.send(new GetBucketWebsiteCommand({ Bucket: 'sdk-site' })));
  expect(noSite.name).toBe('NoSuchWebsiteConfiguration');
  await s3.send(
    new PutBucketWebsiteCommand({ Bucket: 'sdk-site', WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' }, ErrorDocument: { Key: 'error.html' } } }),
  );
  const site = await s3.send(new GetBucketWebsiteCommand({ Bucket: 'sdk-site' }));
  expect(site.IndexDocument?.Suffix).toBe('index.html');
  expect(site.ErrorDocument?.Key).toBe('error.html');
  await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'sdk-site' }));
});

test('should verify presigned URLs and reject tampered or foreign signatures', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: 'sdk-presign' }));
  await s3.send(new PutObjectCommand({ Bucket: 'sdk-presign', Key: 'p.txt', Body: 'presigned' }));
  const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'sdk-presign', Key: 'p.txt' }), { expiresIn: 60 }));
  const ok = await raw(server, 'GET', url.pathname + url.search);
  expect(ok.status).toBe(200);
  expect(ok.text).toBe('presigned');
  const putUrl = new URL(await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'sdk-presign', Key: 'q.txt' }), { expiresIn: 60 }));
  const put = await raw(server, 'PUT', putUrl.pathname + putUrl.search, {}, 'via presigned PUT');
  expect(put.status).toBe(200);
  expect(server.store.getObject('sdk-presign', 'q.txt')?.body.toString()).toBe('via presigned PUT');
  const tampered = await raw(server, 'GET', url.pathname.replace('p.txt', 'q.txt') + url.search);
  expect(tampered.status).toBe(403);
  expect(tampered.text).toContain('<Code>SignatureDoesNotMatch</Code>');

  const wrongSecret = s3Client(server, { accessKeyId: 'corsproof', secretAccessKey: 'nope' });
  const sig = await s3Error(wrongSecret.send(new GetObjectCommand({ Bucket: 'sdk-presign', Key: 'p.txt' })));
  expect(sig.name).toBe('SignatureDoesNotMatch');
  expect(sig.$metadata.httpStatusCode).toBe(403);
  const unknown = s3Client(server, { accessKeyId: 'stranger', secretAccessKey: 'corsproof-secret' });
  const key = await s3Error(unknown.send(new ListBucketsCommand({})));
  expect(key.name).toBe('InvalidAccessKeyId');
});
