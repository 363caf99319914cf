/**
 * Per-server environment, per-request context, and the response writers shared by the REST and
 * website handlers. Every response leaves through `sendS3Error` or one of the `send*` helpers,
 * and each of them applies the request's decided CORS headers through `applyHeaders`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HeaderList } from '../s3/cors/index.js';
import { noteExchange } from '../exchange-log.js';
import { applyHeaders } from './cors-http.js';
import { Errors, S3Error, errorHtml, errorXml } from './errors.js';
import type { Credentials } from './auth.js';
import type { MemoryBucketStore } from './store.js';

export type AnonymousAccess = 'policy' | 'open';

export interface Limits {
  /** Largest object body accepted by PutObject (EntityTooLarge above). */
  objectBytes: number;
  /** Largest configuration document (CORS, policy, website, CreateBucket) (MaxMessageLengthExceeded above). */
  configBytes: number;
}

export interface Env {
  store: MemoryBucketStore;
  creds: Credentials;
  anonymousAccess: AnonymousAccess;
  /** Host suffixes routed to the website endpoint (e.g. `corsproof.test`). */
  websiteDomains: string[];
  limits: Limits;
}

export interface Ctx {
  requestId: string;
  hostId: string;
  /** 'bucket' (REST) or 'website': decides the error body format. */
  endpoint: 'bucket' | 'website';
  /** Path exactly as received (absolute-form request targets reduced to their path). */
  rawPath: string;
  rawQuery: string;
  /** CORS headers decided for this request by the engine; applied to whatever is answered. */
  cors: HeaderList;
  /** One-line explanation for the exchange log. */
  notes: string[];
}

const CTX = Symbol('corsproof.bucketCtx');

export function ctxOf(res: ServerResponse): Ctx | undefined {
  return (res as unknown as Record<symbol, Ctx | undefined>)[CTX];
}

/** S3-style ids: 16 upper-case hex characters and a 76-character base64 host id. */
export function newCtx(res: ServerResponse, endpoint: Ctx['endpoint'], rawTarget: string): Ctx {
  const { path, query } = splitTarget(rawTarget);
  const ctx: Ctx = {
    requestId: randomBytes(8).toString('hex').toUpperCase(),
    hostId: randomBytes(57).toString('base64'),
    endpoint,
    rawPath: path,
    rawQuery: query,
    cors: [],
    notes: [],
  };
  (res as unknown as Record<symbol, Ctx>)[CTX] = ctx;
  res.setHeader('x-amz-id-2', ctx.hostId);
  res.setHeader('x-amz-request-id', ctx.requestId);
  return ctx;
}

/** Splits a request target into raw path and raw query; absolute-form (proxy) targets lose scheme and authority. */
export function splitTarget(target: string): { path: string; query: string } {
  let t = target;
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(t);
  if (abs) t = t.slice(abs[0].length) || '/';
  const hash = t.indexOf('#');
  if (hash >= 0) t = t.slice(0, hash);
  const q = t.indexOf('?');
  return q < 0 ? { path: t, query: '' } : { path: t.slice(0, q), query: t.slice(q + 1) };
}

/** The Host a request was addressed to: the absolute-form authority if any, else the Host header. */
export function targetHost(req: IncomingMessage): string {
  const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(req.url ?? '');
  return (abs?.[1] ?? req.headers.host ?? '').toLowerCase();
}

export function note(res: ServerResponse, text: string): void {
  const ctx = ctxOf(res);
  if (ctx) ctx.notes.push(text);
  noteExchange(res, ctx ? ctx.notes.join('; ') : text);
}

/**
 * Sets status and headers in the order S3 sends them: ids (set when the request arrived), Date,
 * the CORS headers, the operation's headers, Content-Length, Server.
 */
function writeHeaders(res: ServerResponse, status: number, opHeaders: HeaderList, contentLength: number | null): void {
  res.statusCode = status;
  if (!res.hasHeader('Date')) res.setHeader('Date', new Date().toUTCString());
  const ctx = ctxOf(res);
  if (ctx) applyHeaders(res, ctx.cors);
  for (const [k, v] of opHeaders) res.setHeader(k, v);
  if (contentLength !== null) res.setHeader('Content-Length', String(contentLength));
  res.setHeader('Server', 'AmazonS3');
}

/** A bodyless response (204, 200 with Content-Length 0, 304, HEAD bucket); `null` omits Content-Length. */
export function sendEmpty(res: ServerResponse, status: number, headers: HeaderList = [], contentLength: number | null = 0): void {
  writeHeaders(res, status, headers, status === 204 || status === 304 ? null : contentLength);
  res.end();
}

export function sendBody(res: ServerResponse, status: number, body: Buffer | string, headers: HeaderList, headOnly: boolean): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  writeHeaders(res, status, headers, buf.length);
  if (headOnly) res.end();
  else res.end(buf);
}

export function sendXml(res: ServerResponse, status: number, xml: string, headers: HeaderList = []): void {
  sendBody(res, status, xml, [['Content-Type', 'application/xml'], ...headers], false);
}

/** Headers an error response keeps from whatever the handler had set before failing. */
const KEEP_ON_ERROR = new Set(['x-amz-request-id', 'x-amz-id-2', 'date', 'connection']);

/**
 * Answers `err` as S3 would: the XML `<Error>` document on the REST endpoint, the HTML error page on
 * the website endpoint, no body for HEAD; `Transfer-Encoding: chunked` like S3's error responses.
 */
export function sendS3Error(req: IncomingMessage, res: ServerResponse, err: S3Error, extraHeaders: HeaderList = []): void {
  const ctx = ctxOf(res) ?? newCtx(res, 'bucket', req.url ?? '/');
  for (const name of res.getHeaderNames()) if (!KEEP_ON_ERROR.has(name)) res.removeHeader(name);
  note(res, `${err.status} ${err.code}${err.detail ? `: ${err.detail}` : ''}`);
  const html = ctx.endpoint === 'website';
  if (req.method === 'HEAD') {
    writeHeaders(res, err.status, extraHeaders, null);
    res.end();
    return;
  }
  writeHeaders(res, err.status, [['Content-Type', html ? 'text/html; charset=utf-8' : 'application/xml'], ...extraHeaders], null);
  // No Content-Length: S3 sends its error documents with Transfer-Encoding: chunked (§2.2).
  res.write(html ? errorHtml(err, ctx.requestId, ctx.hostId) : errorXml(err, ctx.requestId, ctx.hostId));
  res.end();
}

/**
 * The final Express error handler: S3Errors are answered as such; anything else is a bug, logged
 * to stderr and answered as InternalError — never an unhandled 500 or a dropped connection.
 */
export function errorHandler() {
  return (err: unknown, req: IncomingMessage, res: ServerResponse, _next: (e?: unknown) => void): void => {
    let s3: S3Error;
    if (err instanceof S3Error) s3 = err;
    else {
      console.error(`[corsproof bucket] unexpected error answering ${req.method} ${req.url}:`, err);
      s3 = Errors.internalError(err instanceof Error ? err.message : String(err));
    }
    if (res.headersSent) {
      // Too late for an error document: cut the response short so the client sees a failure.
      note(res, `aborted after headers were sent: ${s3.code}`);
      res.destroy();
      return;
    }
    sendS3Error(req, res, s3);
  };
}
