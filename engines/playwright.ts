/**
 * Engines Playwright drives: Chromium (CDP, bundled or system), Firefox (Playwright's Juggler build,
 * or a stock Firefox over WebDriver BiDi), and Playwright's own WebKit build.
 *
 * One browser, context and harness page per worker: a case is one `page.evaluate` of the in-page
 * runner, so a case costs what the browser's CORS work costs instead of a new context + page +
 * navigation (≈ 220 ms in Chromium, ≈ 600 ms in Firefox over BiDi, measured here). Cases stay
 * independent because every URL a case touches is unique (engines key their preflight caches by URL).
 */
import { createHash, X509Certificate } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chromium, firefox, webkit, type Browser, type BrowserContext, type BrowserType, type LaunchOptions, type Page } from '@playwright/test';
import { chromiumRelay } from './cdp-pipe.js';
import { chromiumFeatureArgs } from './chromium-features.js';
import { buildTemplate, freshProfile, templateDir } from './firefox-profile.js';
import { HARNESS_PATH } from '../servers/site/paths.js';
import { chromiumHostRules, firefoxHostPrefs, LoopbackProxy } from './host-map.js';
import { childWithArguments, killGroup } from './processes.js';
import { isHeadlessShell } from './select.js';
import {
  MARK_BEGIN,
  MARK_END,
  type CaseRun,
  type CaseSpec,
  type EngineBuild,
  type EngineChoice,
  type EngineMessage,
  type EngineSession,
  engineStart,
  type EngineStart,
  type StartContext,
  type NetworkEvent,
  type PageResult,
  type VisitRun,
  pageBound,
  PageStuck,
} from './types.js';

/**
 * Playwright version pin (package.json): 1.64.x. Measured on Debian 12: Playwright 1.64.1 drives
 * Firefox ESR 153 over WebDriver BiDi; 1.65.1 fails in `browser.newContext` with
 * "Protocol error (emulation.setMediaFeaturesOverride): unknown command". Bump only after running
 * the firefox project against the system Firefox you support. tests/unit/engine-selection.spec.ts
 * fails on a bump to remind whoever does it.
 */
export const PLAYWRIGHT_PIN = '1.64.';

const TYPES: Record<EngineChoice['engine'], BrowserType> = { chromium, firefox, webkit };

/**
 * Fewer processes for a stock Firefox driven over BiDi, none of them about CORS or what the engine
 * prints: no spare content process started ahead of need, no preloaded new-tab page, and web content
 * not split into a process per site (Fission's isolation; the preferences Firefox's remote agent
 * asked of CDP clients, and Playwright's own Firefox builds ship). The harness opens one page per
 * session and no cross-site frames. Measured here, a Firefox-only check alternating six times with
 * and without: 12.2–12.6 s of CPU against 12.5–14.6 s, 8.3–9.0 s against 8.4–10.0 s of wall.
 *
 * Firefox's built-in extensions (form autofill, new tab, picture-in-picture, web compatibility, …)
 * run in its main process instead of a WebExtensions process of their own: one process fewer to
 * start, the same extensions. Measured here, three-engine checks alternating five times: 10.8–13.4 s
 * (median 11.2) against 11.4–13.8 s (median 12.4), 18.1–22.0 s of CPU against 19.2–23.4 s.
 */
export const FIREFOX_PROCESS_PREFS: Readonly<Record<string, boolean | number>> = {
  'dom.ipc.processPrelaunch.enabled': false,
  'browser.newtab.preload': false,
  'fission.webContentIsolationStrategy': 0,
  'fission.bfcacheInParent': false,
  'extensions.webextensions.remote': false,
};

/**
 * Launch options for a choice. `hosts` are test host names to resolve to loopback; `proxy` is the
 * loopback proxy WebKit needs for that (it has no resolver switch), and every engine for a chosen
 * page origin `pageHost`.
 */
