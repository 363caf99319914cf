/**
 * HTTP ↔ the S3 CORS engine: request → `CorsRequestFacts`, and the engine's `HeaderList` → response
 * headers (`applyHeaders`, the one CORS header writer). Every decision is made by the pure engine in
 * ../s3/cors/; cors-answer.ts turns it into the answer both endpoints send.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CorsConfiguration, CorsRequestFacts, HeaderList } from '../s3/cors/index.js';

/** Reads the CORS-relevant request headers; `undefined` when a header is absent. */
export function corsFacts(
  req: IncomingMessage,
  target: { bucketExists: boolean; config?: CorsConfiguration; key?: string },
): CorsRequestFacts {
  const h = req.headers;
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(', ') : v);
  const origin = one(h['origin']);
  const acrm = one(h['access-control-request-method']);
  const acrh = one(h['access-control-request-headers']);
  return {
    method: req.method ?? 'GET',
    ...(origin !== undefined ? { origin } : {}),
    ...(acrm !== undefined ? { accessControlRequestMethod: acrm } : {}),
    ...(acrh !== undefined ? { accessControlRequestHeaders: acrh } : {}),
    bucketExists: target.bucketExists,
    ...(target.config !== undefined ? { config: target.config } : {}),
    ...(target.key !== undefined ? { key: target.key } : {}),
  };
}

/** Writes the engine's headers, in the engine's order, replacing any earlier value of the same name. */
export function applyHeaders(res: ServerResponse, headers: HeaderList): void {
  for (const [name, value] of headers) res.setHeader(name, wireValue(value));
}

/**
 * A configured value as bytes on the wire. S3 stores a configuration's strings as the UTF-8 it
 * received and writes them into headers byte for byte; Node only takes latin-1 strings and throws
 * on anything else, which would turn a stored ExposeHeader like "x-☃" into a 500 on every matching
 * request. UNVERIFIED choice: send the UTF-8 bytes (as S3, a byte-oriented server, would) and drop
 * control characters other than tab, which no HTTP header may carry.
 */
export function wireValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');
  return /[^\u0000-\u00ff]/.test(clean) ? Buffer.from(clean, 'utf8').toString('latin1') : clean;
}
