/**
 * POST Object on the wire (`POST /<bucket>` with a multipart/form-data body): a browser form
 * upload authorized by a SigV4-signed POST policy, or anonymous when the form carries no SigV4
 * fields. The form, policy and answer are ../post-object/. CORS: the router decides the actual
 * request's headers (decideActual, method POST) before this runs, so the answer and every error
 * carry them exactly as any other actual request's would.
 *
 * Order of checks (S3's, as far as recorded; see ../post-object/policy.ts): the enclosure type
 * (412), the form (MalformedPOSTRequest, MaxPostPreDataLengthExceeded, no file), the SigV4 fields
 * (InvalidArgument), the signature (SignatureDoesNotMatch), the policy document
 * (InvalidPolicyDocument), the key, then expiry and conditions (AccessDenied, EntityTooSmall/Large);
 * an anonymous form instead needs s3:PutObject through the bucket policy (or open mode).
 */
import { note, sendBody, sendEmpty } from '../context.js';
import { Errors } from '../errors.js';
import { checksumHeader, requestChecksum, verifyChecksum, verifyContentMd5 } from '../checksums.js';
import type { Route, S3Call } from '../operation.js';
import { MAX_KEY_BYTES, hasDotSegment } from '../names.js';
import { objectArn } from '../policy.js';
import { expandKey, formObject, postAnswer } from '../post-object/answer.js';
import { readPostForm } from '../post-object/form.js';
import { PostErrors, checkPostPolicy, formValue, parsePostPolicy, postCredential, verifyPostSignature } from '../post-object/policy.js';
import { objectUrl } from './multipart.js';

/**
 * `POST /<bucket>` without a routed sub-resource. (A POST naming another sub-resource of the bucket,
 * `?cors` say, has no route: 405 MethodNotAllowed.)
 */
export const postObjectRoutes: Route[] = [{ name: 'PostObject', resource: 'bucket', method: 'POST', op: postObject }];

async function postObject(r: S3Call): Promise<void> {
  const form = await readPostForm(r.req, r.res, r.env.limits.objectBytes);
  const { fields, file } = form;
  const cred = postCredential(fields, r.env.creds);
  const keyField = formValue(fields, 'key');
  if (keyField === undefined || keyField === '') throw PostErrors.missingField('key');
  const key = expandKey(keyField, file.filename);
  const keyBytes = Buffer.byteLength(key, 'utf8');
  if (keyBytes > MAX_KEY_BYTES) throw Errors.keyTooLong(keyBytes, MAX_KEY_BYTES);
  // corsproof deviation, as for PUT: a key with `.`/`..` segments is refused (rest.ts).
  if (hasDotSegment(key)) throw Errors.dotSegmentKey(key);

  if (cred) {
    await verifyPostSignature(cred, r.env.creds);
    const policy = parsePostPolicy(cred.policy);
    checkPostPolicy(policy, { fields, bucket: r.bucket, key, fileSize: file.data.length, now: new Date() });
    note(r.res, 'POST policy signature and conditions verified');
  } else {
    r.authorize('s3:PutObject', objectArn(r.bucket, key));
  }

  // Integrity fields: Content-MD5, x-amz-checksum-<alg> (with x-amz-checksum-algorithm naming it).
  const md5 = formValue(fields, 'Content-MD5');
  if (md5 !== undefined) verifyContentMd5(md5, file.data);
  const bag: Record<string, string> = {};
  for (const [name, value] of fields) {
    const n = name.toLowerCase();
    if (n === 'x-amz-checksum-algorithm') bag['x-amz-sdk-checksum-algorithm'] = value;
    else if (n.startsWith('x-amz-checksum-')) bag[n] = value;
  }
  const checksum = requestChecksum(bag);
  if (checksum) verifyChecksum(checksum, file.data);

  const stored = r.env.store.put(r.bucket, key, {
    body: file.data,
    ...formObject(fields),
    ...(checksum ? { checksum: { algorithm: checksum.algorithm, value: checksum.value, type: 'FULL_OBJECT' as const } } : {}),
  });
  const answer = postAnswer(fields, { bucket: r.bucket, key, etag: stored.etag, location: objectUrl(r.req, r.bucket, key) });
  const headers = [...answer.headers];
  if (checksum) headers.push([checksumHeader(checksum.algorithm), checksum.value], ['x-amz-checksum-type', 'FULL_OBJECT']);
  note(r.res, `stored ${file.data.length} bytes from a POST form as ${JSON.stringify(key)}; answered ${answer.status}`);
  if (answer.body !== undefined) sendBody(r.res, answer.status, answer.body, [...headers, ['Content-Type', 'application/xml']], false);
  else sendEmpty(r.res, answer.status, headers);
}
