/**
 * The multipart-upload operations on the wire: CreateMultipartUpload (`POST ?uploads`), UploadPart
 * (`PUT ?partNumber&uploadId`), CompleteMultipartUpload (`POST ?uploadId`), AbortMultipartUpload
 * (`DELETE ?uploadId`), ListParts (`GET ?uploadId`) and ListMultipartUploads (bucket `GET ?uploads`).
 * The state and its errors are ../multipart/uploads.ts; CORS headers are decided by the router
 * before these run, so every answer here (errors included) carries them.
 *
 * References: https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html and
 * the sibling pages for each operation.
 */
import type { IncomingMessage } from 'node:http';
import { note, sendEmpty, sendXml } from '../context.js';
import { Errors, S3Error } from '../errors.js';
import {
  type ChecksumAlgorithm,
  type ChecksumType,
  ChecksumErrors,
  checksumHeader,
  parseAlgorithm,
  requestChecksum,
  verifyContentMd5,
} from '../checksums.js';
import type { Route, S3Call } from '../operation.js';
import { objectArn, bucketArn } from '../policy.js';
import { parsePartNumber } from '../multipart/uploads.js';
import { storedAttributes } from './objects.js';
import { completeResultXml, initiateXml, listPartsXml, listUploadsXml, parseCompleteXml } from '../multipart/xml.js';

export const multipartRoutes: Route[] = [
  { name: 'CreateMultipartUpload', resource: 'object', method: 'POST', sub: 'uploads', op: createMultipartUpload },
  { name: 'UploadPart', resource: 'object', method: 'PUT', sub: 'uploadId', op: uploadPart },
  { name: 'CompleteMultipartUpload', resource: 'object', method: 'POST', sub: 'uploadId', op: completeMultipartUpload },
  { name: 'AbortMultipartUpload', resource: 'object', method: 'DELETE', sub: 'uploadId', op: abortMultipartUpload },
  { name: 'ListParts', resource: 'object', method: 'GET', sub: 'uploadId', op: listParts },
  { name: 'ListMultipartUploads', resource: 'bucket', method: 'GET', sub: 'uploads', op: listMultipartUploads },
];

/** The largest CompleteMultipartUpload body read (10,000 parts with checksums fit well below it). */
const MAX_COMPLETE_BODY = 4 * 1024 * 1024;

