/**
 * The S3 REST endpoint, path-style (`/<bucket>/<key>`): which operation a request is, who may do
 * it, and the operation itself. CORS is answered by cors-answer.ts (the preflight, and the headers
 * of everything else, error responses included), shared with the website endpoint.
 *
 * Order of checks, as S3 does it: OPTIONS never authenticates; otherwise the signature (if any) is
 * verified first, then the bucket must exist, then the caller must be allowed (owner, or anonymous
 * through the bucket policy / `anonymousAccess: 'open'`), then the operation runs.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { crc32 } from 'node:zlib';
import { corsConfigurationToXml, detectCorsDocumentShape, parseCorsConfiguration } from '../s3/cors/index.js';
import { authenticate, parseRawQuery, verifyPayload, type Principal } from './auth.js';
import { contentLength, decodeAwsChunked, readBody, type DecodedAwsChunked } from './body.js';
import { type Ctx, type Env, note, sendBody, sendEmpty, sendS3Error, sendXml } from './context.js';
import { answerPreflight, decideActualCors } from './cors-answer.js';
import { Errors, S3Error } from './errors.js';
import { MAX_KEY_BYTES, bucketNameProblem, couldBeBucketName, hasDotSegment } from './names.js';
import { anonymousAllowed, bucketArn, objectArn } from './policy.js';
import type { StoredObject } from './store.js';
import {
  decodeContinuationToken,
  listBucketsXml,
  listObjectsXml,
  locationXml,
  parseCreateBucketXml,
  parseWebsiteXml,
  websiteXml,
} from './xml.js';

/** Sub-resources this server implements on a bucket. */
const BUCKET_SUBRESOURCES = ['cors', 'policy', 'website', 'location'] as const;

/**
 * S3 sub-resources and operation parameters this server does not implement: answered 501
 * NotImplemented rather than silently treated as a plain object or bucket request.
 * Any other unknown query parameter (e.g. `corsproof-case`, the SDK's `x-id`) is ignored, as S3 does.
 */
const UNIMPLEMENTED_SUBRESOURCES = [
  'accelerate', 'acl', 'analytics', 'attributes', 'delete', 'encryption', 'intelligent-tiering', 'inventory',
  'legal-hold', 'lifecycle', 'logging', 'metadataConfiguration', 'metrics', 'notification', 'object-lock',
  'ownershipControls', 'partNumber', 'policyStatus', 'publicAccessBlock', 'replication', 'requestPayment',
  'restore', 'retention', 'select', 'session', 'tagging', 'torrent', 'uploadId', 'uploads', 'versioning',
  'versions', 'renameObject',
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

/** What anonymous callers may do when the server runs with `anonymousAccess: 'open'`. */
const OPEN_ACTIONS = new Set(['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:ListBucket']);

interface Target {
  bucket?: string;
  key?: string;
}

function decodeSegment(s: string, raw: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.", [['URI', raw]]);
  }
}

/** `/bucket/some/key` → bucket and key, percent-decoded. `/bucket/` and `/bucket` name the bucket. */
export function parsePath(rawPath: string): Target {
  if (!rawPath.startsWith('/')) throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.", [['URI', rawPath]]);
  const rest = rawPath.slice(1);
  if (rest === '') return {};
  const slash = rest.indexOf('/');
  const bucket = decodeSegment(slash < 0 ? rest : rest.slice(0, slash), rawPath);
  const keyRaw = slash < 0 ? '' : rest.slice(slash + 1);
  if (keyRaw === '') return { bucket };
  return { bucket, key: decodeSegment(keyRaw, rawPath) };
}

function first(q: Record<string, string | string[]>, k: string): string | undefined {
  const v = q[k];
  return Array.isArray(v) ? v[0] : v;
}

