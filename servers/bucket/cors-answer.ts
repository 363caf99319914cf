/**
 * The S3 CORS answer on the wire, written once for both endpoints of the bucket server: the REST
 * endpoint (rest.ts) and the static-website endpoint (website.ts) call these two functions and
 * nothing else of the CORS engine.
 *
 * - `answerPreflight`: an `OPTIONS` request is answered here and nowhere else — 200 with the
 *   engine's headers, or the refusal as an S3 error (§2.1), rendered by `sendS3Error` as the
 *   endpoint renders errors (XML on REST, the HTML error page on the website endpoint).
 * - `decideActualCors`: any other request gets the engine's headers on whatever the operation then
 *   answers, error responses included (§3); context.ts writes them.
 *
 * Reference: /work/shared/reference/s3-cors-semantics.md (§2 preflight, §3 actual requests, §4 the
 * website endpoint).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type CorsConfiguration, type HeaderList, decideActual, decidePreflight, describeDecision } from '../s3/cors/index.js';
import { type Ctx, note, sendEmpty, sendS3Error } from './context.js';
import { corsFacts } from './cors-http.js';
import { S3Error } from './errors.js';

/** What the CORS engine needs to know about the addressed resource. */
export interface CorsTarget {
  bucketExists: boolean;
  /** The bucket's CORS configuration; undefined when it has none. */
  config?: CorsConfiguration;
  /** The object key when the URL names one (ResourceType OBJECT rather than BUCKET). */
  key?: string;
}

/** Exchange-log notes say which endpoint decided. */
const label = (ctx: Ctx, text: string) => (ctx.endpoint === 'website' ? `website: ${text}` : text);

/**
 * Answers a CORS preflight (`OPTIONS`). Preflights never authenticate and never look at the object
 * (§2.1 "What preflight ignores").
 *
 * A refusal for a missing `Origin` also closes the connection: S3's REST endpoint sends
 * `Connection: close` on exactly that answer (§2.2, AWS-REC). UNVERIFIED choice for the website
 * endpoint, where no preflight answer is on record (§4, §9): it answers exactly as the REST
 * endpoint does (same decision, same status, same `Connection: close`), only the error body is the
 * website's HTML page — one rule for both endpoints rather than two that drift.
 */
export function answerPreflight(req: IncomingMessage, res: ServerResponse, ctx: Ctx, target: CorsTarget): void {
  const d = decidePreflight(corsFacts(req, target));
  note(res, label(ctx, describeDecision(d)));
  if (d.kind === 'allowed') {
    ctx.cors = d.headers;
    sendEmpty(res, 200);
    return;
  }
  const fields: Array<[string, string]> = [];
  if (d.method !== undefined) fields.push(['Method', d.method]);
  if (d.resourceType !== undefined) fields.push(['ResourceType', d.resourceType]);
  const extra: HeaderList = d.reason === 'no-origin' ? [['Connection', 'close']] : [];
  sendS3Error(req, res, new S3Error(d.status, d.code, d.message, fields), extra);
}

/**
 * Decides the CORS headers of an actual (non-OPTIONS) request before the operation runs, so that
 * whatever is answered — success, S3 error, 304 — carries them (context.ts applies `ctx.cors`).
 * No `Origin`, no configuration, no matching rule: no CORS headers and no `Vary` (§3).
 */
export function decideActualCors(req: IncomingMessage, res: ServerResponse, ctx: Ctx, target: CorsTarget): void {
  const facts = corsFacts(req, target);
  const d = decideActual(facts);
  ctx.cors = d.headers;
  if (facts.origin !== undefined) note(res, label(ctx, describeDecision(d)));
}
