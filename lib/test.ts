/**
 * `corsproof/test`: Playwright fixtures for the user's own tests.
 *
 *   import { test, expect } from 'corsproof/test';
 *   test.use({ cors: readFileSync('cors.json', 'utf8') });
 *   test('the upload reaches the bucket', async ({ corsproof }) => { … });
 *
 * Each test gets an S3-faithful bucket (corsproof's bucket server, one per worker, a fresh bucket
 * per test) holding the CORS configuration it chose, the bucket's record of every exchange
 * (preflights included), and the engine's own messages for the page, classified by CORS reason.
 * Its evidence is attached to the test: `corsproof-evidence.json` and `corsproof-transcript.txt`.
 *
 * Engines: which build runs is corsproof's choice (engines/select.ts: Playwright's own builds, else
 * the system's). Where Playwright drives the engine — Chromium, Firefox (its own build, or a stock
 * Firefox over WebDriver BiDi), Playwright's WebKit — the test also has Playwright's `page`,
 * `context` and `browser`, launched from that build, and the engine's messages for them are
 * recorded. Stock WebKitGTK cannot be driven by Playwright: there `page` fails the test with a
 * message, and `corsproof.visit()` — which works in every engine — opens the page in MiniBrowser.
 */
import { test as base, expect, chromium, firefox, webkit, type Browser, type BrowserContext, type LaunchOptions, type Page, type TestInfo } from '@playwright/test';
import { S3Client } from '@aws-sdk/client-s3';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import express from 'express';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeBuild, launchEngine, resolveEngine, type EngineBuild, type EngineChoice, type EngineMessage, type EngineName, type EngineSession, type NetworkEvent } from '../engines/index.js';
import { INSTALL_HINT } from '../engines/select.js';
import { launchOptionsFor, pageErrorText } from '../engines/playwright.js';
import { LoopbackProxy } from '../engines/host-map.js';
import { DEFAULT_CREDENTIALS, startBucketServer, type AnonymousAccess, type BucketServer } from '../servers/bucket/index.js';
import { ExchangeLog, type Exchange } from '../servers/exchange-log.js';
import { startSiteServer, type SiteServer } from '../servers/site/index.js';
import { parseCorsConfiguration, type CorsConfiguration } from '../servers/s3/cors/index.js';
import { classify, REASON_TEXT, type Classification } from '../harness/reasons.js';
import { agentScript, injectScripts, UNTIL_MET, wireActions, wireUntil, type Until, type VisitAction } from './visit-page.js';

// The AWS SDK warns on every Node 20 process that its releases after January 2027 will need Node
// 22; corsproof pins the release it was tested with, so the warning is only noise in a test run.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

export { expect };
export type { EngineBuild, EngineMessage, EngineName, Exchange, NetworkEvent, Classification, CorsConfiguration };
export type { Until, VisitAction, InputFile, TextMatcher } from './visit-page.js';

/**
 * A CORS configuration in any shape S3's tools take: S3 console JSON (an array of rules), CLI/SDK
 * JSON (`{ CORSRules: [...] }`), either as an object or as text, or PutBucketCors XML text.
 * `null`: the bucket has no CORS configuration (S3 then refuses every preflight).
 */
export type CorsDocument = string | readonly unknown[] | { CORSRules: readonly unknown[] } | null;

/** One CORS refusal the engine reported, read from its own words (harness/reasons.ts). */
export interface CorsError extends Classification {
  /** What the reason means, e.g. "no Access-Control-Allow-Origin header". */
  explanation: string;
}

export interface VisitOptions {
  /** Done in the page after it has loaded, in order (Playwright input on Playwright engines, DOM calls on WebKitGTK). */
  actions?: VisitAction[];
  /** The visit ends when this holds (default: when the page has loaded). */
  until?: Until;
  /** How long the page may take to load, act and meet `until` (default 10 s; WebKitGTK: at most 14 s). */
  timeoutMs?: number;
  /** Take a screenshot at the end and attach it to the test. */
  screenshot?: boolean;
}