function headerOne(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function httpDate(d: Date): string {
  return d.toUTCString();
}

export async function handleRest(env: Env, req: IncomingMessage, res: ServerResponse, ctx: Ctx): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const query = parseRawQuery(ctx.rawQuery);
  const target = parsePath(ctx.rawPath);
  const { store } = env;
  const bucketExists = target.bucket !== undefined && store.hasBucket(target.bucket);
  const config = bucketExists ? store.getCors(target.bucket!) : undefined;
  const cors = { bucketExists, ...(config ? { config } : {}), ...(target.key !== undefined ? { key: target.key } : {}) };

  // CORS preflight: never authenticated, never touches the object (cors-answer.ts).
  // UNVERIFIED choice: OPTIONS on the service endpoint (no bucket in the path) is decided as for
  // a missing bucket (403 AccessForbidden "Bucket not found"). S3 is recorded answering it 403
  // without CORS headers [S18 aws-sdk-js-v3#6228], but its body is not on record.
  if (method === 'OPTIONS') return answerPreflight(req, res, ctx, cors);

  // Actual request: the engine's headers go on whatever is answered, errors included.
  // They are decided before authentication, so authentication failures (SignatureDoesNotMatch,
  // AccessDenied) carry them too. UNVERIFIED choice: the reference (§3) has S3 adding CORS headers
  // to error responses generally and a 2013 report of them on SignatureDoesNotMatch, but no
  // recording of an authentication failure. Likewise 304 Not Modified responses get them (§9).
  // Service-level calls (ListBuckets) never carry CORS headers (§3).
  if (target.bucket !== undefined) decideActualCors(req, res, ctx, cors);

  const principal = await authenticate({ req, rawPath: ctx.rawPath, rawQuery: ctx.rawQuery, creds: env.creds });
  if (principal.kind === 'owner') note(res, `authenticated (SigV4 ${principal.via})`);

  for (const name of UNIMPLEMENTED_SUBRESOURCES) {
    if (query[name] !== undefined) throw Errors.notImplemented(`the ?${name} sub-resource is not implemented by this server`);
  }

  if (target.bucket === undefined) return serviceOp(env, req, res, method, principal);

  const bucket = target.bucket;
  const op = new Op(env, req, res, ctx, principal, bucket, query);
  if (target.key === undefined) return op.bucketOp(method);
  return op.objectOp(method, target.key);
}

function serviceOp(env: Env, req: IncomingMessage, res: ServerResponse, method: string, principal: Principal): void {
  if (method !== 'GET') throw Errors.methodNotAllowed(method, 'SERVICE');
  if (principal.kind !== 'owner') throw Errors.accessDenied('ListBuckets needs a signed request');
  const buckets = env.store.bucketNames().map((name) => ({ name, created: env.store.bucketCreated(name)! }));
  sendXml(res, 200, listBucketsXml(buckets, env.creds.region));
}

class Op {
  constructor(
    readonly env: Env,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly ctx: Ctx,
    readonly principal: Principal,
    readonly bucket: string,
    readonly query: Record<string, string | string[]>,
  ) {}

  private has(sub: string): boolean {
    return this.query[sub] !== undefined;
  }

  /** NoSuchBucket (or InvalidBucketName for names that can never exist). */
  private requireBucket(): void {
    if (this.env.store.hasBucket(this.bucket)) return;
    if (!couldBeBucketName(this.bucket)) throw Errors.invalidBucketName(this.bucket);
    throw Errors.noSuchBucket(this.bucket);
  }

  private isOwner(): boolean {
    return this.principal.kind === 'owner';
  }

  /** Anonymous callers need the policy (or open mode); the owner may do anything. */
  private mayAnonymously(action: string, resource: string): boolean {
    if (this.isOwner()) return true;
    if (this.env.anonymousAccess === 'open' && OPEN_ACTIONS.has(action)) return true;
    return anonymousAllowed(this.env.store.policy(this.bucket)?.parsed, action, resource);
  }

  private authorize(action: string, resource: string): void {
    if (!this.mayAnonymously(action, resource)) throw Errors.accessDenied(`anonymous ${action} on ${resource} is not allowed by the bucket policy`);
  }

  /** Configuration changes and bucket create/delete always need a valid signature. */
  private requireOwner(what: string): void {
    if (!this.isOwner()) throw Errors.accessDenied(`${what} needs a signed request`);
  }

  // ---- bucket-level operations --------------------------------------------------------------

