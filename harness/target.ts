/**
 * Where a case's bucket lives.
 *
 * - local (default): corsproof's own bucket server in this worker; every case gets a fresh bucket,
 *   set up in-process, and the server's record of every exchange is evidence.
 * - remote: `CORSPROOF_TARGET=<endpoint>` + `CORSPROOF_TARGET_BUCKET=<bucket>` — a real S3 (or
 *   S3-compatible) endpoint, configured only through the S3 API with the standard AWS credential
 *   variables. Each configuration is applied with PutBucketCors (or DeleteBucketCors for "none"),
 *   and the harness waits until the store serves it — by a check that holds whatever the store
 *   answers (a sentinel rule, below), never by what S3 would answer; objects go under a per-case key
 *   (unique URLs keep preflight caches apart) and are deleted afterwards; when the run ends the
 *   bucket's previous CORS configuration is put back. It never creates or deletes that bucket.
 *   A store corsproof runs itself (the run's Ceph RGW) gets a bucket per configuration instead, so
 *   every configuration is applied once and cases of different fixtures run in parallel.
 *   A remote endpoint keeps no server record for us: after the engine has run a case, `replay`
 *   sends the same preflights and requests from Node and records every response header (labelled
 *   as a replay), and harness/divergence.ts names how those answers differ from S3's.
 *
 * Propagation (`applyConfiguration`): every configuration is put with one extra rule appended last,
 * allowing a run-unique origin under `.invalid` (RFC 6761: never a real site, so it matches no test
 * origin; tests/unit/sentinel.spec.ts checks that it changes no case's verdict). The store serves the
 * new configuration once a preflight from that origin is allowed (any Access-Control-Allow-Origin,
 * with any of the configuration's methods). When the configuration being replaced would already
 * allow that origin (a `*` rule), the CORS configuration is first deleted and the store is waited on
 * until it refuses the origin — so the "allowed" seen afterwards can only come from the new one.
 */
import type { CORSRule } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { DEFAULT_CREDENTIALS } from '../servers/bucket/credentials.js';
import type { BucketServer } from '../servers/bucket/index.js';
import type { FlowAccess } from './flows.js';
import { CASE_PARAM } from '../servers/exchange-log.js';
import { CORS_METHODS, type CorsConfiguration, type CorsRule } from '../servers/s3/cors/index.js';
import type { ScenarioStep } from './data.js';
import { impliedRequests, replay, type ReplayedExchange } from './replay.js';

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
  /** A remote store: its profile name (fixtures/stores/<name>.json) and endpoint. */
  readonly store?: StoreIdentity;
  /**
   * Remote only: sends, server-to-server, the preflights and requests a case's steps imply, to the
   * URLs the engine used, and records every response header. Call after the engine ran the case
   * and before `finish`.
   */
  replay?(caseId: string, steps: readonly ScenarioStep[], origin: string): Promise<ReplayedExchange[]>;
}

export interface StoreIdentity {
  /** Profile name: fixtures/stores/<name>.json, when one is committed (CORSPROOF_TARGET_STORE). */
  name?: string;
  endpoint: string;
  /** How the store is named in reports, e.g. "Ceph RGW 16.2.15 at http://127.0.0.1:41733". */
  label: string;
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
  /** The bucket corsproof may configure; with `bucketPerConfiguration`, the prefix of the buckets it creates. */
  bucket: string;
  region: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** How long to wait for a new configuration to be served (default 30 s; CORSPROOF_PROPAGATION_MS). */
  propagationTimeoutMs?: number;
  /**
   * Only for a store corsproof runs itself: create one bucket per configuration (named from the
   * configuration's hash) instead of reconfiguring one bucket, so configurations never wait for
   * each other and parallel workers share them safely.
   */
  bucketPerConfiguration?: boolean;
  /** Distinguishes this run's sentinel origins (default: random). Workers of one run share it. */
  runToken?: string;
  store?: { name?: string; label?: string };
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
  const wait = env['CORSPROOF_PROPAGATION_MS']?.trim();
  if (wait && !(Number.isInteger(Number(wait)) && Number(wait) > 0)) throw new Error(`CORSPROOF_PROPAGATION_MS=${wait} is not a positive number of milliseconds`);
  const store = env['CORSPROOF_TARGET_STORE']?.trim();
  return {
    endpoint: url.origin,
    bucket,
    region: env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    ...(id && secret ? { credentials: { accessKeyId: id, secretAccessKey: secret, ...(env['AWS_SESSION_TOKEN'] ? { sessionToken: env['AWS_SESSION_TOKEN'] } : {}) } } : {}),
    ...(wait ? { propagationTimeoutMs: Number(wait) } : {}),
    ...(store ? { store: { name: store } } : {}),
  };
}

