/**
 * Integrity of a request body, as S3 checks it: `Content-MD5` and the flexible checksums
 * `x-amz-checksum-<algorithm>` (as a header or an aws-chunked trailer).
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { crc32 } from 'node:zlib';
import { Errors } from './errors.js';

/** Content-MD5 and x-amz-checksum-{crc32,crc32c,sha1,sha256} are verified; crc64nvme is accepted unverified. */
export function verifyIntegrity(headers: IncomingHttpHeaders, data: Buffer, trailers: Array<[string, string]>): void {
  const md5 = headers['content-md5'];
  if (typeof md5 === 'string') {
    const ok = /^[A-Za-z0-9+/]{22}==$/.test(md5.trim());
    if (!ok) throw Errors.invalidDigest(md5);
    const computed = createHash('md5').update(data).digest('base64');
    if (computed !== md5.trim()) throw Errors.badDigest(md5, computed);
  }
  const checksums: Array<[string, string]> = [...trailers];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-amz-checksum-') && typeof value === 'string') checksums.push([name, value]);
  }
  for (const [name, value] of checksums) {
    const alg = name.slice('x-amz-checksum-'.length);
    let computed: string | undefined;
    if (alg === 'crc32') {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(crc32(data) >>> 0);
      computed = b.toString('base64');
    } else if (alg === 'crc32c') {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(crc32c(data));
      computed = b.toString('base64');
    } else if (alg === 'sha1' || alg === 'sha256') computed = createHash(alg).update(data).digest('base64');
    if (computed !== undefined && computed !== value.trim()) throw Errors.badChecksum(`x-amz-checksum-${alg}`);
  }
}

/** CRC-32C (Castagnoli), as in x-amz-checksum-crc32c; Node has CRC-32 built in but not this one. */
const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC32C_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