  async bucketOp(method: string): Promise<void> {
    const sub = BUCKET_SUBRESOURCES.find((s) => this.has(s));
    if (method === 'PUT' && sub === undefined) return this.createBucket();
    this.requireBucket();
    switch (method) {
      case 'GET':
        if (sub === 'cors') return this.getCors();
        if (sub === 'policy') return this.getPolicy();
        if (sub === 'website') return this.getWebsite();
        if (sub === 'location') return this.getLocation();
        return this.listObjects();
      case 'HEAD':
        this.authorize('s3:ListBucket', bucketArn(this.bucket));
        return sendEmpty(this.res, 200, [['x-amz-bucket-region', this.env.creds.region]], null);
      case 'PUT':
        if (sub === 'cors') return this.putCors();
        if (sub === 'policy') return this.putPolicy();
        if (sub === 'website') return this.putWebsite();
        throw Errors.methodNotAllowed(method, 'BUCKET');
      case 'DELETE':
        if (sub === 'cors') return this.deleteSub('DeleteBucketCors', () => this.env.store.setCors(this.bucket, undefined));
        if (sub === 'policy') return this.deleteSub('DeleteBucketPolicy', () => this.env.store.setPolicy(this.bucket, undefined));
        if (sub === 'website') return this.deleteSub('DeleteBucketWebsite', () => this.env.store.setWebsite(this.bucket, undefined));
        if (sub === 'location') throw Errors.methodNotAllowed(method, 'BUCKET');
        return this.deleteBucket();
      case 'POST':
        throw Errors.notImplemented('browser-form POST uploads are not implemented by this server');
      default:
        throw Errors.methodNotAllowed(method, 'BUCKET');
    }
  }

  private async createBucket(): Promise<void> {
    this.requireOwner('CreateBucket');
    const problem = bucketNameProblem(this.bucket);
    if (problem) throw Errors.invalidBucketName(this.bucket, problem);
    const body = await this.readConfigBody();
    const constraint = parseCreateBucketXml(body.toString('utf8'));
    const region = this.env.creds.region;
    if (constraint !== undefined && constraint !== '' && constraint !== region) throw Errors.illegalLocationConstraint(constraint);
    if (constraint === 'us-east-1' && region === 'us-east-1')
      throw new S3Error(400, 'InvalidLocationConstraint', 'The specified location-constraint is not valid', [['LocationConstraint', constraint]]);
    if (this.env.store.hasBucket(this.bucket)) {
      // us-east-1 answers a repeated CreateBucket by its owner with 200; other regions with 409.
      if (region !== 'us-east-1') throw Errors.bucketAlreadyOwnedByYou(this.bucket);
    } else {
      this.env.store.createBucket(this.bucket);
    }
    sendEmpty(this.res, 200, [['Location', `/${this.bucket}`]]);
  }

  private deleteBucket(): void {
    this.requireOwner('DeleteBucket');
    if (!this.env.store.isEmpty(this.bucket)) throw Errors.bucketNotEmpty(this.bucket);
    this.env.store.deleteBucket(this.bucket);
    sendEmpty(this.res, 204);
  }

