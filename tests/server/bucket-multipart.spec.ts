/**
 * Multipart uploads through the real AWS SDK for JavaScript v3 (commands and lib-storage's
 * `Upload`) and on the wire: S3's ETag and composite checksum, its errors, ListParts,
 * ListMultipartUploads, Abort, `?partNumber=` reads, trailing checksums, and CORS on the answers.
 */
import { test, expect } from '@playwright/test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { crc32 } from '@aws-crypto/crc32';
import type { BucketServer } from '../../servers/bucket/index.js';
import type { ExchangeLog } from '../../servers/exchange-log.js';
import { raw, s3Client, s3Error, signedRaw, startServer } from './helpers.js';

let server: BucketServer;
let log: ExchangeLog;
let s3: S3Client;
const MiB = 1024 * 1024;

test.beforeAll(async () => {
  ({ server, log } = await startServer());
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'mpu' }));
});
test.afterAll(() => server.close());

const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const crc32b64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b) >>> 0);
  return out.toString('base64');
};
/** Deterministic bytes that differ from part to part. */
const bytes = (n: number, seed: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
};

test('should complete a lib-storage Upload of three parts with S3\'s ETag and composite CRC32', async () => {
  const data = Buffer.concat([bytes(5 * MiB, 1), bytes(5 * MiB, 2), bytes(MiB, 3)]);
  const parts = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB)];
  const result = await new Upload({ client: s3, params: { Bucket: 'mpu', Key: 'lib/storage.bin', Body: data, ContentType: 'application/x-test' }, partSize: 5 * MiB }).done();
  const etag = `"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-3"`;
  const composite = `${crc32b64(Buffer.concat(parts.map((p) => Buffer.from(crc32b64(p), 'base64'))))}-3`;
  expect(result.ETag).toBe(etag);
  expect(result.ChecksumCRC32).toBe(composite);
  expect(result.ChecksumType).toBe('COMPOSITE');
  // S3 percent-encodes the key's `/` in Location; lib-storage turns %2F back into `/` for its result.
  expect(result.Location).toBe(`${server.url}/mpu/lib/storage.bin`);

  const got = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'lib/storage.bin' }));
  expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
  expect(got.ETag).toBe(etag);
  expect(got.ContentType).toBe('application/x-test');
  // The SDK asks for checksums (x-amz-checksum-mode: ENABLED) and gets the composite one back.
  expect(got.ChecksumCRC32).toBe(composite);
  expect(got.ChecksumType).toBe('COMPOSITE');
  const part2 = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'lib/storage.bin', PartNumber: 2 }));
  expect(part2.$metadata.httpStatusCode).toBe(206);
  expect(part2.PartsCount).toBe(3);
  expect(part2.ContentRange).toBe(`bytes ${5 * MiB}-${10 * MiB - 1}/${data.length}`);
  expect(Buffer.from(await part2.Body!.transformToByteArray()).equals(parts[1]!)).toBe(true);
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'mpu', Key: 'lib/storage.bin', PartNumber: 3 }));
  expect([head.ContentLength, head.PartsCount]).toEqual([MiB, 3]);
});

