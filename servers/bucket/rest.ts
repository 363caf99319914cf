/**
 * The S3 REST endpoint, path-style (`/<bucket>/<key>`): what every request goes through, and the
 * routing table that sends it to its operation. The operations themselves are in ops/, one file
 * per family, named after what they handle:
 *
 *   ops/buckets.ts         ListBuckets, CreateBucket, HeadBucket, GetBucketLocation, DeleteBucket
 *   ops/list.ts            ListObjects, ListObjectsV2
 *   ops/objects.ts         GetObject, HeadObject, PutObject, DeleteObject
 *   ops/bucket-cors.ts     GetBucketCors, PutBucketCors, DeleteBucketCors      (?cors)
 *   ops/bucket-policy.ts   GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy (?policy)
 *   ops/bucket-website.ts  GetBucketWebsite, PutBucketWebsite, DeleteBucketWebsite (?website)
 *   ops/multipart.ts       CreateMultipartUpload (?uploads), UploadPart, CompleteMultipartUpload,
 *                          AbortMultipartUpload, ListParts (?uploadId), ListMultipartUploads (bucket ?uploads)
 *   ops/post-object.ts     PostObject (browser-form upload: POST to the bucket)
 *
 * Order of checks, as S3 does it: OPTIONS is a CORS preflight, answered by cors-answer.ts and never
 * authenticated; every other request gets its CORS headers decided first (they go on errors too),
 * then the signature (if any) is verified, unimplemented sub-resources are refused (501), the
 * bucket must exist (NoSuchBucket), and the operation runs — it checks who may call it
 * (operation.ts: owner only, or what the bucket policy grants anonymous callers).
 *
 * Adding an operation family (e.g. multipart uploads, POST Object):
 *   1. a new file ops/<family>.ts exporting `<family>Routes: Route[]` — one line per operation:
 *      `{ name: 'UploadPart', resource: 'object', method: 'PUT', sub: 'uploadId', op: uploadPart }`
 *      (`sub` is the query parameter that selects the operation; see `Route` in operation.ts);
 *      each `op` receives an `S3Call` (who, bucket, key, query, body readers, authorization);
 *   2. one line `...<family>Routes,` in ROUTES below;
 *   3. if its sub-resource is listed in UNIMPLEMENTED_SUBRESOURCES, remove it there (as the
 *      multipart family did for `uploads`, `uploadId` and `partNumber`).
 * Nothing else changes: the route decides, this file only dispatches.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticate, parseRawQuery } from './auth.js';
import { type Ctx, type Env, note } from './context.js';
import { answerPreflight, decideActualCors } from './cors-answer.js';
import { Errors, S3Error } from './errors.js';
import { MAX_KEY_BYTES, hasDotSegment } from './names.js';
import { S3Call, type Route } from './operation.js';
import { bucketCorsRoutes } from './ops/bucket-cors.js';
import { bucketPolicyRoutes } from './ops/bucket-policy.js';
import { bucketWebsiteRoutes } from './ops/bucket-website.js';
import { bucketsRoutes } from './ops/buckets.js';
import { listRoutes } from './ops/list.js';
import { multipartRoutes } from './ops/multipart.js';
import { objectsRoutes } from './ops/objects.js';
import { postObjectRoutes } from './ops/post-object.js';

/**
 * Every operation the REST endpoint serves. A request that names several routed sub-resources
 * (`?cors&policy`) goes to the first one in this order (UNVERIFIED choice: S3's precedence is not
 * on record; such a request is no client's).
 */
const ROUTES: readonly Route[] = [
  ...bucketCorsRoutes,
  ...bucketPolicyRoutes,
  ...bucketWebsiteRoutes,
  ...bucketsRoutes,
  ...listRoutes,
  ...objectsRoutes,
  ...multipartRoutes,
  ...postObjectRoutes,
];

/**
 * S3 sub-resources and operation parameters this server does not implement: answered 501
 * NotImplemented rather than silently treated as a plain object or bucket request.
 * Any other unknown query parameter (e.g. `corsproof-case`, the SDK's `x-id`) is ignored, as S3 does.
 */
const UNIMPLEMENTED_SUBRESOURCES = [
  'accelerate', 'acl', 'analytics', 'attributes', 'delete', 'encryption', 'intelligent-tiering', 'inventory',
  'legal-hold', 'lifecycle', 'logging', 'metadataConfiguration', 'metrics', 'notification', 'object-lock',
  'ownershipControls', 'policyStatus', 'publicAccessBlock', 'replication', 'requestPayment',
  'restore', 'retention', 'select', 'session', 'tagging', 'torrent', 'versioning',
  'versions', 'renameObject',
];

type Resource = Route['resource'];

/** Per resource, the sub-resources that select an operation, in ROUTES order. */
const ROUTED_SUBS: Record<Resource, string[]> = { service: [], bucket: [], object: [] };
for (const r of ROUTES) {
  if (r.sub !== undefined && r.sub !== '*' && !ROUTED_SUBS[r.resource].includes(r.sub)) ROUTED_SUBS[r.resource].push(r.sub);
}

/** The operation for a request: the one its method and sub-resource name, else the method's catch-all. */
export function routeOf(resource: Resource, method: string, query: Record<string, unknown>): Route | undefined {
  const sub = ROUTED_SUBS[resource].find((s) => query[s] !== undefined);
  return (
    ROUTES.find((r) => r.resource === resource && r.method === method && r.sub === sub) ??
    ROUTES.find((r) => r.resource === resource && r.method === method && r.sub === '*')
  );
}

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

  const resource: Resource = target.bucket === undefined ? 'service' : target.key === undefined ? 'bucket' : 'object';
  const call = new S3Call(env, req, res, ctx, principal, target.bucket ?? '', target.key ?? '', query);
  if (resource === 'object') checkObjectAddress(call);
  const route = routeOf(resource, method, query);
  if (resource !== 'service' && !route?.bucketMayNotExist) call.requireBucket();
  if (!route) throw Errors.methodNotAllowed(method, resource === 'service' ? 'SERVICE' : resource === 'bucket' ? 'BUCKET' : 'OBJECT');
  return route.op(call);
}

/** What every object operation refuses before looking at the bucket. */
function checkObjectAddress(call: S3Call): void {
  const keyBytes = Buffer.byteLength(call.key, 'utf8');
  if (keyBytes > MAX_KEY_BYTES) throw Errors.keyTooLong(keyBytes, MAX_KEY_BYTES);
  // corsproof deviation: S3 would store `a/../b` literally; a key that looks like path traversal
  // is refused so that nothing downstream can mistake it for a file path.
  if (hasDotSegment(call.key)) throw Errors.dotSegmentKey(call.key);
  const versionId = call.param('versionId');
  if (versionId !== undefined && versionId !== 'null') throw Errors.invalidArgument('Invalid version id specified', 'versionId', versionId);
}
