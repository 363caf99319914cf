/**
 * One S3 CORS answer on the wire for both endpoints (servers/bucket/cors-answer.ts): the REST
 * endpoint and the static-website endpoint of the same bucket give the same preflight status, the
 * same CORS headers, the same `Connection` behaviour, and the same CORS headers on actual requests.
 * Only the error body differs (XML on REST, the HTML error page on the website endpoint).
 */
import { test, expect } from '@playwright/test';
import type { BucketServer } from '../../servers/bucket/index.js';
import { raw, startServer, type RawResponse } from './helpers.js';

const ORIGIN = 'http://page.example';
const BUCKET = 'both-endpoints';
const WEBSITE_HOST = `${BUCKET}.s3-website.us-east-1.corsproof.test`;

let server: BucketServer;

test.beforeAll(async () => {
  ({ server } = await startServer());
  const { store } = server;
  store.createBucket(BUCKET);
  store.setWebsite(BUCKET, { indexDocument: 'index.html' });
  store.setPolicy(
    BUCKET,
    JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` }] }),
  );
  store.setCors(BUCKET, {
    CORSRules: [{ AllowedOrigins: [ORIGIN], AllowedMethods: ['GET', 'HEAD'], AllowedHeaders: ['x-amz-*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 60 }],
  });
  store.putObject(BUCKET, 'page.html', '<p>hi</p>', 'text/html');
  store.createBucket('no-cors');
  store.setWebsite('no-cors', { indexDocument: 'index.html' });
});
test.afterAll(() => server.close());

/** The request on each endpoint; keep-alive asked for, so a `Connection: close` is the server's own choice. */
async function both(method: string, key: string, headers: Record<string, string>, bucket = BUCKET): Promise<{ rest: RawResponse; website: RawResponse }> {
  const h = { Connection: 'keep-alive', ...headers };
  const rest = await raw(server, method, `/${bucket}/${key}`, h);
  const website = await raw(server, method, `/${key}`, { ...h, Host: `${bucket}.s3-website.us-east-1.corsproof.test` });
  return { rest, website };
}

/** What the CORS rule decides on the wire: status, CORS headers, Vary, Connection, error code. */
function corsAnswer(r: RawResponse) {
  const cors = Object.entries(r.headers).filter(([k]) => k.startsWith('access-control-') || k === 'vary');
  const code = /<Code>([^<]+)<\/Code>/.exec(r.text)?.[1] ?? /<li>Code: ([^<]+)<\/li>/.exec(r.text)?.[1];
  return { status: r.status, cors: Object.fromEntries(cors.sort()), connection: r.headers['connection'], code };
}

const PREFLIGHTS: Array<{ title: string; headers: Record<string, string>; bucket?: string; status: number; code?: string; close?: boolean }> = [
  { title: 'an allowed preflight', headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-amz-date' }, status: 200 },
  { title: 'a preflight without Origin (S3 closes the connection, §2.2)', headers: { 'Access-Control-Request-Method': 'GET' }, status: 400, code: 'BadRequest', close: true },
  { title: 'a preflight without Access-Control-Request-Method', headers: { Origin: ORIGIN }, status: 400, code: 'BadRequest' },
  { title: 'a preflight from an origin no rule allows', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' }, status: 403, code: 'AccessForbidden' },
  { title: 'a preflight with a header no rule allows', headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization' }, status: 403, code: 'AccessForbidden' },
  { title: 'a preflight on a bucket without CORS', headers: { Origin: ORIGIN, 'Access-Control-Request-Method': 'GET' }, bucket: 'no-cors', status: 403, code: 'AccessForbidden' },
];

for (const row of PREFLIGHTS) {
  test(`should give the same answer on both endpoints to ${row.title}`, async () => {
    const { rest, website } = await both('OPTIONS', 'page.html', row.headers, row.bucket);
    expect(corsAnswer(website), 'website = REST').toEqual(corsAnswer(rest));
    expect(rest.status).toBe(row.status);
    expect(corsAnswer(rest).code).toBe(row.code);
    expect(rest.headers['connection']).toBe(row.close ? 'close' : 'keep-alive');
    if (row.status === 200) {
      expect(rest.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(rest.headers['access-control-allow-headers']).toBe('x-amz-date');
      expect(rest.body.length).toBe(0);
    } else {
      expect(rest.headers['content-type']).toBe('application/xml');
      expect(website.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(rest.headers['vary'], 'no Vary on a refusal').toBeUndefined();
    }
  });
}

test('should put the same CORS headers on actual requests on both endpoints, 404s included', async () => {
  for (const [key, status] of [['page.html', 200], ['missing.html', 403]] as const) {
    for (const method of ['GET', 'HEAD']) {
      const { rest, website } = await both(method, key, { Origin: ORIGIN });
      expect(rest.status, `${method} ${key} on REST`).toBe(status);
      expect(corsAnswer(website).cors, `${method} ${key}: website = REST`).toEqual(corsAnswer(rest).cors);
      expect(rest.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(rest.headers['access-control-expose-headers']).toBe('ETag');
    }
  }
  const unmatched = await both('GET', 'page.html', { Origin: 'http://evil.example' });
  expect(corsAnswer(unmatched.rest).cors, 'no rule: no CORS headers, no Vary').toEqual({});
  expect(corsAnswer(unmatched.website).cors).toEqual({});
});
