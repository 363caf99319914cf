/**
 * Integrity of a request body, as S3 checks it: `Content-MD5`, and the flexible checksums
 * `x-amz-checksum-<algorithm>` sent as a header or as an aws-chunked trailer
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
 *
 * The CRCs come from the AWS SDK's own implementations (`@aws-crypto/crc32`, `@aws-crypto/crc32c`:
 * the code that computes the checksums clients send), the digests from node:crypto. To verify
 * another algorithm (e.g. for multipart uploads' part checksums), add it to CHECKSUMS.
 */
import { crc32 } from '@aws-crypto/crc32';
import { crc32c } from '@aws-crypto/crc32c';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Errors } from './errors.js';

const CHECKSUM_PREFIX = 'x-amz-checksum-';

/** A CRC as S3 writes it: the 32-bit value big-endian, base64. */
const crcBase64 = (value: number): string => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value >>> 0);
  return b.toString('base64');
};

/**
 * The algorithms verified, by the name after `x-amz-checksum-`, each giving the base64 value S3
 * expects. `crc64nvme` is accepted unverified (no CRC-64/NVME implementation among corsproof's
 * dependencies); `x-amz-checksum-type` is not a checksum.
 */
export const CHECKSUMS: ReadonlyMap<string, (data: Uint8Array) => string> = new Map([
  ['crc32', (data: Uint8Array) => crcBase64(crc32(data))],
  ['crc32c', (data: Uint8Array) => crcBase64(crc32c(data))],
  ['sha1', (data: Uint8Array) => createHash('sha1').update(data).digest('base64')],
  ['sha256', (data: Uint8Array) => createHash('sha256').update(data).digest('base64')],
]);

/**
 * Throws S3's answer when `data` does not match what the request declared: InvalidDigest /
 * BadDigest for Content-MD5, BadDigest "The … you specified did not match the calculated checksum"
 * for a flexible checksum in a header or a trailer.
 */
export function verifyIntegrity(headers: IncomingHttpHeaders, data: Buffer, trailers: Array<[string, string]>): void {
  const md5 = headers['content-md5'];
  if (typeof md5 === 'string') {
    if (!/^[A-Za-z0-9+/]{22}==$/.test(md5.trim())) throw Errors.invalidDigest(md5);
    const computed = createHash('md5').update(data).digest('base64');
    if (computed !== md5.trim()) throw Errors.badDigest(md5, computed);
  }
  const declared: Array<[string, string]> = [...trailers];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(CHECKSUM_PREFIX) && typeof value === 'string') declared.push([name, value]);
  }
  for (const [name, value] of declared) {
    const algorithm = name.slice(CHECKSUM_PREFIX.length);
    const compute = CHECKSUMS.get(algorithm);
    if (compute !== undefined && compute(data) !== value.trim()) throw Errors.badChecksum(CHECKSUM_PREFIX + algorithm);
  }
}
