/**
 * What a successful POST Object stores and answers, as pure functions: the key after `${filename}`,
 * the object's headers and metadata from the form, and the response S3 gives for
 * `success_action_redirect` / `success_action_status`. Sources as in ./policy.ts.
 */
import { XML_DECLARATION, xmlEscape } from '../errors.js';
import { type FormField, formValue } from './policy.js';

/** `${filename}` in the key is replaced by the file's name; without a filename parameter it stays (S3, 2026). */
export function expandKey(key: string, filename: string | undefined): string {
  return filename === undefined ? key : key.split('${filename}').join(filename);
}

/** Form fields S3 stores as the object's representation headers (the REST-specific headers). */
const STORED_FIELDS: Array<[lower: string, canonical: string]> = [
  ['cache-control', 'Cache-Control'],
  ['content-disposition', 'Content-Disposition'],
  ['content-encoding', 'Content-Encoding'],
  ['expires', 'Expires'],
];

/**
 * A metadata value as S3 returns it: plain ASCII as it is; anything else RFC 2047 encoded-word,
 * Q-encoding for text and B-encoding when it holds control characters (LocalStack recordings:
 * "ÄMÄZÕÑ S3" → "=?UTF-8?Q?=C3=84M=C3=84Z=C3=95=C3=91_S3?=", bytes 0–4 → "=?UTF-8?B?AAECAwQ=?=").
 */
export function mailSafe(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value)) return value;
  const bytes = Buffer.from(value, 'utf8');
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(value)) return `=?UTF-8?B?${bytes.toString('base64')}?=`;
  let q = '';
  for (const b of bytes) {
    if (b === 0x20) q += '_';
    else if (b > 0x20 && b < 0x7f && b !== 0x3d && b !== 0x3f && b !== 0x5f) q += String.fromCharCode(b);
    else q += `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `=?UTF-8?Q?${q}?=`;
}

export interface FormObject {
  contentType?: string;
  metadata: Array<[string, string]>;
  headers: Array<[string, string]>;
}

/**
 * The object's Content-Type, `x-amz-meta-*` (names lower-cased, as S3 stores them) and stored headers
 * from the form fields. UNVERIFIED choice: the file part's own Content-Type is not used (S3 takes
 * the `Content-Type` field; objects posted without one are binary/octet-stream, LocalStack recording).
 */
export function formObject(fields: FormField[]): FormObject {
  const metadata: Array<[string, string]> = [];
  for (const [name, value] of fields) {
    const n = name.toLowerCase();
    if (n.startsWith('x-amz-meta-') && !metadata.some(([k]) => k === n)) metadata.push([n, mailSafe(value)]);
  }
  const headers: Array<[string, string]> = [];
  for (const [lower, canonical] of STORED_FIELDS) {
    const v = formValue(fields, lower);
    if (v !== undefined && v !== '') headers.push([canonical, mailSafe(v)]);
  }
  const contentType = formValue(fields, 'Content-Type');
  return { ...(contentType ? { contentType } : {}), metadata, headers };
}

/** The object's URL as S3 gives it in `Location`: the key percent-encoded, `/` included. */
export function objectLocation(bucketUrl: string, key: string): string {
  return `${bucketUrl.replace(/\/$/, '')}/${encodeURIComponent(key)}`;
}

export interface PostAnswer {
  status: number;
  headers: Array<[string, string]>;
  body?: string;
}

/** application/x-www-form-urlencoded, as S3 appends to the redirect (space as `+`, `/` as `%2F`). */
function formEncode(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, '+');
}

/**
 * The answer to a stored POST:
 * - `success_action_redirect` (or the deprecated `redirect`) that is an absolute http(s) URL:
 *   303 to it with `bucket`, `key` and `etag` appended to its query (a relative one is ignored,
 *   recorded: 204);
 * - otherwise `success_action_status` 200 (empty), 201 (the PostResponse document), anything
 *   else 204, the default.
 * ETag and Location headers go on every one of them (a 2021 wire trace shows both on a 204).
 */
export function postAnswer(fields: FormField[], r: { bucket: string; key: string; etag: string; location: string }): PostAnswer {
  const common: Array<[string, string]> = [
    ['ETag', r.etag],
    ['Location', r.location],
  ];
  const redirect = formValue(fields, 'success_action_redirect') ?? formValue(fields, 'redirect');
  if (redirect !== undefined && /^https?:\/\/[^/?#\s]+/i.test(redirect.trim())) {
    const target = redirect.trim();
    const sep = target.includes('?') ? (/[?&]$/.test(target) ? '' : '&') : '?';
    const location = `${target}${sep}bucket=${formEncode(r.bucket)}&key=${formEncode(r.key)}&etag=${formEncode(r.etag)}`;
    return { status: 303, headers: [['ETag', r.etag], ['Location', location]] };
  }
  const status = formValue(fields, 'success_action_status')?.trim();
  if (status === '200') return { status: 200, headers: common };
  if (status === '201') {
    const body =
      `${XML_DECLARATION}<PostResponse><Location>${xmlEscape(r.location)}</Location><Bucket>${xmlEscape(r.bucket)}</Bucket>` +
      `<Key>${xmlEscape(r.key)}</Key><ETag>${xmlEscape(r.etag)}</ETag></PostResponse>`;
    return { status: 201, headers: common, body };
  }
  return { status: 204, headers: common };
}