test('should send and accept the SDK\'s default checksum headers on every multipart request', async () => {
  const before = log.all().length;
  const data = bytes(6 * MiB, 9);
  await new Upload({ client: s3, params: { Bucket: 'mpu', Key: 'headers.bin', Body: data }, partSize: 5 * MiB }).done();
  const seen = log.all().slice(before).map((e) => ({ method: e.method, url: e.url, h: e.requestHeaders, status: e.status }));
  const create = seen.find((e) => e.method === 'POST' && e.url.includes('?uploads'))!;
  const parts = seen.filter((e) => e.method === 'PUT' && e.url.includes('partNumber='));
  const complete = seen.find((e) => e.method === 'POST' && e.url.includes('uploadId='))!;
  expect(create.h['x-amz-checksum-algorithm']).toBe('CRC32');
  expect(parts).toHaveLength(2);
  for (const p of parts) {
    expect.soft(p.h['x-amz-sdk-checksum-algorithm']).toBe('CRC32');
    expect.soft(p.h['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    expect.soft(p.h['authorization']).toContain('x-amz-checksum-crc32;');
  }
  expect(complete.h['content-type']).toBe('application/xml');
  expect(Object.keys(complete.h).filter((h) => h.startsWith('x-amz-checksum'))).toEqual([]);
  expect(seen.every((e) => e.status === 200)).toBe(true);
  test.info().annotations.push({ type: 'UploadPart request headers', description: JSON.stringify(parts[0]!.h) });
});

test('should verify a streamed UploadPart\'s trailing checksum (aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER)', async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'trailer.bin', ChecksumAlgorithm: 'CRC32' }));
  const data = bytes(300_000, 4);
  const before = log.all().length;
  const part = await s3.send(
    new UploadPartCommand({ Bucket: 'mpu', Key: 'trailer.bin', UploadId, PartNumber: 1, Body: Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), ContentLength: data.length }),
  );
  const sent = log.all()[before]!.requestHeaders;
  expect(sent['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
  expect(sent['x-amz-trailer']).toBe('x-amz-checksum-crc32');
  expect(sent['content-encoding']).toBe('aws-chunked');
  expect(part.ChecksumCRC32).toBe(crc32b64(data));
  const done = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: 'trailer.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag!, ChecksumCRC32: part.ChecksumCRC32! }] } }),
  );
  expect(done.ChecksumCRC32).toBe(`${crc32b64(Buffer.from(crc32b64(data), 'base64'))}-1`);
  expect(server.store.getObject('mpu', 'trailer.bin')?.body.equals(data)).toBe(true);
});

test('should refuse a part whose checksum does not match, and keep the upload', async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'bad-sum.bin', ChecksumAlgorithm: 'CRC32' }));
  const bad = await s3Error(s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'bad-sum.bin', UploadId, PartNumber: 1, Body: 'abc', ChecksumCRC32: 'AAAAAA==' })));
  expect([bad.name, bad.message]).toEqual(['BadDigest', 'The CRC32 you specified did not match the calculated checksum.']);
  const none = await s3Error(
    s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'bad-sum.bin', UploadId, PartNumber: 1, Body: 'abc', ChecksumAlgorithm: 'SHA256' })),
  );
  expect(none.message).toBe('Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: sha256');
  const listed = await s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'bad-sum.bin', UploadId }));
  expect(listed.Parts ?? []).toEqual([]);
  expect(listed.ChecksumAlgorithm).toBe('CRC32');
  await s3.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'bad-sum.bin', UploadId }));
});

