/**
 * A command channel from the harness to a page, over the page's own origin: the page long-polls
 * `GET /__corsproof/control/<session>/next` for a command and posts the outcome to
 * `POST /__corsproof/control/<session>/result`. It exists for engines the harness cannot script
 * directly (stock WebKitGTK: no Playwright, and its WebDriver hides console messages).
 */
import express, { type Router } from 'express';
import type { ServerResponse } from 'node:http';

const POLL_HOLD_MS = 20_000;

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export class RemoteSession {
  private queue: unknown[] = [];
  private poller: ServerResponse | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private pending: Pending | undefined;
  private connectedWaiters: Array<() => void> = [];
  private closed = false;
  connected = false;

  constructor(readonly id: string) {}

  /** Sends one case to the page and resolves with the page's outcome. One case at a time. */
  run(spec: unknown, timeoutMs: number): Promise<unknown> {
    return this.request({ kind: 'run', spec, timeoutMs }, timeoutMs + 5_000);
  }

  /** Sends several cases at once; the page runs them in order and answers `{ batch: [outcome…] }`. */
  batch(specs: readonly unknown[], caseTimeoutMs: number, timeoutMs: number): Promise<unknown> {
    return this.request({ kind: 'batch', specs, caseTimeoutMs }, timeoutMs);
  }

  /** Makes the page navigate to `url`; resolves with what the visited page reports. */
  visit(url: string, caseId: string, timeoutMs: number): Promise<unknown> {
    return this.request({ kind: 'visit', url, caseId }, timeoutMs);
  }

  private request(cmd: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`remote session ${this.id} is closed`));
    if (this.pending) return Promise.reject(new Error(`remote session ${this.id} is busy`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        reject(new Error(`the page did not report the outcome within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending = {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.push(cmd);
    });
  }

  waitConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the page did not connect to the control channel within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.connectedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    if (this.closed) return;
    this.push({ kind: 'quit' });
    this.closed = true;
    this.pending?.reject(new Error(`remote session ${this.id} closed while a case was running`));
    this.pending = undefined;
  }

  /** @internal */
  onPoll(res: ServerResponse): void {
    if (!this.connected) {
      this.connected = true;
      for (const w of this.connectedWaiters.splice(0)) w();
    }
    this.releasePoller();
    const next = this.queue.shift();
    if (next !== undefined) return sendJson(res, next);
    if (this.closed) return sendJson(res, { kind: 'quit' });
    this.poller = res;
    this.pollTimer = setTimeout(() => {
      if (this.poller === res) {
        this.poller = undefined;
        res.statusCode = 204;
        res.end();
      }
    }, POLL_HOLD_MS);
    res.on('close', () => {
      if (this.poller === res) this.releasePoller();
    });
  }

  /** @internal */
  onResult(body: unknown): void {
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(body);
  }

  private push(cmd: unknown): void {
    const res = this.poller;
    if (res) {
      this.releasePoller();
      sendJson(res, cmd);
    } else {
      this.queue.push(cmd);
    }
  }

  private releasePoller(): void {
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.poller = undefined;
  }
}

function sendJson(res: ServerResponse, value: unknown): void {
  const body = JSON.stringify(value);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

export class RemoteControl {
  private sessions = new Map<string, RemoteSession>();

  open(id: string): RemoteSession {
    const s = new RemoteSession(id);
    this.sessions.set(id, s);
    return s;
  }

  closeAll(): void {
    for (const s of this.sessions.values()) s.close();
  }

  router(): Router {
    const r = express.Router();
    // The runner may sit on another origin than this server (a page a walkthrough visits loads it
    // from here): the channel answers any origin. It carries only the harness's own commands.
    r.use((_req, res, next) => {
      res.setHeader('Access-Control-Allow-Origin', '*');
      next();
    });
    r.get('/:session/next', (req, res) => {
      const s = this.sessions.get(req.params.session);
      if (!s) return void res.status(404).end();
      s.onPoll(res);
    });
    // text/plain: a CORS-safelisted content type, so a cross-origin runner posts without a preflight.
    r.post('/:session/result', express.json({ limit: '10mb', type: ['application/json', 'text/plain'] }), (req, res) => {
      const s = this.sessions.get(req.params.session);
      if (!s) return void res.status(404).end();
      s.onResult(req.body);
      res.status(204).end();
    });
    return r;
  }
}
