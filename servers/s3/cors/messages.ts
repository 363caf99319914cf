/**
 * Exact S3 wire strings (codes, messages, header names). They are data: do not
 * "fix" their spelling or punctuation. Sources per §1.3 / §2.1 of the reference.
 */
import type { S3ErrorInfo } from './types.js';

/** The five methods an AllowedMethod may name (uppercase only) [S4][S6][S11]. */
export const CORS_METHODS: readonly string[] = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];

export const S3_XML_NAMESPACE = 'http://s3.amazonaws.com/doc/2006-03-01/';

// ---- PutBucketCors validation (all HTTP 400) -------------------------------------------------

/** [S1 AWS-REC put-cors-exc-empty] */
export const MSG_MALFORMED_XML =
  'The XML you provided was not well-formed or did not validate against our published schema';
/** [S1 AWS-REC put-cors-exc] — the value follows unquoted; an empty value leaves "is " [S17 #1863]. */
export const MSG_UNSUPPORTED_METHOD_PREFIX = 'Found unsupported HTTP method in CORS config. Unsupported method is ';
/** [S17 #1870 AWS-OBS] */
export const msgOriginWildcards = (v: string): string => `AllowedOrigin "${v}" can not have more than one wildcard.`;
/** [S11][S16] CONSENSUS */
export const msgHeaderWildcards = (v: string): string => `AllowedHeader "${v}" can not have more than one wildcard.`;
/** [S18 neuroglancer#788, noobaa#8954, oio-swift] AWS-OBS */
export const msgExposeWildcard = (v: string): string =>
  `ExposeHeader "${v}" contains wildcard. We currently do not support wildcard for ExposeHeader.`;
/** [S11][S12][S16] CONSENSUS; UNVERIFIED on AWS (see validate.ts). */
export const MSG_TOO_MANY_RULES = 'The number of CORS rules should not exceed allowed limit of 100 rules.';
/** UNVERIFIED (see validate.ts): S3's lifecycle wording for the same 255-character ID limit. */
export const MSG_ID_TOO_LONG = 'ID length should not exceed allowed limit of 255';
/** UNVERIFIED (see validate.ts): S3's generic "request too big" error. */
export const MSG_TOO_BIG = 'Your request was too big.';

// ---- Preflight refusals -----------------------------------------------------------------------

/** Step 1 [S1 AWS-REC] */
export const MSG_NO_ORIGIN = 'Insufficient information. Origin request header needed.';
/** Step 2 [S1 AWS-REC] */
export const MSG_BUCKET_NOT_FOUND = 'CORSResponse: Bucket not found';
/** Step 3 [S1 AWS-REC] */
export const MSG_CORS_NOT_ENABLED = 'CORSResponse: CORS is not enabled for this bucket.';
/** Step 4 / 4b [S12][S15]; "null" is what S3 prints for an absent header. */
export const msgInvalidRequestMethod = (v: string | undefined): string =>
  `Invalid Access-Control-Request-Method: ${v === undefined ? 'null' : v}`;
/** Step 5 [S1 AWS-REC]. The typo "evalution" is real wire data. */
export const MSG_NOT_ALLOWED =
  "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.";

// ---- Response header names (canonical casing as S3 sends them [S1]) ---------------------------

export const H_ALLOW_ORIGIN = 'Access-Control-Allow-Origin';
export const H_ALLOW_CREDENTIALS = 'Access-Control-Allow-Credentials';
export const H_ALLOW_METHODS = 'Access-Control-Allow-Methods';
export const H_ALLOW_HEADERS = 'Access-Control-Allow-Headers';
export const H_EXPOSE_HEADERS = 'Access-Control-Expose-Headers';
export const H_MAX_AGE = 'Access-Control-Max-Age';
export const H_VARY = 'Vary';
/** Sent on every matched response, preflight or actual [S1][S11]. */
export const VARY_VALUE = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

// ---- Error constructors -----------------------------------------------------------------------

export function malformedXml(detail: string, ruleIndex?: number, ruleId?: string): S3ErrorInfo {
  return withRule({ status: 400, code: 'MalformedXML', message: MSG_MALFORMED_XML, detail }, ruleIndex, ruleId);
}

export function invalidRequest(message: string, ruleIndex?: number, ruleId?: string): S3ErrorInfo {
  return withRule({ status: 400, code: 'InvalidRequest', message }, ruleIndex, ruleId);
}

export function withRule(e: S3ErrorInfo, ruleIndex?: number, ruleId?: string): S3ErrorInfo {
  if (ruleIndex !== undefined) e.ruleIndex = ruleIndex;
  if (ruleId !== undefined) e.ruleId = ruleId;
  return e;
}
