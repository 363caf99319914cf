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
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Env } from '../context.js';
import { note, sendEmpty, sendXml } from '../context.js';
import { Errors, S3Error } from '../errors.js';
import {
  type ChecksumAlgorithm,
  type ChecksumType,
  ChecksumErrors,
  checksumHeader,
  parseAlgorithm,
  requestChecksum,
  verifyChecksum,
} from '../flexible-checksums.js';
import { objectArn, bucketArn } from '../policy.js';
import { type UploadInit, parsePartNumber } from '../multipart/uploads.js';
import { completeResultXml, initiateXml, listPartsXml, listUploadsXml, parseCompleteXml } from '../multipart/xml.js';

/** The largest CompleteMultipartUpload body read (10,000 parts with checksums fit well below it). */
const MAX_COMPLETE_BODY = 4 * 1024 * 1024;

/** What an operation needs from the router; the router owns authentication and body reading. */
export interface MultipartRequest {
  env: Env;
  req: IncomingMessage;
  res: ServerResponse;
  bucket: string;
  query: Record<string, string | string[]>;
  /** Throws AccessDenied unless the caller may do `action` on `resource`. */
  authorize(action: string, resource: string): void;
  /** The request body, size-limited, aws-chunked decoded and payload-signature verified. */
  readBody(limit: number): Promise<{ data: Buffer; trailers: Array<[string, string]> }>;
}

function first(q: Record<string, string | string[]>, k: string): string | undefined {
  const v = q[k];
  return Array.isArray(v) ? v[0] : v;
}

function headerOne(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Stored with an object and returned on GET/HEAD, as S3 stores them (as PutObject keeps them). */
const STORED_HEADERS: Array<[lower: string, canonical: string]> = [
  ['cache-control', 'Cache-Control'],
  ['content-disposition', 'Content-Disposition'],
  ['content-encoding', 'Content-Encoding'],
  ['content-language', 'Content-Language'],
  ['expires', 'Expires'],
];

/** Content-Type, `x-amz-meta-*` and the stored headers of the object-to-be, from the request. */
export function objectInitFromHeaders(req: IncomingMessage): Pick<UploadInit, 'contentType' | 'metadata' | 'headers'> {
  const metadata: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) metadata.push([name, Array.isArray(value) ? value.join(',') : value]);
  }
  const headers: Array<[string, string]> = [];
  for (const [lower, canonical] of STORED_HEADERS) {
    let v = headerOne(req, lower);
    if (lower === 'content-encoding' && v !== undefined) {
      // aws-chunked is a transfer detail of the upload, never part of the stored object.
      v = v.split(',').map((s) => s.trim()).filter((s) => s && s.toLowerCase() !== 'aws-chunked').join(', ');
      if (v === '') v = undefined;
    }
    if (v !== undefined) headers.push([canonical, v]);
  }
  const contentType = headerOne(req, 'content-type');
  return { ...(contentType ? { contentType } : {}), metadata, headers };
}

