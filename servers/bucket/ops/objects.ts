/**
 * Objects: GetObject and HeadObject (conditional requests, a single byte range or `?partNumber=`,
 * `response-*` overrides, the stored checksum on request), PutObject (metadata, stored headers,
 * its verified checksum kept and echoed), DeleteObject.
 * `objectHeaders` is also what the website endpoint (../website.ts) serves objects with.
 */
import type { IncomingMessage } from 'node:http';
import { checksumHeader } from '../checksums.js';
import { parsePartNumber } from '../multipart/uploads.js';
import type { StoredObject } from '../store.js';
import { note, sendBody, sendEmpty } from '../context.js';
import { Errors, S3Error } from '../errors.js';
import type { Route, S3Call } from '../operation.js';
import { bucketArn, objectArn } from '../policy.js';

export const objectsRoutes: Route[] = [
  { name: 'GetObject', resource: 'object', method: 'GET', op: (call) => getObject(call, false) },
  { name: 'HeadObject', resource: 'object', method: 'HEAD', op: (call) => getObject(call, true) },
  { name: 'PutObject', resource: 'object', method: 'PUT', op: putObject },
  { name: 'DeleteObject', resource: 'object', method: 'DELETE', op: deleteObject },
];

/** Stored with an object and returned on GET/HEAD, as S3 stores them. */
const STORED_HEADERS: Array<[lower: string, canonical: string]> = [
  ['cache-control', 'Cache-Control'],
  ['content-disposition', 'Content-Disposition'],
  ['content-encoding', 'Content-Encoding'],
  ['content-language', 'Content-Language'],
  ['expires', 'Expires'],
];

const RESPONSE_OVERRIDES: Array<[param: string, header: string]> = [
  ['response-cache-control', 'Cache-Control'],
  ['response-content-disposition', 'Content-Disposition'],
  ['response-content-encoding', 'Content-Encoding'],
  ['response-content-language', 'Content-Language'],
  ['response-content-type', 'Content-Type'],
  ['response-expires', 'Expires'],
];

function getObject(call: S3Call, head: boolean): void {
  const resource = objectArn(call.bucket, call.key);
  call.authorize('s3:GetObject', resource);
  const o = call.env.store.get(call.bucket, call.key);
  if (!o) {
    // S3 hides whether a key exists from callers who may not list the bucket: 403, not 404.
    if (!call.mayAnonymously('s3:ListBucket', bucketArn(call.bucket)))
      throw Errors.accessDenied('the key does not exist and the caller may not list the bucket');
    throw Errors.noSuchKey(call.key);
  }
  const overrides: Array<[string, string]> = [];
  for (const [param, header] of RESPONSE_OVERRIDES) {
    const v = call.param(param);
    if (v !== undefined) overrides.push([header, v]);
  }
  if (overrides.length > 0 && !call.isOwner())
    throw new S3Error(400, 'InvalidRequest', 'Request specific response headers cannot be used for anonymous GET requests.');
  const conditional = checkConditions(call, o);
  const headers = objectHeaders(o, overrides);
  if (conditional === 304) return sendEmpty(call.res, 304, headers.filter(([k]) => k === 'Last-Modified' || k === 'ETag'), null);
  const partText = call.param('partNumber');
  const r = partText !== undefined ? partRange(call, o, partText) : range(call, o.body.length);
  if (r) {
    const part = o.body.subarray(r.start, r.end + 1);
    const extra: Array<[string, string]> = [['Content-Range', `bytes ${r.start}-${r.end}/${o.body.length}`]];
    if (partText !== undefined && o.partSizes) extra.push(['x-amz-mp-parts-count', String(o.partSizes.length)]);
    return sendBody(call.res, 206, part, [...headers, ...extra], head);
  }
  sendBody(call.res, 200, o.body, [...headers, ...checksumHeaders(call, o)], head);
}

/**
 * The stored checksum, on a whole-object GET/HEAD that asks for it (`x-amz-checksum-mode: ENABLED`,
 * the SDK's default). Never on a range or a part: a client would check it against a partial body.
 */
function checksumHeaders(call: S3Call, o: StoredObject): Array<[string, string]> {
  if (!o.checksum || call.header('x-amz-checksum-mode')?.toUpperCase() !== 'ENABLED') return [];
  return [
    [checksumHeader(o.checksum.algorithm), o.checksum.value],
    ['x-amz-checksum-type', o.checksum.type],
  ];
}

/**
 * `?partNumber=N` on GET/HEAD: the bytes of part N of a multipart object, answered 206 with its
 * Content-Range and `x-amz-mp-parts-count`; an object stored in one request has just part 1.
 * UNVERIFIED choice (wording from S3-compatible servers): a part beyond the last is 416
 * InvalidPartNumber "The requested partnumber is not satisfiable"; with a Range header as well,
 * 400 InvalidRequest "Cannot specify both Range header and partNumber query parameter".
 */
