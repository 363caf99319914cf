/**
 * The S3 CORS note's hands-on walkthrough, step by step, in each real engine.
 *
 * Two buckets host static websites: `my-bucket-html` serves index.html, which loads extra-page.html
 * from `my-bucket-assets` and inserts it. Everything is set up through the S3 API with signed
 * requests, as a user would with the console or the CLI; the page is opened through the website
 * endpoint, so the Origin the browser sends has the shape of the note's AllowedOrigins example.
 */
import http from 'node:http';
import {
  CreateBucketCommand,
  DeleteBucketCorsCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  S3Client,
  type CORSRule,
} from '@aws-sdk/client-s3';
import { test, expect } from '../config/test.js';
import type { Exchange } from '../../servers/exchange-log.js';
import type { EngineName, VisitRun } from '../../engines/types.js';

test.use({ serverMode: 'walkthrough' });

/** The engine's own words when the fragment's response has no Access-Control-Allow-Origin. */
const MISSING_ACAO: Record<EngineName, RegExp> = {
  chromium: /has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource/,
  firefox: /Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at \S+extra-page\.html\. \(Reason: CORS header ['‘]Access-Control-Allow-Origin['’] missing\)/,
  webkit: /Origin http:\/\/my-bucket-html\.\S+ is not allowed by Access-Control-Allow-Origin\. Status code: 200/,
};

const publicRead = (bucket: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
  });

/** The note's fixed configuration (hands-on), with the html bucket's website origin. */
const noteCors = (origin: string): CORSRule[] => [
  { AllowedHeaders: ['Authorization'], AllowedMethods: ['GET'], AllowedOrigins: [origin], ExposeHeaders: [], MaxAgeSeconds: 3000 },
];

function indexHtml(assetsOrigin: string, siteOrigin: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>my-bucket-html</title></head>
<body>
<h1>my-bucket-html</h1>
<p>This page is served by the first bucket's website endpoint. Below: extra-page.html from the second bucket.</p>
<div id="extra" style="border:2px dashed #888;padding:1em">Loading extra-page.html…</div>
<script>
  // "cache: no-cache" revalidates like the note's "refresh the page" step does.
  fetch('${assetsOrigin}/extra-page.html', { cache: 'no-cache' })
    .then((r) => { if (!r.ok) throw new Error('HTTP ' + r.status); return r.text(); })
    .then((html) => { document.getElementById('extra').innerHTML = html; document.documentElement.dataset.loaded = 'yes'; })
    .catch((e) => { document.getElementById('extra').textContent = 'Could not load extra-page.html: ' + e; document.documentElement.dataset.loaded = 'no'; });
</script>
<!-- Lets corsproof's WebKitGTK driver follow this page; it makes no request to the buckets. -->
<script src="${siteOrigin}/__corsproof/runner.js"></script>
</body>
</html>
`;
}

const EXTRA_PAGE = '<p id="fragment" style="color:#060;font-weight:bold">Extra page from the assets bucket</p>';

function step(exchanges: Exchange[]): string[] {
  return exchanges.map((x) => {
    const acrh = Object.entries(x.requestHeaders).filter(([k]) => k === 'origin' || k.startsWith('access-control-request-'));
    const cors = Object.entries(x.responseHeaders).filter(([k]) => k.startsWith('access-control-') || k === 'vary');
    return [
      `   ${x.method} http://${x.requestHeaders['host']}${x.url.split('?')[0]}`,
      ...acrh.map(([k, v]) => `     > ${k}: ${v}`),
      `     < ${x.status}`,
      ...(cors.length ? cors.map(([k, v]) => `     < ${k}: ${v}`) : ['     < (no Access-Control-* headers)']),
    ].join('\n');
  });
}