  private listObjects(): void {
    this.authorize('s3:ListBucket', bucketArn(this.bucket));
    const q = (k: string) => first(this.query, k);
    const v2 = q('list-type') === '2';
    if (q('list-type') !== undefined && !v2) throw Errors.invalidArgument('Invalid List Type specified', 'list-type', q('list-type')!);
    const maxKeysText = q('max-keys');
    let maxKeys = 1000;
    if (maxKeysText !== undefined) {
      if (!/^\d+$/.test(maxKeysText)) throw Errors.invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', maxKeysText);
      maxKeys = Math.min(1000, Number(maxKeysText));
    }
    const encodingType = q('encoding-type');
    if (encodingType !== undefined && encodingType !== 'url') throw Errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType);
    const continuationToken = v2 ? q('continuation-token') : undefined;
    const startAfter = v2 ? q('start-after') : undefined;
    const marker = v2 ? undefined : q('marker');
    let after: string | undefined;
    if (continuationToken !== undefined) {
      after = decodeContinuationToken(continuationToken);
      if (after === undefined) throw Errors.invalidArgument('The continuation token provided is incorrect', 'continuation-token', continuationToken);
    } else after = startAfter ?? marker;
    const delimiter = q('delimiter');
    const xml = listObjectsXml(this.env.store.list(this.bucket), {
      bucket: this.bucket,
      prefix: q('prefix') ?? '',
      ...(delimiter ? { delimiter } : {}),
      maxKeys,
      v2,
      ...(after !== undefined ? { after } : {}),
      ...(continuationToken !== undefined ? { continuationToken } : {}),
      ...(startAfter !== undefined ? { startAfter } : {}),
      ...(marker !== undefined ? { marker } : {}),
      ...(encodingType === 'url' ? { encodingType: 'url' as const } : {}),
      fetchOwner: q('fetch-owner') === 'true',
    });
    sendXml(this.res, 200, xml);
  }

  private getLocation(): void {
    this.authorize('s3:GetBucketLocation', bucketArn(this.bucket));
    sendXml(this.res, 200, locationXml(this.env.creds.region));
  }

  private getCors(): void {
    this.authorize('s3:GetBucketCORS', bucketArn(this.bucket));
    const config = this.env.store.getCors(this.bucket);
    if (!config) throw Errors.noSuchCors(this.bucket);
    sendXml(this.res, 200, corsConfigurationToXml(config));
  }

  private async putCors(): Promise<void> {
    this.requireOwner('PutBucketCors');
    const body = await this.readConfigBody();
    const hasIntegrity =
      this.req.headers['content-md5'] !== undefined ||
      Object.keys(this.req.headers).some((h) => h.startsWith('x-amz-checksum-')) ||
      /x-amz-checksum-/i.test(headerOne(this.req, 'x-amz-trailer') ?? '');
    if (!hasIntegrity) throw Errors.missingContentMd5();
    // The REST API takes only the XML document; JSON (the CLI's and console's input shapes) is
    // not well-formed XML to S3, whatever the engine's JSON parser would make of it.
    const shape = detectCorsDocumentShape(body);
    if (shape !== 'xml')
      throw Errors.malformedXml(
        shape === undefined
          ? 'PutBucketCors takes an XML CORSConfiguration document'
          : `PutBucketCors takes the XML document; this body is the ${shape} shape (what the CLI or console accept)`,
      );
    const parsed = parseCorsConfiguration(body);
    if (!parsed.ok) throw S3Error.fromInfo(parsed.error);
    this.env.store.setCors(this.bucket, parsed.config);
    note(this.res, `stored CORS configuration with ${parsed.config.CORSRules.length} rule(s)`);
    sendEmpty(this.res, 200);
  }

  private getPolicy(): void {
    this.authorize('s3:GetBucketPolicy', bucketArn(this.bucket));
    const p = this.env.store.policy(this.bucket);
    if (!p) throw Errors.noSuchPolicy(this.bucket);
    sendBody(this.res, 200, p.text, [['Content-Type', 'application/json']], false);
  }

  private async putPolicy(): Promise<void> {
    this.requireOwner('PutBucketPolicy');
    const body = await this.readConfigBody();
    this.env.store.setPolicy(this.bucket, body.toString('utf8'));
    sendEmpty(this.res, 204);
  }

  private getWebsite(): void {
    this.authorize('s3:GetBucketWebsite', bucketArn(this.bucket));
    const w = this.env.store.website(this.bucket);
    if (!w) throw Errors.noSuchWebsite(this.bucket);
    sendXml(this.res, 200, websiteXml(w));
  }

  private async putWebsite(): Promise<void> {
    this.requireOwner('PutBucketWebsite');
    const body = await this.readConfigBody();
    this.env.store.setWebsite(this.bucket, parseWebsiteXml(body.toString('utf8')));
    sendEmpty(this.res, 200);
  }

  private deleteSub(what: string, del: () => void): void {
    this.requireOwner(what);
    del();
    sendEmpty(this.res, 204);
  }

  // ---- object-level operations --------------------------------------------------------------

  async objectOp(method: string, key: string): Promise<void> {
    const keyBytes = Buffer.byteLength(key, 'utf8');
    if (keyBytes > MAX_KEY_BYTES) throw Errors.keyTooLong(keyBytes, MAX_KEY_BYTES);
    // corsproof deviation: S3 would store `a/../b` literally; a key that looks like path traversal
    // is refused so that nothing downstream can mistake it for a file path.
    if (hasDotSegment(key)) throw Errors.dotSegmentKey(key);
    const versionId = first(this.query, 'versionId');
    if (versionId !== undefined && versionId !== 'null')
      throw Errors.invalidArgument('Invalid version id specified', 'versionId', versionId);
    this.requireBucket();
    switch (method) {
      case 'GET':
      case 'HEAD':
        return this.getObject(key, method === 'HEAD');
      case 'PUT':
        return this.putObject(key);
      case 'DELETE':
        this.authorize('s3:DeleteObject', objectArn(this.bucket, key));
        this.env.store.delete(this.bucket, key);
        return sendEmpty(this.res, 204);
      default:
        throw Errors.methodNotAllowed(method, 'OBJECT');
    }
  }

  private getObject(key: string, head: boolean): void {
    const resource = objectArn(this.bucket, key);
    this.authorize('s3:GetObject', resource);
    const o = this.env.store.get(this.bucket, key);
    if (!o) {
      // S3 hides whether a key exists from callers who may not list the bucket: 403, not 404.
      if (!this.mayAnonymously('s3:ListBucket', bucketArn(this.bucket)))
        throw Errors.accessDenied('the key does not exist and the caller may not list the bucket');
      throw Errors.noSuchKey(key);
    }
    const overrides: Array<[string, string]> = [];
    for (const [param, header] of RESPONSE_OVERRIDES) {
      const v = first(this.query, param);
      if (v !== undefined) overrides.push([header, v]);
    }
    if (overrides.length > 0 && !this.isOwner())
      throw new S3Error(400, 'InvalidRequest', 'Request specific response headers cannot be used for anonymous GET requests.');
    const conditional = this.checkConditions(o);
    const headers = objectHeaders(o, overrides);
    if (conditional === 304) return sendEmpty(this.res, 304, headers.filter(([k]) => k === 'Last-Modified' || k === 'ETag'), null);
    const range = this.range(o.body.length);
    if (range) {
      const part = o.body.subarray(range.start, range.end + 1);
      return sendBody(
        this.res,
        206,
        part,
        [...headers, ['Content-Range', `bytes ${range.start}-${range.end}/${o.body.length}`]],
        head,
      );
    }
    sendBody(this.res, 200, o.body, headers, head);
  }

  /** If-Match / If-Unmodified-Since → 412; If-None-Match / If-Modified-Since → 304 (RFC 7232 order). */
  private checkConditions(o: StoredObject): 304 | undefined {
    const ifMatch = headerOne(this.req, 'if-match');
    const ifNoneMatch = headerOne(this.req, 'if-none-match');
    const ifModifiedSince = headerOne(this.req, 'if-modified-since');
    const ifUnmodifiedSince = headerOne(this.req, 'if-unmodified-since');
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
  private range(size: number): { start: number; end: number } | undefined {
    const h = headerOne(this.req, 'range');
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

  private async putObject(key: string): Promise<void> {
    if (this.req.headers['x-amz-copy-source'] !== undefined)
      throw Errors.notImplemented('CopyObject is not implemented by this server', 'x-amz-copy-source');
    this.authorize('s3:PutObject', objectArn(this.bucket, key));
    const body = await this.readObjectBody();
    this.verifyIntegrity(body.data, body.trailers);
    const metadata: Array<[string, string]> = [];
    for (const [name, value] of Object.entries(this.req.headers)) {
      if (name.startsWith('x-amz-meta-') && value !== undefined) metadata.push([name, Array.isArray(value) ? value.join(',') : value]);
    }
    const stored: Array<[string, string]> = [];
    for (const [lower, canonical] of STORED_HEADERS) {
      let v = headerOne(this.req, lower);
      if (lower === 'content-encoding' && v !== undefined) {
        // aws-chunked is a transfer detail of the upload, never part of the stored object.
        v = v.split(',').map((s) => s.trim()).filter((s) => s && s.toLowerCase() !== 'aws-chunked').join(', ');
        if (v === '') v = undefined;
      }
      if (v !== undefined) stored.push([canonical, v]);
    }
    const contentType = headerOne(this.req, 'content-type');
    const o = this.env.store.put(this.bucket, key, {
      body: body.data,
      ...(contentType ? { contentType } : {}),
      metadata,
      headers: stored,
    });
    const echo: Array<[string, string]> = [['ETag', o.etag]];
    for (const [name, value] of [...Object.entries(this.req.headers), ...body.trailers]) {
      if (typeof value === 'string' && name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-type') echo.push([name, value]);
    }
    note(this.res, `stored ${body.data.length} bytes`);
    sendEmpty(this.res, 200, echo);
  }

  /** Object body: size-limited, aws-chunked decoded, payload signature verified. */
  private async readObjectBody(): Promise<{ data: Buffer; trailers: Array<[string, string]> }> {
    const te = headerOne(this.req, 'transfer-encoding');
    const len = contentLength(this.req);
    const sha = headerOne(this.req, 'x-amz-content-sha256') ?? '';
    const chunked = sha.startsWith('STREAMING-') || /aws-chunked/i.test(headerOne(this.req, 'content-encoding') ?? '');
    const decodedLenText = headerOne(this.req, 'x-amz-decoded-content-length');
    const decodedLen = Number(decodedLenText);
    // An aws-chunked upload may arrive with Transfer-Encoding: chunked when it announces its
    // decoded length (the SDK does this for streams); a plain chunked upload is refused as S3 does.
    if (len === undefined && !(chunked && decodedLenText !== undefined)) {
      if (te !== undefined && /chunked/i.test(te))
        throw Errors.notImplemented('S3 does not accept Transfer-Encoding: chunked uploads', 'Transfer-Encoding');
      throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
    }
    const max = this.env.limits.objectBytes;
    if (chunked && Number.isSafeInteger(decodedLen) && decodedLen > max) {
      this.res.setHeader('Connection', 'close');
      throw Errors.entityTooLarge(decodedLen, max);
    }
    // aws-chunked framing adds ~90 bytes per chunk; allow for it on the encoded size.
    const limit = chunked ? max + Math.max(64 * 1024, Math.ceil(max / 100)) : max;
    const raw = await readBody(this.req, this.res, { limit, tooLarge: (n) => Errors.entityTooLarge(n, max) });
    let decoded: DecodedAwsChunked | undefined;
    let data = raw;
    if (chunked) {
      decoded = decodeAwsChunked(raw);
      data = Buffer.concat(decoded.chunks.map((c) => c.data));
      if (data.length > max) throw Errors.entityTooLarge(data.length, max);
      if (Number.isSafeInteger(decodedLen) && decodedLen !== data.length) throw Errors.incompleteBody();
    }
    await verifyPayload(this.principal, this.env.creds, { raw, ...(decoded ? { decoded } : {}) });
    return { data, trailers: decoded?.trailers ?? [] };
  }

  /** Configuration documents: small, never aws-chunked in practice, but decoded if they are. */
  private async readConfigBody(): Promise<Buffer> {
    const max = this.env.limits.configBytes;
    const raw = await readBody(this.req, this.res, { limit: max, tooLarge: () => Errors.maxMessageLengthExceeded(max) });
    const sha = headerOne(this.req, 'x-amz-content-sha256') ?? '';
    let data = raw;
    let decoded: DecodedAwsChunked | undefined;
    if (sha.startsWith('STREAMING-') || /aws-chunked/i.test(headerOne(this.req, 'content-encoding') ?? '')) {
      decoded = decodeAwsChunked(raw);
      data = Buffer.concat(decoded.chunks.map((c) => c.data));
    }
    await verifyPayload(this.principal, this.env.creds, { raw, ...(decoded ? { decoded } : {}) });
    this.verifyIntegrity(data, decoded?.trailers ?? []);
    return data;
  }

  /** Content-MD5 and x-amz-checksum-{crc32,crc32c,sha1,sha256} are verified; crc64nvme is accepted unverified. */
  private verifyIntegrity(data: Buffer, trailers: Array<[string, string]>): void {
    const md5 = headerOne(this.req, 'content-md5');
    if (md5 !== undefined) {
      const ok = /^[A-Za-z0-9+/]{22}==$/.test(md5.trim());
      if (!ok) throw Errors.invalidDigest(md5);
      const computed = createHash('md5').update(data).digest('base64');
      if (computed !== md5.trim()) throw Errors.badDigest(md5, computed);
    }
    const checksums: Array<[string, string]> = [...trailers];
    for (const [name, value] of Object.entries(this.req.headers)) {
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

/** GET/HEAD object headers in the order S3 sends them. */
export function objectHeaders(o: StoredObject, overrides: Array<[string, string]>): Array<[string, string]> {
  const h: Array<[string, string]> = [
    ['Last-Modified', httpDate(o.lastModified)],
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

