/**
 * The server's SigV4 verification against AWS's own published examples
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html,
 * …/sigv4-query-string-auth.html, …/sigv4-streaming.html): if verification accepts these requests
 * and rejects them once a byte changes, it computes what S3 computes.
 */
import { test, expect } from '@playwright/test';
import type { IncomingMessage } from 'node:http';
import { authenticate, verifyPayload, type Credentials, type Principal } from '../../servers/bucket/auth.js';
import { decodeAwsChunked } from '../../servers/bucket/body.js';
import { checksumOf } from '../../servers/bucket/checksums.js';

const EXAMPLE: Credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  region: 'us-east-1',
};
const AT = new Date('2013-05-24T00:00:00Z');
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const CRED = 'AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request';

function fakeRequest(method: string, headers: Record<string, string>): IncomingMessage {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    method,
    headers: lower,
    headersDistinct: Object.fromEntries(Object.entries(lower).map(([k, v]) => [k, [v]])),
  } as unknown as IncomingMessage;
}

function verify(method: string, target: string, headers: Record<string, string>, now = AT): Promise<Principal> {
  const q = target.indexOf('?');
  return authenticate({
    req: fakeRequest(method, { Host: 'examplebucket.s3.amazonaws.com', ...headers }),
    rawPath: q < 0 ? target : target.slice(0, q),
    rawQuery: q < 0 ? '' : target.slice(q + 1),
    creds: EXAMPLE,
    now,
  });
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'accepted';
}