function partRange(call: S3Call, o: StoredObject, partText: string): { start: number; end: number } {
  const n = parsePartNumber(partText);
  if (call.header('range') !== undefined) throw new S3Error(400, 'InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  const sizes = o.partSizes ?? [o.body.length];
  if (n > sizes.length)
    throw new S3Error(416, 'InvalidPartNumber', 'The requested partnumber is not satisfiable', [
      ['PartNumberRequested', String(n)],
      ['ActualPartCount', String(sizes.length)],
    ]);
  const start = sizes.slice(0, n - 1).reduce((a, b) => a + b, 0);
  return { start, end: start + sizes[n - 1]! - 1 };
}

/** If-Match / If-Unmodified-Since → 412; If-None-Match / If-Modified-Since → 304 (RFC 7232 order). */
function checkConditions(call: S3Call, o: StoredObject): 304 | undefined {
  const ifMatch = call.header('if-match');
  const ifNoneMatch = call.header('if-none-match');
  const ifModifiedSince = call.header('if-modified-since');
  const ifUnmodifiedSince = call.header('if-unmodified-since');
  const etagIn = (list: string) => list.split(',').map((s) => s.trim()).some((t) => t === '*' || t === o.etag || `"${t}"` === o.etag);
  if (ifMatch !== undefined && !etagIn(ifMatch)) throw Errors.preconditionFailed('If-Match');
  if (ifMatch === undefined && ifUnmodifiedSince !== undefined) {
    const t = Date.parse(ifUnmodifiedSince);
    if (!Number.isNaN(t) && o.lastModified.getTime() > t) throw Errors.preconditionFailed('If-Unmodified-Since');
  }
  if (ifNoneMatch !== undefined) return etagIn(ifNoneMatch) ? 304 : undefined;
  if (ifModifiedSince !== undefined) {
    const t = Date.parse(ifModifiedSince);
    if (!Number.isNaN(t) && o.lastModified.getTime() <= t) return 304;
  }
  return undefined;
}

/** A single `bytes=` range; anything S3 would ignore (multiple ranges, other units) serves the whole object. */
function range(call: S3Call, size: number): { start: number; end: number } | undefined {
  const h = call.header('range');
  if (!h) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) throw Errors.invalidRange(h, size);
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (start >= size || start > end) throw Errors.invalidRange(h, size);
  }
  return { start, end };
}

async function putObject(call: S3Call): Promise<void> {
  if (call.req.headers['x-amz-copy-source'] !== undefined)
    throw Errors.notImplemented('CopyObject is not implemented by this server', 'x-amz-copy-source');
  call.authorize('s3:PutObject', objectArn(call.bucket, call.key));
  const body = await call.readObjectBody();
  const o = call.env.store.put(call.bucket, call.key, {
    body: body.data,
    ...storedAttributes(call.req),
    // A single-request upload's checksum is always FULL_OBJECT.
    ...(body.checksum ? { checksum: { algorithm: body.checksum.algorithm, value: body.checksum.value, type: 'FULL_OBJECT' as const } } : {}),
  });
  const echo: Array<[string, string]> = [['ETag', o.etag]];
  if (o.checksum) echo.push([checksumHeader(o.checksum.algorithm), o.checksum.value], ['x-amz-checksum-type', o.checksum.type]);
  note(call.res, `stored ${body.data.length} bytes`);
  sendEmpty(call.res, 200, echo);
}

/**
 * What an upload request says about the object it creates (PutObject, CreateMultipartUpload):
 * Content-Type, `x-amz-meta-*` (names lower-cased) and the stored representation headers.
 */
export function storedAttributes(req: IncomingMessage): { contentType?: string; metadata: Array<[string, string]>; headers: Array<[string, string]> } {
  const one = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  };
  const metadata: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) metadata.push([name, Array.isArray(value) ? value.join(',') : value]);
  }
  const headers: Array<[string, string]> = [];
  for (const [lower, canonical] of STORED_HEADERS) {
    let v = one(lower);
    if (lower === 'content-encoding' && v !== undefined) {
      // aws-chunked is a transfer detail of the upload, never part of the stored object.
      v = v.split(',').map((s) => s.trim()).filter((s) => s && s.toLowerCase() !== 'aws-chunked').join(', ');
      if (v === '') v = undefined;
    }
    if (v !== undefined) headers.push([canonical, v]);
  }
  const contentType = one('content-type');
  return { ...(contentType ? { contentType } : {}), metadata, headers };
}

function deleteObject(call: S3Call): void {
  call.authorize('s3:DeleteObject', objectArn(call.bucket, call.key));
  call.env.store.delete(call.bucket, call.key);
  sendEmpty(call.res, 204);
}

/** GET/HEAD object headers in the order S3 sends them. */
export function objectHeaders(o: StoredObject, overrides: Array<[string, string]>): Array<[string, string]> {
  const h: Array<[string, string]> = [
    ['Last-Modified', o.lastModified.toUTCString()],
    ['ETag', o.etag],
    ...o.metadata,
    ...o.headers,
    ['Accept-Ranges', 'bytes'],
    ['Content-Type', o.contentType],
  ];
  for (const [name, value] of overrides) {
    const i = h.findIndex(([k]) => k === name);
    if (i >= 0) h.splice(i, 1);
    h.push([name, value]);
  }
  return h;
}
