/**
 * Where a case's bucket lives.
 *
 * - local (default): corsproof's own bucket server in this worker; every case gets a fresh bucket,
 *   set up in-process, and the server's record of every exchange is evidence.
 * - remote: `CORSPROOF_TARGET=<endpoint>` + `CORSPROOF_TARGET_BUCKET=<bucket>` — a real S3 (or
 *   S3-compatible) endpoint, configured only through the S3 API with the standard AWS credential
 *   variables. Each configuration is applied with PutBucketCors (or DeleteBucketCors for "none"),
 *   and the harness waits until a preflight reflects it (S3 can take seconds); objects go under a
 *   per-case key (unique URLs keep preflight caches apart) and are deleted afterwards; when the run
 *   ends the bucket's previous CORS configuration is put back. It never creates or deletes buckets.
 *   There is no server record of a remote endpoint: verdicts rest on the engines alone.
 */
import {
  DeleteBucketCorsCommand,
  DeleteObjectCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
  type CORSRule,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DEFAULT_CREDENTIALS, type BucketServer } from '../servers/bucket/index.js';
import type { FlowAccess } from './flows.js';
import { CASE_PARAM } from '../servers/exchange-log.js';
import { decidePreflight, type CorsConfiguration } from '../servers/s3/cors/index.js';

export interface CaseObject {
  key: string;
  body: Buffer;
  contentType: string;
  headers: Array<[string, string]>;
}

export interface BucketTarget {
  readonly kind: 'local' | 'remote';
  /** Whether a server record of the exchanges exists (local only). */
  readonly serverRecord: boolean;
  /**
   * Sets the configuration and stores the object; returns the URL pages request, and (remote) a
   * presigned URL per HTTP method, because a private bucket answers anonymous requests with 403.
   */
  prepare(
    caseId: string,
    cors: CorsConfiguration | undefined,
    object: CaseObject,
    origin: string,
    targetOrigin?: string,
  ): Promise<{ bucket: string; url: string; urlFor?: (method: string) => Promise<string>; /** How client flows (the SDK, presigned uploads) reach the object. */ access: FlowAccess }>;
  /** Removes what prepare created. */
  finish(caseId: string): Promise<void>;
  /** Ends the target (remote: restores the bucket's previous CORS configuration). */
  close(): Promise<void>;
  describe(): string;
}

let counter = 0;

/** A bucket name S3 would accept: 3–63 chars, lowercase letters, digits and hyphens. */
function caseBucketName(caseId: string): string {
  const n = (++counter).toString(36);
  const stem = `cp-${caseId.split('.').slice(0, 2).join('-')}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 55).replace(/-+$/, '');
  return `${stem}-${n}`;
}

const urlFor = (origin: string, bucket: string, key: string, caseId: string) =>
  `${origin}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}?${CASE_PARAM}=${encodeURIComponent(caseId)}`;

export function localTarget(server: BucketServer, bucketOrigin: string): BucketTarget {
  const buckets = new Map<string, string>();
  return {
    kind: 'local',
    serverRecord: true,
    async prepare(caseId, cors, object, _origin, targetOrigin) {
      const bucket = caseBucketName(caseId);
      buckets.set(caseId, bucket);
      server.store.createBucket(bucket);
      server.store.setCors(bucket, cors);
      server.store.putObject(bucket, object.key, object.body, object.contentType, object.headers);
      const endpoint = targetOrigin ?? bucketOrigin;
      return {
        bucket,
        url: urlFor(endpoint, bucket, object.key, caseId),
        // The bucket server's own test credentials (servers/bucket DEFAULT_CREDENTIALS).
        access: {
          endpoint,
          bucket,
          key: object.key,
          region: DEFAULT_CREDENTIALS.region,
          credentials: { accessKeyId: DEFAULT_CREDENTIALS.accessKeyId, secretAccessKey: DEFAULT_CREDENTIALS.secretAccessKey },
          caseParam: [CASE_PARAM, caseId],
        },
      };
    },
    async finish(caseId) {
      const bucket = buckets.get(caseId);
      if (bucket) server.store.deleteBucket(bucket);
      buckets.delete(caseId);
    },
    async close() {},
    describe: () => `corsproof bucket server at ${bucketOrigin}`,
  };
}

export interface RemoteTargetOptions {
  endpoint: string;
  bucket: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** How long to wait for a new configuration to take effect (default 30 s). */
  propagationTimeoutMs?: number;
}

export function remoteOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RemoteTargetOptions | undefined {
  const endpoint = env['CORSPROOF_TARGET']?.trim();
  if (!endpoint) return undefined;
  const bucket = env['CORSPROOF_TARGET_BUCKET']?.trim();
  if (!bucket) throw new Error('CORSPROOF_TARGET is set but CORSPROOF_TARGET_BUCKET is not: name the bucket corsproof may configure');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`CORSPROOF_TARGET=${endpoint} is not a URL (expected e.g. https://s3.eu-west-1.amazonaws.com)`);
  }
  const id = env['AWS_ACCESS_KEY_ID'];
  const secret = env['AWS_SECRET_ACCESS_KEY'];
  return {
    endpoint: url.origin,
    bucket,
    region: env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    ...(id && secret ? { credentials: { accessKeyId: id, secretAccessKey: secret, ...(env['AWS_SESSION_TOKEN'] ? { sessionToken: env['AWS_SESSION_TOKEN'] } : {}) } } : {}),
  };
}