function headerOne(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

// ---- CreateMultipartUpload -------------------------------------------------------------------

/**
 * The checksum settings of CreateMultipartUpload. S3's defaults: COMPOSITE for CRC32, CRC32C, SHA1
 * and SHA256, FULL_OBJECT for CRC64NVME (checking-object-integrity-upload).
 * UNVERIFIED choice (S3's wording not found): an unsupported combination, or a type without an
 * algorithm, is InvalidRequest naming both.
 */
export function createChecksumSettings(req: IncomingMessage): { checksumAlgorithm?: ChecksumAlgorithm; checksumType?: ChecksumType } {
  const algText = headerOne(req, 'x-amz-checksum-algorithm');
  const typeText = headerOne(req, 'x-amz-checksum-type');
  if (algText === undefined) {
    if (typeText !== undefined)
      throw new S3Error(400, 'InvalidRequest', 'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.');
    return {};
  }
  const algorithm = parseAlgorithm(algText);
  if (!algorithm) throw ChecksumErrors.unsupportedAlgorithm(algText);
  let type: ChecksumType;
  if (typeText === undefined) type = algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE';
  else if (typeText.toUpperCase() === 'COMPOSITE' || typeText.toUpperCase() === 'FULL_OBJECT') type = typeText.toUpperCase() as ChecksumType;
  else throw new S3Error(400, 'InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  const fullObjectOk = algorithm === 'CRC32' || algorithm === 'CRC32C' || algorithm === 'CRC64NVME';
  if ((type === 'FULL_OBJECT' && !fullObjectOk) || (type === 'COMPOSITE' && algorithm === 'CRC64NVME'))
    throw new S3Error(400, 'InvalidRequest', `The ${type} checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`);
  return { checksumAlgorithm: algorithm, checksumType: type };
}

async function createMultipartUpload(r: S3Call): Promise<void> {
  const key = r.key;
  r.authorize('s3:PutObject', objectArn(r.bucket, key));
  const settings = createChecksumSettings(r.req);
  await r.readObjectBody({ limit: r.env.limits.configBytes, optional: true });
  const upload = r.env.store.uploads.create(r.bucket, key, { ...storedAttributes(r.req), ...settings });
  const headers: Array<[string, string]> = [];
  if (upload.checksumAlgorithm) headers.push(['x-amz-checksum-algorithm', upload.checksumAlgorithm]);
  if (upload.checksumType) headers.push(['x-amz-checksum-type', upload.checksumType]);
  note(r.res, `multipart upload ${upload.uploadId.slice(0, 12)}… created${upload.checksumAlgorithm ? ` (${upload.checksumAlgorithm} ${upload.checksumType})` : ''}`);
  sendXml(r.res, 200, initiateXml(r.bucket, key, upload.uploadId), headers);
}

// ---- UploadPart -------------------------------------------------------------------------------

async function uploadPart(r: S3Call): Promise<void> {
  const key = r.key;
  const uploadId = r.param('uploadId') ?? '';
  const partText = r.param('partNumber') ?? '';
  if (r.req.headers['x-amz-copy-source'] !== undefined)
    throw Errors.notImplemented('UploadPartCopy is not implemented by this server', 'x-amz-copy-source');
  r.authorize('s3:PutObject', objectArn(r.bucket, key));
  const { uploads } = r.env.store;
  const upload = uploads.get(r.bucket, key, uploadId);
  const partNumber = parsePartNumber(partText);
  const max = r.env.limits.objectBytes;
  // Content-MD5 and the part's flexible checksum are verified by the body reader.
  const body = await r.readObjectBody();
  // corsproof limit: an upload's parts together may not exceed the object limit (memory).
  const others = uploads.parts(upload).reduce((n, p) => n + (p.partNumber === partNumber ? 0 : p.data.length), 0);
  if (others + body.data.length > max) throw Errors.entityTooLarge(others + body.data.length, max);
  const part = uploads.putPart(upload, partNumber, body.data, body.checksum);
  const headers: Array<[string, string]> = [['ETag', part.etag]];
  if (part.checksum) headers.push([checksumHeader(part.checksum.algorithm), part.checksum.value]);
  note(r.res, `stored part ${partNumber} (${body.data.length} bytes)`);
  sendEmpty(r.res, 200, headers);
}

// ---- CompleteMultipartUpload ------------------------------------------------------------------

/** `http://host/bucket/key` with the key percent-encoded, `/` included, as S3's Location. */
export function objectUrl(req: IncomingMessage, bucket: string, key: string): string {
  const secure = (req.socket as { encrypted?: boolean }).encrypted === true;
  return `${secure ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}/${encodeURIComponent(bucket)}/${encodeURIComponent(key)}`;
}

async function completeMultipartUpload(r: S3Call): Promise<void> {
  const key = r.key;
  const uploadId = r.param('uploadId') ?? '';
  r.authorize('s3:PutObject', objectArn(r.bucket, key));
  const { uploads } = r.env.store;
  const upload = uploads.get(r.bucket, key, uploadId);
  // Here x-amz-checksum-<alg> is the whole object's checksum, not the body's: checked below.
  const body = await r.readObjectBody({ limit: MAX_COMPLETE_BODY, integrity: false });
  const md5 = headerOne(r.req, 'content-md5');
  if (md5 !== undefined) verifyContentMd5(md5, body.data);
  const parts = parseCompleteXml(body.data.toString('utf8'));
  // Here x-amz-checksum-<alg> is the whole object's checksum (`…-N` when composite), not the body's.
  const objectChecksum = requestChecksum(r.req.headers, [], { composite: true });
  const typeText = headerOne(r.req, 'x-amz-checksum-type')?.toUpperCase();
  if (typeText !== undefined && typeText !== 'COMPOSITE' && typeText !== 'FULL_OBJECT')
    throw new S3Error(400, 'InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
  const done = uploads.complete(upload, parts, {
    ...(objectChecksum ? { objectChecksum } : {}),
    ...(typeText !== undefined ? { checksumType: typeText as ChecksumType } : {}),
  });
  const max = r.env.limits.objectBytes;
  if (done.body.length > max) throw Errors.entityTooLarge(done.body.length, max);
  const sizeText = headerOne(r.req, 'x-amz-mp-object-size');
  if (sizeText !== undefined && sizeText.trim() !== String(done.body.length))
    // UNVERIFIED choice: S3's wording for a wrong x-amz-mp-object-size is not on record.
    throw new S3Error(400, 'InvalidRequest', `The provided 'x-amz-mp-object-size' header value ${sizeText.trim()} does not match what was computed: ${done.body.length}`);
  r.env.store.put(r.bucket, key, {
    body: done.body,
    ...(done.init.contentType ? { contentType: done.init.contentType } : {}),
    metadata: done.init.metadata,
    headers: done.init.headers,
    etag: done.etag,
    ...(done.checksum ? { checksum: done.checksum } : {}),
    partSizes: done.partSizes,
  });
  note(r.res, `completed multipart upload: ${parts.length} part(s), ${done.body.length} bytes, ETag ${done.etag}`);
  sendXml(
    r.res,
    200,
    completeResultXml({ location: objectUrl(r.req, r.bucket, key), bucket: r.bucket, key, etag: done.etag, ...(done.checksum ? { checksum: done.checksum } : {}) }),
  );
}

// ---- AbortMultipartUpload, ListParts, ListMultipartUploads ------------------------------------

function abortMultipartUpload(r: S3Call): void {
  const key = r.key;
  r.authorize('s3:AbortMultipartUpload', objectArn(r.bucket, key));
  r.env.store.uploads.abort(r.bucket, key, r.param('uploadId') ?? '');
  sendEmpty(r.res, 204);
}

function intParam(r: S3Call, name: string, fallback: number): number {
  const v = r.param(name);
  if (v === undefined || v === '') return fallback;
  if (!/^\d{1,9}$/.test(v)) throw Errors.invalidArgument(`Provided ${name} not an integer or within integer range`, name, v);
  return Number(v);
}

function listParts(r: S3Call): void {
  const key = r.key;
  r.authorize('s3:ListMultipartUploadParts', objectArn(r.bucket, key));
  const { uploads } = r.env.store;
  const upload = uploads.get(r.bucket, key, r.param('uploadId') ?? '');
  const maxParts = Math.min(1000, intParam(r, 'max-parts', 1000));
  const marker = intParam(r, 'part-number-marker', 0);
  sendXml(r.res, 200, listPartsXml(upload, uploads.parts(upload), { marker, maxParts }));
}

function listMultipartUploads(r: S3Call): void {
  r.authorize('s3:ListBucketMultipartUploads', bucketArn(r.bucket));
  const q = (k: string) => r.param(k);
  const encodingType = q('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') throw Errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType);
  const delimiter = q('delimiter');
  const keyMarker = q('key-marker');
  const uploadIdMarker = q('upload-id-marker');
  sendXml(
    r.res,
    200,
    listUploadsXml(r.env.store.uploads.list(r.bucket), {
      bucket: r.bucket,
      prefix: q('prefix') ?? '',
      ...(delimiter ? { delimiter } : {}),
      ...(keyMarker ? { keyMarker } : {}),
      ...(keyMarker && uploadIdMarker ? { uploadIdMarker } : {}),
      maxUploads: Math.min(1000, intParam(r, 'max-uploads', 1000)),
      ...(encodingType === 'url' ? { encodingType: 'url' as const } : {}),
    }),
  );
}
