/**
 * Stock WebKitGTK without Playwright.
 *
 * Playwright can only drive its own patched WebKit (it needs the `Playwright.*` inspector domain),
 * and WebKitWebDriver 2.50 speaks classic WebDriver only and silences MiniBrowser's console
 * (measured: ../shared/reference/browser-cors-evidence.md §6.3). So this driver starts MiniBrowser
 * directly under its own Xvfb with `--enable-write-console-messages-to-stdout=true`, which makes the
 * web process print every console message, CORS ones included, as
 *   CONSOLE SECURITY ERROR Origin http://127.0.0.1:P is not allowed by Access-Control-Allow-Origin. Status code: 200
 *   CONSOLE JS ERROR Fetch API cannot load http://… due to access control checks.
 * on stderr. The page it opens is the harness page in remote-control mode: it fetches cases from the
 * site server and posts outcomes back (servers/site/remote-control.ts). Console lines between the
 * case's begin and end markers belong to that case.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createHash, randomUUID } from 'node:crypto';
import { binaryKey, engineCacheDir, writeCacheFile } from './cache-dir.js';
import { HARNESS_PATH } from '../servers/site/paths.js';
import type { SiteServer } from '../servers/site/index.js';
import { LoopbackProxy } from './host-map.js';
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
  type PageResult,
  type VisitRun,
  pageBound,
} from './types.js';
import { screenshotDisplay } from './xwd.js';
import { execFileText, ProcessGroup } from './processes.js';

// "[<source url>:<line>:<column>: ]CONSOLE [<SOURCE> ]<LEVEL> <text>" (measured, 2.50.6): the location
// is absent for messages the engine raises outside a script, and console-API calls have no SOURCE
// ("CONSOLE LOG hello"); engine messages do ("CONSOLE SECURITY ERROR …", "CONSOLE JS ERROR …").
const CONSOLE_LINE = /^(?:.*:\d+:\d+: )?CONSOLE (?:([A-Z][A-Z-]*) )?(LOG|ERROR|WARN|WARNING|INFO|DEBUG) (.*)$/;

export async function webkitGtkVersion(path: string, display: string): Promise<string> {
  // `MiniBrowser --version` prints "WebKitGTK 2.50.6" (GTK insists on a display even for that).
  // Asked twice: with many engines starting at once on a small machine the first answer has come
  // back empty (measured: six workers of a two-origin check on two cores).
  let last: unknown;
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      const out = await execFileText(path, ['--version'], 20_000, { ...process.env, DISPLAY: display });
      const m = /WebKitGTK\s+(\S+)/.exec(out);
      if (m?.[1]) return m[1];
      last = new Error(`could not read the WebKitGTK version from "${path} --version": ${out.trim() || '(no output)'}`);
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

/**
 * The WebKitGTK version of a MiniBrowser, remembered per binary (path, size, mtime) in corsproof's
 * cache: `MiniBrowser --version` is a whole GTK start (≈ 0.45 s of CPU, measured here), paid at
 * every engine start before. A package update replaces the binary, and with it the key.
 */
export async function cachedWebkitGtkVersion(path: string, display: string, root = engineCacheDir()): Promise<string> {
  let file = ''; // stays empty when the binary cannot be read: then nothing is cached
  try {
    file = join(root, `webkitgtk-version-${createHash('sha256').update(binaryKey(path)).digest('hex').slice(0, 16)}.txt`);
    const known = readFileSync(file, 'utf8').trim();
    if (/^\d+\.\d+/.test(known)) return known;
  } catch {
    /* not cached yet */
  }
  const version = await webkitGtkVersion(path, display);
  // A read-only cache: asked again next time.
  if (file) writeCacheFile(file, `${version}\n`);
  return version;
}

