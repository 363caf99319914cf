/**
 * What every S3 operation of the REST endpoint works with: `S3Call`, one authenticated request
 * addressed to a bucket (or object) — who is calling, the checks each operation uses (bucket exists,
 * owner only, what the bucket policy lets an anonymous caller do) and the body readers — and
 * `Route`, the line of rest.ts's routing table that sends a request to an operation.
 *
 * Operations live in ops/, one file per family; see rest.ts for how to add one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Principal, verifyPayload } from './auth.js';
import { contentLength, decodeAwsChunked, readBody, type DecodedAwsChunked } from './body.js';
import { type RequestChecksum, verifyIntegrity } from './checksums.js';
import type { Ctx, Env } from './context.js';
import { Errors, S3Error } from './errors.js';
import { couldBeBucketName } from './names.js';
import { anonymousAllowed } from './policy.js';

/** An operation: answers the call through the context.ts writers, or throws an S3Error. */
export type Operation = (call: S3Call) => void | Promise<void>;

/** One line of the REST routing table (rest.ts). */
export interface Route {
  /** The S3 API name (`PutBucketCors`): what a reader greps for. */
  name: string;
  /** What the path names: the service (`/`), a bucket (`/b`) or an object (`/b/some/key`). */
  resource: 'service' | 'bucket' | 'object';
  method: string;
  /**
   * The query parameter that selects this operation on its resource (`cors` for `?cors`);
   * undefined: the resource itself, with none of the routed sub-resources named; `'*'`: whatever
   * sub-resource the request names (HeadBucket ignores them).
   */
  sub?: string;
  /** Runs when the bucket does not exist yet (CreateBucket); every other operation answers NoSuchBucket first. */
  bucketMayNotExist?: boolean;
  op: Operation;
}

/** What anonymous callers may do when the server runs with `anonymousAccess: 'open'`. */
const OPEN_ACTIONS = new Set([
  's3:GetObject',
  's3:PutObject',
  's3:DeleteObject',
  's3:ListBucket',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
  's3:ListBucketMultipartUploads',
]);

export class S3Call {
  constructor(
    readonly env: Env,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly ctx: Ctx,
    readonly principal: Principal,
    /** The bucket named by the path ('' on the service endpoint). */
    readonly bucket: string,
    /** The object key named by the path ('' when the path names no object: S3 keys are never empty). */
    readonly key: string,
    readonly query: Record<string, string | string[]>,
  ) {}

  /** A query parameter's (first) value. */
  param(name: string): string | undefined {
    const v = this.query[name];
    return Array.isArray(v) ? v[0] : v;
  }

  /** A request header's value, repeated headers joined with ", ". */
  header(name: string): string | undefined {
    const v = this.req.headers[name];
    return Array.isArray(v) ? v.join(', ') : v;
  }

  isOwner(): boolean {
    return this.principal.kind === 'owner';
  }

  /** NoSuchBucket (or InvalidBucketName for names that can never exist). */
  requireBucket(): void {
    if (this.env.store.hasBucket(this.bucket)) return;
    if (!couldBeBucketName(this.bucket)) throw Errors.invalidBucketName(this.bucket);
    throw Errors.noSuchBucket(this.bucket);
  }

  /** Anonymous callers need the policy (or open mode); the owner may do anything. */
  mayAnonymously(action: string, resource: string): boolean {
    if (this.isOwner()) return true;
    if (this.env.anonymousAccess === 'open' && OPEN_ACTIONS.has(action)) return true;
    return anonymousAllowed(this.env.store.policy(this.bucket)?.parsed, action, resource);
  }

  authorize(action: string, resource: string): void {
    if (!this.mayAnonymously(action, resource)) throw Errors.accessDenied(`anonymous ${action} on ${resource} is not allowed by the bucket policy`);
  }

  /** Configuration changes and bucket create/delete always need a valid signature. */
  requireOwner(what: string): void {
    if (!this.isOwner()) throw Errors.accessDenied(`${what} needs a signed request`);
  }

  /**
   * Object body: size-limited (`limit`, default the object limit), aws-chunked decoded, payload
   * signature verified, and (unless `integrity: false`) Content-MD5 and the flexible checksum
   * verified — `checksum` is that checksum. With `optional`, a request with neither Content-Length
   * nor Transfer-Encoding has an empty body instead of 411 MissingContentLength.
   */
  async readObjectBody(
    opts: { limit?: number; integrity?: boolean; optional?: boolean } = {},
  ): Promise<{ data: Buffer; trailers: Array<[string, string]>; checksum?: RequestChecksum }> {
    const te = this.header('transfer-encoding');
    if (opts.optional && te === undefined && this.header('content-length') === undefined) return { data: Buffer.alloc(0), trailers: [] };
    const len = contentLength(this.req);
    const sha = this.header('x-amz-content-sha256') ?? '';
    const chunked = sha.startsWith('STREAMING-') || /aws-chunked/i.test(this.header('content-encoding') ?? '');
    const decodedLenText = this.header('x-amz-decoded-content-length');
    const decodedLen = Number(decodedLenText);
    // An aws-chunked upload may arrive with Transfer-Encoding: chunked when it announces its
    // decoded length (the SDK does this for streams); a plain chunked upload is refused as S3 does.
    if (len === undefined && !(chunked && decodedLenText !== undefined)) {
      if (te !== undefined && /chunked/i.test(te))
        throw Errors.notImplemented('S3 does not accept Transfer-Encoding: chunked uploads', 'Transfer-Encoding');
      throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
    }
    const max = opts.limit ?? this.env.limits.objectBytes;
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
    const trailers = decoded?.trailers ?? [];
    const checksum = opts.integrity === false ? undefined : verifyIntegrity(this.req.headers, data, trailers);
    return { data, trailers, ...(checksum ? { checksum } : {}) };
  }

  /** Configuration documents: small, never aws-chunked in practice, but decoded if they are. */
  async readConfigBody(): Promise<Buffer> {
    const max = this.env.limits.configBytes;
    const raw = await readBody(this.req, this.res, { limit: max, tooLarge: () => Errors.maxMessageLengthExceeded(max) });
    const sha = this.header('x-amz-content-sha256') ?? '';
    let data = raw;
    let decoded: DecodedAwsChunked | undefined;
    if (sha.startsWith('STREAMING-') || /aws-chunked/i.test(this.header('content-encoding') ?? '')) {
      decoded = decodeAwsChunked(raw);
      data = Buffer.concat(decoded.chunks.map((c) => c.data));
    }
    await verifyPayload(this.principal, this.env.creds, { raw, ...(decoded ? { decoded } : {}) });
    verifyIntegrity(this.req.headers, data, decoded?.trailers ?? []);
    return data;
  }
}
