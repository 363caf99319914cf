/**
 * The pieces of corsproof/test that need no browser: reading a user's CORS document as S3 would,
 * the condition that ends a visit, adding corsproof's scripts to a visited document, and the
 * loopback proxy editing only the document a WebKitGTK visit opens (every other response, CORS
 * exchanges included, passes through byte for byte).
 */
import { test, expect } from '@playwright/test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCorsDocument } from '../../lib/test.js';
import { agentScript, injectScripts, UNTIL_MET, wireUntil } from '../../lib/visit-page.js';
import { LoopbackProxy } from '../../engines/host-map.js';

const RULE = { AllowedOrigins: ['http://localhost:4173'], AllowedMethods: ['PUT'], AllowedHeaders: ['content-type'] };

test('a CORS document is read in each of its three shapes, and the same configuration comes out', () => {
  const xml = `<CORSConfiguration><CORSRule><AllowedOrigin>http://localhost:4173</AllowedOrigin><AllowedMethod>PUT</AllowedMethod><AllowedHeader>content-type</AllowedHeader></CORSRule></CORSConfiguration>`;
  const console = parseCorsDocument([RULE]);
  expect(console).toEqual({ CORSRules: [RULE] });
  expect(parseCorsDocument({ CORSRules: [RULE] })).toEqual(console);
  expect(parseCorsDocument(JSON.stringify([RULE]))).toEqual(console);
  expect(parseCorsDocument(xml)).toEqual(console);
  expect(parseCorsDocument(null)).toBeUndefined();
});

test('a document S3 would refuse throws S3’s error code and message', () => {
  expect(() => parseCorsDocument([{ AllowedOrigins: ['*'], AllowedMethods: ['PATCH'] }])).toThrow(/S3 would refuse this CORS configuration \(InvalidRequest: .*PATCH/);
  expect(() => parseCorsDocument('<CORSConfiguration><CORSRule>')).toThrow(/MalformedXML/);
});

test('the visit condition: text as a substring or an expression, a selector, both, or nothing', () => {
  // UNTIL_MET reads the page's global document; here it runs against a stand-in.
  const check = (u: Parameters<typeof wireUntil>[0], text: string, has: boolean) => {
    const doc = { body: { innerText: text }, querySelector: () => (has ? {} : null) };
    return (new Function('document', `return (${UNTIL_MET})(${JSON.stringify(wireUntil(u))});`) as (d: unknown) => boolean)(doc);
  };
  expect(check(undefined, '', false)).toBe(true);
  expect(check({ text: 'Uploaded' }, 'Uploaded hello.txt', false)).toBe(true);
  expect(check({ text: 'Uploaded' }, 'Upload failed', false)).toBe(false);
  expect(check({ text: /upload (ok|failed)/i }, 'Upload failed', false)).toBe(true);
  expect(check({ text: 'a.b' }, 'axb', false)).toBe(false); // a string is literal, not an expression
  expect(check({ selector: '#done' }, '', true)).toBe(true);
  expect(check({ selector: '#done', text: 'x' }, 'y', true)).toBe(false);
});

test('the WebKitGTK agent is plain JavaScript with the visit baked in', () => {
  const src = agentScript({ actions: [{ click: '#upload' }], until: wireUntil({ text: /done/ }), timeoutMs: 5000 });
  expect(() => new Function(src)).not.toThrow();
  expect(src).toContain('"click":"#upload"');
  expect(src).toContain('dataset.loaded');
});

test('corsproof’s scripts go right after <head>, else after <html>, else first', () => {
  const tags = '<script src="http://s/r.js"></script>';
  expect(injectScripts('<!doctype html><html lang="en"><head><title>t</title></head><body></body></html>', ['http://s/r.js'])).toBe(
    `<!doctype html><html lang="en"><head>${tags}<title>t</title></head><body></body></html>`,
  );
  expect(injectScripts('<html><body>x</body></html>', ['http://s/r.js'])).toBe(`<html>${tags}<body>x</body></html>`);
  expect(injectScripts('<p>x</p>', ['http://s/r.js'])).toBe(`${tags}<p>x</p>`);
  expect(injectScripts('<HEAD data-x="1">', ['http://s/r.js'])).toBe(`<HEAD data-x="1">${tags}`);
});

test('the loopback proxy edits only the visited HTML document; other responses pass through unchanged', async () => {
  const upstream = http.createServer((req, res) => {
    if (req.url === '/page') res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'X-Upstream': 'yes' }).end('<html><head></head><body>app</body></html>');
    else res.writeHead(200, { 'Content-Type': 'application/json', 'Access-Control-Allow-Origin': 'http://a.test' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  const proxy = new LoopbackProxy(['app.example.test'], (url) => (url === `http://app.example.test:${port}/page` ? (html) => html.replace('<head>', '<head><script src="x"></script>') : undefined));
  const proxyUrl = new URL(await proxy.start());
  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request({ host: proxyUrl.hostname, port: proxyUrl.port, path: `http://app.example.test:${port}${path}`, headers: { 'Accept-Encoding': 'gzip', ...headers } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.once('error', reject);
      req.end();
    });
  try {
    const page = await get('/page');
    expect(page.body).toBe('<html><head><script src="x"></script></head><body>app</body></html>');
    expect(page.headers['content-length']).toBe(String(Buffer.byteLength(page.body)));
    expect(page.headers['x-upstream'], 'the server’s other headers are kept').toBe('yes');
    const other = await get('/bucket/key?x=1', { Origin: 'http://a.test' });
    expect(other.body).toBe('{"ok":true}');
    expect(other.headers['access-control-allow-origin']).toBe('http://a.test');
  } finally {
    await proxy.close();
    await new Promise((r) => upstream.close(r));
  }
});