/** Starts an Xvfb on a free display; resolves with the display name (":N"). */
async function startXvfb(group: ProcessGroup): Promise<string> {
  const xvfb = group.spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x900x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  xvfb.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const fd3 = xvfb.stdio[3] as NodeJS.ReadableStream | null;
  if (!fd3) throw new Error('Xvfb: no display pipe');
  return await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not report a display within 10 s. ${stderr}`)), 10_000);
    fd3.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /^(\d+)\n/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(`:${m[1]}`);
      }
    });
    xvfb.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start Xvfb (${e.message}); install it: apt-get install -y xvfb`));
    });
    xvfb.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited with ${code} before reporting a display. ${stderr}`));
    });
  });
}

class MiniBrowserSession implements EngineSession {
  private lines: EngineMessage[] = [];
  private lineWaiters: Array<() => void> = [];
  private exited: string | undefined;

  constructor(
    readonly build: EngineBuild,
    private readonly group: ProcessGroup,
    browser: ChildProcess,
    private readonly session: ReturnType<SiteServer['control']['open']>,
    private readonly profileDir: string,
    private readonly proxy: LoopbackProxy,
    private readonly display: string,
    private readonly harnessUrl: string,
  ) {
    // The setting says "stdout"; WebKitGTK 2.50 was measured writing to stderr. Read both.
    for (const stream of [browser.stdout, browser.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.onLine(line));
    }
    browser.once('exit', (code, signal) => {
      this.exited = `MiniBrowser exited (${signal ?? code})`;
      this.session.close();
      this.wake();
    });
  }

  private onLine(line: string): void {
    const m = CONSOLE_LINE.exec(line);
    if (!m) return; // GTK/GLib chatter, not the page's console
    this.lines.push({ stream: 'stderr', type: m[1] ? `${m[1]} ${m[2]}` : m[2]!, text: m[3]! });
    this.wake();
  }

  private wake(): void {
    for (const w of this.lineWaiters.splice(0)) w();
  }

  private async waitForLine(pred: (m: EngineMessage) => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.lines.some(pred)) return true;
      if (this.exited || Date.now() >= deadline) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.lineWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The console lines between a case's markers (waiting for the end marker), dropped from the buffer. */
  private async takeCaseLines(caseId: string): Promise<EngineMessage[]> {
    // The page logs its end marker before it posts the result, but stderr is a different pipe from
    // the HTTP request: wait until the marker has been read too.
    const endLine = MARK_END + caseId;
    if (!(await this.waitForLine((m) => m.text === endLine, 5_000))) {
      throw new Error(`MiniBrowser's console never printed "${endLine}"${this.exited ? ` (${this.exited})` : ''}`);
    }
    const begin = this.lines.findIndex((m) => m.text === MARK_BEGIN + caseId);
    const end = this.lines.findIndex((m) => m.text === endLine);
    const messages = this.lines.slice(begin + 1, end);
    this.lines = this.lines.slice(end + 1);
    return messages;
  }

  private static readonly NETWORK_NOTE =
    'WebKitGTK MiniBrowser is driven without a browser protocol, so it reports no network events; ' +
    "the bucket server's record is the network evidence.";

  async run(spec: CaseSpec, timeoutMs: number): Promise<CaseRun> {
    return (await this.runBatch([spec], timeoutMs))[0]!;
  }

  async runBatch(specs: readonly CaseSpec[], caseTimeoutMs: number): Promise<CaseRun[]> {
    if (specs.length === 0) return [];
    if (this.exited) throw new Error(`${this.exited}; cannot run case ${specs[0]!.caseId}`);
    // One command over the control channel for the whole batch; the page enforces each case's
    // timeout itself, the channel's bound only catches a page that stopped answering.
    const bound = pageBound(specs.length, caseTimeoutMs);
    let results: PageResult[];
    try {
      results = ((await this.session.batch(specs, caseTimeoutMs, bound)) as { batch: PageResult[] }).batch;
    } catch (e) {
      const running = specs.find((s) => this.lines.some((m) => m.text === MARK_BEGIN + s.caseId) && !this.lines.some((m) => m.text === MARK_END + s.caseId));
      throw new Error(`${(e as Error).message}${running ? ` while case ${running.caseId} was running` : ''}${this.exited ? ` (${this.exited})` : ''}`);
    }
    const runs: CaseRun[] = [];
    for (const [i, spec] of specs.entries()) {
      runs.push({ result: results[i]!, messages: await this.takeCaseLines(spec.caseId), networkNote: MiniBrowserSession.NETWORK_NOTE });
    }
    return runs;
  }

  async visit(url: string, opts: { caseId: string; timeoutMs: number; screenshotPath?: string }): Promise<VisitRun> {
    if (this.exited) throw new Error(`${this.exited}; cannot visit ${url}`);
    const r = (await this.session.visit(url, opts.caseId, opts.timeoutMs)) as { visit: { state: string; text: string } };
    const messages = await this.takeCaseLines(opts.caseId);
    let screenshot: string | undefined;
    if (opts.screenshotPath) {
      writeFileSync(opts.screenshotPath, await screenshotDisplay(this.display));
      screenshot = opts.screenshotPath;
    }
    // Back to the harness page, so later cases run from the page origin again.
    const home = `${opts.caseId}.home`;
    await this.session.visit(this.harnessUrl, home, opts.timeoutMs);
    await this.takeCaseLines(home);
    return { ...r.visit, messages, networkNote: MiniBrowserSession.NETWORK_NOTE, ...(screenshot ? { screenshot } : {}) };
  }

  async close(): Promise<void> {
    this.session.close();
    await this.group.stopAll();
    await this.proxy.close();
    rmSync(this.profileDir, { recursive: true, force: true });
  }
}

