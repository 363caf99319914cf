/**
 * The bucket server's state: buckets, objects and bucket sub-resources, in memory.
 *
 * `BucketStore` is the admin surface handed to tests (`server.store`): no HTTP, no auth, but the
 * same validation S3 applies to what it stores (a bucket can never hold what S3 would refuse).
 * Everything is copied on the way in and out, so callers cannot alias stored bytes.
 */
import { createHash } from 'node:crypto';
import { validateCorsConfiguration, type CorsConfiguration } from '../s3/cors/index.js';
import type { ChecksumAlgorithm, ChecksumType } from './checksums.js';
import { MultipartUploads } from './multipart/uploads.js';
import { bucketNameProblem } from './names.js';
import { parsePolicy, type BucketPolicy } from './policy.js';

export interface WebsiteConfig {
  indexDocument: string;
  errorDocument?: string;
}

export interface StoredObjectView {
  body: Buffer;
  contentType: string;
  /** Quoted MD5 hex, as S3 sends it in the `ETag` header. */
  etag: string;
  lastModified: Date;
}

/** Test-facing admin access (pinned API). */
export interface BucketStore {
  createBucket(name: string): void;
  deleteBucket(name: string): void;
  /** `headers`: stored representation headers returned on GET/HEAD, e.g. [['Cache-Control', 'no-store']]. */
  putObject(bucket: string, key: string, body: Buffer | string, contentType?: string, headers?: Array<[string, string]>): void;
  getObject(bucket: string, key: string): StoredObjectView | undefined;
  setCors(bucket: string, config: CorsConfiguration | undefined): void;
  getCors(bucket: string): CorsConfiguration | undefined;
  setPolicy(bucket: string, policyJson: string | undefined): void;
  setWebsite(bucket: string, website: WebsiteConfig | undefined): void;
  bucketNames(): string[];
}

export interface StoredObject extends StoredObjectView {
  /** `x-amz-meta-*` user metadata, names lower-cased, in the order received. */
  metadata: Array<[string, string]>;
  /** Stored representation headers (Cache-Control, Content-Disposition, …) returned on GET/HEAD. */
  headers: Array<[string, string]>;
  /** The flexible checksum the object was stored with (returned when a GET asks for it). */
  checksum?: StoredChecksum;
  /** Part sizes of an object made by a multipart upload, in order. */
  partSizes?: number[];
}

export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  /** base64; composite values end in `-<parts>`. */
  value: string;
  type: ChecksumType;
}

export interface PutObjectInput {
  body: Buffer;
  contentType?: string;
  metadata?: Array<[string, string]>;
  headers?: Array<[string, string]>;
  /** The ETag to keep instead of the body's MD5 (a completed multipart upload's `"…-N"`). */
  etag?: string;
  checksum?: StoredChecksum;
  partSizes?: number[];
}

interface Bucket {
  name: string;
  created: Date;
  objects: Map<string, StoredObject>;
  cors?: CorsConfiguration;
  policy?: { text: string; parsed: BucketPolicy };
  website?: WebsiteConfig;
}

/** S3 default for objects stored without a Content-Type. */
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

/** S3 timestamps have one-second resolution on the wire. */
function nowToSecond(): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000);
}