test('should answer S3\'s multipart errors', async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'errors.bin' }));
  const p1 = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'errors.bin', UploadId, PartNumber: 1, Body: 'too small' }));
  const p2 = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'errors.bin', UploadId, PartNumber: 2, Body: 'last' }));
  const complete = (Parts: Array<{ PartNumber: number; ETag: string; ChecksumCRC32?: string }>) =>
    s3.send(new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: 'errors.bin', UploadId, MultipartUpload: { Parts } }));
  const withSums = (n: number, etag: string, body: string) => ({ PartNumber: n, ETag: etag, ChecksumCRC32: crc32b64(Buffer.from(body)) });

  const small = await s3Error(complete([withSums(1, p1.ETag!, 'too small'), withSums(2, p2.ETag!, 'last')]));
  expect([small.name, small.$metadata.httpStatusCode, small.message]).toEqual(['EntityTooSmall', 400, 'Your proposed upload is smaller than the minimum allowed size']);
  const order = await s3Error(complete([withSums(2, p2.ETag!, 'last'), withSums(1, p1.ETag!, 'too small')]));
  expect(order.name).toBe('InvalidPartOrder');
  const missing = await s3Error(complete([withSums(3, p2.ETag!, 'last')]));
  expect(missing.name).toBe('InvalidPart');
  // The SDK sent its default CRC32 with each part: S3 then wants it named (aws-sdk-go-v2#3005).
  const unnamed = await s3Error(complete([{ PartNumber: 2, ETag: p2.ETag! }]));
  expect(unnamed.name).toBe('InvalidPart');
  const noSuch = await s3Error(s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'errors.bin', UploadId: 'nope', PartNumber: 1, Body: 'x' })));
  expect([noSuch.name, noSuch.$metadata.httpStatusCode]).toEqual(['NoSuchUpload', 404]);
  const otherKey = await s3Error(s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'other.bin', UploadId })));
  expect(otherKey.name).toBe('NoSuchUpload');
  const badNumber = await s3Error(s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'errors.bin', UploadId, PartNumber: 10001, Body: 'x' })));
  expect([badNumber.name, badNumber.message]).toEqual(['InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive']);

  // Raw: a body that is not the document, and one that lists no part.
  const path = `/mpu/errors.bin?uploadId=${UploadId}`;
  for (const body of ['<CompleteMultipartUpload>', '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></CompleteMultipartUpload>']) {
    const r = await signedRaw(server, 'POST', path, { 'content-type': 'application/xml' }, body);
    expect([r.status, /<Code>(\w+)<\/Code>/.exec(r.text)?.[1]], body).toEqual([400, 'MalformedXML']);
  }
  // The single last part alone completes: only non-last parts have a minimum size.
  const done = await complete([withSums(2, p2.ETag!, 'last')]);
  expect(done.ETag).toBe(`"${createHash('md5').update(md5(Buffer.from('last'))).digest('hex')}-1"`);
  expect(server.store.getObject('mpu', 'errors.bin')?.body.toString()).toBe('last');
  const gone = await s3Error(complete([withSums(2, p2.ETag!, 'last')]));
  expect(gone.name).toBe('NoSuchUpload');
});

test('should list parts and uploads page by page, and forget aborted uploads', async () => {
  const a = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'list/a', ChecksumAlgorithm: 'CRC32' }));
  const b = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'list/b' }));
  for (const n of [1, 2, 3]) await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'list/a', UploadId: a.UploadId, PartNumber: n, Body: `part ${n}` }));
  const page1 = await s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'list/a', UploadId: a.UploadId, MaxParts: 2 }));
  expect(page1.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumCRC32])).toEqual([
    [1, 6, crc32b64(Buffer.from('part 1'))],
    [2, 6, crc32b64(Buffer.from('part 2'))],
  ]);
  expect([page1.IsTruncated, page1.NextPartNumberMarker]).toEqual([true, '2']);
  const page2 = await s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'list/a', UploadId: a.UploadId, PartNumberMarker: page1.NextPartNumberMarker }));
  expect(page2.Parts?.map((p) => p.PartNumber)).toEqual([3]);
  expect(page2.Parts?.[0]?.ETag).toBe(`"${md5(Buffer.from('part 3')).toString('hex')}"`);
  const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu', Prefix: 'list/' }));
  expect(uploads.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([
    ['list/a', a.UploadId],
    ['list/b', b.UploadId],
  ]);
  expect(uploads.Uploads?.[0]?.ChecksumAlgorithm).toBe('CRC32');
  const grouped = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu', Delimiter: '/' }));
  expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toContain('list/');
  const aborted = await s3.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'list/a', UploadId: a.UploadId }));
  expect(aborted.$metadata.httpStatusCode).toBe(204);
  await s3.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'list/b', UploadId: b.UploadId }));
  const again = await s3Error(s3.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'list/a', UploadId: a.UploadId })));
  expect(again.name).toBe('NoSuchUpload');
  expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'mpu', Prefix: 'list/' }))).Uploads ?? []).toEqual([]);
});

