/**
 * The multipart-upload state and S3's checksum arithmetic, without HTTP
 * (servers/bucket/multipart/uploads.ts, servers/bucket/checksums.ts).
 */
import { createHash } from 'node:crypto';
import { crc32 as crc32Js } from '@aws-crypto/crc32';
import { expect, test } from '@playwright/test';
import { S3Error } from '../../servers/bucket/errors.js';
import {
  checksumOf,
  compositeChecksum,
  multipartEtag,
  requestChecksum,
  verifyChecksum,
} from '../../servers/bucket/checksums.js';
import { MIN_PART_BYTES, MultipartUploads, parsePartNumber } from '../../servers/bucket/multipart/uploads.js';
import { listPartsXml, listUploadsXml, parseCompleteXml } from '../../servers/bucket/multipart/xml.js';

function s3Error(fn: () => unknown): S3Error {
  try {
    fn();
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  throw new Error('expected an S3Error');
}

test.describe('checksum arithmetic', () => {
  test('should compute the catalogued check values of "123456789"', () => {
    // The CRC catalogue's check values (reveng.sourceforge.io) and the FIPS digests of "123456789".
    const data = Buffer.from('123456789');
    const hex = (alg: Parameters<typeof checksumOf>[0]) => Buffer.from(checksumOf(alg, data)!, 'base64').toString('hex');
    expect(hex('CRC32')).toBe('cbf43926');
    expect(hex('CRC32C')).toBe('e3069283');
    expect(hex('SHA1')).toBe('f7c3bc1d808e04732adf679965ccc34ca7ae3441');
    expect(hex('SHA256')).toBe('15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225');
    expect(checksumOf('CRC64NVME', data)).toBeUndefined();
  });

  test('should compute CRC32 as AWS’s own library does, whichever implementation this Node gives', () => {
    // zlib's crc32 where Node has it, @aws-crypto/crc32 otherwise (servers/bucket/checksums.ts).
    for (const size of [0, 1, 3, 4096, 65_537, 5 * 1024 * 1024 + 3]) {
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = (i * 2654435761) >>> 24;
      const expected = Buffer.alloc(4);
      expected.writeUInt32BE(crc32Js(data));
      expect(checksumOf('CRC32', data), `${size} bytes`).toBe(expected.toString('base64'));
    }
  });

  test('should reproduce a composite CRC32 that S3 computed for a five-part upload', () => {
    // GetObjectAttributes of a real 5-part upload, quoted in aws-samples/amazon-s3-checksum-verification#6:
    // part checksums and S3's object checksum (GetObjectAttributes omits the "-5").
    const parts = ['/HahzA==', 'HrlK1A==', 'bIrofQ==', 'ANviCQ==', 'CgbEDA=='];
    expect(compositeChecksum('CRC32', parts)).toBe('lMiKhQ==-5');
  });

  test('should form the multipart ETag from the binary MD5s of the parts', () => {
    const parts = [Buffer.alloc(10, 1), Buffer.alloc(3, 2)];
    const md5s = parts.map((p) => createHash('md5').update(p).digest());
    const expected = `"${createHash('md5').update(Buffer.concat(md5s)).digest('hex')}-2"`;
    expect(multipartEtag(md5s.map((m) => `"${m.toString('hex')}"`))).toBe(expected);
    expect(multipartEtag(md5s.map((m) => m.toString('hex')))).toBe(expected);
  });
});

test.describe('the checksum a request carries', () => {
  const CRC32 = 'y/Q5Jg=='; // CRC-32 of "123456789"
  const data = Buffer.from('123456789');

  test('should take one checksum from a header or a trailer and verify it', () => {
    const h = requestChecksum({ 'x-amz-checksum-crc32': CRC32, 'x-amz-sdk-checksum-algorithm': 'CRC32' });
    expect(h).toEqual({ algorithm: 'CRC32', value: CRC32, where: 'header' });
    verifyChecksum(h!, data);
    const t = requestChecksum({ 'x-amz-trailer': 'x-amz-checksum-crc32' }, [['x-amz-checksum-crc32', CRC32]]);
    expect(t).toEqual({ algorithm: 'CRC32', value: CRC32, where: 'trailer' });
    expect(requestChecksum({ 'content-type': 'text/plain', 'x-amz-checksum-mode': 'ENABLED' })).toBeUndefined();
  });

  test('should answer S3 errors for ill-formed checksum requests', () => {
    const mismatch = s3Error(() => verifyChecksum(requestChecksum({ 'x-amz-checksum-crc32': 'AAAAAA==' })!, data));
    expect([mismatch.code, mismatch.message]).toEqual(['BadDigest', 'The CRC32 you specified did not match the calculated checksum.']);
    const invalid = s3Error(() => requestChecksum({ 'x-amz-checksum-crc32': 'cbf43926' }));
    expect([invalid.code, invalid.message]).toEqual(['InvalidRequest', 'Value for x-amz-checksum-crc32 header is invalid.']);
    const two = s3Error(() => requestChecksum({ 'x-amz-checksum-crc32': CRC32, 'x-amz-checksum-crc32c': '4waSgw==' }));
    expect(two.message).toBe('Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    const bare = s3Error(() => requestChecksum({ 'x-amz-sdk-checksum-algorithm': 'CRC32' }));
    expect(bare.message).toBe('x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.');
    const unknown = s3Error(() => requestChecksum({ 'x-amz-sdk-checksum-algorithm': 'MD4', 'x-amz-checksum-crc32': CRC32 }));
    expect(unknown.message).toMatch(/^Checksum algorithm provided is unsupported/);
    // UNVERIFIED choice (pinned): the announced algorithm decides which digest is wrong.
    const other = s3Error(() => requestChecksum({ 'x-amz-sdk-checksum-algorithm': 'SHA256', 'x-amz-checksum-crc32': CRC32 }));
    expect([other.code, other.message]).toEqual(['BadDigest', 'The SHA256 you specified did not match the calculated checksum.']);
    const noTrailer = s3Error(() => requestChecksum({ 'x-amz-trailer': 'x-amz-checksum-crc32' }, []));
    expect(noTrailer.code).toBe('MalformedTrailerError');
    const badTrailer = s3Error(() => requestChecksum({}, [['x-amz-checksum-crc32', 'y/Q5Jg']]));
    expect(badTrailer.message).toBe('Value for x-amz-checksum-crc32 trailing header is invalid.');
  });

  test('should admit a composite value only where asked to', () => {
    expect(() => requestChecksum({ 'x-amz-checksum-crc32': 'lMiKhQ==-5' })).toThrow(S3Error);
    expect(requestChecksum({ 'x-amz-checksum-crc32': 'lMiKhQ==-5' }, [], { composite: true })?.value).toBe('lMiKhQ==-5');
  });
});

test.describe('multipart uploads', () => {
  const big = (fill: number) => Buffer.alloc(MIN_PART_BYTES, fill);
  const init = { metadata: [] as Array<[string, string]>, headers: [] as Array<[string, string]> };

  test('should hand out URL-safe upload ids that a command line never takes for an option', () => {
    // One random base64url id in 64 starts with "-", which `aws s3api … --upload-id <id>` then
    // rejects ("expected one argument"); 2000 ids all but surely include such draws.
    const m = new MultipartUploads();
    const ids = Array.from({ length: 2000 }, () => m.create('b', 'k', init).uploadId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{63}$/);
  });

  test('should assemble the parts named, in order, into the object with S3\'s ETag', () => {
    const m = new MultipartUploads();
    const u = m.create('b', 'k', { ...init, contentType: 'text/plain', metadata: [['x-amz-meta-a', '1']] });
    const p2 = m.putPart(u, 2, Buffer.from('tail'), undefined);
    const p1 = m.putPart(u, 1, big(1), undefined);
    m.putPart(u, 3, Buffer.from('never listed'), undefined);
    expect(p1.etag).toBe(`"${createHash('md5').update(big(1)).digest('hex')}"`);
    const done = m.complete(u, [
      { partNumber: 1, etag: p1.etag, checksums: {} },
      { partNumber: 2, etag: p2.etag.replace(/"/g, ''), checksums: {} },
    ]);
    expect(done.body.equals(Buffer.concat([big(1), Buffer.from('tail')]))).toBe(true);
    expect(done.etag).toBe(multipartEtag([p1.etag, p2.etag]));
    expect(done.etag).toMatch(/^"[0-9a-f]{32}-2"$/);
    expect(done.partSizes).toEqual([MIN_PART_BYTES, 4]);
    expect(done.init.contentType).toBe('text/plain');
    expect(done.checksum).toBeUndefined();
    // Completed: the upload is gone.
    expect(s3Error(() => m.get('b', 'k', u.uploadId)).code).toBe('NoSuchUpload');
  });

  test('should refuse out-of-order, unknown, mismatched and too-small parts as S3 does', () => {
    const m = new MultipartUploads();
    const u = m.create('b', 'k', init);
    const p1 = m.putPart(u, 1, Buffer.from('small'), undefined);
    const p2 = m.putPart(u, 2, Buffer.from('last'), undefined);
    const order = s3Error(() => m.complete(u, [{ partNumber: 2, etag: p2.etag, checksums: {} }, { partNumber: 1, etag: p1.etag, checksums: {} }]));
    expect([order.code, order.status]).toEqual(['InvalidPartOrder', 400]);
    const dup = s3Error(() => m.complete(u, [{ partNumber: 1, etag: p1.etag, checksums: {} }, { partNumber: 1, etag: p1.etag, checksums: {} }]));
    expect(dup.code).toBe('InvalidPartOrder');
    const missing = s3Error(() => m.complete(u, [{ partNumber: 7, etag: '"abc"', checksums: {} }]));
    expect([missing.code, missing.fields]).toEqual(['InvalidPart', [['UploadId', u.uploadId], ['PartNumber', '7'], ['ETag', 'abc']]]);
    const wrongTag = s3Error(() => m.complete(u, [{ partNumber: 1, etag: '"00000000000000000000000000000000"', checksums: {} }]));
    expect(wrongTag.code).toBe('InvalidPart');
    const small = s3Error(() => m.complete(u, [{ partNumber: 1, etag: p1.etag, checksums: {} }, { partNumber: 2, etag: p2.etag, checksums: {} }]));
    expect(small.code).toBe('EntityTooSmall');
    expect(small.message).toBe('Your proposed upload is smaller than the minimum allowed size');
    expect(small.fields).toEqual([['ProposedSize', '5'], ['MinSizeAllowed', String(MIN_PART_BYTES)], ['PartNumber', '1'], ['ETag', p1.etag.replace(/"/g, '')]]);
    // A single small part is fine: only non-last parts have a minimum.
    expect(m.complete(u, [{ partNumber: 1, etag: p1.etag, checksums: {} }]).body.toString()).toBe('small');
  });

  test('should keep uploads apart by bucket and key, and forget aborted ones', () => {
    const m = new MultipartUploads();
    const u = m.create('b', 'k', init);
    expect(s3Error(() => m.get('b', 'other', u.uploadId)).code).toBe('NoSuchUpload');
    expect(s3Error(() => m.get('c', 'k', u.uploadId)).code).toBe('NoSuchUpload');
    const v = m.create('b', 'a', init);
    expect(m.list('b').map((x) => x.key)).toEqual(['a', 'k']);
    m.abort('b', 'k', u.uploadId);
    expect(s3Error(() => m.abort('b', 'k', u.uploadId)).status).toBe(404);
    m.dropBucket('b');
    expect(m.list('b')).toEqual([]);
    expect(s3Error(() => m.get('b', 'a', v.uploadId)).code).toBe('NoSuchUpload');
  });

  test('should validate part numbers', () => {
    expect(parsePartNumber('1')).toBe(1);
    expect(parsePartNumber('10000')).toBe(10000);
    for (const bad of ['0', '10001', '-1', '1.5', 'x', '']) {
      const e = s3Error(() => parsePartNumber(bad));
      expect([e.code, e.message, e.fields]).toEqual([
        'InvalidArgument',
        'Part number must be an integer between 1 and 10000, inclusive',
        [['ArgumentName', 'partNumber'], ['ArgumentValue', bad]],
      ]);
    }
  });

  test('should build a composite checksum and demand part checksums for a COMPOSITE upload', () => {
    const m = new MultipartUploads();
    const u = m.create('b', 'k', { ...init, checksumAlgorithm: 'CRC32', checksumType: 'COMPOSITE' });
    const d1 = big(3);
    const d2 = Buffer.from('end');
    const c1 = checksumOf('CRC32', d1)!;
    const c2 = checksumOf('CRC32', d2)!;
    const noSum = s3Error(() => m.putPart(u, 1, d1, undefined));
    expect(noSum.message).toBe('Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: null');
    const otherAlg = s3Error(() => m.putPart(u, 1, d1, { algorithm: 'SHA256', value: checksumOf('SHA256', d1)!, where: 'header' }));
    expect(otherAlg.message).toBe('Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: sha256');
    const p1 = m.putPart(u, 1, d1, { algorithm: 'CRC32', value: c1, where: 'header' });
    const p2 = m.putPart(u, 2, d2, { algorithm: 'CRC32', value: c2, where: 'trailer' });
    const without = s3Error(() => m.complete(u, [{ partNumber: 1, etag: p1.etag, checksums: {} }, { partNumber: 2, etag: p2.etag, checksums: { CRC32: c2 } }]));
    expect(without.message).toBe(
      'The upload was created using a crc32 checksum. The complete request must include the checksum for each part. It was missing for part 1 in the request.',
    );
    const wrong = s3Error(() => m.complete(u, [{ partNumber: 1, etag: p1.etag, checksums: { CRC32: c2 } }, { partNumber: 2, etag: p2.etag, checksums: { CRC32: c2 } }]));
    expect(wrong.code).toBe('InvalidPart');
    const done = m.complete(u, [
      { partNumber: 1, etag: p1.etag, checksums: { CRC32: c1 } },
      { partNumber: 2, etag: p2.etag, checksums: { CRC32: c2 } },
    ]);
    expect(done.checksum).toEqual({ algorithm: 'CRC32', value: compositeChecksum('CRC32', [c1, c2]), type: 'COMPOSITE' });
    expect(done.checksum!.value).toMatch(/^[A-Za-z0-9+/]{6}==-2$/);
  });

  test('should give a FULL_OBJECT upload the checksum of the whole object', () => {
    const m = new MultipartUploads();
    const u = m.create('b', 'k', { ...init, checksumAlgorithm: 'CRC32C', checksumType: 'FULL_OBJECT' });
    const d1 = big(4);
    const d2 = Buffer.from('end');
    // FULL_OBJECT parts need no checksum of their own; ListParts still shows one.
    const p1 = m.putPart(u, 1, d1, undefined);
    expect(p1.checksum).toEqual({ algorithm: 'CRC32C', value: checksumOf('CRC32C', d1) });
    const p2 = m.putPart(u, 2, d2, { algorithm: 'CRC32C', value: checksumOf('CRC32C', d2)!, where: 'header' });
    const whole = checksumOf('CRC32C', Buffer.concat([d1, d2]))!;
    const modes = s3Error(() => m.complete(u, [{ partNumber: 1, etag: p1.etag, checksums: {} }], { checksumType: 'COMPOSITE' }));
    expect(modes.message).toBe('The upload was created using the FULL_OBJECT checksum mode. The complete request must use the same checksum mode.');
    const bad = s3Error(() =>
      m.complete(u, [{ partNumber: 1, etag: p1.etag, checksums: {} }, { partNumber: 2, etag: p2.etag, checksums: {} }], {
        objectChecksum: { algorithm: 'CRC32C', value: 'AAAAAA==', where: 'header' },
      }),
    );
    expect(bad.code).toBe('BadDigest');
    const done = m.complete(u, [{ partNumber: 1, etag: p1.etag, checksums: {} }, { partNumber: 2, etag: p2.etag, checksums: {} }], {
      objectChecksum: { algorithm: 'CRC32C', value: whole, where: 'header' },
    });
    expect(done.checksum).toEqual({ algorithm: 'CRC32C', value: whole, type: 'FULL_OBJECT' });
  });

  test('should accept part checksums on an upload created without an algorithm, and then want them named', () => {
    const m = new MultipartUploads();
    const u = m.create('b', 'k', init);
    const d = Buffer.from('only');
    const c = checksumOf('CRC32', d)!;
    const p = m.putPart(u, 1, d, { algorithm: 'CRC32', value: c, where: 'header' });
    expect(s3Error(() => m.complete(u, [{ partNumber: 1, etag: p.etag, checksums: {} }])).code).toBe('InvalidPart');
    const done = m.complete(u, [{ partNumber: 1, etag: p.etag, checksums: { CRC32: c } }]);
    expect(done.checksum).toBeUndefined();
  });
});

test.describe('multipart XML', () => {
  test('should read the parts of a CompleteMultipartUpload body as the SDK writes it', () => {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      '<Part><ChecksumCRC32>y/Q5Jg==</ChecksumCRC32><ETag>&quot;aa&quot;</ETag><PartNumber>1</PartNumber></Part>' +
      '<Part><ETag>"bb"</ETag><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>';
    expect(parseCompleteXml(body)).toEqual([
      { partNumber: 1, etag: '"aa"', checksums: { CRC32: 'y/Q5Jg==' } },
      { partNumber: 2, etag: '"bb"', checksums: {} },
    ]);
  });

  test('should answer MalformedXML for anything else', () => {
    for (const body of ['', 'not xml', '<Other/>', '<CompleteMultipartUpload></CompleteMultipartUpload>', '<CompleteMultipartUpload><Part><ETag>x</ETag></Part></CompleteMultipartUpload>']) {
      expect(s3Error(() => parseCompleteXml(body)).code, body).toBe('MalformedXML');
    }
  });

  test('should page ListParts and ListMultipartUploads', () => {
    const m = new MultipartUploads();
    const u = m.create('b', 'dir/k', { metadata: [], headers: [], checksumAlgorithm: 'CRC32', checksumType: 'FULL_OBJECT' });
    for (const n of [1, 2, 3]) m.putPart(u, n, Buffer.from(`p${n}`), undefined);
    const page = listPartsXml(u, m.parts(u), { marker: 1, maxParts: 1 });
    expect(page).toContain('<PartNumberMarker>1</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker><MaxParts>1</MaxParts><IsTruncated>true</IsTruncated>');
    expect(page).toContain(`<PartNumber>2</PartNumber>`);
    expect(page).not.toContain(`<PartNumber>3</PartNumber>`);
    expect(page).toContain(`<ChecksumCRC32>${checksumOf('CRC32', Buffer.from('p2'))}</ChecksumCRC32>`);
    expect(page).toMatch(/<ChecksumAlgorithm>CRC32<\/ChecksumAlgorithm><ChecksumType>FULL_OBJECT<\/ChecksumType><\/ListPartsResult>$/);
    m.create('b', 'dir/l', { metadata: [], headers: [] });
    m.create('b', 'top', { metadata: [], headers: [] });
    const grouped = listUploadsXml(m.list('b'), { bucket: 'b', prefix: '', delimiter: '/', maxUploads: 1000 });
    expect(grouped).toContain('<CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>');
    expect(grouped.match(/<Upload>/g)).toHaveLength(1);
    const first = listUploadsXml(m.list('b'), { bucket: 'b', prefix: 'dir/', maxUploads: 1 });
    expect(first).toContain(`<NextKeyMarker>dir/k</NextKeyMarker><NextUploadIdMarker>${u.uploadId}</NextUploadIdMarker>`);
    const second = listUploadsXml(m.list('b'), { bucket: 'b', prefix: 'dir/', maxUploads: 1, keyMarker: 'dir/k', uploadIdMarker: u.uploadId });
    expect(second).toContain('<Key>dir/l</Key>');
    expect(second).toContain('<IsTruncated>false</IsTruncated>');
  });
});
