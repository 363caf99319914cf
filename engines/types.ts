/**
 * The one interface every browser engine sits behind. Tests and the matrix runner only ever see an
 * EngineSession: whether it is Playwright driving Chromium over CDP, a stock Firefox over WebDriver
 * BiDi, Playwright's own WebKit, or stock WebKitGTK's MiniBrowser under Xvfb is the driver's business.
 */

export type EngineName = 'chromium' | 'firefox' | 'webkit';
export const ENGINE_NAMES: readonly EngineName[] = ['chromium', 'firefox', 'webkit'];

export type EngineSource = 'bundled' | 'system';

/** How the harness talks to the engine. */
export type DriverKind =
  | 'playwright' // Playwright's own protocol (CDP for Chromium, Juggler for Firefox, Playwright-WebKit)
  | 'playwright-bidi' // Playwright over WebDriver BiDi (stock Firefox, channel moz-firefox)
  | 'minibrowser'; // our driver: WebKitGTK MiniBrowser under Xvfb, console read from its stderr

/** What `select.ts` decided to run. */
export interface EngineChoice {
  engine: EngineName;
  source: EngineSource;
  /** Executable that will be started. */
  path: string;
  driver: DriverKind;
  /** Human name of the product, e.g. "Chromium", "Firefox ESR", "WebKitGTK". */
  product: string;
}

/** The build that actually ran, as every report names it. */
export interface EngineBuild extends EngineChoice {
  version: string;
}

export function describeBuild(b: EngineBuild): string {
  return `${b.product} ${b.version} (${b.source}, ${b.path})`;
}

/** One request the in-page runner makes. Scenario data compiles to a list of these. */
export interface FetchStep {
  kind: 'fetch';
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  credentials?: 'omit' | 'same-origin' | 'include';
  mode?: 'cors' | 'no-cors' | 'same-origin';
  /** Fetch cache mode; the runner defaults to no-store. */
  cache?: RequestCache;
}
export interface XhrStep extends Omit<FetchStep, 'kind' | 'mode'> {
  kind: 'xhr';
}
export interface ImgStep {
  kind: 'img';
  url: string;
  /** The crossorigin attribute; absent = a plain <img> (no CORS). */
  crossorigin?: 'anonymous' | 'use-credentials';
}
export interface FragmentStep extends Omit<FetchStep, 'kind'> {
  kind: 'fragment';
}
/** Real client code (the AWS SDK, presigned uploads) run by the page's SDK bundle: servers/site/sdk/. */
export type FlowStep = import('../servers/site/sdk/contract.js').FlowStep;
export type Step = FetchStep | XhrStep | ImgStep | FragmentStep | FlowStep;

export interface CaseSpec {
  /** Unique per case and run; every URL of the case carries it as `corsproof-case`. */
  caseId: string;
  steps: Step[];
}

/** What page JavaScript saw for one step (runner.js). */
export interface StepOutcome {
  settled: 'response' | 'error' | 'harness-error';
  status?: number;
  type?: string;
  ok?: boolean;
  /** Headers the page could read (CORS-filtered), not what the server sent. */
  readableHeaders?: Record<string, string>;
  bodyPreview?: string;
  bodyLength?: number;
  /** fragment steps: the text that ended up in the page. */
  inserted?: string;
  errorName?: string;
  errorMessage?: string;
  /** The case ran out of time while this step was pending (settled: 'harness-error'). */
  timedOut?: boolean;
  durationMs: number;
  /** flow steps: every request the flow's client made, as the page saw it. */
  requests?: import('../servers/site/sdk/contract.js').FlowRequestRecord[];
  /** flow steps: the request that failed (the flow stopped there). */
  failedRequest?: { label: string; method: string; url: string };
  /** flow steps: response headers the client needed but could not read (not exposed): verdict "hidden". */
  unreadable?: string[];
}

export interface PageResult {
  caseId: string;
  steps: StepOutcome[];
  userAgent: string;
}

/** A line the engine itself produced while the case ran. */
export interface EngineMessage {
  /** console: Playwright console event; pageerror: Playwright page error; stderr: MiniBrowser's console dump. */
  stream: 'console' | 'pageerror' | 'stderr';
  /** console type ('error', 'log', …), page error name, or MiniBrowser's "SOURCE LEVEL" pair. */
  type: string;
  text: string;
}

/** A browser network event (Playwright's view: preflights are never included). */
export interface NetworkEvent {
  event: 'request' | 'response' | 'requestfailed';
  method: string;
  url: string;
  status?: number;
  headers?: Record<string, string>;
  failure?: string;
}

export interface CaseRun {
  result: PageResult;
  messages: EngineMessage[];
  /** undefined when the driver cannot observe the network (then `networkNote` says why). */
  network?: NetworkEvent[];
  networkNote?: string;
}