export function launchOptionsFor(
  choice: EngineChoice,
  hosts: readonly string[] = [],
  proxy?: string,
  pageHost?: string,
  trustCertificate?: string,
): LaunchOptions & { channel?: string } {
  if (choice.driver === 'minibrowser') throw new Error(`driver ${choice.driver} is not a Playwright driver`);
  const opts: LaunchOptions & { channel?: string } = {};
  if (choice.source === 'system') {
    opts.executablePath = choice.path;
    // Stock Firefox speaks WebDriver BiDi only; Playwright ≥ 1.57 selects it by channel.
    if (choice.driver === 'playwright-bidi') opts.channel = 'moz-firefox';
  }
  const args: string[] = [];
  if (choice.engine === 'chromium') {
    // Without these, a stock Chromium keeps dialing Google services (refused on closed networks).
    if (choice.source === 'system') args.push('--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run');
    // …and the whole browser builds UI no test opens (engines/chromium-features.ts); the headless
    // shell has none.
    const features = choice.source === 'system' && !isHeadlessShell(choice.path) ? chromiumFeatureArgs() : undefined;
    if (features) {
      args.push(...features.args);
      opts.ignoreDefaultArgs = features.ignoreDefaultArgs;
    }
    args.push(...chromiumHostRules(hosts));
    if (trustCertificate) args.push(`--ignore-certificate-errors-spki-list=${spkiHash(trustCertificate)}`);
  }
  if (args.length) opts.args = args;
  // Firefox treats localDomains names as localhost, which it never sends to a proxy: a page host
  // routed through the proxy is left out of them.
  const local = proxy && pageHost ? hosts.filter((h) => h !== pageHost) : hosts;
  if (choice.engine === 'firefox' && local.length) opts.firefoxUserPrefs = firefoxHostPrefs(local);
  if (choice.engine === 'firefox' && choice.source === 'system') Object.assign((opts.firefoxUserPrefs ??= {}), FIREFOX_PROCESS_PREFS);
  // WebKit reaches every test host through the proxy. Chromium and Firefox resolve test hosts
  // themselves and use the proxy only for a chosen page origin (`pageHost`), which it routes to the
  // site server's port.
  if (proxy && choice.engine === 'firefox') {
    // Firefox's own proxy prefs (read at start, whatever protocol drives it), with test hosts and
    // loopback exempt.
    const { hostname, port } = new URL(proxy);
    Object.assign((opts.firefoxUserPrefs ??= {}), {
      'network.proxy.type': 1,
      'network.proxy.http': hostname,
      'network.proxy.http_port': Number(port),
      'network.proxy.ssl': hostname,
      'network.proxy.ssl_port': Number(port),
      'network.proxy.no_proxies_on': ['localhost', '127.0.0.1', ...local].join(', '),
    });
  } else if (proxy) {
    const bypass = choice.engine === 'webkit' ? [] : local;
    opts.proxy = { server: proxy, ...(bypass.length ? { bypass: bypass.join(',') } : {}) };
  }
  return opts;
}

/** What --ignore-certificate-errors-spki-list takes: base64 SHA-256 of the certificate's SubjectPublicKeyInfo. */
export function spkiHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

type Stamped<T> = T & { seq: number };

const waitReady = (page: Page) => page.waitForFunction(() => (window as unknown as { corsproof?: { ready: boolean } }).corsproof?.ready === true);

/**
 * Everything the engine reports about a page, as corsproof's evidence types: console lines, page
 * errors (Firefox over BiDi reports CORS failures there), and network events with all headers
 * (`allHeaders()` resolves later, so network events are promises).
 */