test('the note’s two-bucket static website: blocked without CORS, fixed by PutBucketCors, trailing slash and rule order', async ({
  servers,
  engineSession,
  browserName,
}, testInfo) => {
  const engine = browserName as EngineName;
  const htmlOrigin = servers.named['my-bucket-html']!;
  const assetsOrigin = servers.named['my-bucket-assets']!;
  const s3 = new S3Client({
    endpoint: servers.bucket.url,
    forcePathStyle: true,
    region: 'us-east-1', // the bucket server's signing region; the website host names say eu-west-1 like the note
    credentials: { accessKeyId: 'corsproof', secretAccessKey: 'corsproof-secret' },
  });
  const transcript: string[] = [`The S3 CORS note's walkthrough in ${engineSession.build.product} ${engineSession.build.version}`];
  let n = 0;

  /** Opens the html bucket's website, like the note's "open the first bucket's website URL". */
  async function openSite(label: string): Promise<{ visit: VisitRun; exchanges: Exchange[] }> {
    const from = servers.log.all().length;
    const shot = testInfo.outputPath(`${++n}-${label.replace(/\W+/g, '-')}.png`);
    const visit = await engineSession.visit(`${htmlOrigin}/`, { caseId: `walkthrough-${n}-${engine}`, timeoutMs: 20_000, screenshotPath: shot });
    const exchanges = servers.log.all().slice(from).filter((x) => x.server === 'website');
    await testInfo.attach(`${n}. ${label}.png`, { path: shot, contentType: 'image/png' });
    transcript.push('', `${n}. ${label}`, ...step(exchanges), `   page: ${visit.state === 'yes' ? 'fragment inserted' : 'fragment NOT loaded'}`);
    const cors = visit.messages.filter((m) => /CORS|Cross-Origin|Access-Control/.test(m.text));
    if (cors.length) transcript.push(...cors.map((m) => `   engine said (${m.stream}): ${m.text}`));
    return { visit, exchanges };
  }
  const fragmentGet = (exchanges: Exchange[]) => exchanges.find((x) => x.method === 'GET' && x.url.startsWith('/extra-page.html'));

  await test.step('setup through the S3 API: two website buckets with public-read policies', async () => {
    for (const [bucket, key, body] of [
      ['my-bucket-html', 'index.html', indexHtml(assetsOrigin, servers.origins.SITE_ORIGIN)],
      ['my-bucket-assets', 'extra-page.html', EXTRA_PAGE],
    ] as const) {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await s3.send(new PutBucketWebsiteCommand({ Bucket: bucket, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
      await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicRead(bucket) }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'text/html' }));
    }
  });

  let refusedUrl = '';
  await test.step('without CORS: the page loads, the fragment does not, and the engine says why', async () => {
    const { visit, exchanges } = await openSite('without CORS');
    expect(visit.state, visit.text).toBe('no');
    expect(visit.text).toContain('my-bucket-html');
    const get = fragmentGet(exchanges);
    expect(get, 'the browser did request extra-page.html (a simple GET, no preflight)').toBeDefined();
    expect(get!.requestHeaders['origin']).toBe(htmlOrigin);
    expect(get!.responseHeaders['access-control-allow-origin']).toBeUndefined();
    expect(exchanges.filter((x) => x.method === 'OPTIONS')).toHaveLength(0);
    const said = visit.messages.map((m) => m.text);
    expect(said.some((t) => MISSING_ACAO[engine].test(t)), `the ${engine} console error; the engine said:\n${said.join('\n')}`).toBe(true);
    refusedUrl = `${assetsOrigin}/extra-page.html`;
  });

  await test.step('server to server: the URL the browser refused is fetched from Node and succeeds (CORS is browser-only)', async () => {
    const res = await new Promise<{ status: number; body: string; acao: string | undefined }>((resolve, reject) => {
      // The same URL; the test host name resolves to loopback for this request only.
      const req = http.get(refusedUrl, { lookup: (_h, _o, cb) => cb(null, [{ address: '127.0.0.1', family: 4 }]) }, (r) => {
        let body = '';
        r.on('data', (d: Buffer) => (body += d.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, body, acao: r.headers['access-control-allow-origin'] as string | undefined }));
      });
      req.on('error', reject);
    });
    expect(res.status).toBe(200);
    expect(res.body).toBe(EXTRA_PAGE);
    expect(res.acao, 'no CORS header was needed').toBeUndefined();
    const side = [
      `GET ${refusedUrl}`,
      `  from the page in ${engine}: refused by the browser (no Access-Control-Allow-Origin)`,
      `  from Node (server to server): ${res.status}, ${res.body.length} bytes, body ${JSON.stringify(res.body.slice(0, 40))}…`,
    ].join('\n');
    transcript.push('', `${++n}. server to server`, side);
    await testInfo.attach('server-to-server.txt', { body: side, contentType: 'text/plain' });
  });

  await test.step('fix: PutBucketCors on my-bucket-assets with the note’s JSON, AllowedOrigins = the html website origin', async () => {
    await s3.send(new PutBucketCorsCommand({ Bucket: 'my-bucket-assets', CORSConfiguration: { CORSRules: noteCors(htmlOrigin) } }));
    transcript.push('', `${++n}. PutBucketCors my-bucket-assets (signed): ${JSON.stringify(noteCors(htmlOrigin))}`);
  });

  await test.step('verify: reload; the fragment appears with the headers the note shows in DevTools', async () => {
    const { visit, exchanges } = await openSite('after the fix');
    expect(visit.state, visit.text).toBe('yes');
    expect(visit.text).toContain('Extra page from the assets bucket');
    const get = fragmentGet(exchanges)!;
    expect(get.responseHeaders['access-control-allow-origin']).toBe(htmlOrigin);
    expect(get.responseHeaders['access-control-allow-methods']).toBe('GET');
    expect(visit.messages.filter((m) => MISSING_ACAO[engine].test(m.text)), 'no CORS error').toHaveLength(0);
  });

  await test.step('the note’s warning: the same configuration with a trailing / on the origin is still blocked', async () => {
    await s3.send(new PutBucketCorsCommand({ Bucket: 'my-bucket-assets', CORSConfiguration: { CORSRules: noteCors(`${htmlOrigin}/`) } }));
    const { visit, exchanges } = await openSite('trailing slash');
    expect(visit.state).toBe('no');
    expect(fragmentGet(exchanges)!.responseHeaders['access-control-allow-origin']).toBeUndefined();
    expect(visit.messages.some((m) => MISSING_ACAO[engine].test(m.text))).toBe(true);
  });

  await test.step('Q8, the first matching rule wins: the same two rules in two orders give two different answers', async () => {
    const any: CORSRule = { AllowedMethods: ['GET'], AllowedOrigins: ['*'] };
    const ours: CORSRule = { AllowedMethods: ['GET'], AllowedOrigins: [htmlOrigin] };
    await s3.send(new PutBucketCorsCommand({ Bucket: 'my-bucket-assets', CORSConfiguration: { CORSRules: [any, ours] } }));
    const wildcardFirst = fragmentGet((await openSite('rules: * first')).exchanges)!;
    await s3.send(new PutBucketCorsCommand({ Bucket: 'my-bucket-assets', CORSConfiguration: { CORSRules: [ours, any] } }));
    const ourFirst = fragmentGet((await openSite('rules: our origin first')).exchanges)!;
    expect(wildcardFirst.responseHeaders['access-control-allow-origin']).toBe('*');
    expect(wildcardFirst.responseHeaders['access-control-allow-credentials']).toBeUndefined();
    expect(ourFirst.responseHeaders['access-control-allow-origin']).toBe(htmlOrigin);
    expect(ourFirst.responseHeaders['access-control-allow-credentials']).toBe('true');
    await s3.send(new DeleteBucketCorsCommand({ Bucket: 'my-bucket-assets' }));
  });

  await testInfo.attach('walkthrough-transcript.txt', { body: transcript.join('\n') + '\n', contentType: 'text/plain' });
  s3.destroy();
});
