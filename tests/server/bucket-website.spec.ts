/**
 * The seed walkthrough (/work/shared/seed/000_e10c0679ca7d6c8d.txt) over HTTP: two buckets with
 * static website hosting and a public-read bucket policy, set up through the AWS SDK, then read
 * through the website endpoint (host-routed on the bucket listener) the way a browser would.
 */
import { test, expect } from '@playwright/test';
import {
  CreateBucketCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { BucketServer } from '../../servers/bucket/index.js';
import type { ExchangeLog } from '../../servers/exchange-log.js';
import { raw, s3Client, startServer } from './helpers.js';

const HTML_BUCKET = 'my-bucket-html';
const ASSETS_BUCKET = 'my-bucket-assets';
/** The seed's own origin for bucket 1 (an amazonaws.com website host, routed to this listener). */
const HTML_ORIGIN = 'http://my-bucket-html.s3-website-eu-west-1.amazonaws.com';
const ASSETS_HOST = 'my-bucket-assets.s3-website.us-east-1.corsproof.test';

let server: BucketServer;
let log: ExchangeLog;
let s3: S3Client;

function publicRead(bucket: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
  });
}

test.beforeAll(async () => {
  ({ server, log } = await startServer());
  s3 = s3Client(server);
  for (const bucket of [HTML_BUCKET, ASSETS_BUCKET]) {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketWebsiteCommand({ Bucket: bucket, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicRead(bucket) }));
  }
  const page = `<html><body><div id="x"></div><script>fetch('http://${ASSETS_HOST}/extra-page.html').then(r => r.text()).then(t => document.getElementById('x').innerHTML = t)</script></body></html>`;
  await s3.send(new PutObjectCommand({ Bucket: HTML_BUCKET, Key: 'index.html', Body: page, ContentType: 'text/html' }));
  await s3.send(new PutObjectCommand({ Bucket: ASSETS_BUCKET, Key: 'extra-page.html', Body: '<p>This is the extra page</p>', ContentType: 'text/html' }));
  await s3.send(new PutObjectCommand({ Bucket: ASSETS_BUCKET, Key: 'docs/index.html', Body: '<p>docs</p>', ContentType: 'text/html' }));
});
test.afterAll(() => server.close());

function website(host: string, method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  return raw(server, method, path, { Host: host, ...headers }, body);
}

test('should serve the index document of a public website bucket', async () => {
  const r = await website(`my-bucket-html.s3-website-eu-west-1.amazonaws.com`, 'GET', '/');
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe('text/html');
  expect(r.text).toContain('extra-page.html');
  const x = await log.waitFor((e) => e.server === 'website' && e.url === '/', 2000, 'the website GET /');
  expect(x.status).toBe(200);
});

test('should serve dir/ index documents and redirect dir to dir/', async () => {
  const dir = await website(ASSETS_HOST, 'GET', '/docs/');
  expect(dir.status).toBe(200);
  expect(dir.text).toBe('<p>docs</p>');
  const redirect = await website(`${ASSETS_HOST}:${server.port}`, 'GET', '/docs');
  expect(redirect.status).toBe(302);
  expect(redirect.headers['location']).toBe('/docs/');
});

test('should refuse the cross-origin read until the assets bucket has the seed CORS rule', async () => {
  // Without CORS: the object is served, with no CORS headers — the browser blocks it.
  const before = await website(ASSETS_HOST, 'GET', '/extra-page.html', { Origin: HTML_ORIGIN });
  expect(before.status).toBe(200);
  expect(before.headers['access-control-allow-origin']).toBeUndefined();

  await s3.send(
    new PutBucketCorsCommand({
      Bucket: ASSETS_BUCKET,
      CORSConfiguration: {
        CORSRules: [{ AllowedHeaders: ['Authorization'], AllowedMethods: ['GET'], AllowedOrigins: [HTML_ORIGIN], ExposeHeaders: [], MaxAgeSeconds: 3000 }],
      },
    }),
  );
  const after = await website(ASSETS_HOST, 'GET', '/extra-page.html', { Origin: HTML_ORIGIN });
  expect(after.status).toBe(200);
  expect(after.text).toBe('<p>This is the extra page</p>');
  // The two headers the seed shows in DevTools, plus the rest of S3's matched set.
  expect(after.headers['access-control-allow-origin']).toBe(HTML_ORIGIN);
  expect(after.headers['access-control-allow-methods']).toBe('GET');
  expect(after.headers['access-control-allow-credentials']).toBe('true');
  expect(after.headers['access-control-max-age']).toBe('3000');
  expect(after.headers['vary']).toBe('Origin, Access-Control-Request-Headers, Access-Control-Request-Method');
  // An origin with a trailing slash is a different string: no match (the seed's warning).
  const slash = await website(ASSETS_HOST, 'GET', '/extra-page.html', { Origin: `${HTML_ORIGIN}/` });
  expect(slash.headers['access-control-allow-origin']).toBeUndefined();
});