export interface Visit {
  url: string;
  /** 'done': `until` held (or, without one, the page loaded); 'timeout': it did not within timeoutMs. */
  state: 'done' | 'timeout';
  /** The page's visible text when the visit ended. */
  text: string;
  /** What the engine printed for the page while it was open (console lines, page errors). */
  messages: EngineMessage[];
  /** The CORS refusals among them, with their reasons. */
  corsErrors: CorsError[];
  /** What the bucket server received while the page was open, preflights included. */
  exchanges: Exchange[];
  /** The browser's network events (Playwright engines; never preflights). */
  network?: NetworkEvent[];
  /** Why there are no network events (WebKitGTK). */
  networkNote?: string;
  /** Path of the screenshot, when one was asked for. */
  screenshot?: string;
}

export interface Corsproof {
  /** The engine build that runs this test (e.g. Chromium 156.0… from /usr/bin/chromium). */
  readonly engine: EngineBuild;
  /** True where Playwright drives the engine (`page` exists); false for WebKitGTK's MiniBrowser. */
  readonly playwright: boolean;
  /** This test's bucket on corsproof's bucket server (S3 REST API, path style, SigV4). */
  readonly bucket: {
    name: string;
    /** The S3 endpoint, e.g. http://127.0.0.1:PORT — for pages and for Node clients alike. */
    endpoint: string;
    /** `${endpoint}/${name}` */
    url: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** An AWS SDK v3 client signed with the bucket's credentials (path style), for setup and checks from Node. */
  readonly s3: S3Client;
  /** Replaces the bucket's CORS configuration; throws S3's error when S3 would refuse the document. */
  setCors(doc: CorsDocument): void;
  /** The bucket's CORS configuration now (undefined: none). */
  getCors(): CorsConfiguration | undefined;
  /** The unsigned URL of an object (anonymous requests: the bucket policy decides, as on S3). */
  objectUrl(key: string): string;
  /** A presigned URL for one request on an object, as a backend hands to a browser (default 15 minutes). */
  presign(method: 'GET' | 'PUT' | 'HEAD' | 'DELETE', key: string, opts?: { expiresIn?: number }): Promise<string>;
  /** Stores an object directly (no HTTP). */
  putObject(key: string, body: string | Uint8Array, contentType?: string): void;
  /** An object as stored, or undefined (no HTTP). */
  getObject(key: string): { body: Buffer; contentType: string; etag: string } | undefined;
  /** Every exchange the bucket server received during this test, in order, preflights included. */
  exchanges(): Exchange[];
  /** The preflight OPTIONS among them. */
  preflights(): Exchange[];
  /** Everything the engine printed for this test's pages (visits and Playwright's `page`). */
  messages(): EngineMessage[];
  /** The CORS refusals among those messages. */
  corsErrors(): CorsError[];
  /** Opens `url` in the engine, performs `actions`, waits for `until`; works in every engine. */
  visit(url: string, opts?: VisitOptions): Promise<Visit>;
  /** Serves a folder of static files on 127.0.0.1 (or a host of `corsproofHosts`); returns its origin. */
  serve(dir: string, opts?: { host?: string }): Promise<string>;
}

export interface CorsproofTestOptions {
  /** The bucket's CORS configuration at the start of each test (default: none). */
  cors: CorsDocument;
  /** The bucket's name (default: a fresh name per test). */
  bucketName: string | undefined;
}

export interface CorsproofWorkerOptions {
  /**
   * Host names the engine resolves to 127.0.0.1 (pages served under a name, e.g.
   * `app.example.test`). Inside the browser only; /etc/hosts is never touched.
   */
  corsproofHosts: string[];
  /**
   * What unsigned requests may do: 'policy' (default, as S3: what the bucket policy grants) or
   * 'open' (anonymous object reads and writes allowed).
   */
  bucketAccess: AnonymousAccess;
}

interface Worker {
  build: EngineBuild;
  browser?: Browser;
  session?: EngineSession;
  bucket: BucketServer;
  log: ExchangeLog;
  site?: SiteServer;
  hosts: string[];
  /** WebKitGTK: documents the proxy rewrites while a visit opens them (URL without fragment → editor). */
  rewrites: Map<string, (html: string) => string>;
}

interface Recorder {
  messages: EngineMessage[];
  network: Array<Promise<NetworkEvent>>;
  watch(context: BrowserContext): void;
}

const MINIBROWSER_NO_PAGE = (b: EngineBuild) =>
  `${describeBuild(b)} is driven by corsproof's MiniBrowser driver, not by Playwright: there is no ` +
  "Playwright `page`, `context` or `browser` in this engine. Use `corsproof.visit(url, { actions, until })`, " +
  `which works in every engine, or install Playwright's WebKit (${INSTALL_HINT.webkit.split(', or')[0]}).`;

const NETWORK_NOTE =
  'WebKitGTK MiniBrowser is driven without a browser protocol, so it reports no network events; ' +
  "the bucket server's record is the network evidence.";

function corsErrorsOf(engine: EngineName, messages: readonly EngineMessage[]): CorsError[] {
  const out: CorsError[] = [];
  for (const m of messages) {
    const c = classify(engine, [m]);
    if (c) out.push({ ...c, explanation: REASON_TEXT[c.reasons[0]!] });
  }
  return out;
}

/** S3's own reading of a document, as PutBucketCors would validate it. */
export function parseCorsDocument(doc: CorsDocument | undefined): CorsConfiguration | undefined {
  if (doc === null || doc === undefined) return undefined;
  const parsed = parseCorsConfiguration(typeof doc === 'string' ? doc : JSON.stringify(doc));
  if (!parsed.ok) throw new Error(`S3 would refuse this CORS configuration (${parsed.error.code}: ${parsed.error.message})`);
  return parsed.config;
}

function observe(context: BrowserContext, onMessage: (m: EngineMessage) => void, onNetwork: (e: Promise<NetworkEvent>) => void): void {
  context.on('console', (m) => onMessage({ stream: 'console', type: m.type(), text: m.text() }));
  context.on('weberror', (w) => onMessage({ stream: 'pageerror', type: w.error().name, text: pageErrorText(w.error()) }));
  const safe = (p: Promise<NetworkEvent>, method: string, url: string) =>
    p.catch((e: Error) => ({ event: 'request' as const, method, url, failure: `headers unavailable: ${e.message}` }));
  context.on('request', (r) => onNetwork(safe(r.allHeaders().then((headers) => ({ event: 'request', method: r.method(), url: r.url(), headers })), r.method(), r.url())));
  context.on('response', (r) =>
    onNetwork(safe(r.allHeaders().then((headers) => ({ event: 'response', method: r.request().method(), url: r.url(), status: r.status(), headers })), r.request().method(), r.url())),
  );
  context.on('requestfailed', (r) => onNetwork(Promise.resolve({ event: 'requestfailed', method: r.method(), url: r.url(), failure: r.failure()?.errorText ?? '' })));
}

async function launchPlaywrightBrowser(choice: EngineChoice, hosts: string[], user: LaunchOptions): Promise<{ browser: Browser; proxy?: LoopbackProxy }> {
  // WebKit has no host-resolver switch: mapped names reach loopback through corsproof's proxy.
  const proxy = choice.engine === 'webkit' && hosts.length ? new LoopbackProxy(hosts) : undefined;
  const ours = launchOptionsFor(choice, hosts, await proxy?.start());
  const options = { ...user, ...ours, args: [...(user.args ?? []), ...(ours.args ?? [])], ...(user.firefoxUserPrefs || ours.firefoxUserPrefs ? { firefoxUserPrefs: { ...user.firefoxUserPrefs, ...ours.firefoxUserPrefs } } : {}) };
  try {
    const browser = await { chromium, firefox, webkit }[choice.engine].launch(options);
    return { browser, ...(proxy ? { proxy } : {}) };
  } catch (e) {
    await proxy?.close();
    throw new Error(
      `${choice.engine}: could not start ${choice.product} (${choice.source}, ${choice.path}) via ${choice.driver}: ${(e as Error).message}\n` +
        `To get a working ${choice.engine}, install ${INSTALL_HINT[choice.engine]}.`,
    );
  }
}

/** Which document a visit opens: origin and path (the query may be re-encoded by the engine). */
function documentKey(url: string): string {
  const u = new URL(url);
  return u.origin + u.pathname;
}

function bucketName(): string {
  return `corsproof-${randomBytes(5).toString('hex')}`;
}

function describeExchange(x: Exchange): string[] {
  const req = ['origin', 'access-control-request-method', 'access-control-request-headers'].filter((h) => x.requestHeaders[h] !== undefined);
  const res = Object.entries(x.responseHeaders).filter(([k]) => k.startsWith('access-control-'));
  return [
    `  ${x.method} ${x.url.replace(/([?&]X-Amz-Signature=)[^&]+/, '$1…')}`,
    ...req.map((h) => `    > ${h}: ${x.requestHeaders[h]}`),
    `    < ${x.status}${x.note ? `  (${x.note})` : ''}`,
    ...(res.length ? res.map(([k, v]) => `    < ${k}: ${v}`) : ['    < (no Access-Control-* headers)']),
  ];
}

/** A readable account of the test: the configuration, each visit, what the bucket saw, what the engine said. */
export function transcriptOf(e: { engine: EngineBuild; bucket: string; endpoint: string; cors: CorsConfiguration | undefined; visits: Visit[]; exchanges: Exchange[]; corsErrors: CorsError[] }): string {
  const lines = [
    `corsproof: bucket ${e.bucket} at ${e.endpoint}, engine ${describeBuild(e.engine)}`,
    `CORS configuration: ${e.cors ? JSON.stringify(e.cors.CORSRules) : 'none'}`,
  ];
  e.visits.forEach((v, i) => lines.push(`visit ${i + 1}: ${v.url} → ${v.state}; page text: ${JSON.stringify(v.text.slice(0, 200))}`));
  lines.push(`bucket exchanges (${e.exchanges.length}):`);
  for (const x of e.exchanges) lines.push(...describeExchange(x));
  lines.push(`engine CORS messages (${e.corsErrors.length}):`);
  for (const c of e.corsErrors) lines.push(`  [${c.reasons.join(' or ')}] ${c.message}`);
  return lines.join('\n') + '\n';
}

export const test = base.extend<
  CorsproofTestOptions & { corsproof: Corsproof; _corsproofRecorder: Recorder },
  CorsproofWorkerOptions & { _corsproofWorker: Worker }
>({
  cors: [null, { option: true }],
  bucketName: [undefined, { option: true }],
  corsproofHosts: [[], { scope: 'worker', option: true }],
  bucketAccess: ['policy', { scope: 'worker', option: true }],

  _corsproofWorker: [
    async ({ browserName, corsproofHosts, bucketAccess, launchOptions }, use) => {
      const hosts = [...corsproofHosts];
      const log = new ExchangeLog();
      const bucket = await startBucketServer({ log, anonymousAccess: bucketAccess });
      const rewrites = new Map<string, (html: string) => string>();
      const closers: Array<() => Promise<void>> = [() => bucket.close()];
      try {
        const choice = resolveEngine(browserName as EngineName);
        let worker: Worker;
        if (choice.driver === 'minibrowser') {
          const site = await startSiteServer({ log });
          closers.push(() => site.close());
          const session = await launchEngine(choice, {
            site,
            pageOrigin: site.url,
            hosts,
            rewriteDocument: (url) => rewrites.get(documentKey(url)),
          });
          closers.push(() => session.close());
          worker = { build: session.build, session, bucket, log, site, hosts, rewrites };
        } else {
          const { browser, proxy } = await launchPlaywrightBrowser(choice, hosts, launchOptions);
          closers.push(async () => {
            await browser.close().catch(() => {});
            await proxy?.close();
          });
          worker = { build: { ...choice, version: browser.version() }, browser, bucket, log, hosts, rewrites };
        }
        await use(worker);
      } finally {
        for (const c of closers.reverse()) await c().catch(() => {});
      }
    },
    { scope: 'worker', timeout: 90_000 },
  ],

  // Playwright's own fixtures come from corsproof's choice of build (system engines included).
  browser: [
    async ({ _corsproofWorker }, use) => {
      if (!_corsproofWorker.browser) throw new Error(MINIBROWSER_NO_PAGE(_corsproofWorker.build));
      await use(_corsproofWorker.browser);
    },
    { scope: 'worker' },
  ],

  _corsproofRecorder: async ({ _corsproofWorker }, use, testInfo) => {
    testInfo.annotations.push({ type: 'engine', description: describeBuild(_corsproofWorker.build) });
    const recorder: Recorder = {
      messages: [],
      network: [],
      watch(context) {
        observe(context, (m) => recorder.messages.push(m), (e) => recorder.network.push(e));
      },
    };
    await use(recorder);
  },

  context: async ({ context, _corsproofRecorder }, use) => {
    _corsproofRecorder.watch(context);
    await use(context);
  },

  corsproof: async ({ _corsproofWorker: w, _corsproofRecorder: recorder, cors, bucketName: chosenName }, use, testInfo) => {
    const name = chosenName ?? bucketName();
    const start = w.log.all().length ? w.log.all()[w.log.all().length - 1]!.seq : 0;
    const credentials = { accessKeyId: DEFAULT_CREDENTIALS.accessKeyId, secretAccessKey: DEFAULT_CREDENTIALS.secretAccessKey };
    const region = DEFAULT_CREDENTIALS.region;
    w.bucket.store.createBucket(name);
    w.bucket.store.setCors(name, parseCorsDocument(cors));
    // Checksums only where S3 requires them: otherwise the SDK presigns a PUT with the CRC32 of an
    // empty body (x-amz-checksum-crc32=AAAAAA==), which S3 refuses for any real upload.
    const s3 = new S3Client({ endpoint: w.bucket.url, forcePathStyle: true, region, credentials, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const visits: Visit[] = [];
    const servers: Server[] = [];
    const bucketExchanges = (after: number, before = Infinity) =>
      w.log.all().filter((x) => x.seq > after && x.seq < before && (x.server === 'bucket' || x.server === 'website'));
    const lastSeq = () => (w.log.all().length ? w.log.all()[w.log.all().length - 1]!.seq : 0);

    const visit = async (url: string, opts: VisitOptions = {}): Promise<Visit> => {
      const timeoutMs = opts.timeoutMs ?? 10_000;
      const actions = opts.actions ?? [];
      const from = lastSeq();
      const firstMessage = recorder.messages.length;
      const screenshotPath = opts.screenshot ? testInfo.outputPath(`visit-${visits.length + 1}.png`) : undefined;
      let v: Visit;
      if (w.session && w.site) {
        // WebKitGTK: the runner and this visit's agent are added to the document by corsproof's proxy.
        const caseId = `visit-${randomBytes(6).toString('hex')}`;
        const agentPath = `/__corsproof/visits/${caseId}.js`;
        w.site.setPage(agentPath, agentScript({ actions: wireActions(actions), until: wireUntil(opts.until), timeoutMs: Math.min(timeoutMs, 14_000) }), 'text/javascript; charset=utf-8');
        const key = documentKey(url);
        w.rewrites.set(key, (html) => injectScripts(html, [`${w.site!.url}/__corsproof/runner.js`, `${w.site!.url}${agentPath}`]));
        try {
          const r = await w.session.visit(url, { caseId, timeoutMs: timeoutMs + 10_000, ...(screenshotPath ? { screenshotPath } : {}) });
          if (r.state.startsWith('error: ')) throw new Error(`corsproof.visit(${url}): ${r.state.slice(7)}`);
          if (r.state !== 'done' && r.state !== 'timeout') {
            throw new Error(`corsproof.visit(${url}): the page ended in state "${r.state}" (it sets <html data-loaded> itself?)`);
          }
          recorder.messages.push(...r.messages);
          v = { url, state: r.state, text: r.text, messages: r.messages, corsErrors: [], exchanges: [], networkNote: NETWORK_NOTE, ...(r.screenshot ? { screenshot: r.screenshot } : {}) };
        } finally {
          w.rewrites.delete(key);
        }
      } else {
        const context = await w.browser!.newContext();
        const network: Array<Promise<NetworkEvent>> = [];
        observe(context, (m) => recorder.messages.push(m), (e) => {
          network.push(e);
          recorder.network.push(e);
        });
        try {
          const page: Page = await context.newPage();
          const deadline = Date.now() + timeoutMs;
          const left = () => Math.max(1, deadline - Date.now());
          await page.goto(url, { timeout: left() });
          for (const a of actions) {
            if ('setInputFiles' in a) {
              await page.locator(a.setInputFiles).setInputFiles(a.files.map((f) => ({ name: f.name, mimeType: f.mimeType, buffer: Buffer.from(f.content) })), { timeout: left() });
            } else if ('fill' in a) await page.locator(a.fill).fill(a.value, { timeout: left() });
            else await page.locator(a.click).click({ timeout: left() });
          }
          let state: Visit['state'] = 'done';
          try {
            await page.waitForFunction(`(${UNTIL_MET})(${JSON.stringify(wireUntil(opts.until))})`, undefined, { timeout: left(), polling: 25 });
          } catch (e) {
            if (!/Timeout/i.test((e as Error).message)) throw e;
            state = 'timeout';
          }
          // Engines log a refused request's message as the failed load is torn down: let it arrive.
          await page.evaluate(() => new Promise((r) => setTimeout(r, 100)));
          const text = await page.evaluate(() => document.body?.innerText ?? '');
          if (screenshotPath) await page.screenshot({ path: screenshotPath });
          v = { url, state, text, messages: recorder.messages.slice(firstMessage), corsErrors: [], exchanges: [], network: await Promise.all(network), ...(screenshotPath ? { screenshot: screenshotPath } : {}) };
        } finally {
          await context.close().catch(() => {});
        }
      }
      v.corsErrors = corsErrorsOf(w.build.engine, v.messages);
      v.exchanges = bucketExchanges(from);
      visits.push(v);
      if (v.screenshot) await testInfo.attach(`visit-${visits.length}.png`, { path: v.screenshot, contentType: 'image/png' });
      return v;
    };

    const api: Corsproof = {
      engine: w.build,
      playwright: w.browser !== undefined,
      bucket: { name, endpoint: w.bucket.url, url: `${w.bucket.url}/${name}`, region, credentials },
      s3,
      setCors: (doc) => w.bucket.store.setCors(name, parseCorsDocument(doc)),
      getCors: () => w.bucket.store.getCors(name),
      objectUrl: (key) => `${w.bucket.url}/${name}/${key.split('/').map(encodeURIComponent).join('/')}`,
      async presign(method, key, opts = {}) {
        const input = { Bucket: name, Key: key };
        const command =
          method === 'PUT' ? new PutObjectCommand(input) : method === 'DELETE' ? new DeleteObjectCommand(input) : method === 'HEAD' ? new HeadObjectCommand(input) : new GetObjectCommand(input);
        return getSignedUrl(s3, command, { expiresIn: opts.expiresIn ?? 900 });
      },
      putObject: (key, body, contentType) => w.bucket.store.putObject(name, key, Buffer.from(body), contentType),
      getObject: (key) => {
        const o = w.bucket.store.getObject(name, key);
        return o && { body: o.body, contentType: o.contentType, etag: o.etag };
      },
      exchanges: () => bucketExchanges(start),
      preflights: () => bucketExchanges(start).filter((x) => x.method === 'OPTIONS'),
      messages: () => [...recorder.messages],
      corsErrors: () => corsErrorsOf(w.build.engine, recorder.messages),
      visit,
      async serve(dir, opts = {}) {
        const host = opts.host ?? '127.0.0.1';
        if (host !== '127.0.0.1' && host !== 'localhost' && !w.hosts.includes(host)) {
          throw new Error(`corsproof.serve: ${host} is not resolved to 127.0.0.1 in the engine; add it to corsproofHosts (test.use({ corsproofHosts: ['${host}'] }) at the top level of the file)`);
        }
        const app = express();
        app.disable('x-powered-by');
        app.use(express.static(dir));
        const server = createServer(app);
        await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
        servers.push(server);
        return `http://${host}:${(server.address() as AddressInfo).port}`;
      },
    };
    try {
      await use(api);
    } finally {
      await attachEvidence(testInfo, {
        engine: w.build,
        bucket: name,
        endpoint: w.bucket.url,
        cors: w.bucket.store.getCors(name),
        visits,
        exchanges: bucketExchanges(start),
        corsErrors: corsErrorsOf(w.build.engine, recorder.messages),
        messages: recorder.messages,
        network: await Promise.all(recorder.network),
      });
      w.bucket.store.deleteBucket(name);
      s3.destroy();
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
    }
  },
});

async function attachEvidence(
  testInfo: TestInfo,
  e: Parameters<typeof transcriptOf>[0] & { messages: EngineMessage[]; network: NetworkEvent[] },
): Promise<void> {
  const path = testInfo.outputPath('corsproof-evidence.json');
  writeFileSync(path, JSON.stringify({ engineBuild: e.engine, bucket: e.bucket, endpoint: e.endpoint, cors: e.cors ?? null, visits: e.visits, corsErrors: e.corsErrors, messages: e.messages, exchanges: e.exchanges, network: e.network }, null, 2));
  await testInfo.attach('corsproof-evidence.json', { path, contentType: 'application/json' });
  await testInfo.attach('corsproof-transcript.txt', { body: transcriptOf(e), contentType: 'text/plain' });
}