test('should keep FULL_OBJECT checksums whole and check the one sent with the complete request', async () => {
  const { UploadId, ChecksumType } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'full.bin', ChecksumAlgorithm: 'CRC32', ChecksumType: 'FULL_OBJECT' }),
  );
  expect(ChecksumType).toBe('FULL_OBJECT');
  const d1 = bytes(5 * MiB, 5);
  const d2 = bytes(1000, 6);
  const p1 = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'full.bin', UploadId, PartNumber: 1, Body: d1 }));
  const p2 = await s3.send(new UploadPartCommand({ Bucket: 'mpu', Key: 'full.bin', UploadId, PartNumber: 2, Body: d2 }));
  const Parts = [
    { PartNumber: 1, ETag: p1.ETag!, ChecksumCRC32: p1.ChecksumCRC32! },
    { PartNumber: 2, ETag: p2.ETag!, ChecksumCRC32: p2.ChecksumCRC32! },
  ];
  const whole = crc32b64(Buffer.concat([d1, d2]));
  const wrong = await s3Error(
    s3.send(new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: 'full.bin', UploadId, ChecksumCRC32: 'AAAAAA==', ChecksumType: 'FULL_OBJECT', MultipartUpload: { Parts } })),
  );
  expect(wrong.name).toBe('BadDigest');
  const done = await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: 'mpu', Key: 'full.bin', UploadId, ChecksumCRC32: whole, ChecksumType: 'FULL_OBJECT', MpuObjectSize: d1.length + d2.length, MultipartUpload: { Parts } }),
  );
  expect([done.ChecksumCRC32, done.ChecksumType]).toEqual([whole, 'FULL_OBJECT']);
  // A full-object checksum is checked by the SDK against the body it downloads.
  const got = await s3.send(new GetObjectCommand({ Bucket: 'mpu', Key: 'full.bin', ChecksumMode: 'ENABLED' }));
  expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([d1, d2]))).toBe(true);
  expect(got.ChecksumCRC32).toBe(whole);
});