const sameConfig = (a: CorsConfiguration | undefined, b: CorsConfiguration | undefined) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export async function remoteTarget(opts: RemoteTargetOptions): Promise<BucketTarget> {
  const s3 = new S3Client({
    endpoint: opts.endpoint,
    forcePathStyle: true,
    region: opts.region,
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  });
  // What the bucket had before the run, to put back at the end.
  let previous: CORSRule[] | undefined;
  try {
    previous = (await s3.send(new GetBucketCorsCommand({ Bucket: opts.bucket }))).CORSRules;
  } catch (e) {
    const name = (e as { name?: string }).name;
    if (name !== 'NoSuchCORSConfiguration') {
      throw new Error(`cannot read the CORS configuration of ${opts.bucket} at ${opts.endpoint}: ${name ?? ''} ${(e as Error).message}`);
    }
  }
  let applied: CorsConfiguration | undefined = previous ? { CORSRules: previous as CorsConfiguration['CORSRules'] } : undefined;
  let appliedKnown = false;
  const keys = new Map<string, string>();

  /** Polls a preflight until the endpoint answers as the new configuration says (S3 propagates with a delay). */
  async function waitForEffect(cors: CorsConfiguration | undefined, key: string, origin: string): Promise<void> {
    const expected = decidePreflight({ method: 'OPTIONS', origin, accessControlRequestMethod: 'GET', bucketExists: true, ...(cors ? { config: cors } : {}), key });
    const want = expected.kind === 'allowed' ? `200 ${expected.headers.find(([k]) => k === 'Access-Control-Allow-Origin')?.[1]}` : `${expected.status} -`;
    const deadline = Date.now() + (opts.propagationTimeoutMs ?? 30_000);
    let got = '';
    for (;;) {
      const r = await fetch(`${opts.endpoint}/${opts.bucket}/${encodeURIComponent(key)}`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' },
      });
      await r.arrayBuffer();
      got = `${r.status} ${r.headers.get('access-control-allow-origin') ?? '-'}`;
      if (got === want) return;
      if (Date.now() > deadline) {
        throw new Error(`the new CORS configuration of ${opts.bucket} did not take effect within ${opts.propagationTimeoutMs ?? 30_000} ms (preflight answers "${got}", expected "${want}")`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  return {
    kind: 'remote',
    serverRecord: false,
    async prepare(caseId, cors, object, origin) {
      const key = `corsproof/${caseId}/${object.key}`;
      keys.set(caseId, key);
      await s3.send(
        new PutObjectCommand({
          Bucket: opts.bucket,
          Key: key,
          Body: object.body,
          ContentType: object.contentType,
          ...(object.headers.find(([k]) => k.toLowerCase() === 'cache-control') ? { CacheControl: object.headers.find(([k]) => k.toLowerCase() === 'cache-control')![1] } : {}),
        }),
      );
      if (!appliedKnown || !sameConfig(applied, cors)) {
        if (cors) await s3.send(new PutBucketCorsCommand({ Bucket: opts.bucket, CORSConfiguration: { CORSRules: cors.CORSRules as CORSRule[] } }));
        else await s3.send(new DeleteBucketCorsCommand({ Bucket: opts.bucket }));
        applied = cors;
        appliedKnown = true;
        await waitForEffect(cors, key, origin);
      }
      // Presigned like the URLs apps hand to browsers for private buckets; the per-case key keeps
      // every case's URL unique (there is no server log to key by the corsproof-case parameter).
      const presign = async (method: string): Promise<string> => {
        const input = { Bucket: opts.bucket, Key: key };
        const command =
          method === 'PUT' ? new PutObjectCommand(input) : method === 'DELETE' ? new DeleteObjectCommand(input) : method === 'HEAD' ? new HeadObjectCommand(input) : method === 'GET' ? new GetObjectCommand(input) : undefined;
        // POST has no presigned form (browser uploads POST a signed form); it goes unsigned.
        return command ? getSignedUrl(s3, command, { expiresIn: 900 }) : `${opts.endpoint}/${opts.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
      };
      const resolved = await s3.config.credentials();
      return {
        bucket: opts.bucket,
        url: await presign('GET'),
        urlFor: presign,
        // Flows sign with the run's own AWS credentials (the SDK flows hand them to the local browser
        // page; presigned flows sign here, in Node). The per-case key keeps object URLs unique; the
        // case parameter (S3 ignores unknown query parameters) does the same for bucket-level
        // requests (ListObjectsV2, POST Object), whose URL has no key.
        access: {
          endpoint: opts.endpoint,
          bucket: opts.bucket,
          key,
          region: opts.region,
          credentials: {
            accessKeyId: resolved.accessKeyId,
            secretAccessKey: resolved.secretAccessKey,
            ...(resolved.sessionToken ? { sessionToken: resolved.sessionToken } : {}),
          },
          caseParam: [CASE_PARAM, caseId],
        },
      };
    },
    async finish(caseId) {
      const key = keys.get(caseId);
      keys.delete(caseId);
      if (key) await s3.send(new DeleteObjectCommand({ Bucket: opts.bucket, Key: key })).catch(() => {});
    },
    async close() {
      try {
        if (previous) await s3.send(new PutBucketCorsCommand({ Bucket: opts.bucket, CORSConfiguration: { CORSRules: previous } }));
        else await s3.send(new DeleteBucketCorsCommand({ Bucket: opts.bucket }));
      } finally {
        s3.destroy();
      }
    },
    describe: () => `${opts.endpoint}, bucket ${opts.bucket} (remote)`,
  };
}
