/**
 * POST Object without a server: the SigV4 policy signature (AWS's published example), the policy
 * language, the form as busboy reads it, and the answer (servers/bucket/post-object/).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { expect, test } from '@playwright/test';
import { S3Error } from '../../servers/bucket/errors.js';
import { expandKey, formObject, mailSafe, objectLocation, postAnswer } from '../../servers/bucket/post-object/answer.js';
import { MAX_PRE_FILE_BYTES, baseFilename, readPostForm } from '../../servers/bucket/post-object/form.js';
import {
  type FormField,
  checkPostPolicy,
  parsePostPolicy,
  postCredential,
  postSignature,
  verifyPostSignature,
} from '../../servers/bucket/post-object/policy.js';

const CREDS = { accessKeyId: 'corsproof', secretAccessKey: 'corsproof-secret', region: 'us-east-1' };

async function s3Error(fn: () => unknown): Promise<S3Error> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof S3Error) return e;
    throw e;
  }
  throw new Error('expected an S3Error');
}

const policyOf = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64');
const FUTURE = '2999-01-01T00:00:00Z';

test.describe('the POST policy signature', () => {
  test("should reproduce AWS's published SigV4 POST example", async () => {
    // https://docs.aws.amazon.com/AmazonS3/latest/developerguide/sigv4-post-example.html: the base64
    // policy (the StringToSign) and the signature AWS gives for it.
    const policy =
      'eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9';
    const example = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region: 'us-east-1' };
    expect(await postSignature(policy, { date: '20151229', region: 'us-east-1' }, example)).toBe(
      '8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e',
    );
    // The example's policy parses (strict JSON with CRLF line ends) and lists its eleven conditions.
    const doc = parsePostPolicy(policy);
    expect(doc.expiration.toISOString()).toBe('2015-12-30T12:00:00.000Z');
    expect(doc.conditions).toHaveLength(11);
  });

  test('should read the SigV4 fields in any case and refuse incomplete or foreign ones', async () => {
    const fields: FormField[] = [
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
      ['x-amz-credential', 'corsproof/20260101/us-east-1/s3/aws4_request'],
      ['X-Amz-Date', '20260101T000000Z'],
      ['Policy', 'e30='],
      ['X-Amz-Signature', 'abc'],
    ];
    expect(postCredential(fields, CREDS)).toMatchObject({ accessKeyId: 'corsproof', date: '20260101', policy: 'e30=', signature: 'abc' });
    expect(postCredential([['key', 'k'], ['policy', 'e30=']], CREDS)).toBeUndefined();
    const missing = await s3Error(() => postCredential(fields.filter(([n]) => n !== 'X-Amz-Signature'), CREDS));
    expect([missing.code, missing.message, missing.fields]).toEqual([
      'InvalidArgument',
      "Bucket POST must contain a field named 'X-Amz-Signature'.  If it is specified, please check the order of the fields.",
      [['ArgumentName', 'X-Amz-Signature'], ['ArgumentValue', '']],
    ]);
    const noAlg = await s3Error(() => postCredential(fields.filter(([n]) => !/algorithm|credential/i.test(n)), CREDS));
    expect(noAlg.fields[0]).toEqual(['ArgumentName', 'X-Amz-Algorithm']);
    const region = await s3Error(() => postCredential(fields.map(([n, v]) => [n, v.replace('us-east-1', 'eu-west-1')] as FormField), CREDS));
    expect([region.code, region.message]).toEqual(['InvalidArgument', "the region 'eu-west-1' is wrong; expecting 'us-east-1'"]);
    const key = await s3Error(() => postCredential(fields.map(([n, v]) => [n, v.replace('corsproof/', 'stranger/')] as FormField), CREDS));
    expect([key.code, key.status]).toEqual(['InvalidAccessKeyId', 403]);
    const v2 = await s3Error(() => postCredential([['AWSAccessKeyId', 'corsproof'], ['signature', 'x']], CREDS));
    expect(v2.code).toBe('InvalidRequest');
    const token = await s3Error(() => postCredential([...fields, ['X-Amz-Security-Token', 't']], CREDS));
    expect(token.code).toBe('InvalidToken');
  });

  test('should answer SignatureDoesNotMatch with the policy as StringToSign', async () => {
    const policy = policyOf({ expiration: FUTURE, conditions: [] });
    const cred = { accessKeyId: 'corsproof', date: '20260101', region: 'us-east-1', credential: '', amzDate: '', policy, signature: '00' };
    const e = await s3Error(() => verifyPostSignature(cred, CREDS));
    expect([e.status, e.code]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(e.fields.map(([k]) => k)).toEqual(['AWSAccessKeyId', 'StringToSign', 'SignatureProvided', 'StringToSignBytes']);
    expect(e.fields[1]![1]).toBe(policy);
    expect(e.fields[3]![1].split(' ').map((h) => String.fromCharCode(parseInt(h, 16))).join('')).toBe(policy);
    await verifyPostSignature({ ...cred, signature: await postSignature(policy, cred, CREDS) }, CREDS);
  });
});

test.describe('the POST policy document', () => {
  test('should answer InvalidPolicyDocument with S3 wording for malformed policies', async () => {
    const cases: Array<[string, string]> = [
      ['not base64 !', 'Invalid Policy: Invalid JSON.'],
      [Buffer.from('{"expiration": ').toString('base64'), 'Invalid Policy: Invalid JSON.'],
      [policyOf({ conditions: [] }), 'Invalid Policy: Policy missing expiration.'],
      [policyOf({ expiration: '2015-10-17 03:15:59 UTC', conditions: [] }), "Invalid Policy: Invalid 'expiration' value: '2015-10-17 03:15:59 UTC'"],
      [policyOf({ expiration: FUTURE }), 'Invalid Policy: Policy missing conditions.'],
      [policyOf({ EXPIRATION: FUTURE, conditions: [] }), "Invalid Policy: Unexpected: 'expiration'"],
      [policyOf({ expiration: FUTURE, conditions: [{}] }), 'Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.'],
      [policyOf({ expiration: FUTURE, conditions: [{ a: 'b', c: 'd' }] }), 'Invalid Policy: Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.'],
      [policyOf({ expiration: FUTURE, conditions: [{ 'Content-Length': 6199034 }] }), 'Invalid Policy: Invalid Simple-Condition: value must be a string.'],
      [policyOf({ expiration: FUTURE, conditions: [[]] }), 'Invalid Policy: Invalid Condition: missing operation identifier.'],
      [policyOf({ expiration: FUTURE, conditions: [['content-length-range', 0]] }), 'Invalid Policy: Invalid content-length-range: wrong number of arguments.'],
    ];
    for (const [policy, message] of cases) {
      const e = await s3Error(() => parsePostPolicy(policy));
      expect([e.status, e.code, e.message], policy).toEqual([400, 'InvalidPolicyDocument', message]);
    }
  });

  const base: FormField[] = [
    ['key', 'uploads/a.txt'],
    ['Content-Type', 'image/png,image/gif'],
    ['x-amz-meta-who', 'me'],
    ['X-Amz-Date', '20260101T000000Z'],
    ['x-ignore-tracker', '1'],
    ['Policy', '…'],
    ['X-Amz-Signature', '…'],
  ];
  const input = (fields = base, extra: Partial<Parameters<typeof checkPostPolicy>[1]> = {}) => ({
    fields,
    bucket: 'b',
    key: 'uploads/a.txt',
    fileSize: 7,
    now: new Date('2026-01-01T00:00:00Z'),
    ...extra,
  });
  const conditions = [
    { bucket: 'b' },
    ['starts-with', '$key', 'uploads/'],
    ['starts-with', '$Content-Type', 'image/'],
    ['eq', '$X-AMZ-META-WHO', 'me'],
    { 'x-amz-date': '20260101T000000Z' },
    ['content-length-range', 1, 10],
  ];
  const policy = (c: unknown[] = conditions, expiration = FUTURE) => parsePostPolicy(policyOf({ expiration, conditions: c }));

  test('should accept a form its policy covers, names compared in any case', async () => {
    checkPostPolicy(policy(), input());
  });

  test('should refuse what the policy does not allow, with S3 messages', async () => {
    const expired = await s3Error(() => checkPostPolicy(policy(conditions, '2025-12-31T23:59:59Z'), input()));
    expect([expired.status, expired.code, expired.message]).toEqual([403, 'AccessDenied', 'Invalid according to Policy: Policy expired.']);
    const wrongKey = await s3Error(() => checkPostPolicy(policy(), input(base, { key: 'other/a.txt' })));
    expect(wrongKey.message).toBe('Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "uploads/"]');
    const wrongBucket = await s3Error(() => checkPostPolicy(policy(), input(base, { bucket: 'c' })));
    expect(wrongBucket.message).toBe('Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "b"]');
    // Every member of a comma-separated Content-Type must match (sigv4-HTTPPOSTConstructPolicy).
    const list = await s3Error(() => checkPostPolicy(policy(), input(base.map(([n, v]) => [n, n === 'Content-Type' ? 'image/jpg,text/plain' : v] as FormField))));
    expect(list.message).toBe('Invalid according to Policy: Policy Condition failed: ["starts-with", "$Content-Type", "image/"]');
    // Values are case-sensitive.
    const valueCase = await s3Error(() => checkPostPolicy(policy(), input(base.map(([n, v]) => [n, n === 'x-amz-meta-who' ? 'ME' : v] as FormField))));
    expect(valueCase.code).toBe('AccessDenied');
    // A condition on a field the form lacks fails, even starts-with "" (s3_direct_upload#29 capture).
    const absent = await s3Error(() => checkPostPolicy(policy([...conditions, ['starts-with', '$acl', '']]), input()));
    expect(absent.message).toBe('Invalid according to Policy: Policy Condition failed: ["starts-with", "$acl", ""]');
    const noDollar = await s3Error(() => checkPostPolicy(policy([...conditions, ['eq', 'key', 'uploads/a.txt']]), input()));
    expect(noDollar.message).toBe('Invalid according to Policy: Policy Condition failed: ["eq", "key", "uploads/a.txt"]');
    const extra = await s3Error(() => checkPostPolicy(policy(), input([...base, ['Content-Disposition', 'inline']])));
    expect(extra.message).toBe('Invalid according to Policy: Extra input fields: Content-Disposition');
    const big = await s3Error(() => checkPostPolicy(policy(), input(base, { fileSize: 11 })));
    expect([big.code, big.message, big.fields]).toEqual([
      'EntityTooLarge',
      'Your proposed upload exceeds the maximum allowed size',
      [['ProposedSize', '11'], ['MaxSizeAllowed', '10']],
    ]);
    const small = await s3Error(() => checkPostPolicy(policy(), input(base, { fileSize: 0 })));
    expect([small.code, small.fields]).toEqual(['EntityTooSmall', [['ProposedSize', '0'], ['MinSizeAllowed', '1']]]);
    const textBounds = await s3Error(() => checkPostPolicy(policy([...conditions, ['content-length-range', 'test', '10']]), input()));
    expect(textBounds.message).toBe('Invalid according to Policy: Policy Condition failed: ["content-length-range", "test", "10"]');
    // Bounds are inclusive, and may be numeric strings.
    checkPostPolicy(policy([...conditions.slice(0, 5), ['content-length-range', '7', '7']]), input());
  });
});

test.describe('the form', () => {
  async function formRequest(form: FormData): Promise<IncomingMessage> {
    // Node's fetch encodes FormData as browsers do (WHATWG multipart/form-data).
    const r = new Request('http://x/', { method: 'POST', body: form });
    const body = Buffer.from(await r.arrayBuffer());
    return Object.assign(Readable.from([body]), { headers: { 'content-type': r.headers.get('content-type')! } }) as unknown as IncomingMessage;
  }
  const res = {} as ServerResponse;

  test('should read the fields before the file and the file, ignoring what follows', async () => {
    const form = new FormData();
    form.append('key', 'up/${filename}');
    form.append('x-amz-meta-note', 'café');
    form.append('file', new Blob([Buffer.from([0, 1, 2, 255])], { type: 'image/png' }), 'C:\\dir\\photo.png');
    form.append('submit', 'Upload');
    const parsed = await readPostForm(await formRequest(form), res, 1000);
    expect(parsed.fields).toEqual([['key', 'up/${filename}'], ['x-amz-meta-note', 'café']]);
    expect([...parsed.file.data]).toEqual([0, 1, 2, 255]);
    expect(parsed.file.filename).toBe('photo.png');
    expect(expandKey('up/${filename}', parsed.file.filename)).toBe('up/photo.png');
  });

  test('should take a file part without a filename, and leave ${filename} as it is then', async () => {
    const form = new FormData();
    form.append('key', 'k-${filename}');
    form.append('FILE', 'plain text as the file');
    const parsed = await readPostForm(await formRequest(form), res, 1000);
    expect(parsed.file).toEqual({ data: Buffer.from('plain text as the file') });
    expect(expandKey('k-${filename}', parsed.file.filename)).toBe('k-${filename}');
  });

  test('should answer S3 errors for forms S3 refuses', async () => {
    const notForm = Object.assign(Readable.from(['x']), { headers: { 'content-type': 'text/plain' } }) as unknown as IncomingMessage;
    const e412 = await s3Error(() => readPostForm(notForm, res, 1000));
    expect([e412.status, e412.code, e412.fields]).toEqual([412, 'PreconditionFailed', [['Condition', 'Bucket POST must be of the enclosure-type multipart/form-data']]]);
    const noBoundary = Object.assign(Readable.from(['x']), { headers: { 'content-type': 'multipart/form-data' } }) as unknown as IncomingMessage;
    expect((await s3Error(() => readPostForm(noBoundary, res, 1000))).code).toBe('MalformedPOSTRequest');
    const noFile = new FormData();
    noFile.append('key', 'k');
    const e0 = await s3Error(async () => readPostForm(await formRequest(noFile), res, 1000));
    expect([e0.code, e0.message, e0.fields]).toEqual(['InvalidArgument', 'POST requires exactly one file upload per request.', [['ArgumentName', 'file'], ['ArgumentValue', '0']]]);
    const big = new FormData();
    big.append('file', new Blob([Buffer.alloc(1001)]), 'f');
    expect((await s3Error(async () => readPostForm(await formRequest(big), res, 1000))).code).toBe('EntityTooLarge');
    const pre = new FormData();
    pre.append('x-amz-meta-big', 'x'.repeat(MAX_PRE_FILE_BYTES));
    pre.append('file', new Blob(['f']), 'f');
    expect((await s3Error(async () => readPostForm(await formRequest(pre), res, 1000))).code).toBe('MaxPostPreDataLengthExceeded');
  });

  test('should strip paths from file names as S3 does', () => {
    expect(baseFilename('C:\\Program Files\\directory1\\file.txt')).toBe('file.txt');
    expect(baseFilename('a/b/c.jpg')).toBe('c.jpg');
    expect(baseFilename('plain')).toBe('plain');
  });
});

test.describe('the answer', () => {
  const r = { bucket: 'b', key: 'dir/a b.txt', etag: '"abc"', location: objectLocation('http://h:1/b', 'dir/a b.txt') };

  test('should default to 204 and give ETag and Location, the key encoded with its slashes', () => {
    expect(r.location).toBe('http://h:1/b/dir%2Fa%20b.txt');
    expect(postAnswer([], r)).toEqual({ status: 204, headers: [['ETag', '"abc"'], ['Location', r.location]] });
    expect(postAnswer([['success_action_status', '404']], r).status).toBe(204);
    expect(postAnswer([['success_action_status', '200']], r).status).toBe(200);
  });

  test('should answer 201 with the PostResponse document', () => {
    const a = postAnswer([['Success_Action_Status', '201']], r);
    expect(a.status).toBe(201);
    expect(a.body).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>http://h:1/b/dir%2Fa%20b.txt</Location><Bucket>b</Bucket><Key>dir/a b.txt</Key><ETag>"abc"</ETag></PostResponse>',
    );
  });

  test('should redirect with 303 to an absolute success_action_redirect, appending bucket, key and etag', () => {
    expect(postAnswer([['success_action_redirect', 'https://app.example/done']], r).headers).toContainEqual([
      'Location',
      'https://app.example/done?bucket=b&key=dir%2Fa+b.txt&etag=%22abc%22',
    ]);
    expect(postAnswer([['redirect', 'http://app.example/done?x=1']], r)).toMatchObject({ status: 303 });
    expect(postAnswer([['redirect', 'http://app.example/done?x=1']], r).headers[1]![1]).toBe('http://app.example/done?x=1&bucket=b&key=dir%2Fa+b.txt&etag=%22abc%22');
    // A relative redirect is not one S3 can interpret: answered as if absent (LocalStack recording: 204).
    expect(postAnswer([['success_action_redirect', '/relative']], r).status).toBe(204);
  });

  test('should store form metadata and headers as S3 does', () => {
    expect(mailSafe('plain ascii')).toBe('plain ascii');
    expect(mailSafe('ÄMÄZÕÑ S3')).toBe('=?UTF-8?Q?=C3=84M=C3=84Z=C3=95=C3=91_S3?=');
    expect(mailSafe('\u0000\u0001\u0002\u0003\u0004')).toBe('=?UTF-8?B?AAECAwQ=?=');
    expect(formObject([['Content-Type', 'text/plain'], ['X-Amz-Meta-TEST-2', 'v'], ['Cache-Control', 'no-store'], ['key', 'k']])).toEqual({
      contentType: 'text/plain',
      metadata: [['x-amz-meta-test-2', 'v']],
      headers: [['Cache-Control', 'no-store']],
    });
  });
});