function observe(page: Page, onMessage: (m: EngineMessage) => void, onNetwork: (url: string, done: Promise<NetworkEvent>) => void): void {
  page.on('console', (m) => onMessage({ stream: 'console', type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => onMessage({ stream: 'pageerror', type: e.name, text: pageErrorText(e) }));
  page.on('request', (r) => onNetwork(r.url(), r.allHeaders().then((headers) => ({ event: 'request', method: r.method(), url: r.url(), headers }))));
  page.on('response', (r) =>
    onNetwork(
      r.url(),
      r.allHeaders().then((headers) => ({ event: 'response', method: r.request().method(), url: r.url(), status: r.status(), headers })),
    ),
  );
  page.on('requestfailed', (r) =>
    onNetwork(r.url(), Promise.resolve({ event: 'requestfailed', method: r.method(), url: r.url(), failure: r.failure()?.errorText ?? '' })),
  );
}

class PlaywrightSession implements EngineSession {
  private seq = 0;
  private messages: Stamped<EngineMessage>[] = [];
  private network: Array<Stamped<{ url: string; done: Promise<NetworkEvent> }>> = [];
  private waiters: Array<() => void> = [];
  private tracingStarted = false;

  constructor(
    readonly build: EngineBuild,
    private readonly page: Page,
    private readonly harnessUrl: string,
    /** Closes the browser and whatever its launch made (proxy, profile); safe to call twice. */
    private readonly end: () => Promise<void>,
  ) {
    observe(page, (m) => this.push(m), (url, done) => this.pushNet(url, done));
  }

  private push(m: EngineMessage): void {
    this.messages.push({ ...m, seq: ++this.seq });
    for (const w of this.waiters.splice(0)) w();
  }

  private pushNet(url: string, done: Promise<NetworkEvent>): void {
    // allHeaders() can reject when the page or request is gone; keep the event without headers then.
    const safe = done.catch((e: Error) => ({ event: 'request' as const, method: '?', url, failure: `headers unavailable: ${e.message}` }));
    this.network.push({ url, done: safe, seq: ++this.seq });
  }

  private async waitForMessage(pred: (m: EngineMessage) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.messages.some(pred)) {
      if (Date.now() >= deadline) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, deadline - Date.now());
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  async run(spec: CaseSpec, timeoutMs: number): Promise<CaseRun> {
    return (await this.runBatch([spec], timeoutMs))[0]!;
  }

  async runBatch(specs: readonly CaseSpec[], caseTimeoutMs: number): Promise<CaseRun[]> {
    if (specs.length === 0) return [];
    // The page enforces each case's timeout itself; this bound only catches a page that stopped
    // answering altogether (a script stuck in a loop, a crashed renderer).
    const bound = pageBound(specs.length, caseTimeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PageStuck(bound)), bound);
    });
    let results: PageResult[];
    try {
      results = await Promise.race([
        this.page.evaluate(
          // The runner is the page's own script (servers/site/public/runner.js).
          ([s, t]) => (window as unknown as { corsproof: { runBatch(x: unknown, t: number): Promise<PageResult[]> } }).corsproof.runBatch(s, t),
          [specs, caseTimeoutMs] as const,
        ),
        stuck,
      ]);
    } catch (e) {
      const running = specs.find((s) => this.messages.some((m) => m.text === MARK_BEGIN + s.caseId) && !this.messages.some((m) => m.text === MARK_END + s.caseId));
      this.messages = [];
      this.network = [];
      await this.reload().catch(() => {});
      throw new Error(
        `${e instanceof PageStuck ? e.message : `the harness page failed: ${(e as Error).message}`}` +
          (running ? ` while case ${running.caseId} was running` : '') +
          `; the page was reloaded for the next cases`,
      );
    } finally {
      clearTimeout(timer);
    }
    const lastEnd = MARK_END + specs[specs.length - 1]!.caseId;
    if (!(await this.waitForMessage((m) => m.text === lastEnd, 5_000))) {
      throw new Error(`the engine never reported the console line "${lastEnd}"`);
    }
    const runs: CaseRun[] = [];
    for (const [i, spec] of specs.entries()) {
      const begin = this.messages.find((m) => m.text === MARK_BEGIN + spec.caseId)?.seq ?? 0;
      const end = this.messages.find((m) => m.text === MARK_END + spec.caseId)?.seq ?? Infinity;
      const messages = this.messages.filter((m) => m.seq > begin && m.seq < end).map(({ seq: _seq, ...m }) => m);
      const mine = this.network.filter((n) => n.url.includes(spec.caseId));
      runs.push({ result: results[i]!, messages, network: await Promise.all(mine.map((n) => n.done)) });
    }
    // Forget what these cases produced so the buffers do not grow over a worker's lifetime.
    const endSeq = this.messages.find((m) => m.text === lastEnd)!.seq;
    this.messages = this.messages.filter((m) => m.seq > endSeq);
    this.network = this.network.filter((n) => !specs.some((s) => n.url.includes(s.caseId)));
    return runs;
  }

  /** Loads the harness page afresh (after a page that stopped answering). */
  private async reload(): Promise<void> {
    await this.page.goto(this.harnessUrl);
    await waitReady(this.page);
  }

  async visit(url: string, opts: { caseId: string; timeoutMs: number; screenshotPath?: string }): Promise<VisitRun> {
    const page = await this.page.context().newPage();
    const messages: EngineMessage[] = [];
    const network: Array<Promise<NetworkEvent>> = [];
    observe(page, (m) => messages.push(m), (_url, done) => network.push(done));
    try {
      await page.goto(url, { timeout: opts.timeoutMs });
      await page.waitForFunction(() => document.documentElement.dataset['loaded'], undefined, { timeout: opts.timeoutMs });
      // Let the engine's late console lines (a failed load is torn down after the rejection) arrive.
      await page.evaluate(() => new Promise((r) => setTimeout(r, 100)));
      const state = await page.evaluate(() => document.documentElement.dataset['loaded'] ?? 'timeout');
      const text = await page.evaluate(() => document.body.innerText);
      if (opts.screenshotPath) await page.screenshot({ path: opts.screenshotPath });
      const events = await Promise.all(network.map((n) => n.catch((e: Error) => ({ event: 'request' as const, method: '?', url: '', failure: e.message }))));
      return { state, text, messages, network: events, ...(opts.screenshotPath ? { screenshot: opts.screenshotPath } : {}) };
    } finally {
      await page.close();
    }
  }

  tracing = {
    start: async (title: string): Promise<void> => {
      const t = this.page.context().tracing;
      if (!this.tracingStarted) {
        await t.start({ snapshots: true, screenshots: false, sources: false });
        this.tracingStarted = true;
      }
      await t.startChunk({ title });
    },
    stop: async (path?: string): Promise<boolean> => {
      await this.page.context().tracing.stopChunk(path ? { path } : {});
      return path !== undefined;
    },
  };

  async close(): Promise<void> {
    await this.end();
  }
}