export async function startMiniBrowser(choice: EngineChoice, ctx: StartContext): Promise<EngineStart> {
  const group = new ProcessGroup();
  // WebKitGTK has no host-resolver switch: test host names reach loopback through this proxy.
  const proxy = new LoopbackProxy(ctx.hosts, ctx.rewriteDocument);
  const end = async () => {
    await group.stopAll();
    await proxy.close();
  };
  let proxyUrl: string;
  let display: string;
  let build: EngineBuild;
  try {
    proxyUrl = await proxy.start();
    display = await startXvfb(group);
    build = { ...choice, version: await cachedWebkitGtkVersion(choice.path, display) };
  } catch (e) {
    await end();
    throw e;
  }
  return engineStart(
    'MiniBrowser',
    async ({ site, pageOrigin }) => {
      if (ctx.pageAddress) proxy.route(ctx.pageAddress, site.port);
      const sessionId = randomUUID();
      const session = site.control.open(sessionId);
      const profileDir = mkdtempSync(join(tmpdir(), 'corsproof-webkitgtk-'));
      mkdirSync(engineCacheDir(), { recursive: true });
      const url = `${pageOrigin}${HARNESS_PATH}?session=${sessionId}`;
      const browser = group.spawn(
        choice.path,
        // No --private: in private mode MiniBrowser 2.50 drops the console setting (measured). A fresh
        // XDG profile per session gives the same isolation.
        [
          '--enable-write-console-messages-to-stdout=true',
          `--proxy=${proxyUrl}`,
          // Test certificates (made at run time for test host names) are accepted by this browser
          // only; nothing machine-wide trusts them.
          ...(ctx.ignoreTlsErrors ? ['--ignore-tls-errors'] : []),
          url,
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            DISPLAY: display,
            GDK_BACKEND: 'x11',
            NO_AT_BRIDGE: '1',
            // WebKitGTK's bubblewrap sandbox cannot start inside containers run as root.
            WEBKIT_DISABLE_SANDBOX_THIS_IS_DANGEROUS: '1',
            XDG_CACHE_HOME: join(profileDir, 'cache'),
            XDG_DATA_HOME: join(profileDir, 'data'),
            XDG_CONFIG_HOME: join(profileDir, 'config'),
            // GStreamer's plugin registry is machine state, not profile state: kept in corsproof's
            // cache, WebKit's media stack does not rescan every plugin at each start (≈ 1 s of CPU
            // per session, measured here). GStreamer rescans it itself when plugins change.
            GST_REGISTRY: process.env['GST_REGISTRY'] ?? join(engineCacheDir(), `gstreamer-registry-${process.arch}.bin`),
          },
        },
      );
      const s = new MiniBrowserSession(build, group, browser, session, profileDir, proxy, display, url);
      const spawnError = new Promise<never>((_, reject) =>
        browser.once('error', (e) => reject(new Error(`cannot start MiniBrowser at ${choice.path}: ${e.message}`))),
      );
      await Promise.race([session.waitConnected(30_000), spawnError]);
      return s;
    },
    end,
  );
}
