/**
 * POST Object (browser-based uploads) against the bucket server: forms made by the AWS SDK's
 * `createPresignedPost` and sent as `FormData` with Node's fetch (the WHATWG encoding browsers use),
 * S3's answers for success and for each failed condition, and CORS on all of them.
 */
import { test, expect } from '@playwright/test';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { createHash } from 'node:crypto';
import type { BucketServer } from '../../servers/bucket/index.js';
import { raw, rawSocket, s3Client, startServer } from './helpers.js';

let server: BucketServer;
let s3: S3Client;
const ORIGIN = 'http://app.example';

test.beforeAll(async () => {
  ({ server } = await startServer());
  s3 = s3Client(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'uploads' }));
  server.store.setCors('uploads', {
    CORSRules: [{ AllowedOrigins: [ORIGIN], AllowedMethods: ['POST', 'GET'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag', 'Location'] }],
  });
});
test.afterAll(() => server.close());

type Presigned = Awaited<ReturnType<typeof createPresignedPost>>;

function form(p: Presigned, file: Blob | string, filename = 'photo.png', extra: Record<string, string> = {}, override: Record<string, string | undefined> = {}): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries({ ...p.fields, ...extra, ...override })) if (v !== undefined) f.append(k, v);
  if (typeof file === 'string') f.append('file', new Blob([file], { type: 'image/png' }), filename);
  else f.append('file', file, filename);
  return f;
}

async function post(p: Presigned, body: FormData, headers: Record<string, string> = { Origin: ORIGIN }) {
  const r = await fetch(p.url, { method: 'POST', body, headers, redirect: 'manual' });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1] };
}

