/**
 * corsproof's bucket server: an Express app that behaves like Amazon S3's path-style REST endpoint
 * closely enough for the AWS CLI, `@aws-sdk/client-s3` and browsers, with S3's CORS behaviour
 * decided by the pure engine in ../s3/cors/. The same listener also serves S3 static-website
 * endpoints, chosen by the Host header (`<bucket>.s3-website.<region>.<websiteDomain>` or
 * `<bucket>.s3-website-<region>.<websiteDomain>`); those exchanges are logged as server 'website'.
 *
 * Access model:
 * - A request signed (SigV4 header or presigned URL) with the server's credentials is the bucket
 *   owner and may do everything.
 * - An unsigned request is anonymous. With `anonymousAccess: 'policy'` (the default, as S3) it may do
 *   what the bucket policy grants to Principal "*". With `'open'` it may also GET/HEAD/PUT/DELETE
 *   objects and list buckets whatever the policy — for browser tests that set buckets up through
 *   `store` and need anonymous cross-origin reads and writes.
 * - Whatever the mode, `?cors`, `?policy`, `?website` changes and bucket create/delete require a
 *   valid signature (403 AccessDenied otherwise), and CORS preflights are never authenticated.
 * - The website endpoint never authenticates: it serves what anonymous callers may read (the
 *   policy, or everything in 'open' mode).
 *
 * Implemented besides buckets, objects and their CORS/policy/website configuration: multipart
 * uploads (ops/multipart.ts), browser-form POST uploads with a SigV4 POST policy (ops/post-object.ts),
 * flexible checksums on every upload (checksums.ts), range and `?partNumber=` reads.
 * Not implemented (501 NotImplemented, never silently mis-served): CopyObject, UploadPartCopy,
 * ACLs, tagging, versioning and the other sub-resources listed in rest.ts; website redirect rules.
 * Where each operation is handled: the table at the top of rest.ts (one file per family in ops/).
 *
 * Limits: object bodies up to `limits.objectBytes` (default 32 MiB; EntityTooLarge above) — also
 * a POST form's file, a multipart upload's parts together and the object it completes into;
 * configuration documents up to `limits.configBytes` (default 64 KiB, S3's CORS document limit;
 * MaxMessageLengthExceeded above). Everything lives in memory.
 */
import type { RequestListener } from 'node:http';
import { listenHttp, type Listener } from '../listen.js';
import express, { type NextFunction, type Request, type Response } from 'express';
import { recordExchanges, type ExchangeLog } from '../exchange-log.js';
import type { Credentials } from './auth.js';
import { DEFAULT_CREDENTIALS } from './credentials.js';
import { type AnonymousAccess, type Env, type Limits, errorHandler, newCtx, targetHost } from './context.js';
import { answerParserErrors } from './parser-errors.js';
import { handleRest } from './rest.js';
import { MemoryBucketStore, type BucketStore } from './store.js';
import { handleWebsite, websiteBucketOf } from './website.js';

export type { BucketStore, WebsiteConfig, StoredObjectView } from './store.js';
export type { AnonymousAccess, Limits } from './context.js';

export { DEFAULT_CREDENTIALS };

export const DEFAULT_WEBSITE_DOMAIN = 'corsproof.test';

export const DEFAULT_LIMITS: Limits = { objectBytes: 32 * 1024 * 1024, configBytes: 64 * 1024 };

export interface BucketServerOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (a free port). */
  port?: number;
  log: ExchangeLog;
  /** Defaults corsproof / corsproof-secret / us-east-1. */
  credentials?: { accessKeyId: string; secretAccessKey: string; region?: string };
  /**
   * Host suffix of website endpoints (default `corsproof.test`). `amazonaws.com` is always accepted
   * as well, so real website origins such as `http://b.s3-website-eu-west-1.amazonaws.com` can be
   * replayed by resolving those names to this listener. Any region in the host name is accepted.
   */
  websiteDomain?: string;
  /** What unsigned requests may do (see the module comment). Default 'policy'. */
  anonymousAccess?: AnonymousAccess;
  /** Body size limits; defaults in DEFAULT_LIMITS. */
  limits?: Partial<Limits>;
  /**
   * Also speak HTTPS on the same port (the first byte of a connection tells TLS from HTTP), so
   * `http://host:P` and `https://host:P` differ in nothing but the scheme.
   */
  tls?: { key: string; cert: string };
  /** More listeners of the same app on other ports (e.g. "same host, other port" origins). */
  extraPorts?: number[];
  /**
   * Requests this handler claims (it calls `next()` for the rest) are served before S3 routing —
   * used to serve corsproof's own page from the bucket's origin for same-origin cases.
   */
  front?: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, next: () => void) => void;
}