/** Content-MD5 of a part or body: InvalidDigest / BadDigest as for PutObject. */
function verifyContentMd5(req: IncomingMessage, data: Buffer): void {
  const md5 = headerOne(req, 'content-md5');
  if (md5 === undefined) return;
  if (!/^[A-Za-z0-9+/]{22}==$/.test(md5.trim())) throw Errors.invalidDigest(md5);
  const computed = createHash('md5').update(data).digest('base64');
  if (computed !== md5.trim()) throw Errors.badDigest(md5, computed);
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

export async function createMultipartUpload(r: MultipartRequest, key: string): Promise<void> {
  r.authorize('s3:PutObject', objectArn(r.bucket, key));
  const settings = createChecksumSettings(r.req);
  await r.readBody(r.env.limits.configBytes);
  const upload = r.env.store.uploads.create(r.bucket, key, { ...objectInitFromHeaders(r.req), ...settings });
  const headers: Array<[string, string]> = [];
  if (upload.checksumAlgorithm) headers.push(['x-amz-checksum-algorithm', upload.checksumAlgorithm]);
  if (upload.checksumType) headers.push(['x-amz-checksum-type', upload.checksumType]);
  note(r.res, `multipart upload ${upload.uploadId.slice(0, 12)}… created${upload.checksumAlgorithm ? ` (${upload.checksumAlgorithm} ${upload.checksumType})` : ''}`);
  sendXml(r.res, 200, initiateXml(r.bucket, key, upload.uploadId), headers);
}

// ---- UploadPart -------------------------------------------------------------------------------

export async function uploadPart(r: MultipartRequest, key: string): Promise<void> {
  const uploadId = first(r.query, 'uploadId') ?? '';
  const partText = first(r.query, 'partNumber') ?? '';
  if (r.req.headers['x-amz-copy-source'] !== undefined)
    throw Errors.notImplemented('UploadPartCopy is not implemented by this server', 'x-amz-copy-source');
  r.authorize('s3:PutObject', objectArn(r.bucket, key));
  const { uploads } = r.env.store;
  const upload = uploads.get(r.bucket, key, uploadId);
  const partNumber = parsePartNumber(partText);
  const max = r.env.limits.objectBytes;
  const body = await r.readBody(max);
  // corsproof limit: an upload's parts together may not exceed the object limit (memory).
  const others = uploads.parts(upload).reduce((n, p) => n + (p.partNumber === partNumber ? 0 : p.data.length), 0);
  if (others + body.data.length > max) throw Errors.entityTooLarge(others + body.data.length, max);
  verifyContentMd5(r.req, body.data);
  const checksum = requestChecksum(r.req.headers, body.trailers);
  if (checksum) verifyChecksum(checksum, body.data);
  const part = uploads.putPart(upload, partNumber, body.data, checksum);
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

export async function completeMultipartUpload(r: MultipartRequest, key: string): Promise<void> {
  const uploadId = first(r.query, 'uploadId') ?? '';
  r.authorize('s3:PutObject', objectArn(r.bucket, key));
  const { uploads } = r.env.store;
  const upload = uploads.get(r.bucket, key, uploadId);
  const body = await r.readBody(MAX_COMPLETE_BODY);
  verifyContentMd5(r.req, body.data);
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

export async function abortMultipartUpload(r: MultipartRequest, key: string): Promise<void> {
  r.authorize('s3:AbortMultipartUpload', objectArn(r.bucket, key));
  r.env.store.uploads.abort(r.bucket, key, first(r.query, 'uploadId') ?? '');
  sendEmpty(r.res, 204);
}

function intParam(q: Record<string, string | string[]>, name: string, fallback: number): number {
  const v = first(q, name);
  if (v === undefined || v === '') return fallback;
  if (!/^\d{1,9}$/.test(v)) throw Errors.invalidArgument(`Provided ${name} not an integer or within integer range`, name, v);
  return Number(v);
}

export function listParts(r: MultipartRequest, key: string): void {
  r.authorize('s3:ListMultipartUploadParts', objectArn(r.bucket, key));
  const { uploads } = r.env.store;
  const upload = uploads.get(r.bucket, key, first(r.query, 'uploadId') ?? '');
  const maxParts = Math.min(1000, intParam(r.query, 'max-parts', 1000));
  const marker = intParam(r.query, 'part-number-marker', 0);
  sendXml(r.res, 200, listPartsXml(upload, uploads.parts(upload), { marker, maxParts }));
}

export function listMultipartUploads(r: MultipartRequest): void {
  r.authorize('s3:ListBucketMultipartUploads', bucketArn(r.bucket));
  const q = (k: string) => first(r.query, k);
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
      maxUploads: Math.min(1000, intParam(r.query, 'max-uploads', 1000)),
      ...(encodingType === 'url' ? { encodingType: 'url' as const } : {}),
    }),
  );
}