test('should answer missing keys with an HTML error page that still carries CORS headers', async () => {
  const r = await website(ASSETS_HOST, 'GET', '/nope.html', { Origin: HTML_ORIGIN });
  // The policy grants s3:GetObject but not s3:ListBucket, so S3 hides the 404 behind a 403.
  expect(r.status).toBe(403);
  expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(r.text).toContain('<h1>403 Forbidden</h1>');
  expect(r.text).toContain('<li>Code: AccessDenied</li>');
  expect(r.text).not.toContain('<?xml');
  expect(r.headers['access-control-allow-origin']).toBe(HTML_ORIGIN);
  expect(r.headers['x-amz-request-id']).toBeDefined();
});

test('should answer 404 NoSuchKey and serve the error document when the policy allows listing', async () => {
  server.store.createBucket('listable-site');
  server.store.setWebsite('listable-site', { indexDocument: 'index.html', errorDocument: 'error.html' });
  server.store.setPolicy(
    'listable-site',
    JSON.stringify({
      Statement: [
        { Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::listable-site/*' },
        { Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::listable-site' },
      ],
    }),
  );
  const host = 'listable-site.s3-website-us-east-1.corsproof.test';
  const plain = await website(host, 'GET', '/missing');
  expect(plain.status).toBe(404);
  expect(plain.text).toContain('<li>Code: NoSuchKey</li>');
  expect(plain.text).toContain('<li>Key: missing</li>');
  server.store.putObject('listable-site', 'error.html', '<h1>custom error</h1>', 'text/html');
  const custom = await website(host, 'GET', '/missing');
  expect(custom.status).toBe(404);
  expect(custom.text).toBe('<h1>custom error</h1>');
});

test('should serve only public content, GET and HEAD only, and nothing for unknown buckets', async () => {
  server.store.createBucket('private-site');
  server.store.setWebsite('private-site', { indexDocument: 'index.html' });
  server.store.putObject('private-site', 'index.html', 'secret');
  const priv = await website('private-site.s3-website.us-east-1.corsproof.test', 'GET', '/');
  expect(priv.status).toBe(403);
  expect(priv.text).not.toContain('secret');

  const head = await website(ASSETS_HOST, 'HEAD', '/extra-page.html');
  expect(head.status).toBe(200);
  expect(head.body.length).toBe(0);
  expect(head.headers['content-length']).toBe(String('<p>This is the extra page</p>'.length));
  const post = await website(ASSETS_HOST, 'POST', '/extra-page.html');
  expect(post.status).toBe(405);
  expect(post.text).toContain('<li>Code: MethodNotAllowed</li>');
  const put = await website(ASSETS_HOST, 'PUT', '/extra-page.html', {}, 'overwrite');
  expect(put.status).toBe(405);
  expect(server.store.getObject(ASSETS_BUCKET, 'extra-page.html')?.body.toString()).toBe('<p>This is the extra page</p>');

  const none = await website('no-such-site.s3-website.us-east-1.corsproof.test', 'GET', '/');
  expect(none.status).toBe(404);
  expect(none.text).toContain('<li>Code: NoSuchBucket</li>');
  expect(none.text).toContain('<li>BucketName: no-such-site</li>');
  server.store.createBucket('not-a-site');
  const notSite = await website('not-a-site.s3-website.us-east-1.corsproof.test', 'GET', '/');
  expect(notSite.status).toBe(404);
  expect(notSite.text).toContain('<li>Code: NoSuchWebsiteConfiguration</li>');
});

test('should answer a website preflight with the bucket CORS decision (UNVERIFIED choice)', async () => {
  const allowed = await website(ASSETS_HOST, 'OPTIONS', '/extra-page.html', { Origin: HTML_ORIGIN, 'Access-Control-Request-Method': 'GET' });
  expect(allowed.status).toBe(200);
  expect(allowed.headers['access-control-allow-origin']).toBe(HTML_ORIGIN);
  const refused = await website(ASSETS_HOST, 'OPTIONS', '/extra-page.html', { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' });
  expect(refused.status).toBe(403);
  expect(refused.headers['content-type']).toBe('text/html; charset=utf-8');
  expect(refused.text).toContain('<li>Code: AccessForbidden</li>');
  const x = await log.waitFor((e) => e.server === 'website' && e.method === 'OPTIONS' && e.status === 403, 2000);
  expect(x.note).toBeTruthy();
});

test('should keep the REST endpoint on the same port for other host names', async () => {
  const r = await raw(server, 'GET', `/${ASSETS_BUCKET}/extra-page.html`, { Host: 'localhost' });
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe('text/html');
});