export interface BucketServer {
  /** e.g. http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Direct in-process admin access for test setup (no HTTP, no auth). */
  store: BucketStore;
  /** The website endpoint URL of `bucket` on this listener (host-routed). */
  websiteUrl(bucket: string): string;
  /** Ports of `extraPorts` listeners, in order (each resolved when 0 was asked). */
  extraPorts: number[];
  /** Closes the listener and every open connection (keep-alive included). */
  close(): Promise<void>;
}

/** The Express app, without a listener (exported for embedding and tests). */
export function createBucketApp(env: Env, log: ExchangeLog): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);

  const recordBucket = recordExchanges(log, 'bucket');
  const recordWebsite = recordExchanges(log, 'website');

  // First: classify by Host and start the exchange record, so every request is logged.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const site = websiteBucketOf(targetHost(req), env.websiteDomains);
    res.locals['websiteBucket'] = site?.bucket;
    (site ? recordWebsite : recordBucket)(req, res, next);
  });

  app.use((req: Request, res: Response, next: NextFunction) => {
    const bucket = res.locals['websiteBucket'] as string | undefined;
    const ctx = newCtx(res, bucket !== undefined ? 'website' : 'bucket', req.originalUrl);
    const handled = bucket !== undefined ? handleWebsite(env, req, res, ctx, bucket) : handleRest(env, req, res, ctx);
    handled.catch(next);
  });

  app.use(errorHandler());
  return app;
}

export async function startBucketServer(opts: BucketServerOptions): Promise<BucketServer> {
  const host = opts.host ?? '127.0.0.1';
  const store = new MemoryBucketStore();
  const env: Env = {
    store,
    creds: {
      accessKeyId: opts.credentials?.accessKeyId ?? DEFAULT_CREDENTIALS.accessKeyId,
      secretAccessKey: opts.credentials?.secretAccessKey ?? DEFAULT_CREDENTIALS.secretAccessKey,
      region: opts.credentials?.region ?? DEFAULT_CREDENTIALS.region,
    },
    anonymousAccess: opts.anonymousAccess ?? 'policy',
    websiteDomains: [...new Set([opts.websiteDomain ?? DEFAULT_WEBSITE_DOMAIN, 'amazonaws.com'])],
    limits: { ...DEFAULT_LIMITS, ...opts.limits },
  };
  const app = createBucketApp(env, opts.log);
  const front = opts.front;
  const handler: RequestListener = front ? (req, res) => front(req, res, () => app(req, res)) : app;
  const listeners: Listener[] = [];
  const listen = async (port: number, tls?: { key: string; cert: string }) => {
    const l = await listenHttp(handler, { host, port, ...(tls ? { tls } : {}) }, (server) => {
      // Let handlers decide about `Expect: 100-continue`: body readers send 100 Continue only when
      // they actually read the body, so an over-size upload is refused before the client sends it.
      server.on('checkContinue', (req, res) => server.emit('request', req, res));
      // Node answers any other `Expect:` value itself with a bare 417 (no S3 error document, no
      // request id). UNVERIFIED choice: S3's answer is not recorded; the request is served as if the
      // unknown expectation were absent (RFC 9110 lets a server ignore it), so every answer is S3's.
      server.on('checkExpectation', (req, res) => server.emit('request', req, res));
      // Requests Node's HTTP parser rejects: an S3 error, never over another answer (parser-errors.ts).
      answerParserErrors(server, opts.log);
    });
    listeners.push(l);
    return l.port;
  };
  const port = await listen(opts.port ?? 0, opts.tls);
  const extraPorts: number[] = [];
  for (const p of opts.extraPorts ?? []) extraPorts.push(await listen(p));
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const primaryDomain = env.websiteDomains[0]!;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    store,
    websiteUrl: (bucket: string) => `http://${bucket}.s3-website.${env.creds.region}.${primaryDomain}:${port}`,
    extraPorts,
    close: async () => {
      await Promise.all(listeners.map((l) => l.close()));
    },
  };
}
