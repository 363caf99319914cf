/**
 * The harness contract (priority 1): preflights on bucket and object URLs answered by the engine,
 * actual requests carrying the matched rule's headers, and every exchange in the server's log.
 */
import { test, expect } from '@playwright/test';
import type { BucketServer } from '../../servers/bucket/index.js';
import type { ExchangeLog } from '../../servers/exchange-log.js';
import { raw, startServer, REQUEST_ID } from './helpers.js';

const PAGE = 'http://127.0.0.1:5000';
let server: BucketServer;
let log: ExchangeLog;

test.beforeAll(async () => {
  ({ server, log } = await startServer({ anonymousAccess: 'open' }));
  server.store.createBucket('assets');
  server.store.putObject('assets', 'hello.txt', 'hello world', 'text/plain');
  server.store.setCors('assets', {
    CORSRules: [{ AllowedOrigins: [PAGE], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'], MaxAgeSeconds: 3000 }],
  });
});
test.afterAll(() => server.close());

test('should allow a preflight that a rule matches, with an empty 200 and the rule headers', async () => {
  const r = await raw(server, 'OPTIONS', '/assets/hello.txt?corsproof-case=p1', {
    Origin: PAGE,
    'Access-Control-Request-Method': 'PUT',
    'Access-Control-Request-Headers': 'content-type,x-amz-meta-a',
  });
  expect(r.status).toBe(200);
  expect(r.body.length).toBe(0);
  expect(r.headers['access-control-allow-origin']).toBe(PAGE);
  expect(r.headers['access-control-allow-credentials']).toBe('true');
  expect(r.headers['access-control-allow-methods']).toBe('GET, PUT');
  expect(r.headers['access-control-allow-headers']).toBe('content-type, x-amz-meta-a');
  expect(r.headers['access-control-max-age']).toBe('3000');
  expect(r.headers['vary']).toBe('Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
  expect(r.headers['content-length']).toBe('0');
  expect(r.headers['content-type']).toBeUndefined();
  expect(r.headers['cache-control']).toBeUndefined();
  expect(r.headers['x-amz-request-id']).toMatch(REQUEST_ID);

  const x = await log.waitFor((e) => e.caseId === 'p1', 2000, 'the p1 preflight');
  expect(x.server).toBe('bucket');
  expect(x.method).toBe('OPTIONS');
  expect(x.status).toBe(200);
  expect(x.requestHeaders['access-control-request-method']).toBe('PUT');
  expect(x.responseHeaders['access-control-allow-methods']).toBe('GET, PUT');
  expect(x.note).toBeTruthy();
});

test('should refuse a preflight no rule matches with the S3 AccessForbidden document', async () => {
  const r = await raw(server, 'OPTIONS', '/assets/hello.txt?corsproof-case=p2', {
    Origin: 'http://evil.example',
    'Access-Control-Request-Method': 'GET',
  });
  expect(r.status).toBe(403);
  expect(r.headers['content-type']).toBe('application/xml');
  expect(r.headers['access-control-allow-origin']).toBeUndefined();
  expect(r.headers['vary']).toBeUndefined();
  const id = r.headers['x-amz-request-id']!;
  const host = r.headers['x-amz-id-2']!;
  expect(r.text).toBe(
    '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessForbidden</Code>' +
      "<Message>CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.</Message>" +
      `<Method>GET</Method><ResourceType>OBJECT</ResourceType><RequestId>${id}</RequestId><HostId>${host}</HostId></Error>`,
  );
  const x = await log.waitFor((e) => e.caseId === 'p2', 2000);
  expect(x.status).toBe(403);
});

test('should add the matched rule headers to an anonymous GET', async () => {
  const r = await raw(server, 'GET', '/assets/hello.txt?corsproof-case=g1', { Origin: PAGE });
  expect(r.status).toBe(200);
  expect(r.text).toBe('hello world');
  expect(r.headers['access-control-allow-origin']).toBe(PAGE);
  expect(r.headers['access-control-allow-methods']).toBe('GET, PUT');
  expect(r.headers['access-control-allow-headers']).toBeUndefined();
  expect(r.headers['vary']).toBe('Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
  expect(r.headers['cache-control']).toBeUndefined();
  expect(r.headers['etag']).toBe('"5eb63bbbe01eeed093cb22bb8f5acdc3"');
});

test('should let an anonymous PUT store an object in open mode', async () => {
  const r = await raw(server, 'PUT', '/assets/up.txt', { Origin: PAGE, 'Content-Type': 'text/plain' }, 'uploaded');
  expect(r.status).toBe(200);
  expect(r.headers['access-control-allow-origin']).toBe(PAGE);
  expect(server.store.getObject('assets', 'up.txt')?.body.toString()).toBe('uploaded');
});
