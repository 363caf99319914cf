/**
 * AWS Signature Version 4 verification, by re-signing.
 *
 * No signing code lives here. For every signed request we rebuild the request the client signed
 * (method, host, raw path, query, and only the headers it listed in SignedHeaders) and have the
 * AWS SDK's own signer (`@smithy/signature-v4` with `@aws-crypto/sha256-js`) compute its signature
 * with the server's credentials and the client's date and scope: SDK canonicalisation
 * (`getCanonicalHeaders`, `createCanonicalRequest`, `createStringToSign`) and the SDK's HMAC
 * (`sign(stringToSign)`). Then the computed and received signatures are compared in constant time.
 * Presigned URLs take the same path with the query parameters; aws-chunked chunk signatures go
 * through the signer's event signer (whose string to sign is exactly S3's chunk string to sign),
 * trailer signatures through its string signer.
 *
 * References: https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html,
 * …/sigv4-query-string-auth.html, …/sigv4-streaming.html, …/sigv4-streaming-trailers.html.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { ALGORITHM_IDENTIFIER, SignatureV4, createScope, getCanonicalHeaders } from '@smithy/signature-v4';
import { Errors, S3Error } from './errors.js';
import type { DecodedAwsChunked } from './body.js';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** What authentication established about the caller. */
export type Principal =
  | { kind: 'anonymous' }
  | {
      kind: 'owner';
      via: 'header' | 'query';
      /** What the client declared in x-amz-content-sha256 (header auth only). */
      contentSha256?: string;
      /** Needed to verify aws-chunked chunk signatures. */
      signingDate: Date;
      seedSignature: string;
    };

type SignerRequest = Parameters<SignatureV4['presign']>[0];

/**
 * The SDK's signer, asked for the signature of a request exactly as the client canonicalised it.
 * `sign(request)` itself cannot be used for verification: it drops a signed `Date` header and
 * re-stamps `x-amz-date`. So the canonical headers come from the SDK's `getCanonicalHeaders`
 * restricted to SignedHeaders, the canonical request and string to sign from the signer's own
 * `createCanonicalRequest` / `createStringToSign`, and the HMAC from its string signer.
 */
class VerifyingSigner extends SignatureV4 {
  async signatureOf(
    request: SignerRequest,
    signedHeaders: string[],
    payloadHash: string,
    longDate: string,
    scope: { date: Date; region: string },
  ): Promise<string> {
    const canonicalHeaders = getCanonicalHeaders(request, undefined, new Set(signedHeaders));
    const canonicalRequest = this.createCanonicalRequest(request, canonicalHeaders, payloadHash);
    const credentialScope = createScope(longDate.slice(0, 8), scope.region, 's3');
    const stringToSign = await this.createStringToSign(longDate, credentialScope, canonicalRequest, ALGORITHM_IDENTIFIER);
    return this.sign(stringToSign, { signingDate: scope.date, signingRegion: scope.region, signingService: 's3' });
  }
}

const MAX_SKEW_MS = 15 * 60 * 1000;

/** The x-amz-content-sha256 values S3 accepts besides a hex digest. */
export const PAYLOAD_MODES = [
  'UNSIGNED-PAYLOAD',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
] as const;

function signerFor(creds: Credentials): VerifyingSigner {
  return new VerifyingSigner({
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    region: creds.region,
    service: 's3',
    sha256: Sha256,
    // S3 signs the path as sent, without the double encoding other services use.
    uriEscapePath: false,
    applyChecksum: false,
  });
}