const sameConfig = (a: CorsConfiguration | undefined, b: CorsConfiguration | undefined) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const configHash = (c: CorsConfiguration | undefined) => createHash('sha256').update(JSON.stringify(c ?? null)).digest('hex').slice(0, 12);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The ID of the rule corsproof appends to every configuration it applies. */
export const SENTINEL_RULE_ID = 'corsproof-sentinel';

/** A run-unique origin no test origin can equal or match: the `.invalid` TLD is reserved (RFC 6761). */
export function sentinelOrigin(runToken: string, tag: string): string {
  return `http://${`${runToken}-${tag}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63)}.sentinel.corsproof.invalid`;
}

/** The configuration as applied: the case's rules, then the sentinel rule last. */
export function withSentinel(cors: CorsConfiguration, origin: string): CorsConfiguration {
  const sentinel: CorsRule = { ID: SENTINEL_RULE_ID, AllowedOrigins: [origin], AllowedMethods: [...CORS_METHODS], MaxAgeSeconds: 0 };
  return { CORSRules: [...cors.CORSRules, sentinel] };
}

/** Methods to probe with: GET first, then every other method the configuration allows somewhere. */
function probeMethods(cors: CorsConfiguration | undefined): string[] {
  const all = new Set(['GET', ...(cors?.CORSRules.flatMap((r) => r.AllowedMethods) ?? [])]);
  return [...all].filter((m) => (CORS_METHODS as readonly string[]).includes(m));
}

interface ProbeAnswer {
  method: string;
  status: number;
  allowOrigin: string | null;
  /** "OPTIONS from <origin> for PUT → 403 AccessDenied, no Access-Control-Allow-Origin" */
  text: string;
}

export async function remoteTarget(opts: RemoteTargetOptions): Promise<BucketTarget> {
  // The AWS SDK loads only for a remote target (≈ 0.3 s of a worker's start otherwise).
  const {
    CreateBucketCommand,
    DeleteBucketCorsCommand,
    DeleteObjectCommand,
    GetBucketCorsCommand,
    GetObjectCommand,
    HeadObjectCommand,
    PutBucketCorsCommand,
    PutObjectCommand,
    S3Client,
  } = await import('@aws-sdk/client-s3');
  const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
  const s3 = new S3Client({
    endpoint: opts.endpoint,
    forcePathStyle: true,
    region: opts.region,
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    // The harness's own uploads need no flexible checksum (some stores refuse the SDK's default
    // x-amz-checksum-crc32, e.g. cloudflare/cloudflare-docs#19236), and computing it costs time.
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  const runToken = opts.runToken ?? randomBytes(4).toString('hex');
  const timeoutMs = opts.propagationTimeoutMs ?? 30_000;
  const label = opts.store?.label ?? `${opts.store?.name ?? 'S3-compatible store'} at ${opts.endpoint}`;
  const perConfiguration = opts.bucketPerConfiguration === true;

  // What the bucket had before the run, to put back at the end (one-bucket mode).
  let previous: CORSRule[] | undefined;
  if (!perConfiguration) {
    try {
      previous = (await s3.send(new GetBucketCorsCommand({ Bucket: opts.bucket }))).CORSRules;
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name !== 'NoSuchCORSConfiguration') {
        throw new Error(`cannot read the CORS configuration of ${opts.bucket} at ${opts.endpoint}: ${name ?? ''} ${(e as Error).message}`);
      }
    }
  }

  async function probe(bucket: string, origin: string, method: string): Promise<ProbeAnswer> {
    const r = await fetch(`${opts.endpoint}/${bucket}/corsproof-propagation-probe`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': method },
      signal: AbortSignal.timeout(10_000),
    });
    const body = await r.text();
    const allowOrigin = r.headers.get('access-control-allow-origin');
    const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
    return {
      method,
      status: r.status,
      allowOrigin,
      text: `OPTIONS from ${origin} for ${method} → ${r.status}${code ? ` ${code}` : ''}, ${allowOrigin === null ? 'no Access-Control-Allow-Origin' : `Access-Control-Allow-Origin: ${allowOrigin}`}`,
    };
  }
  /** The first method the store allows this origin (undefined: it refuses all of them). */
  async function allowedFor(bucket: string, origin: string, methods: readonly string[]): Promise<{ allowed?: ProbeAnswer; answers: ProbeAnswer[] }> {
    const answers: ProbeAnswer[] = [];
    for (const m of methods) {
      const a = await probe(bucket, origin, m);
      answers.push(a);
      if (a.allowOrigin !== null) return { allowed: a, answers };
    }
    return { answers };
  }
  /** Polls until `done` holds for the probes' answers, bounded by the propagation timeout. */
  async function waitFor(bucket: string, what: string, check: () => Promise<{ done: boolean; answers: ProbeAnswer[] }>): Promise<void> {
    const started = Date.now();
    for (let delay = 25; ; delay = Math.min(delay * 2, 1_000)) {
      const { done, answers } = await check();
      if (done) return;
      if (Date.now() - started > timeoutMs) {
        throw new Error(
          `${label}, bucket ${bucket}: ${what} within ${timeoutMs} ms (CORSPROOF_PROPAGATION_MS). The store still answers: ${answers.map((a) => a.text).join('; ')}. ` +
            'It may not apply bucket CORS configurations at all (MinIO community edition has no per-bucket CORS), or may need longer.',
        );
      }
      await sleep(delay);
    }
  }
  async function put(bucket: string, cors: CorsConfiguration | undefined): Promise<void> {
    try {
      if (cors) await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: cors.CORSRules as CORSRule[] } }));
      else await s3.send(new DeleteBucketCorsCommand({ Bucket: bucket }));
    } catch (e) {
      const name = (e as { name?: string }).name ?? 'Error';
      throw new Error(
        `${label} refused ${cors ? 'PutBucketCors' : 'DeleteBucketCors'} on ${bucket}: ${name}: ${(e as Error).message}` +
          (name === 'NotImplemented' || name === 'MalformedXML' ? ' — this store has no per-bucket CORS API (MinIO community edition answers so; its CORS is one global setting)' : ''),
      );
    }
  }

  // ---- one bucket, one configuration at a time --------------------------------------------------
  let applied: CorsConfiguration | undefined = previous ? { CORSRules: previous as CorsConfiguration['CORSRules'] } : undefined;
  let appliedKnown = false;
  /** Cases prepared together wait for one another's configuration change, in order. */
  let configuring: Promise<void> = Promise.resolve();
  let applications = 0;
  /** A probe the served configuration is known to allow (refused once a deletion is served). */
  let confirmed: { origin: string; method: string } | undefined;
  if (!perConfiguration && previous?.length) {
    // The bucket's own configuration: a probe from its first rule's origin, if the store allows it now.
    const first = previous[0]!;
    const o = (first.AllowedOrigins?.[0] ?? '').replace(/^\*$/, sentinelOrigin(runToken, 'previous')).replace(/\*/g, 'corsproof-probe');
    const m = first.AllowedMethods?.[0];
    if (/^https?:\/\//.test(o) && m) {
      const a = await probe(opts.bucket, o, m).catch(() => undefined);
      if (a?.allowOrigin) confirmed = { origin: o, method: m };
    }
  }

  async function applyConfiguration(bucket: string, cors: CorsConfiguration | undefined): Promise<void> {
    const n = ++applications;
    if (!cors) {
      await put(bucket, undefined);
      const c = confirmed;
      confirmed = undefined;
      if (c) {
        await waitFor(bucket, 'the CORS configuration was deleted but still served', async () => {
          const a = await probe(bucket, c.origin, c.method);
          return { done: a.allowOrigin === null, answers: [a] };
        });
      }
      return;
    }
    const origin = sentinelOrigin(runToken, String(n));
    const methods = probeMethods(cors);
    const before = await allowedFor(bucket, origin, methods);
    if (before.allowed) {
      // The configuration being replaced already allows the new sentinel origin (a * rule): a barrier.
      await put(bucket, undefined);
      await waitFor(bucket, 'the previous CORS configuration was still served after it was deleted', async () => {
        const r = await allowedFor(bucket, origin, methods);
        return { done: !r.allowed, answers: r.answers };
      });
    }
    await put(bucket, withSentinel(cors, origin));
    let seen: ProbeAnswer | undefined;
    await waitFor(bucket, 'the new CORS configuration was not served', async () => {
      const r = await allowedFor(bucket, origin, methods);
      seen = r.allowed;
      return { done: !!r.allowed, answers: r.answers };
    });
    confirmed = { origin, method: seen!.method };
  }

  // ---- a bucket per configuration (a store corsproof runs itself) --------------------------------
  const ready = new Map<string, Promise<string>>();
  function bucketFor(cors: CorsConfiguration | undefined): Promise<string> {
    const hash = configHash(cors);
    let p = ready.get(hash);
    if (!p) {
      p = (async () => {
        const bucket = `${opts.bucket}-${hash}`.toLowerCase().slice(0, 63);
        try {
          await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        } catch (e) {
          // Another worker of the run created it first.
          const name = (e as { name?: string }).name;
          if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw new Error(`${label}: cannot create bucket ${bucket}: ${name}: ${(e as Error).message}`);
        }
        if (!cors) return bucket; // a new bucket has no CORS configuration
        // The same sentinel in every worker, so concurrent puts of one configuration are identical.
        const origin = sentinelOrigin(runToken, hash);
        const methods = probeMethods(cors);
        if ((await allowedFor(bucket, origin, methods)).allowed) return bucket;
        await put(bucket, withSentinel(cors, origin));
        await waitFor(bucket, 'the new CORS configuration was not served', async () => {
          const r = await allowedFor(bucket, origin, methods);
          return { done: !!r.allowed, answers: r.answers };
        });
        return bucket;
      })();
      p.catch(() => ready.delete(hash));
      ready.set(hash, p);
    }
    return p;
  }

  const cases = new Map<string, { bucket: string; key: string; urls: Map<string, string> }>();
  const objectUrl = (bucket: string, key: string) => `${opts.endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

  return {
    kind: 'remote',
    serverRecord: false,
    store: { ...(opts.store?.name ? { name: opts.store.name } : {}), endpoint: opts.endpoint, label },
    async prepare(caseId, cors, object) {
      let bucket: string;
      if (perConfiguration) {
        bucket = await bucketFor(cors);
      } else {
        bucket = opts.bucket;
        const change = configuring.then(async () => {
          if (appliedKnown && sameConfig(applied, cors)) return;
          appliedKnown = false;
          await applyConfiguration(bucket, cors);
          applied = cors;
          appliedKnown = true;
        });
        configuring = change.catch(() => {});
        await change;
      }
      const key = `corsproof/${caseId}/${object.key}`;
      const urls = new Map<string, string>();
      cases.set(caseId, { bucket, key, urls });
      const cacheControl = object.headers.find(([k]) => k.toLowerCase() === 'cache-control')?.[1];
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: object.body, ContentType: object.contentType, ...(cacheControl ? { CacheControl: cacheControl } : {}) }));
      // Presigned like the URLs apps hand to browsers for private buckets; the per-case key keeps
      // every case's URL unique (there is no server log to key by the corsproof-case parameter).
      // One URL per method and case, so the replay sends exactly what the engine was given.
      const presign = async (method: string): Promise<string> => {
        const known = urls.get(method);
        if (known) return known;
        const input = { Bucket: bucket, Key: key };
        const command =
          method === 'PUT' ? new PutObjectCommand(input) : method === 'DELETE' ? new DeleteObjectCommand(input) : method === 'HEAD' ? new HeadObjectCommand(input) : method === 'GET' ? new GetObjectCommand(input) : undefined;
        // POST has no presigned form (browser uploads POST a signed form); it goes unsigned.
        const url = command ? await getSignedUrl(s3, command, { expiresIn: 900 }) : objectUrl(bucket, key);
        urls.set(method, url);
        return url;
      };
      const resolved = await s3.config.credentials();
      return {
        bucket,
        url: await presign('GET'),
        urlFor: presign,
        // Flows sign with the run's own AWS credentials (the SDK flows hand them to the local browser
        // page; presigned flows sign here, in Node). The per-case key keeps object URLs unique; the
        // case parameter (S3 ignores unknown query parameters) does the same for bucket-level
        // requests (ListObjectsV2, POST Object), whose URL has no key.
        access: {
          endpoint: opts.endpoint,
          bucket,
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
    async replay(caseId, steps, origin) {
      const c = cases.get(caseId);
      if (!c) throw new Error(`replay: case ${caseId} was not prepared (or already finished)`);
      const reqs = impliedRequests(steps, origin, { object: (m) => c.urls.get(m) ?? objectUrl(c.bucket, c.key), bucket: `${opts.endpoint}/${c.bucket}` });
      return replay(reqs);
    },
    async finish(caseId) {
      const c = cases.get(caseId);
      cases.delete(caseId);
      // A bucket per configuration belongs to the store's run and goes with it: no clean-up call.
      if (c && !perConfiguration) await s3.send(new DeleteObjectCommand({ Bucket: c.bucket, Key: c.key })).catch(() => {});
    },
    async close() {
      try {
        // Per-configuration buckets belong to the store's run (its cluster is discarded with them).
        if (perConfiguration) return;
        if (previous) await s3.send(new PutBucketCorsCommand({ Bucket: opts.bucket, CORSConfiguration: { CORSRules: previous } }));
        else await s3.send(new DeleteBucketCorsCommand({ Bucket: opts.bucket }));
      } finally {
        s3.destroy();
      }
    },
    describe: () => (perConfiguration ? `${label}, a bucket per configuration (${opts.bucket}-*)` : `${label}, bucket ${opts.bucket} (remote)`),
  };
}