test('should accept the documented GET object request and reject it with another Range', async () => {
  const headers = {
    Range: 'bytes=0-9',
    'x-amz-content-sha256': EMPTY,
    'x-amz-date': '20130524T000000Z',
    Authorization: `AWS4-HMAC-SHA256 Credential=${CRED},SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
  };
  expect((await verify('GET', '/test.txt', headers)).kind).toBe('owner');
  expect(await codeOf(verify('GET', '/test.txt', { ...headers, Range: 'bytes=0-10' }))).toBe('SignatureDoesNotMatch');
  expect(await codeOf(verify('GET', '/test.txt', headers, new Date('2013-05-24T00:20:00Z')))).toBe('RequestTimeTooSkewed');
});

test('should accept the documented PUT object request, which signs Date and an escaped key', async () => {
  const headers = {
    Date: 'Fri, 24 May 2013 00:00:00 GMT',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
    Authorization: `AWS4-HMAC-SHA256 Credential=${CRED},SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd`,
  };
  expect((await verify('PUT', '/test%24file.text', headers)).kind).toBe('owner');
  // The same request with the key sent unescaped: S3 signs the escaped form.
  expect((await verify('PUT', '/test$file.text', headers)).kind).toBe('owner');
  const principal = await verify('PUT', '/test%24file.text', headers);
  await verifyPayload(principal, EXAMPLE, { raw: Buffer.from('Welcome to Amazon S3.') });
  expect(await codeOf(verifyPayload(principal, EXAMPLE, { raw: Buffer.from('Welcome to Amazon S3!') }))).toBe('XAmzContentSHA256Mismatch');
});

test('should accept the documented sub-resource and list requests', async () => {
  const base = { 'x-amz-content-sha256': EMPTY, 'x-amz-date': '20130524T000000Z' };
  const lifecycle = `AWS4-HMAC-SHA256 Credential=${CRED},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543`;
  expect((await verify('GET', '/?lifecycle', { ...base, Authorization: lifecycle })).kind).toBe('owner');
  const list = `AWS4-HMAC-SHA256 Credential=${CRED},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7`;
  expect((await verify('GET', '/?max-keys=2&prefix=J', { ...base, Authorization: list })).kind).toBe('owner');
  expect(await codeOf(verify('GET', '/?max-keys=3&prefix=J', { ...base, Authorization: list }))).toBe('SignatureDoesNotMatch');
});

test('should accept the documented presigned URL until it expires', async () => {
  const url =
    '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
    '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
    '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  expect((await verify('GET', url, {}, new Date('2013-05-24T12:00:00Z'))).kind).toBe('owner');
  expect(await codeOf(verify('GET', url, {}, new Date('2013-05-25T00:00:01Z')))).toBe('AccessDenied');
  expect(await codeOf(verify('GET', url.replace('test.txt', 'test.txu'), {}, new Date('2013-05-24T12:00:00Z')))).toBe('SignatureDoesNotMatch');
});

test('should verify the documented chunked upload signature chain', async () => {
  const headers = {
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'Content-Encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'Content-Length': '66824',
    Authorization: `AWS4-HMAC-SHA256 Credential=${CRED},SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9`,
  };
  const principal = await verify('PUT', '/examplebucket/chunkObject.txt', { ...headers, Host: 's3.amazonaws.com' });
  expect(principal.kind).toBe('owner');
  const body = (sig3: string, second = Buffer.alloc(1024, 'a')) =>
    Buffer.concat([
      Buffer.from('10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n'),
      Buffer.alloc(65536, 'a'),
      Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
      second,
      Buffer.from(`\r\n0;chunk-signature=${sig3}\r\n\r\n`),
    ]);
  const good = body('b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9');
  expect(good.length).toBe(66824);
  const decoded = decodeAwsChunked(good);
  expect(Buffer.concat(decoded.chunks.map((c) => c.data)).length).toBe(66560);
  await verifyPayload(principal, EXAMPLE, { raw: good, decoded });
  const tampered = body('b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9', Buffer.alloc(1024, 'b'));
  expect(await codeOf(verifyPayload(principal, EXAMPLE, { raw: tampered, decoded: decodeAwsChunked(tampered) }))).toBe('SignatureDoesNotMatch');
  // Nothing in a payload signed without -TRAILER signs a trailer: one appended in transit is refused.
  const withTrailer = Buffer.concat([good.subarray(0, good.length - 2), Buffer.from('x-amz-checksum-crc32:NSRBwg==\r\n\r\n')]);
  expect(await codeOf(verifyPayload(principal, EXAMPLE, { raw: withTrailer, decoded: decodeAwsChunked(withTrailer) }))).toBe('SignatureDoesNotMatch');
  const badFinal = body('0'.repeat(64));
  expect(await codeOf(verifyPayload(principal, EXAMPLE, { raw: badFinal, decoded: decodeAwsChunked(badFinal) }))).toBe('SignatureDoesNotMatch');
});

test('should verify the documented chunked upload with a signed trailing checksum', async () => {
  const principal = await verify('PUT', '/examplebucket/chunkObject.txt', {
    Host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    'Content-Encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'x-amz-trailer': 'x-amz-checksum-crc32c',
    Authorization: `AWS4-HMAC-SHA256 Credential=${CRED},SignedHeaders=content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer,Signature=106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e`,
  });
  const body = (trailer: string, trailerSig: string) =>
    Buffer.concat([
      Buffer.from('10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n'),
      Buffer.alloc(65536, 'a'),
      Buffer.from('\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n'),
      Buffer.alloc(1024, 'a'),
      Buffer.from(`\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n${trailer}\r\nx-amz-trailer-signature:${trailerSig}\r\n\r\n`),
    ]);
  const SIG = 'd81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435';
  const good = body('x-amz-checksum-crc32c:sOO8/Q==', SIG);
  const decoded = decodeAwsChunked(good);
  expect(decoded.trailers).toEqual([['x-amz-checksum-crc32c', 'sOO8/Q==']]);
  await verifyPayload(principal, EXAMPLE, { raw: good, decoded });
  // The trailer's CRC-32C is the data's.
  expect(checksumOf('CRC32C', Buffer.alloc(66560, 'a'))).toBe('sOO8/Q==');
  const changed = body('x-amz-checksum-crc32c:AAAAAA==', SIG);
  expect(await codeOf(verifyPayload(principal, EXAMPLE, { raw: changed, decoded: decodeAwsChunked(changed) }))).toBe('SignatureDoesNotMatch');
});