function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `20240102T030405Z` → Date, or undefined. */
export function parseAmzDate(v: string | undefined): Date | undefined {
  const m = v ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(v) : null;
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Query string → the map the signer wants, decoded without turning `+` into a space (SigV4 clients send %20). */
export function parseRawQuery(rawQuery: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!rawQuery) return out;
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = safeDecode(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? '' : safeDecode(part.slice(eq + 1));
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function headerValues(req: IncomingMessage, name: string): string | undefined {
  const v = req.headersDistinct[name];
  return v === undefined ? undefined : v.join(',');
}

function hostParts(req: IncomingMessage): { hostname: string; port?: number } {
  const host = req.headers.host ?? '';
  const m = /^(.*?)(?::(\d+))?$/.exec(host);
  return { hostname: m?.[1] ?? host, ...(m?.[2] ? { port: Number(m[2]) } : {}) };
}

interface ParsedCredential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
}

function parseCredential(v: string, malformed: (m: string) => S3Error): ParsedCredential {
  const parts = v.split('/');
  if (parts.length !== 5 || parts[4] !== 'aws4_request')
    throw malformed(`the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
  const [accessKeyId = '', date = '', region = '', service = ''] = parts;
  return { accessKeyId, date, region, service };
}

export interface VerifyInput {
  req: IncomingMessage;
  /** Path exactly as received, before `?`. */
  rawPath: string;
  rawQuery: string;
  creds: Credentials;
  now?: Date;
}

/**
 * Authenticates a REST request. Returns `anonymous` when it carries no SigV4 material, the owner
 * when the signature verifies, and throws the S3 error S3 would answer otherwise.
 */
export async function authenticate(input: VerifyInput): Promise<Principal> {
  const { req } = input;
  const authz = req.headers.authorization;
  const query = parseRawQuery(input.rawQuery);
  if (authz !== undefined) return verifyHeader(input, authz, query);
  if (query['X-Amz-Algorithm'] !== undefined || query['X-Amz-Signature'] !== undefined) return verifyQuery(input, query);
  if (query['Signature'] !== undefined || query['AWSAccessKeyId'] !== undefined) throw sigV2Unsupported();
  return { kind: 'anonymous' };
}

function sigV2Unsupported(): S3Error {
  return new S3Error(400, 'InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
}

function checkScope(cred: ParsedCredential, creds: Credentials, malformed: (m: string) => S3Error): void {
  if (cred.accessKeyId !== creds.accessKeyId) throw Errors.invalidAccessKeyId(cred.accessKeyId);
  if (cred.region !== creds.region) throw malformed(`the region '${cred.region}' is wrong; expecting '${creds.region}'`);
  if (cred.service !== 's3') throw malformed(`incorrect service "${cred.service}". This endpoint belongs to "s3".`);
}

async function verifyHeader(input: VerifyInput, authz: string, query: Record<string, string | string[]>): Promise<Principal> {
  const { req, creds } = input;
  if (/^AWS [^:]+:/.test(authz)) throw sigV2Unsupported();
  const malformed = (m: string) => Errors.authorizationHeaderMalformed(`The authorization header is malformed; ${m}`);
  const m = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(authz.trim());
  if (!m) throw malformed(`the authorization header requires the AWS4-HMAC-SHA256 algorithm.`);
  const fields = new Map<string, string>();
  for (const kv of (m[1] ?? '').split(',')) {
    const eq = kv.indexOf('=');
    if (eq > 0) fields.set(kv.slice(0, eq).trim(), kv.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeadersText = fields.get('SignedHeaders');
  const provided = fields.get('Signature');
  if (!credential || !signedHeadersText || !provided)
    throw malformed(`the authorization header requires Credential, SignedHeaders and Signature.`);
  const cred = parseCredential(credential, malformed);
  checkScope(cred, creds, malformed);

  const amzDateHeader = headerValues(req, 'x-amz-date');
  const dateHeader = headerValues(req, 'date');
  const signingDate = amzDateHeader !== undefined ? parseAmzDate(amzDateHeader) : parseHttpDate(dateHeader);
  if (!signingDate) throw Errors.accessDenied('AWS authentication requires a valid Date or x-amz-date header');
  const longDate = amzDateHeader ?? toAmzDate(signingDate);
  if (cred.date !== longDate.slice(0, 8)) throw malformed('Invalid credential date. Date is not the same as X-Amz-Date.');
  const now = input.now ?? new Date();
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS)
    throw Errors.requestTimeTooSkewed(amzDateHeader ?? dateHeader ?? '', toAmzDate(now));

  const contentSha = req.headers['x-amz-content-sha256'];
  if (typeof contentSha !== 'string')
    throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  if (!(PAYLOAD_MODES as readonly string[]).includes(contentSha) && !/^[0-9a-f]{64}$/.test(contentSha))
    throw Errors.invalidContentSha256(contentSha);
  rejectSessionToken(req, query);

  const signedHeaders = signedHeadersText.split(';').map((h) => h.trim().toLowerCase()).filter(Boolean);
  if (!signedHeaders.includes('host')) throw malformed(`the SignedHeaders must include "host".`);
  const signer = signerFor(creds);
  const verified = await anyPath(input, async (path) => {
    const request = signerRequest(input, query, signedHeaders, path);
    const computed = await signer.signatureOf(request, signedHeaders, contentSha, longDate, { date: signingDate, region: cred.region });
    return sameSignature(computed, provided);
  });
  if (!verified) {
    throw Errors.signatureDoesNotMatch(cred.accessKeyId, provided, 're-signing the received request with the server credentials gave a different signature');
  }
  return { kind: 'owner', via: 'header', contentSha256: contentSha, signingDate, seedSignature: provided };
}

/**
 * S3's canonical URI is the path URI-encoded once (RFC 3986 unreserved characters kept, `/` kept).
 * SDK and CLI clients send exactly that, so the raw path is tried first; a client that sent some
 * characters unencoded (`$`, `!`, …) signed their encoded form, which is tried second.
 */
async function anyPath(input: VerifyInput, check: (path: string) => Promise<boolean>): Promise<boolean> {
  if (await check(input.rawPath)) return true;
  const canonical = s3CanonicalPath(input.rawPath);
  return canonical !== undefined && canonical !== input.rawPath && check(canonical);
}

export function s3CanonicalPath(rawPath: string): string | undefined {
  try {
    return rawPath
      .split('/')
      .map((seg) => encodeURIComponent(decodeURIComponent(seg)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
      .join('/');
  } catch {
    return undefined;
  }
}

/** The request as the client signed it: method, host, path, query, and only the signed headers. */
function signerRequest(
  input: VerifyInput,
  query: Record<string, string | string[]>,
  signedHeaders: string[],
  path: string,
): SignerRequest {
  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const v = headerValues(input.req, name);
    if (v !== undefined) headers[name] = v;
  }
  return {
    method: input.req.method ?? 'GET',
    protocol: 'http:',
    ...hostParts(input.req),
    path,
    query,
    headers,
  };
}

/** Temporary credentials are not supported: this server knows one long-term key pair. */
function rejectSessionToken(req: IncomingMessage, query: Record<string, string | string[]>): void {
  if (req.headers['x-amz-security-token'] !== undefined || query['X-Amz-Security-Token'] !== undefined)
    throw new S3Error(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
}

function parseHttpDate(v: string | undefined): Date | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t);
}

const QUERY_AUTH_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'];

async function verifyQuery(input: VerifyInput, query: Record<string, string | string[]>): Promise<Principal> {
  const { req, creds } = input;
  const one = (k: string): string | undefined => {
    const v = query[k];
    return typeof v === 'string' ? v : undefined;
  };
  const err = (m: string) => Errors.authorizationQueryParametersError(m);
  if (QUERY_AUTH_PARAMS.some((k) => one(k) === undefined))
    throw err(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  if (one('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') throw err('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const cred = parseCredential(one('X-Amz-Credential')!, (m) => err(`Error parsing the X-Amz-Credential parameter; ${m}`));
  checkScope(cred, creds, (m) => err(`Error parsing the X-Amz-Credential parameter; ${m}`));
  const signingDate = parseAmzDate(one('X-Amz-Date'));
  if (!signingDate) throw err("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  const expiresText = one('X-Amz-Expires')!;
  const expiresIn = Number(expiresText);
  if (!/^\d+$/.test(expiresText)) throw err('X-Amz-Expires should be a number');
  if (expiresIn > 604800) throw err('X-Amz-Expires must be less than a week (in seconds) that is; 604800');
  const now = input.now ?? new Date();
  if (signingDate.getTime() - now.getTime() > MAX_SKEW_MS) throw Errors.accessDenied('Request is not valid yet');
  if (now.getTime() > signingDate.getTime() + expiresIn * 1000)
    throw Errors.requestExpired(toIso(new Date(signingDate.getTime() + expiresIn * 1000)), toIso(now));

  if (cred.date !== one('X-Amz-Date')!.slice(0, 8))
    throw err('Error parsing the X-Amz-Credential parameter; Invalid credential date. Date is not the same as X-Amz-Date.');
  rejectSessionToken(req, query);
  const provided = one('X-Amz-Signature')!;
  const signedHeaders = one('X-Amz-SignedHeaders')!.split(';').map((h) => h.trim().toLowerCase()).filter(Boolean);
  if (!signedHeaders.includes('host')) throw err('Error parsing the X-Amz-SignedHeaders parameter; the SignedHeaders must include "host".');
  // The canonical query is every parameter but X-Amz-Signature (the SDK's getCanonicalQuery skips it);
  // a presigned request's payload is always UNSIGNED-PAYLOAD unless the client signed a digest header.
  const signedSha = signedHeaders.includes('x-amz-content-sha256') ? headerValues(req, 'x-amz-content-sha256') : undefined;
  const signer = signerFor(creds);
  const verified = await anyPath(input, async (path) => {
    const request = signerRequest(input, query, signedHeaders, path);
    const computed = await signer.signatureOf(request, signedHeaders, signedSha ?? 'UNSIGNED-PAYLOAD', one('X-Amz-Date')!, {
      date: signingDate,
      region: cred.region,
    });
    return sameSignature(computed, provided);
  });
  if (!verified)
    throw Errors.signatureDoesNotMatch(cred.accessKeyId, provided, 're-signing the presigned URL with the server credentials gave a different signature');
  return { kind: 'owner', via: 'query', signingDate, seedSignature: provided };
}

/**
 * Checks the payload against what the signature covered: the hex digest in x-amz-content-sha256,
 * or the chain of chunk signatures (and trailer signature) of a signed aws-chunked upload.
 */
export async function verifyPayload(
  principal: Principal,
  creds: Credentials,
  body: { raw: Buffer; decoded?: DecodedAwsChunked },
): Promise<void> {
  if (principal.kind !== 'owner' || principal.via !== 'header') return;
  const mode = principal.contentSha256 ?? 'UNSIGNED-PAYLOAD';
  if (/^[0-9a-f]{64}$/.test(mode)) {
    const computed = createHash('sha256').update(body.raw).digest('hex');
    if (computed !== mode) throw Errors.sha256Mismatch(mode, computed);
    return;
  }
  if (!mode.startsWith('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')) return;
  const decoded = body.decoded;
  if (!decoded) throw Errors.incompleteBody();
  const signer = signerFor(creds);
  const signingDate = principal.signingDate;
  let prior = principal.seedSignature;
  const chunkMismatch = (provided: string) =>
    Errors.signatureDoesNotMatch(creds.accessKeyId, provided, 'an aws-chunked chunk signature did not verify');
  const all = [...decoded.chunks.map((c) => ({ data: c.data, signature: c.signature })), { data: Buffer.alloc(0), signature: decoded.finalSignature }];
  for (const chunk of all) {
    if (!chunk.signature) throw chunkMismatch('');
    const expected = await signer.sign(
      { headers: new Uint8Array(0), payload: new Uint8Array(chunk.data) },
      { signingDate, priorSignature: prior, signingRegion: creds.region, signingService: 's3' },
    );
    if (!sameSignature(expected, chunk.signature)) throw chunkMismatch(chunk.signature);
    prior = chunk.signature;
  }
  // Without -TRAILER nothing signs a trailer, so one present was added in transit.
  if (!mode.endsWith('-TRAILER') && decoded.trailers.length > 0)
    throw Errors.signatureDoesNotMatch(creds.accessKeyId, '', 'a trailer arrived on a payload signed without trailers');
  if (mode.endsWith('-TRAILER')) {
    const provided = decoded.trailerSignature ?? '';
    const trailerText = decoded.trailers.map(([k, v]) => `${k}:${v}\n`).join('');
    const amzDate = toAmzDate(signingDate);
    const scope = `${amzDate.slice(0, 8)}/${creds.region}/s3/aws4_request`;
    const stringToSign = [
      'AWS4-HMAC-SHA256-TRAILER',
      amzDate,
      scope,
      prior,
      createHash('sha256').update(trailerText, 'utf8').digest('hex'),
    ].join('\n');
    const expected = await signer.sign(stringToSign, { signingDate, signingRegion: creds.region, signingService: 's3' });
    if (!sameSignature(expected, provided))
      throw Errors.signatureDoesNotMatch(creds.accessKeyId, provided, 'the aws-chunked trailer signature did not verify');
  }
}

export function toAmzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function toIso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

