/**
 * The servers' own record of every HTTP exchange.
 *
 * Playwright never shows CORS preflights (microsoft/playwright#36311: the OPTIONS request is hidden
 * in every engine's network events), so the only trustworthy evidence that a preflight happened,
 * which `Access-Control-Request-*` headers the engine sent and what exactly was answered is the
 * server's log. Every request is recorded with all its request headers and the exact status and
 * headers sent back.
 *
 * Cases are told apart by the `corsproof-case` query parameter that the harness adds to every URL a
 * case touches (a unique URL per case also keeps engines' preflight caches from leaking between
 * cases). S3 ignores unknown query parameters, so the same URLs work against a real endpoint.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

export const CASE_PARAM = 'corsproof-case';

export interface Exchange {
  /** Monotonic per log, starting at 1. */
  seq: number;
  /** ISO time the request arrived. */
  at: string;
  /** Which server answered: 'site', 'bucket', 'website'. */
  server: string;
  method: string;
  /** Path and query as sent by the client. */
  url: string;
  /** The `corsproof-case` query value, if any. */
  caseId?: string;
  /** Request headers, names lower-cased, repeated headers joined with ", " as Node does. */
  requestHeaders: Record<string, string>;
  status: number;
  /** Response headers exactly as sent, names lower-cased. */
  responseHeaders: Record<string, string>;
  /** What the server decided, in one line (e.g. "CORS preflight allowed by rule #0"). */
  note?: string;
  /** Milliseconds from request to finished response. */
  durationMs: number;
}

type Waiter = { predicate: (x: Exchange) => boolean; resolve: (x: Exchange) => void };

export interface ExchangeLogOptions {
  /**
   * Keep only the newest `keep` exchanges, besides those of held case ids (see `hold`); older ones
   * are dropped as new ones arrive. Default: keep everything — a test run keeps every exchange of
   * every case. A long-lived `corsproof serve` sets a bound (cli/serve.ts).
   */
  keep?: number;
}

/**
 * Every exchange the servers answered, in arrival order.
 *
 * Bounded when `keep` is set: the newest `keep` exchanges stay, plus every exchange of a case id
 * someone is still reading (`hold`); anything older goes. Memory is then bounded too, since one
 * exchange is: Node refuses request header sections over 16 KiB, and the response headers come
 * from S3's own (a CORS configuration is at most 64 KB). Measured: about 770 bytes of JSON per
 * exchange for a simple GET (tests/server/cli-serve.spec.ts).
 */
export class ExchangeLog {
  private readonly entries: Exchange[] = [];
  private seq = 0;
  private waiters: Waiter[] = [];
  private readonly keep: number;
  /** Held case ids and how many holders each has. */
  private readonly holds = new Map<string, number>();
  /** Entries not protected by a hold (the ones `keep` bounds). */
  private unheld = 0;
  /** Exchanges dropped to stay within `keep`. */
  dropped = 0;

  constructor(options: ExchangeLogOptions = {}) {
    const keep = options.keep ?? Infinity;
    if (!(keep >= 0)) throw new Error(`ExchangeLog keep must be a number >= 0, got ${keep}`);
    this.keep = keep;
  }

  record(entry: Omit<Exchange, 'seq'>): Exchange {
    const full: Exchange = { seq: ++this.seq, ...entry };
    this.entries.push(full);
    if (!this.isHeld(full)) this.unheld++;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.predicate(full)) w.resolve(full);
      else still.push(w);
    }
    this.waiters = still;
    this.trim();
    return full;
  }

  /** The exchanges kept, oldest first. */
  all(): readonly Exchange[] {
    return this.entries;
  }

  forCase(caseId: string): Exchange[] {
    return this.entries.filter((e) => e.caseId === caseId);
  }

  /**
   * Keeps every exchange of `caseId` — already recorded and still to come — whatever the bound,
   * until the returned function is called (each holder releases once).
   */
  hold(caseId: string): () => void {
    if (!this.holds.has(caseId)) this.unheld -= this.entries.filter((e) => e.caseId === caseId).length;
    this.holds.set(caseId, (this.holds.get(caseId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = this.holds.get(caseId)! - 1;
      if (n > 0) {
        this.holds.set(caseId, n);
        return;
      }
      this.holds.delete(caseId);
      this.unheld += this.entries.filter((e) => e.caseId === caseId).length;
      this.trim();
    };
  }

  /** Resolves with the first exchange (already recorded or future) that satisfies `predicate`. */
  waitFor(predicate: (x: Exchange) => boolean, timeoutMs: number, what = 'a matching request'): Promise<Exchange> {
    const hit = this.entries.find(predicate);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (x) => {
          clearTimeout(timer);
          resolve(x);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${what} was not received within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  clear(): void {
    this.entries.length = 0;
    this.unheld = 0;
  }

  private isHeld(e: Exchange): boolean {
    return e.caseId !== undefined && this.holds.has(e.caseId);
  }

  /** Drops the oldest exchanges no hold protects until `keep` remain. */
  private trim(): void {
    let from = 0;
    while (this.unheld > this.keep) {
      while (this.isHeld(this.entries[from]!)) from++;
      this.entries.splice(from, 1);
      this.unheld--;
      this.dropped++;
    }
  }
}

function flattenRequestHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function flattenResponseHeaders(res: ServerResponse): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.getHeaders())) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

export function caseIdOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams(url.slice(q + 1)).get(CASE_PARAM) ?? undefined;
}

/** Key under which handlers can leave a one-line note about their decision for the log. */
export const NOTE = Symbol('corsproof.exchangeNote');

export function noteExchange(res: ServerResponse, note: string): void {
  (res as unknown as Record<symbol, string>)[NOTE] = note;
}

/**
 * Connect/Express-compatible middleware that records every exchange when its response finishes
 * (or when the client goes away first, recorded with the status that was about to be sent).
 */
export function recordExchanges(log: ExchangeLog, server: string) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const started = Date.now();
    const at = new Date(started).toISOString();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const caseId = caseIdOf(req.url);
      const note = (res as unknown as Record<symbol, string | undefined>)[NOTE];
      log.record({
        at,
        server,
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        ...(caseId !== undefined ? { caseId } : {}),
        requestHeaders: flattenRequestHeaders(req.headers),
        status: res.statusCode,
        responseHeaders: flattenResponseHeaders(res),
        ...(note !== undefined ? { note } : {}),
        durationMs: Date.now() - started,
      });
    };
    res.on('finish', finish);
    res.on('close', finish);
    next();
  };
}