/** What a visit to a whole page (not the harness page) produced. */
export interface VisitRun {
  /** The page's own `<html data-loaded>` value when it finished ('timeout' if it never did). */
  state: string;
  /** The page's visible text at that moment. */
  text: string;
  messages: EngineMessage[];
  network?: NetworkEvent[];
  networkNote?: string;
  /** Path of a PNG screenshot, when one was asked for and the driver can take it. */
  screenshot?: string;
}

export interface EngineSession {
  readonly build: EngineBuild;
  /**
   * Opens `url` as a top-level page (a walkthrough's own page), waits until it sets
   * `<html data-loaded>`, and collects what the engine said meanwhile. The page must load
   * `/__corsproof/runner.js` from the site origin so drivers without a script channel can follow it.
   */
  visit(url: string, opts: { caseId: string; timeoutMs: number; screenshotPath?: string }): Promise<VisitRun>;
  /** Runs one case in the engine's harness page and collects what the engine said meanwhile. */
  run(spec: CaseSpec, timeoutMs: number): Promise<CaseRun>;
  /**
   * Runs several cases in one round trip to the page, one after the other (never overlapping), and
   * returns each case's own run: the engine's messages between that case's markers, the network
   * events of its URLs. A case that does not finish within `caseTimeoutMs` is aborted in the page
   * and reported as a `harness-error` step with `timedOut` (naming what it waited for); the cases
   * after it still run. Rejects only when the page itself stops answering.
   */
  runBatch(specs: readonly CaseSpec[], caseTimeoutMs: number): Promise<CaseRun[]>;
  /**
   * Start/stop a Playwright trace chunk around a case (stop without a path discards it); undefined
   * where the driver has no traces.
   */
  tracing?: { start(title: string): Promise<void>; stop(path?: string): Promise<boolean> };
  close(): Promise<void>;
}

/** What an engine needs to know before any server runs. */
export interface StartContext {
  /** Host names the engine must resolve to 127.0.0.1 (engines/host-map.ts). */
  hosts: readonly string[];
  /** Accept the run's self-made test certificates (in this browser only). */
  ignoreTlsErrors?: boolean;
  /**
   * The worker's test certificate (PEM), when known before launch: Chromium then trusts it as valid
   * (by its public key) rather than ignoring its error — it keeps no HTTP cache for responses with
   * certificate errors, so cache-dependent cases (img-then-fetch) would not behave as in production.
   */
  trustCertificate?: string;
  /**
   * A chosen page origin's host:port (e.g. app.example.com:443): the engine reaches it through
   * corsproof's loopback proxy, routed to the site server's own port when the page opens.
   */
  pageAddress?: string;
  /**
   * MiniBrowser only: edits a visited top-level document on its way through corsproof's proxy
   * (corsproof/test's `visit()` adds its runner to the user's page; engines/host-map.ts).
   */
  rewriteDocument?: import('./host-map.js').DocumentRewriter;
}

/** Where the engine's harness page lives. */
export interface PageContext {
  /** The site server (its remote-control channel drives engines without a script channel). */
  site: import('../servers/site/index.js').SiteServer;
  /** Origin the harness page is loaded from, e.g. http://www.example.test:PORT. */
  pageOrigin: string;
}

export type LaunchContext = StartContext & PageContext;

/**
 * A launched engine whose harness page is not open yet: launching (a browser process, Xvfb) needs
 * no server, so it runs while the servers start; `open` then loads the harness page and hands the
 * engine over to the session. `abort` ends an engine that was never opened (no-op otherwise).
 */
export interface EngineStart {
  open(page: PageContext): Promise<EngineSession>;
  abort(): Promise<void>;
}

/**
 * The EngineStart contract around a driver's own `open` and `end`: open at most once, end the
 * engine when opening fails, and abort only an engine that was never opened.
 */
export function engineStart(what: string, open: (page: PageContext) => Promise<EngineSession>, end: () => Promise<void>): EngineStart {
  let state: 'started' | 'opened' | 'aborted' = 'started';
  return {
    async open(page) {
      if (state !== 'started') throw new Error(`this ${what} was already ${state}`);
      state = 'opened';
      try {
        return await open(page);
      } catch (e) {
        await end();
        throw e;
      }
    },
    async abort() {
      if (state !== 'started') return;
      state = 'aborted';
      await end();
    },
  };
}

/**
 * How long a batch may take before the page counts as stuck: each case's own timeout (the page
 * enforces it) plus its wind-down, plus slack for the round trip.
 */
export const pageBound = (cases: number, caseTimeoutMs: number) => cases * (caseTimeoutMs + 1_500) + 5_000;

export class PageStuck extends Error {
  constructor(readonly afterMs: number) {
    super(`the harness page did not answer within ${afterMs} ms`);
    this.name = 'PageStuck';
  }
}

export const MARK_BEGIN = 'corsproof:case-begin:';
export const MARK_END = 'corsproof:case-end:';