/**
 * Playwright splits a page error's text at the first ":" (packages/utils/stackTrace.ts), which
 * mangles engine lines such as WebKit's "Fetch API cannot load http://h:p/x due to …" into
 * name "Fetch API cannot load http" and message "//h:p/x …". Rejoin them before anyone matches text.
 */
export function pageErrorText(e: Error): string {
  if (/^[A-Za-z]*Error$/.test(e.name) || e.name === 'Cross-Origin Request Blocked') return `${e.name}: ${e.message}`;
  if (e.message.startsWith('/')) return `${e.name}:/${e.message}`;
  return `${e.name}: ${e.message}`;
}

export async function startPlaywright(choice: EngineChoice, ctx: StartContext): Promise<EngineStart> {
  const type = TYPES[choice.engine];
  const proxy = (choice.engine === 'webkit' && ctx.hosts.length) || ctx.pageAddress ? new LoopbackProxy(ctx.hosts) : undefined;
  const contextOptions = { serviceWorkers: 'block' as const, ignoreHTTPSErrors: ctx.ignoreTlsErrors ?? false };
  let profile: string | undefined;
  const launch = async (): Promise<{ browser: Browser; context?: BrowserContext }> => {
    const options = launchOptionsFor(choice, ctx.hosts, await proxy?.start(), ctx.pageAddress?.replace(/:\d+$/, ''), ctx.trustCertificate);
    if (choice.engine === 'chromium' && choice.source === 'system') {
      // Request bodies over 64 KiB stay out of DevTools events (engines/cdp-pipe.ts).
      const relay = chromiumRelay(choice.path);
      if (relay) options.executablePath = relay;
    }
    if (choice.engine !== 'firefox') return { browser: await type.launch(options) };
    // Firefox starts from a copy of a warm profile (engines/firefox-profile.ts): its context is the
    // persistent one of that profile, with the options the others get from newContext.
    const template = templateDir(options.executablePath);
    await buildTemplate(type, template, { ...(options.executablePath ? { executablePath: options.executablePath } : {}), ...(options.channel ? { channel: options.channel } : {}) });
    profile = freshProfile(template);
    const context = await type.launchPersistentContext(profile, { ...options, ...contextOptions });
    const browser = context.browser();
    if (!browser) throw new Error('Playwright gave no browser for the persistent Firefox context');
    return { browser, context };
  };
  let launched: { browser: Browser; context?: BrowserContext } | undefined;
  let closing: Promise<void> | undefined;
  const end = () =>
    (closing ??= (async () => {
      // Firefox's profile is this launch's own and is deleted next: its shutdown (session store,
      // shutdown blockers) has nothing to save, yet cost ≈ 0.6 s and ≈ 1.5 s of CPU per close here.
      // Its process group (Playwright starts each browser as one) is killed instead; Playwright then
      // sees the browser gone.
      if (profile) killGroup(childWithArguments(['--profile', profile]));
      await launched?.browser.close().catch(() => {});
      await proxy?.close();
      if (profile) rmSync(profile, { recursive: true, force: true });
    })());
  try {
    launched = await launch();
  } catch (e) {
    await end();
    throw e;
  }
  const { browser } = launched;
  return engineStart(
    choice.engine,
    async ({ site, pageOrigin }) => {
      if (ctx.pageAddress) proxy!.route(ctx.pageAddress, site.port);
      const build: EngineBuild = { ...choice, version: browser.version() };
      const context = launched!.context ?? (await browser.newContext(contextOptions));
      const page = context.pages()[0] ?? (await context.newPage());
      const harnessUrl = pageOrigin + HARNESS_PATH;
      const session = new PlaywrightSession(build, page, harnessUrl, end);
      await page.goto(harnessUrl);
      await waitReady(page);
      return session;
    },
    end,
  );
}
