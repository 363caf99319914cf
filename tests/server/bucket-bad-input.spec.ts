/**
 * Hostile and broken input: every case gets a clear S3 error, the server keeps answering, and
 * what was stored before is still there, byte for byte.
 */
import { test, expect } from '@playwright/test';
import { createHash, randomBytes } from 'node:crypto';
import type { BucketServer } from '../../servers/bucket/index.js';
import type { ExchangeLog } from '../../servers/exchange-log.js';
import { raw, rawSocket, signedRaw, startServer } from './helpers.js';

const LIMIT = 1024 * 1024;
const PRECIOUS = randomBytes(4096);
const CORS = { CORSRules: [{ AllowedOrigins: ['http://page.example'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'] }] };

let server: BucketServer;
let log: ExchangeLog;

test.beforeAll(async () => {
  ({ server, log } = await startServer({ anonymousAccess: 'open', limits: { objectBytes: LIMIT } }));
  server.store.createBucket('victim');
  server.store.putObject('victim', 'precious.bin', PRECIOUS, 'application/octet-stream');
  server.store.setCors('victim', CORS);
});
test.afterAll(() => server.close());

/** After each case: the server answers, and nothing stored was lost or changed. */
test.afterEach(async () => {
  const r = await raw(server, 'GET', '/victim/precious.bin');
  expect(r.status).toBe(200);
  expect(r.body.equals(PRECIOUS)).toBe(true);
  expect(server.store.getObject('victim', 'precious.bin')?.body.equals(PRECIOUS)).toBe(true);
  expect(server.store.getCors('victim')).toEqual(CORS);
});

const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('base64');

test('should answer malformed CORS XML with MalformedXML and keep the old configuration', async () => {
  for (const body of ['<CORSConfiguration><CORSRule>', 'not xml at all', '<CORSConfiguration></CORSConfiguration>', '']) {
    const r = await signedRaw(server, 'PUT', '/victim?cors', { 'content-md5': md5(body) }, body);
    expect(r.status, JSON.stringify(body)).toBe(400);
    expect(r.text).toContain('<Code>MalformedXML</Code>');
    expect(r.text).toContain('<Message>The XML you provided was not well-formed or did not validate against our published schema</Message>');
  }
  const dtd = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><CORSConfiguration><CORSRule><AllowedOrigin>&a;</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>';
  const r = await signedRaw(server, 'PUT', '/victim?cors', { 'content-md5': md5(dtd) }, dtd);
  expect(r.status).toBe(400);
});

test('should answer malformed website XML and policy JSON with S3 errors', async () => {
  const site = '<WebsiteConfiguration><IndexDocument><Suffix>index.html</Suffix>';
  const w = await signedRaw(server, 'PUT', '/victim?website', {}, site);
  expect(w.status).toBe(400);
  expect(w.text).toContain('<Code>MalformedXML</Code>');
  const p = await signedRaw(server, 'PUT', '/victim?policy', {}, '{"Version": "2012-10-17", "Statement": [');
  expect(p.status).toBe(400);
  expect(p.text).toContain('<Code>MalformedPolicy</Code>');
  const wrongBucket = JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::someone-else/*' }] });
  const q = await signedRaw(server, 'PUT', '/victim?policy', {}, wrongBucket);
  expect(q.status).toBe(400);
  expect(q.text).toContain('<Message>Policy has invalid resource</Message>');
});

test('should refuse an object body over the limit with EntityTooLarge and store nothing', async () => {
  const big = Buffer.alloc(LIMIT + 1, 1);
  const r = await raw(server, 'PUT', '/victim/big.bin', { 'Content-Type': 'application/octet-stream' }, big);
  expect(r.status).toBe(400);
  expect(r.text).toContain('<Code>EntityTooLarge</Code>');
  expect(r.text).toContain(`<MaxSizeAllowed>${LIMIT}</MaxSizeAllowed>`);
  expect(server.store.getObject('victim', 'big.bin')).toBeUndefined();
  // Overwriting the precious object with an over-size body leaves it as it was.
  const over = await raw(server, 'PUT', '/victim/precious.bin', {}, Buffer.alloc(3 * LIMIT, 2));
  expect(over.status).toBe(400);
});

test('should refuse an over-size upload that waits for 100-continue before it is sent', async () => {
  const reply = await rawSocket(
    server,
    `PUT /victim/huge.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${50 * LIMIT}\r\nExpect: 100-continue\r\n\r\n`,
  );
  expect(reply).toMatch(/^HTTP\/1\.1 400 /);
  expect(reply).not.toContain('100 Continue');
  expect(reply).toContain('<Code>EntityTooLarge</Code>');
});

test('should refuse an over-size configuration document with MaxMessageLengthExceeded', async () => {
  const body = `<CORSConfiguration>${'<CORSRule><AllowedOrigin>x</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>'.repeat(2000)}</CORSConfiguration>`;
  const r = await signedRaw(server, 'PUT', '/victim?cors', { 'content-md5': md5(body) }, body);
  expect(r.status).toBe(400);
  expect(r.text).toContain('<Code>MaxMessageLengthExceeded</Code>');
});

test('should refuse keys with .. path segments, encoded or not', async () => {
  for (const path of ['/victim/a/../precious.bin', '/victim/%2E%2E/x', '/victim/..', '/victim/a/./b']) {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const r = await raw(server, method, path, {}, method === 'PUT' ? 'overwrite' : undefined);
      expect(r.status, `${method} ${path}`).toBe(400);
      expect(r.text).toContain('<Code>InvalidArgument</Code>');
    }
  }
  expect(server.store.getObject('victim', 'a/../precious.bin')).toBeUndefined();
});

test('should answer a header value with a bare CR with an S3 parse error and log it', async () => {
  const reply = await rawSocket(server, 'GET /victim/precious.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Evil: a\rInjected: yes\r\n\r\n');
  expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expect(reply).toContain('<Code>BadRequest</Code><Message>An error occurred when parsing the HTTP request.</Message>');
  expect(reply).not.toContain('Injected');
  const logged = log.all().find((e) => e.method === '(unparseable)');
  expect(logged?.status).toBe(400);
});

test('should refuse a HEAD the parser rejects with status and headers only', async () => {
  const reply = await rawSocket(server, `HEAD /victim/precious.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nx-amz-meta-big: ${'a'.repeat(17_000)}\r\n\r\n`);
  expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expect(reply).toMatch(/\r\nx-amz-request-id: [0-9A-F]{16}\r\n/);
  expect(reply.endsWith('\r\n\r\n'), 'nothing after the header block').toBe(true);
  const get = await rawSocket(server, `GET /victim/precious.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nx-amz-meta-big: ${'a'.repeat(17_000)}\r\n\r\n`);
  expect(get, 'other methods get the S3 error document').toContain('<Code>RequestHeaderSectionTooLarge</Code>');
});

test('should finish every pipelined answer before refusing the request the parser rejects', async () => {
  const reply = Buffer.from(
    await rawSocket(server, 'GET /victim/precious.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nHEAD /victim/precious.bin HTTP/1.1\r\nBad Header\r\n\r\n'),
    'latin1',
  );
  const head = reply.indexOf('\r\n\r\n') + 4;
  expect(reply.subarray(0, head).toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n(?:.*\r\n)*Content-Length: 4096\r\n/);
  expect(reply.subarray(head, head + PRECIOUS.length).equals(PRECIOUS), 'the first answer, complete and intact').toBe(true);
  const refusal = reply.subarray(head + PRECIOUS.length).toString('latin1');
  expect(refusal).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n(?:.*\r\n)*Connection: close\r\n\r\n$/);
  expect(refusal, 'the refused request was a HEAD: no body').not.toContain('<Error>');
});

test('should answer a body the parser rejects as that request\'s S3 error, and store nothing', async () => {
  const reply = await rawSocket(
    server,
    'PUT /victim/broken HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Encoding: aws-chunked\r\nx-amz-decoded-content-length: 5\r\n\r\n5\r\nab' +
      'zz\r\n0\r\n\r\n',
  );
  expect(reply).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
  expect(reply).toContain('\r\nConnection: close\r\n');
  expect(reply).toContain('<Code>BadRequest</Code><Message>An error occurred when parsing the HTTP request.</Message>');
  expect(server.store.getObject('victim', 'broken')).toBeUndefined();
  const logged = await log.waitFor((e) => e.method === 'PUT' && e.url === '/victim/broken', 2000, 'the PUT in the exchange log');
  expect(logged.status).toBe(400);
});

test('should answer a header with a bare LF in its value without storing anything', async () => {
  const reply = await rawSocket(
    server,
    'PUT /victim/precious.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nX-Amz-Meta-A: x\nContent-Type: text/evil\r\n\r\nbad',
  );
  // Either the parser rejects it, or it is one header value and the PUT is a normal write: never a crash.
  expect(reply).toMatch(/^HTTP\/1\.1 (400|200) /);
  if (reply.startsWith('HTTP/1.1 200')) server.store.putObject('victim', 'precious.bin', PRECIOUS, 'application/octet-stream');
});

test('should answer invalid bucket names, long keys and bad URIs with S3 errors', async () => {
  const name = await signedRaw(server, 'PUT', '/Invalid_Bucket');
  expect(name.status).toBe(400);
  expect(name.text).toContain('<Code>InvalidBucketName</Code>');
  const odd = await raw(server, 'GET', '/bad%20bucket%21/x');
  expect(odd.status).toBe(400);
  expect(odd.text).toContain('<Code>InvalidBucketName</Code>');
  const long = await raw(server, 'GET', `/victim/${'k'.repeat(1025)}`);
  expect(long.status).toBe(400);
  expect(long.text).toContain('<Code>KeyTooLongError</Code>');
  const uri = await raw(server, 'GET', '/victim/%E0%A4%A');
  expect(uri.status).toBe(400);
  expect(uri.text).toContain('<Code>InvalidURI</Code>');
});

test('should answer broken authentication material with S3 errors', async () => {
  const garbage = await raw(server, 'GET', '/victim/precious.bin', { Authorization: 'AWS4-HMAC-SHA256 nonsense' });
  expect(garbage.status).toBe(400);
  expect(garbage.text).toContain('<Code>AuthorizationHeaderMalformed</Code>');
  const v2 = await raw(server, 'GET', '/victim/precious.bin', { Authorization: 'AWS corsproof:abc' });
  expect(v2.status).toBe(400);
  expect(v2.text).toContain('<Code>InvalidRequest</Code>');
  const presign = await raw(server, 'GET', '/victim/precious.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00');
  expect(presign.status).toBe(400);
  expect(presign.text).toContain('<Code>AuthorizationQueryParametersError</Code>');
  const expired = await raw(
    server,
    'GET',
    '/victim/precious.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=corsproof%2F20200101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20200101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00',
  );
  expect(expired.status).toBe(403);
  expect(expired.text).toContain('<Message>Request has expired</Message>');
});

test('should answer a broken aws-chunked body with IncompleteBody', async () => {
  const r = await raw(
    server,
    'PUT',
    '/victim/precious.bin',
    { 'Content-Encoding': 'aws-chunked', 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'x-amz-decoded-content-length': '5' },
    'zz;\r\nhello\r\n',
  );
  expect(r.status).toBe(400);
  expect(r.text).toContain('<Code>IncompleteBody</Code>');
});

test('should turn an unexpected exception into an InternalError document and keep serving', async () => {
  const store = server.store as unknown as { get: (...a: unknown[]) => unknown };
  const original = store.get;
  store.get = () => {
    throw new Error('simulated storage failure');
  };
  const errors: unknown[] = [];
  const consoleError = console.error;
  console.error = (...a: unknown[]) => errors.push(a);
  try {
    const r = await raw(server, 'GET', '/victim/precious.bin', { Origin: 'http://page.example' });
    expect(r.status).toBe(500);
    expect(r.headers['content-type']).toBe('application/xml');
    expect(r.text).toContain('<Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message>');
    // The matched rule's CORS headers are there too, so a browser can read the failure.
    expect(r.headers['access-control-allow-origin']).toBe('http://page.example');
    expect(errors.length).toBe(1);
  } finally {
    store.get = original;
    console.error = consoleError;
  }
});
