/**
 * The static-website endpoint (`<bucket>.s3-website[-.]<region>.<domain>`), reached by host-based
 * routing on the bucket server's listener. What S3 documents for it [S9 WebsiteEndpoints.md]:
 * GET and HEAD only, public (anonymously readable) content only, index documents for `/` and for
 * `dir/`, HTML error pages instead of XML, and the bucket's CORS configuration applied to GET/HEAD,
 * 404s included (reference §4).
 *
 * Requests are always treated as anonymous: the website endpoint does not support authentication.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Ctx, type Env, note, sendBody, sendEmpty } from './context.js';
import { answerPreflight, decideActualCors } from './cors-answer.js';
import { Errors, S3Error } from './errors.js';
import { anonymousAllowed, bucketArn, objectArn } from './policy.js';
import { objectHeaders } from './ops/objects.js';

/** Matches `<bucket>.s3-website.<region>.<domain>` and `<bucket>.s3-website-<region>.<domain>` (any port). */
export function websiteBucketOf(host: string, domains: string[]): { bucket: string; region: string } | undefined {
  const hostname = host.replace(/:\d+$/, '').toLowerCase();
  for (const domain of domains) {
    const suffix = `.${domain.toLowerCase()}`;
    if (!hostname.endsWith(suffix)) continue;
    const m = /^(.+)\.s3-website[.-]([a-z0-9-]+)$/.exec(hostname.slice(0, -suffix.length));
    if (m) return { bucket: m[1]!, region: m[2]! };
  }
  return undefined;
}

function mayRead(env: Env, bucket: string, action: string, resource: string): boolean {
  if (env.anonymousAccess === 'open' && (action === 's3:GetObject' || action === 's3:ListBucket')) return true;
  return anonymousAllowed(env.store.policy(bucket)?.parsed, action, resource);
}

export async function handleWebsite(env: Env, req: IncomingMessage, res: ServerResponse, ctx: Ctx, bucket: string): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const { store } = env;
  const exists = store.hasBucket(bucket);
  const config = exists ? store.getCors(bucket) : undefined;
  let requested: string;
  try {
    requested = decodeURIComponent(ctx.rawPath.replace(/^\//, ''));
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.", [['URI', ctx.rawPath]]);
  }
  const cors = { bucketExists: exists, ...(config ? { config } : {}), ...(requested ? { key: requested } : {}) };

  // UNVERIFIED choice: the reference (§4, §9) has no record of how a website endpoint answers a
  // preflight, and S3 documents only GET/HEAD there. It gets the REST endpoint's answer (one
  // function, cors-answer.ts), with refusals rendered as the website's HTML error page.
  if (method === 'OPTIONS') return answerPreflight(req, res, ctx, cors);
  decideActualCors(req, res, ctx, cors);

  if (method !== 'GET' && method !== 'HEAD') throw Errors.methodNotAllowed(method, 'OBJECT');
  if (!exists) throw Errors.noSuchBucket(bucket);
  const website = store.website(bucket);
  if (!website) throw Errors.noSuchWebsite(bucket);

  const key = requested === '' || requested.endsWith('/') ? requested + website.indexDocument : requested;
  const head = method === 'HEAD';
  const canList = mayRead(env, bucket, 's3:ListBucket', bucketArn(bucket));
  const readable = (k: string) => mayRead(env, bucket, 's3:GetObject', objectArn(bucket, k));

  const o = readable(key) ? store.get(bucket, key) : undefined;
  if (o) {
    note(res, `website: served ${key}`);
    return sendBody(res, 200, o.body, objectHeaders(o, []), head);
  }
  // `dir` without the slash, when `dir/<index>` exists: S3 redirects to `dir/`.
  if (requested !== '' && !requested.endsWith('/')) {
    const indexKey = `${requested}/${website.indexDocument}`;
    if (readable(indexKey) && store.has(bucket, indexKey)) {
      note(res, `website: redirect to /${requested}/`);
      return sendEmpty(res, 302, [['Location', `/${encodeURI(requested)}/`]]);
    }
  }
  const err = !readable(key) || !canList ? Errors.accessDenied(`website: ${key} is not publicly readable or does not exist`) : Errors.noSuchKey(key);
  if (website.errorDocument !== undefined && readable(website.errorDocument)) {
    const doc = store.get(bucket, website.errorDocument);
    if (doc) {
      note(res, `website: ${err.code}, served error document ${website.errorDocument}`);
      return sendBody(res, err.status, doc.body, objectHeaders(doc, []), head);
    }
  }
  throw err;
}