test('should store a createPresignedPost upload and answer 204 with ETag, Location and CORS headers', async () => {
  const p = await createPresignedPost(s3, {
    Bucket: 'uploads',
    Key: 'user/42/${filename}',
    Conditions: [['content-length-range', 1, 1024], ['starts-with', '$Content-Type', 'image/']],
    Fields: { 'Content-Type': 'image/png', 'x-amz-meta-owner': '42' },
    Expires: 300,
  });
  expect(p.url).toBe(`${server.url}/uploads`);
  const r = await post(p, form(p, 'PNG bytes'));
  expect(r.status).toBe(204);
  expect(r.text).toBe('');
  const etag = `"${createHash('md5').update('PNG bytes').digest('hex')}"`;
  expect(r.headers.get('etag')).toBe(etag);
  expect(r.headers.get('location')).toBe(`${server.url}/uploads/user%2F42%2Fphoto.png`);
  expect(r.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  expect(r.headers.get('access-control-expose-headers')).toBe('ETag, Location');
  const got = await s3.send(new GetObjectCommand({ Bucket: 'uploads', Key: 'user/42/photo.png' }));
  expect(await got.Body!.transformToString()).toBe('PNG bytes');
  expect(got.ContentType).toBe('image/png');
  expect(got.Metadata).toEqual({ owner: '42' });
});

test('should answer 201 with the PostResponse document, 200 empty, and 303 to success_action_redirect', async () => {
  const p201 = await createPresignedPost(s3, { Bucket: 'uploads', Key: 'doc.txt', Fields: { success_action_status: '201' } });
  const r201 = await post(p201, form(p201, 'doc', 'doc.txt'));
  expect(r201.status).toBe(201);
  expect(r201.headers.get('content-type')).toBe('application/xml');
  expect(r201.text).toBe(
    `<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse><Location>${server.url}/uploads/doc.txt</Location><Bucket>uploads</Bucket><Key>doc.txt</Key><ETag>"${createHash('md5').update('doc').digest('hex')}"</ETag></PostResponse>`,
  );
  const p200 = await createPresignedPost(s3, { Bucket: 'uploads', Key: 'two.txt', Fields: { success_action_status: '200' } });
  expect((await post(p200, form(p200, 'x'))).status).toBe(200);
  const p303 = await createPresignedPost(s3, { Bucket: 'uploads', Key: 'dir/a b.txt', Fields: { success_action_redirect: 'http://app.example/done?from=form' } });
  const r303 = await post(p303, form(p303, 'x'));
  expect(r303.status).toBe(303);
  expect(r303.headers.get('location')).toBe(`http://app.example/done?from=form&bucket=uploads&key=dir%2Fa+b.txt&etag=%22${createHash('md5').update('x').digest('hex')}%22`);
  expect(r303.headers.get('access-control-allow-origin')).toBe(ORIGIN);
});

test('should refuse forms the policy does not allow, with S3\'s errors and CORS headers on each', async () => {
  const p = await createPresignedPost(s3, {
    Bucket: 'uploads',
    Key: 'limited/${filename}',
    Conditions: [['content-length-range', 2, 8]],
    Expires: 300,
  });
  const cases: Array<[string, FormData, number, string, string | RegExp]> = [
    ['too large', form(p, '123456789'), 400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'],
    ['too small', form(p, '1'), 400, 'EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size'],
    ['another key', form(p, 'ok', 'x', {}, { key: 'elsewhere/x' }), 403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "limited/"]'],
    ['an uncovered field', form(p, 'ok', 'x', { 'x-amz-meta-extra': '1' }), 403, 'AccessDenied', 'Invalid according to Policy: Extra input fields: x-amz-meta-extra'],
    ['a tampered policy', form(p, 'ok', 'x', {}, { Policy: Buffer.from('{"expiration":"2999-01-01T00:00:00Z","conditions":[]}').toString('base64') }), 403, 'SignatureDoesNotMatch', /^The request signature we calculated/],
    ['no signature', form(p, 'ok', 'x', {}, { 'X-Amz-Signature': undefined }), 400, 'InvalidArgument', "Bucket POST must contain a field named 'X-Amz-Signature'.  If it is specified, please check the order of the fields."],
  ];
  for (const [what, body, status, code, message] of cases) {
    const r = await post(p, body);
    expect.soft([r.status, r.code], what).toEqual([status, code]);
    if (typeof message === 'string') expect.soft(r.message, what).toBe(message);
    else expect.soft(r.message, what).toMatch(message);
    expect.soft(r.headers.get('access-control-allow-origin'), what).toBe(ORIGIN);
  }
  expect(server.store.getObject('uploads', 'limited/x')).toBeUndefined();
  expect(server.store.getObject('uploads', 'elsewhere/x')).toBeUndefined();
});

test('should refuse an expired policy, a policy for another bucket, and a malformed policy', async () => {
  const now = Date.now;
  let expired: Presigned;
  try {
    Date.now = () => now() - 3_600_000;
    expired = await createPresignedPost(s3, { Bucket: 'uploads', Key: 'late.txt', Expires: 60 });
  } finally {
    Date.now = now;
  }
  const late = await post(expired, form(expired, 'x'));
  expect([late.status, late.code, late.message]).toEqual([403, 'AccessDenied', 'Invalid according to Policy: Policy expired.']);

  await s3.send(new CreateBucketCommand({ Bucket: 'other-uploads' }));
  const p = await createPresignedPost(s3, { Bucket: 'other-uploads', Key: 'k.txt' });
  const wrongBucket = await post({ ...p, url: `${server.url}/uploads` }, form(p, 'x'));
  expect([wrongBucket.status, wrongBucket.message]).toEqual([403, 'Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "other-uploads"]']);

  // A policy that is not JSON, signed correctly: InvalidPolicyDocument (the signature is checked first).
  const { postSignature } = await import('../../servers/bucket/post-object/policy.js');
  const bad = Buffer.from('{"expiration": "2999-01-01T00:00:00Z", "conditions": [').toString('base64');
  const date = p.fields['X-Amz-Date']!.slice(0, 8);
  const sig = await postSignature(bad, { date, region: 'us-east-1' }, { accessKeyId: 'corsproof', secretAccessKey: 'corsproof-secret', region: 'us-east-1' });
  const malformed = await post(p, form(p, 'x', 'x', {}, { Policy: bad, 'X-Amz-Signature': sig }));
  expect([malformed.status, malformed.code, malformed.message]).toEqual([400, 'InvalidPolicyDocument', 'Invalid Policy: Invalid JSON.']);
});

test('should verify checksum and Content-MD5 fields against the file', async () => {
  const body = 'checked';
  const sha = createHash('sha256').update(body).digest('base64');
  const p = await createPresignedPost(s3, {
    Bucket: 'uploads',
    Key: 'sum.txt',
    Fields: { 'x-amz-checksum-algorithm': 'SHA256', 'x-amz-checksum-sha256': sha },
  });
  const ok = await post(p, form(p, body));
  expect(ok.status).toBe(204);
  expect(ok.headers.get('x-amz-checksum-sha256')).toBe(sha);
  const q = await createPresignedPost(s3, { Bucket: 'uploads', Key: 'sum2.txt', Fields: { 'x-amz-checksum-sha256': sha } });
  const bad = await post(q, form(q, 'not the same'));
  expect([bad.status, bad.code, bad.message]).toEqual([400, 'BadDigest', 'The SHA256 you specified did not match the calculated checksum.']);
});

test('should take anonymous forms only where the bucket policy allows anonymous PutObject', async () => {
  const anon = new FormData();
  anon.append('key', 'anon.txt');
  anon.append('file', new Blob(['a']), 'a.txt');
  const denied = await fetch(`${server.url}/uploads`, { method: 'POST', body: anon, headers: { Origin: ORIGIN } });
  expect([denied.status, denied.headers.get('access-control-allow-origin')]).toEqual([403, ORIGIN]);
  expect(await denied.text()).toContain('<Code>AccessDenied</Code>');
  server.store.setPolicy(
    'uploads',
    JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:PutObject', Resource: 'arn:aws:s3:::uploads/public/*' }] }),
  );
  try {
    const pub = new FormData();
    pub.append('key', 'public/${filename}');
    pub.append('file', new Blob(['pub']), 'p.txt');
    const r = await fetch(`${server.url}/uploads`, { method: 'POST', body: pub });
    expect(r.status).toBe(204);
    expect(server.store.getObject('uploads', 'public/p.txt')?.body.toString()).toBe('pub');
  } finally {
    server.store.setPolicy('uploads', undefined);
  }
});

test('should answer 412 for a POST that is not a form, and the preflight a cross-origin form never needs', async () => {
  const r = await fetch(`${server.url}/uploads`, { method: 'POST', body: 'key=x', headers: { 'Content-Type': 'text/plain', Origin: ORIGIN } });
  expect(r.status).toBe(412);
  expect(await r.text()).toContain('<Condition>Bucket POST must be of the enclosure-type multipart/form-data</Condition>');
  expect(r.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  const noFile = new FormData();
  noFile.append('key', 'x');
  const e = await fetch(`${server.url}/uploads`, { method: 'POST', body: noFile });
  expect(await e.text()).toContain('<Message>POST requires exactly one file upload per request.</Message>');
  // multipart/form-data is a CORS-safelisted Content-Type: a page's FormData POST has no preflight;
  // one sent anyway is decided like any other.
  const pre = await fetch(`${server.url}/uploads`, { method: 'OPTIONS', headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST' } });
  expect(pre.status).toBe(200);
});

test('should answer MalformedPOSTRequest for a truncated form and EntityTooLarge for an oversize one, and stay up', async () => {
  const f = new FormData();
  f.append('key', 'cut.txt');
  f.append('file', new Blob(['some file bytes']), 'cut.txt');
  const r = new Request(`${server.url}/uploads`, { method: 'POST', body: f });
  const body = Buffer.from(await r.arrayBuffer());
  const cut = await raw(server, 'POST', '/uploads', { 'Content-Type': r.headers.get('content-type')! }, body.subarray(0, body.length - 30));
  expect([cut.status, /<Code>(\w+)/.exec(cut.text)?.[1]]).toEqual([400, 'MalformedPOSTRequest']);
  const huge = await rawSocket(
    server,
    `POST /uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${r.headers.get('content-type')}\r\nContent-Length: ${1024 ** 3}\r\nExpect: 100-continue\r\n\r\n`,
  );
  expect(huge).toMatch(/^HTTP\/1\.1 400 /);
  expect(huge).not.toContain('100 Continue');
  expect(huge).toContain('<Code>EntityTooLarge</Code>');
  expect(server.store.getObject('uploads', 'cut.txt')).toBeUndefined();
  expect((await fetch(`${server.url}/uploads`, { method: 'OPTIONS', headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'POST' } })).status).toBe(200);
});