export function md5Etag(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

function copyObject(o: StoredObject): StoredObject {
  return {
    body: Buffer.from(o.body),
    contentType: o.contentType,
    etag: o.etag,
    lastModified: new Date(o.lastModified),
    metadata: o.metadata.map(([k, v]) => [k, v]),
    headers: o.headers.map(([k, v]) => [k, v]),
    ...(o.checksum ? { checksum: { ...o.checksum } } : {}),
    ...(o.partSizes ? { partSizes: [...o.partSizes] } : {}),
  };
}

export class MemoryBucketStore implements BucketStore {
  private readonly buckets = new Map<string, Bucket>();
  /** In-progress multipart uploads of every bucket. */
  readonly uploads = new MultipartUploads();

  // ---- pinned admin API -------------------------------------------------------------------

  createBucket(name: string): void {
    const problem = bucketNameProblem(name);
    if (problem) throw new Error(`Invalid bucket name ${JSON.stringify(name)}: ${problem}`);
    if (!this.buckets.has(name)) this.buckets.set(name, { name, created: nowToSecond(), objects: new Map() });
  }

  /** Admin delete: removes the bucket with everything in it (the HTTP API refuses non-empty buckets). */
  deleteBucket(name: string): void {
    this.buckets.delete(name);
    this.uploads.dropBucket(name);
  }

  putObject(bucket: string, key: string, body: Buffer | string, contentType?: string, headers?: Array<[string, string]>): void {
    this.put(bucket, key, {
      body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
      ...(contentType ? { contentType } : {}),
      ...(headers ? { headers } : {}),
    });
  }

  getObject(bucket: string, key: string): StoredObjectView | undefined {
    const o = this.buckets.get(bucket)?.objects.get(key);
    if (!o) return undefined;
    const c = copyObject(o);
    return { body: c.body, contentType: c.contentType, etag: c.etag, lastModified: c.lastModified };
  }

  setCors(bucket: string, config: CorsConfiguration | undefined): void {
    const b = this.must(bucket);
    if (config === undefined) {
      delete b.cors;
      return;
    }
    const err = validateCorsConfiguration(config);
    if (err) throw new Error(`Invalid CORS configuration for ${bucket}: ${err.code}: ${err.message}`);
    b.cors = structuredClone(config);
  }

  getCors(bucket: string): CorsConfiguration | undefined {
    const c = this.buckets.get(bucket)?.cors;
    return c ? structuredClone(c) : undefined;
  }

  /** Throws an S3Error (MalformedPolicy) when the document is not a policy this server understands. */
  setPolicy(bucket: string, policyJson: string | undefined): void {
    const b = this.must(bucket);
    if (policyJson === undefined) {
      delete b.policy;
      return;
    }
    b.policy = { text: policyJson, parsed: parsePolicy(policyJson, bucket) };
  }

  setWebsite(bucket: string, website: WebsiteConfig | undefined): void {
    const b = this.must(bucket);
    if (website === undefined) delete b.website;
    else b.website = { ...website };
  }

  bucketNames(): string[] {
    return [...this.buckets.keys()].sort();
  }

  // ---- used by the HTTP handlers ----------------------------------------------------------

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  bucketCreated(name: string): Date | undefined {
    return this.buckets.get(name)?.created;
  }

  isEmpty(bucket: string): boolean {
    return (this.buckets.get(bucket)?.objects.size ?? 0) === 0;
  }

  put(bucket: string, key: string, input: PutObjectInput): StoredObject {
    const b = this.must(bucket);
    const body = Buffer.from(input.body);
    const o: StoredObject = {
      body,
      contentType: input.contentType ?? DEFAULT_CONTENT_TYPE,
      etag: input.etag ?? md5Etag(body),
      lastModified: nowToSecond(),
      metadata: input.metadata?.map(([k, v]) => [k, v]) ?? [],
      headers: input.headers?.map(([k, v]) => [k, v]) ?? [],
      ...(input.checksum ? { checksum: { ...input.checksum } } : {}),
      ...(input.partSizes ? { partSizes: [...input.partSizes] } : {}),
    };
    b.objects.set(key, o);
    return copyObject(o);
  }

  get(bucket: string, key: string): StoredObject | undefined {
    const o = this.buckets.get(bucket)?.objects.get(key);
    return o ? copyObject(o) : undefined;
  }

  has(bucket: string, key: string): boolean {
    return this.buckets.get(bucket)?.objects.has(key) ?? false;
  }

  delete(bucket: string, key: string): void {
    this.buckets.get(bucket)?.objects.delete(key);
  }

  /** Keys in UTF-8 binary order, as S3 lists them. */
  list(bucket: string): Array<{ key: string; size: number; etag: string; lastModified: Date }> {
    const b = this.buckets.get(bucket);
    if (!b) return [];
    return [...b.objects.entries()]
      .sort(([a], [z]) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(z, 'utf8')))
      .map(([key, o]) => ({ key, size: o.body.length, etag: o.etag, lastModified: new Date(o.lastModified) }));
  }

  policy(bucket: string): { text: string; parsed: BucketPolicy } | undefined {
    return this.buckets.get(bucket)?.policy;
  }

  website(bucket: string): WebsiteConfig | undefined {
    const w = this.buckets.get(bucket)?.website;
    return w ? { ...w } : undefined;
  }

  private must(bucket: string): Bucket {
    const b = this.buckets.get(bucket);
    if (!b) throw new Error(`No such bucket: ${bucket}`);
    return b;
  }
}
