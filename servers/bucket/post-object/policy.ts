/**
 * POST Object's authentication: the SigV4 form fields, the signature over the base64 policy, and
 * the POST policy (expiration and conditions) checked against the form. No HTTP here.
 *
 * Sources: the S3 developer guide (sigv4-HTTPPOSTForms, sigv4-HTTPPOSTConstructPolicy,
 * sigv4-authentication-HTTPPOST, sigv4-post-example) and S3's observed answers: LocalStack's
 * `TestS3PresignedPost` recordings (tests/aws/services/s3/test_s3.py, validated against AWS
 * 2026-02-21), ceph s3-tests' POST tests, and error bodies quoted in public issue trackers. Where
 * those leave a case open the code says `UNVERIFIED choice:`.
 *
 * Matching rules: field and condition names are case-insensitive, values case-sensitive; a
 * condition on a field the form does not carry fails (even `starts-with ""`); every form field
 * but `x-amz-signature`, `file`, `policy` and `x-ignore-*` must be named by some condition.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { timingSafeEqual } from 'node:crypto';
import type { Credentials } from '../auth.js';
import { Errors, S3Error } from '../errors.js';

/** A form field as received: name as sent, value decoded as UTF-8. */
export type FormField = [name: string, value: string];

/** The first value of a field, names compared case-insensitively. */
export function formValue(fields: FormField[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return fields.find(([n]) => n.toLowerCase() === lower)?.[1];
}

export const PostErrors = {
  missingField: (name: string) =>
    new S3Error(400, 'InvalidArgument', `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, [
      ['ArgumentName', name],
      ['ArgumentValue', ''],
    ]),
  invalidArgument: (message: string, name: string, value: string, extra: Array<[string, string]> = []) =>
    new S3Error(400, 'InvalidArgument', message, [['ArgumentName', name], ['ArgumentValue', value], ...extra]),
  policyDocument: (message: string) => new S3Error(400, 'InvalidPolicyDocument', `Invalid Policy: ${message}`),
  denied: (message: string) => new S3Error(403, 'AccessDenied', `Invalid according to Policy: ${message}`),
  tooLarge: (size: number, max: number) =>
    new S3Error(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', [
      ['ProposedSize', String(size)],
      ['MaxSizeAllowed', String(max)],
    ]),
  tooSmall: (size: number, min: number) =>
    new S3Error(400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', [
      ['ProposedSize', String(size)],
      ['MinSizeAllowed', String(min)],
    ]),
};

// ---- the SigV4 fields and the signature ----------------------------------------------------

export interface PostCredential {
  accessKeyId: string;
  /** YYYYMMDD from the credential scope. */
  date: string;
  region: string;
  credential: string;
  amzDate: string;
  signature: string;
  /** The `policy` field exactly as received (the string that was signed). */
  policy: string;
}

const SIGV4_FIELDS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Signature', 'Policy'] as const;

/**
 * The form's SigV4 authentication, or undefined for an anonymous POST (none of the SigV4 fields).
 * Throws InvalidArgument for an incomplete or malformed set, in S3's order (algorithm before
 * credential), and InvalidRequest for SigV2 fields.
 *
 * UNVERIFIED choice: a `policy` field without any SigV4 field is an anonymous request whose policy
 * is not evaluated (S3 answers such a form AccessDenied on a private bucket, as anonymous).
 */
export function postCredential(fields: FormField[], creds: Credentials): PostCredential | undefined {
  if (formValue(fields, 'AWSAccessKeyId') !== undefined || formValue(fields, 'Signature') !== undefined)
    // corsproof deviation: S3 still accepts SigV2 POST forms; this server speaks SigV4 only (as for REST).
    throw new S3Error(400, 'InvalidRequest', 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.');
  const present = SIGV4_FIELDS.slice(0, 4).some((n) => formValue(fields, n) !== undefined);
  if (!present) return undefined;
  for (const name of SIGV4_FIELDS) if (formValue(fields, name) === undefined) throw PostErrors.missingField(name);
  const algorithm = formValue(fields, 'X-Amz-Algorithm')!;
  if (algorithm !== 'AWS4-HMAC-SHA256')
    throw PostErrors.invalidArgument('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"', 'X-Amz-Algorithm', algorithm);
  const credential = formValue(fields, 'X-Amz-Credential')!;
  const bad = (message: string, extra: Array<[string, string]> = []) => PostErrors.invalidArgument(message, 'X-Amz-Credential', credential, extra);
  const parts = credential.split('/');
  if (parts.length !== 5) throw bad('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
  const [accessKeyId = '', date = '', region = '', service = '', terminal = ''] = parts;
  if (accessKeyId === '') throw bad('a non-empty Access Key (AKID) must be provided in the credential.');
  if (!/^\d{8}$/.test(date)) throw bad(`incorrect date format "${date}". This date in the credential must be in the format "yyyyMMdd".`);
  if (region !== creds.region) throw bad(`the region '${region}' is wrong; expecting '${creds.region}'`, [['Region', creds.region]]);
  if (service !== 's3') throw bad(`incorrect service "${service}". This endpoint belongs to "s3".`);
  if (terminal !== 'aws4_request') throw bad(`incorrect terminal "${terminal}". This endpoint uses "aws4_request".`);
  const amzDate = formValue(fields, 'X-Amz-Date')!;
  if (!/^\d{8}T\d{6}Z$/.test(amzDate)) throw PostErrors.invalidArgument('X-Amz-Date must be formated via ISO8601 Long format', 'X-Amz-Date', amzDate);
  if (accessKeyId !== creds.accessKeyId) throw Errors.invalidAccessKeyId(accessKeyId);
  // Temporary credentials are not supported: this server knows one long-term key pair (as for REST).
  if (formValue(fields, 'X-Amz-Security-Token') !== undefined)
    throw new S3Error(400, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
  return {
    accessKeyId,
    date,
    region,
    credential,
    amzDate,
    signature: formValue(fields, 'X-Amz-Signature')!,
    policy: formValue(fields, 'Policy')!,
  };
}

/**
 * The SigV4 POST signature: hex HMAC-SHA256 of the base64 policy text as received, under the
 * signing key of the credential's date, region and `s3`, computed by the AWS SDK's own signer.
 */
export async function postSignature(policy: string, cred: { date: string; region: string }, creds: Credentials): Promise<string> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey },
    region: cred.region,
    service: 's3',
    sha256: Sha256,
  });
  const day = new Date(Date.UTC(+cred.date.slice(0, 4), +cred.date.slice(4, 6) - 1, +cred.date.slice(6, 8)));
  return signer.sign(policy, { signingDate: day, signingRegion: cred.region, signingService: 's3' });
}

/** SignatureDoesNotMatch with S3's POST elements (StringToSign is the policy, StringToSignBytes its bytes in hex). */
export async function verifyPostSignature(cred: PostCredential, creds: Credentials): Promise<void> {
  const expected = await postSignature(cred.policy, cred, creds);
  const a = Buffer.from(expected);
  const b = Buffer.from(cred.signature);
  if (a.length === b.length && timingSafeEqual(a, b)) return;
  const bytes = [...Buffer.from(cred.policy, 'utf8')].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  throw new S3Error(
    403,
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    [
      ['AWSAccessKeyId', cred.accessKeyId],
      ['StringToSign', cred.policy],
      ['SignatureProvided', cred.signature],
      ['StringToSignBytes', bytes],
    ],
    're-signing the POST policy with the server credentials gave a different signature',
  );
}

// ---- the policy document --------------------------------------------------------------------

export type PolicyCondition =
  | { op: 'eq' | 'starts-with'; field: string; value: string; text: string }
  | { op: 'content-length-range'; min: number; max: number; text: string }
  /** A condition S3 cannot apply (a name without `$`, non-numeric bounds): it always fails. */
  | { op: 'fail'; field?: string; text: string };

export interface PostPolicy {
  expiration: Date;
  conditions: PolicyCondition[];
}

/** S3 prints a condition as a JSON array with `", "` between items (simple conditions as `eq`). */
function conditionText(items: unknown[]): string {
  return `[${items.map((x) => JSON.stringify(x)).join(', ')}]`;
}

/** `2026-01-02T03:04:05Z` or `…05.000Z`; S3 refuses offsets and a space for the `T`. */
function parseExpiration(v: unknown): Date | undefined {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/** A content-length-range bound: a non-negative integer, or a string of one (S3 accepted "5", "10"). */
function bound(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? v : undefined;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

/**
 * The base64 `policy` field → its document. Every malformed document is 400 InvalidPolicyDocument
 * with S3's "Invalid Policy: …" message. Observed wordings: "Invalid JSON.", "Invalid 'expiration'
 * value: '…'", "Unexpected: '<name>'", "Invalid Simple-Condition: …", "Invalid Condition: missing
 * operation identifier.". UNVERIFIED choice (S3's text not found; the wording S3-compatible servers
 * use): "Policy missing expiration.", "Policy missing conditions.", "Invalid 'conditions' value:
 * must be a List.", "Invalid Condition: unknown operation '…'.", "Invalid <op>: wrong number of
 * arguments.", "Invalid condition test: must be a List or Object.".
 */
export function parsePostPolicy(policyBase64: string): PostPolicy {
  const text = policyBase64.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 === 1) throw PostErrors.policyDocument('Invalid JSON.');
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch {
    throw PostErrors.policyDocument('Invalid JSON.');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw PostErrors.policyDocument('Invalid JSON.');
  const members = doc as Record<string, unknown>;
  // The top-level names are case-sensitive (s3-tests: "EXPIRATION" and "CONDITIONS" are refused).
  for (const k of Object.keys(members)) if (k !== 'expiration' && k !== 'conditions') throw PostErrors.policyDocument(`Unexpected: '${k.toLowerCase()}'`);
  if (!('expiration' in members)) throw PostErrors.policyDocument('Policy missing expiration.');
  const expiration = parseExpiration(members['expiration']);
  if (!expiration) throw PostErrors.policyDocument(`Invalid 'expiration' value: '${String(members['expiration'])}'`);
  if (!('conditions' in members)) throw PostErrors.policyDocument('Policy missing conditions.');
  const list = members['conditions'];
  if (!Array.isArray(list)) throw PostErrors.policyDocument("Invalid 'conditions' value: must be a List.");
  return { expiration, conditions: list.map(parseCondition) };
}

function parseCondition(c: unknown): PolicyCondition {
  if (c && typeof c === 'object' && !Array.isArray(c)) {
    const entries = Object.entries(c as Record<string, unknown>);
    if (entries.length !== 1) throw PostErrors.policyDocument('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
    const [name, value] = entries[0]!;
    if (value === null) throw PostErrors.policyDocument('Invalid JSON.');
    if (typeof value !== 'string') throw PostErrors.policyDocument('Invalid Simple-Condition: value must be a string.');
    return { op: 'eq', field: name, value, text: conditionText(['eq', `$${name}`, value]) };
  }
  if (!Array.isArray(c)) throw PostErrors.policyDocument('Invalid condition test: must be a List or Object.');
  if (c.length === 0 || typeof c[0] !== 'string') throw PostErrors.policyDocument('Invalid Condition: missing operation identifier.');
  const op = c[0].toLowerCase();
  const text = conditionText(c);
  if (op === 'eq' || op === 'starts-with') {
    if (c.length !== 3) throw PostErrors.policyDocument(`Invalid ${c[0]}: wrong number of arguments.`);
    if (typeof c[1] !== 'string' || typeof c[2] !== 'string') throw PostErrors.policyDocument('Invalid JSON.');
    // A name without its `$` names no field: S3 answers the condition failed (LocalStack recording).
    if (!c[1].startsWith('$')) return { op: 'fail', text };
    return { op, field: c[1].slice(1), value: c[2], text };
  }
  if (op === 'content-length-range') {
    if (c.length !== 3) throw PostErrors.policyDocument(`Invalid ${c[0]}: wrong number of arguments.`);
    const min = bound(c[1]);
    const max = bound(c[2]);
    // Non-numeric bounds fail as a condition (recorded: ["content-length-range", "test", "10"] → 403).
    // UNVERIFIED choice: a negative or fractional bound does too (s3-tests only records a 4xx).
    if (min === undefined || max === undefined) return { op: 'fail', text };
    return { op, min, max, text };
  }
  throw PostErrors.policyDocument(`Invalid Condition: unknown operation '${c[0]}'.`);
}

/** Fields a SigV4 policy need not name (sigv4-HTTPPOSTConstructPolicy). */
function exempt(name: string): boolean {
  const n = name.toLowerCase();
  return n === 'x-amz-signature' || n === 'file' || n === 'policy' || n.startsWith('x-ignore-');
}

export interface PolicyInput {
  /** The form fields before the file, as received. */
  fields: FormField[];
  /** The bucket of the request URL (what `bucket` conditions are checked against). */
  bucket: string;
  /** The key after `${filename}` expansion. */
  key: string;
  fileSize: number;
  now: Date;
}

/**
 * Checks the form against the policy: expiry first, then every condition in policy order, then
 * that no field is left uncovered. Throws 403 AccessDenied ("Invalid according to Policy: …") or
 * 400 EntityTooSmall / EntityTooLarge for `content-length-range` (inclusive bounds, recorded).
 *
 * UNVERIFIED choice: conditions are evaluated before the uncovered-field check, and the first
 * uncovered field is named as sent (a 2019 capture names `StorageClass` as sent).
 */
export function checkPostPolicy(policy: PostPolicy, input: PolicyInput): void {
  if (input.now.getTime() > policy.expiration.getTime()) throw PostErrors.denied('Policy expired.');
  const covered = new Set<string>();
  const valueOf = (field: string): string | undefined => {
    const n = field.toLowerCase();
    if (n === 'bucket') return input.bucket;
    if (n === 'key') return input.key;
    return formValue(input.fields, n);
  };
  for (const c of policy.conditions) {
    if (c.op === 'fail') throw PostErrors.denied(`Policy Condition failed: ${c.text}`);
    if (c.op === 'content-length-range') {
      if (input.fileSize > c.max) throw PostErrors.tooLarge(input.fileSize, c.max);
      if (input.fileSize < c.min) throw PostErrors.tooSmall(input.fileSize, c.min);
      continue;
    }
    covered.add(c.field.toLowerCase());
    const actual = valueOf(c.field);
    let ok: boolean;
    if (actual === undefined) ok = false;
    else if (c.op === 'eq') ok = actual === c.value;
    else if (c.field.toLowerCase() === 'content-type')
      // A comma-separated Content-Type is a list: each member must start with the prefix.
      ok = actual.split(',').every((t) => t.trim().startsWith(c.value));
    else ok = actual.startsWith(c.value);
    if (!ok) throw PostErrors.denied(`Policy Condition failed: ${c.text}`);
  }
  for (const [name] of input.fields) {
    if (exempt(name) || covered.has(name.toLowerCase())) continue;
    throw PostErrors.denied(`Extra input fields: ${name}`);
  }
}
