/**
 * Shared helpers for the bucket-server specs: a server per test file, an SDK client pointed at it,
 * and a raw HTTP request that sends exactly the headers given (fetch adds and forbids some).
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { ExchangeLog } from '../../servers/exchange-log.js';
import { startBucketServer, type BucketServer, type BucketServerOptions } from '../../servers/bucket/index.js';

export const CREDS = { accessKeyId: 'corsproof', secretAccessKey: 'corsproof-secret', region: 'us-east-1' };

export async function startServer(opts: Partial<BucketServerOptions> = {}): Promise<{ server: BucketServer; log: ExchangeLog }> {
  const log = new ExchangeLog();
  const server = await startBucketServer({ log, ...opts });
  return { server, log };
}

export function s3Client(server: BucketServer, credentials: { accessKeyId: string; secretAccessKey: string } = CREDS): S3Client {
  return new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  /** Header names in the order they were sent, as sent. */
  rawHeaderNames: string[];
  body: Buffer;
  text: string;
}

/** One request with exactly these headers (Host defaults to the server's). */
export function raw(
  server: BucketServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
): Promise<RawResponse> {
  const h: Record<string, string> = { ...headers };
  if (body !== undefined && !Object.keys(h).some((k) => k.toLowerCase() === 'content-length' || k.toLowerCase() === 'transfer-encoding'))
    h['Content-Length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: server.port, method, path, headers: h, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          const names: string[] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) names.push(res.rawHeaders[i]!);
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers: h, rawHeaderNames: names, body: b, text: b.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Writes bytes straight to the socket (for requests no HTTP client will send) and returns the reply text. */
export function rawSocket(server: BucketServer, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(server.port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    s.on('error', reject);
    s.write(bytes);
  });
}

/** Headers whose values change on every response. */
export function stable(headers: Record<string, string>): Record<string, string> {
  const { date: _d, 'x-amz-request-id': _r, 'x-amz-id-2': _h, ...rest } = headers;
  return rest;
}

export const REQUEST_ID = /^[0-9A-F]{16}$/;

/**
 * A SigV4-signed request sent byte-for-byte as signed (the test plays the client: the AWS SDK's
 * own signer signs it, exactly as @aws-sdk/client-s3 would).
 */
export async function signedRaw(
  server: BucketServer,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Buffer | string,
  credentials: { accessKeyId: string; secretAccessKey: string } = CREDS,
): Promise<RawResponse> {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Sha256 } = await import('@aws-crypto/sha256-js');
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false });
  const q = path.indexOf('?');
  const query: Record<string, string> = {};
  if (q >= 0) for (const part of path.slice(q + 1).split('&')) {
    const eq = part.indexOf('=');
    query[decodeURIComponent(eq < 0 ? part : part.slice(0, eq))] = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
  }
  const bodyBuf = body === undefined ? undefined : Buffer.from(body);
  const { createHash } = await import('node:crypto');
  const signed = await signer.sign({
    method,
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: server.port,
    path: q >= 0 ? path.slice(0, q) : path,
    query,
    headers: {
      host: `127.0.0.1:${server.port}`,
      'x-amz-content-sha256': createHash('sha256').update(bodyBuf ?? Buffer.alloc(0)).digest('hex'),
      ...headers,
    },
  });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') out[k] = String(v);
  return raw(server, method, path, out, bodyBuf);
}

/** Response headers as [name, value] in wire order, without per-response values and Node's transport headers. */
export function wireHeaders(r: RawResponse): Array<[string, string]> {
  const skip = new Set(['date', 'x-amz-request-id', 'x-amz-id-2', 'connection', 'keep-alive', 'transfer-encoding']);
  return r.rawHeaderNames.filter((n) => !skip.has(n.toLowerCase())).map((n) => [n, r.headers[n.toLowerCase()]!]);
}

/** The S3 error an SDK call fails with (anything else, or success, fails the test). */
export async function s3Error(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return e;
    throw e;
  }
  throw new Error('expected the S3 call to fail');
}