test('should put CORS headers on multipart answers and errors, and expose ETag only when configured', async () => {
  await s3.send(new PutObjectCommand({ Bucket: 'mpu', Key: 'seed', Body: 'x' }));
  server.store.setCors('mpu', {
    CORSRules: [{ AllowedOrigins: ['http://app.example'], AllowedMethods: ['PUT', 'POST', 'GET', 'DELETE'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }],
  });
  try {
    const origin = { Origin: 'http://app.example' };
    const created = await signedRaw(server, 'POST', '/mpu/dir/cors.bin?uploads', origin);
    expect(created.status).toBe(200);
    expect(created.headers['access-control-allow-origin']).toBe('http://app.example');
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)![1]!;
    const part = await signedRaw(server, 'PUT', `/mpu/dir/cors.bin?partNumber=1&uploadId=${uploadId}`, origin, 'part');
    expect(part.headers['access-control-expose-headers']).toBe('ETag');
    expect(part.headers['etag']).toBe(`"${md5(Buffer.from('part')).toString('hex')}"`);
    const err = await signedRaw(server, 'PUT', `/mpu/dir/cors.bin?partNumber=1&uploadId=missing`, origin, 'part');
    expect([err.status, err.headers['access-control-allow-origin']]).toEqual([404, 'http://app.example']);
    const preflight = await raw(server, 'OPTIONS', `/mpu/dir/cors.bin?partNumber=1&uploadId=${uploadId}`, {
      ...origin,
      'Access-Control-Request-Method': 'PUT',
      'Access-Control-Request-Headers': 'x-amz-checksum-crc32,x-amz-sdk-checksum-algorithm',
    });
    expect(preflight.status).toBe(200);
    const xml = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${part.headers['etag']}</ETag></Part></CompleteMultipartUpload>`;
    const done = await signedRaw(server, 'POST', `/mpu/dir/cors.bin?uploadId=${uploadId}`, origin, xml);
    expect(done.status).toBe(200);
    expect(done.headers['access-control-allow-origin']).toBe('http://app.example');
    expect(done.text).toContain(`<Location>${server.url}/mpu/dir%2Fcors.bin</Location><Bucket>mpu</Bucket><Key>dir/cors.bin</Key>`);
  } finally {
    server.store.setCors('mpu', undefined);
  }
});

/**
 * A part sent as the signed variant, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: chunk signatures
 * chained from the seed signature and a signed trailing checksum, made with the SDK's own signer
 * the way sigv4-streaming-trailers.html describes (the server's arithmetic is pinned to AWS's
 * published example in sigv4-aws-examples.spec.ts; this checks the whole path into the part).
 */
async function signedTrailerPart(path: string, data: Buffer, trailerValue: string): Promise<{ status: number; text: string; headers: Record<string, string> }> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Sha256 } = await import('@aws-crypto/sha256-js');
  const signer = new SignatureV4({ credentials: { accessKeyId: 'corsproof', secretAccessKey: 'corsproof-secret' }, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
  const signingDate = new Date();
  const q = path.indexOf('?');
  const query = Object.fromEntries(new URLSearchParams(path.slice(q + 1)));
  const trailerLine = `x-amz-checksum-crc32:${trailerValue}`;
  // The encoded length is known before signing: one data chunk, the final chunk, the trailer.
  const sigLen = 64;
  const encodedLength =
    `${data.length.toString(16)};chunk-signature=`.length + sigLen + 2 + data.length + 2 + `0;chunk-signature=`.length + sigLen + 2 + trailerLine.length + 2 + 'x-amz-trailer-signature:'.length + sigLen + 2 + 2;
  const signed = await signer.sign(
    {
      method: 'PUT',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: server.port,
      path: path.slice(0, q),
      query,
      headers: {
        host: `127.0.0.1:${server.port}`,
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': String(data.length),
        'x-amz-trailer': 'x-amz-checksum-crc32',
        'content-length': String(encodedLength),
      },
    },
    { signingDate },
  );
  const seed = /Signature=([0-9a-f]{64})/.exec(String(signed.headers['authorization']))![1]!;
  const chunkSig = (payload: Buffer, prior: string) =>
    signer.sign({ headers: new Uint8Array(0), payload: new Uint8Array(payload) }, { signingDate, priorSignature: prior, signingRegion: 'us-east-1', signingService: 's3' });
  const s1 = await chunkSig(data, seed);
  const s2 = await chunkSig(Buffer.alloc(0), s1);
  const amzDate = String(signed.headers['x-amz-date']);
  const trailerSig = await signer.sign(
    ['AWS4-HMAC-SHA256-TRAILER', amzDate, `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`, s2, createHash('sha256').update(`${trailerLine}\n`).digest('hex')].join('\n'),
    { signingDate, signingRegion: 'us-east-1', signingService: 's3' },
  );
  const body = Buffer.concat([
    Buffer.from(`${data.length.toString(16)};chunk-signature=${s1}\r\n`),
    data,
    Buffer.from(`\r\n0;chunk-signature=${s2}\r\n${trailerLine}\r\nx-amz-trailer-signature:${trailerSig}\r\n\r\n`),
  ]);
  expect(body.length).toBe(encodedLength);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') headers[k] = String(v);
  return raw(server, 'PUT', path, headers, body);
}

test('should verify a part\'s signed trailing checksum (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)', async () => {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'mpu', Key: 'signed-trailer.bin', ChecksumAlgorithm: 'CRC32' }));
  const data = bytes(70_000, 8);
  const path = `/mpu/signed-trailer.bin?partNumber=1&uploadId=${UploadId}`;
  const ok = await signedTrailerPart(path, data, crc32b64(data));
  expect(ok.status, ok.text).toBe(200);
  expect(ok.headers['x-amz-checksum-crc32']).toBe(crc32b64(data));
  // The same upload with a wrong (but well-formed, and correctly signed) trailing checksum.
  const wrong = await signedTrailerPart(path.replace('partNumber=1', 'partNumber=2'), data, crc32b64(Buffer.from('other')));
  expect([wrong.status, /<Code>(\w+)/.exec(wrong.text)?.[1]]).toEqual([400, 'BadDigest']);
  const parts = await s3.send(new ListPartsCommand({ Bucket: 'mpu', Key: 'signed-trailer.bin', UploadId }));
  expect(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumCRC32])).toEqual([[1, data.length, crc32b64(data)]]);
  await s3.send(new AbortMultipartUploadCommand({ Bucket: 'mpu', Key: 'signed-trailer.bin', UploadId }));
});
