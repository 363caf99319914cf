/**
 * The site origin: serves the page(s) the browser loads, and the remote-control channel that lets a
 * driver without a script channel (WebKitGTK's MiniBrowser, engines/webkitgtk.ts) hand cases to the
 * in-page runner and get the outcomes back.
 */
import express from 'express';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { ExchangeLog, recordExchanges } from '../exchange-log.js';
import { RemoteControl } from './remote-control.js';
import { listenHttp } from '../listen.js';
import { serveSdkBundle } from './sdk/serve.js';

import { HARNESS_PATH } from './paths.js';
export { HARNESS_PATH };
const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

export interface SiteServerOptions {
  host?: string;
  port?: number;
  log: ExchangeLog;
  /** Also speak HTTPS on the same port with this certificate. */
  tls?: { key: string; cert: string };
}

export interface SiteServer {
  url: string;
  port: number;
  control: RemoteControl;
  /** Serve `body` at `path` (e.g. a page a walkthrough loads). */
  setPage(path: string, body: string, contentType?: string): void;
  close(): Promise<void>;
}

export interface SiteApp {
  app: express.Express;
  control: RemoteControl;
  setPage(path: string, body: string, contentType?: string): void;
}

/** The site's Express app without a listener (to embed it, e.g. on the bucket's own origin). */
export function createSiteApp(log: ExchangeLog, serverName = 'site'): SiteApp {
  const control = new RemoteControl();
  const pages = new Map<string, { body: string; contentType: string }>();
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(recordExchanges(log, serverName));
  app.use((_req, res, next) => {
    // Pages and runner are never cached: every run must load what the harness serves now.
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use('/__corsproof/control', control.router());
  app.get('/__corsproof/sdk/flows.js', serveSdkBundle());
  app.use('/__corsproof', express.static(PUBLIC_DIR, { etag: false, lastModified: false }));
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });
  app.use((req, res, next) => {
    const page = pages.get(req.path);
    if (!page || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    res.setHeader('Content-Type', page.contentType);
    res.send(page.body);
  });
  return {
    app,
    control,
    setPage(path, body, contentType = 'text/html; charset=utf-8') {
      pages.set(path, { body, contentType });
    },
  };
}

/** A front handler that serves corsproof's own paths (/__corsproof/…) and passes the rest on. */
export function siteFront(site: SiteApp) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (req.url?.startsWith('/__corsproof/')) site.app(req as express.Request, res as express.Response);
    else next();
  };
}

export async function startSiteServer(opts: SiteServerOptions): Promise<SiteServer> {
  const host = opts.host ?? '127.0.0.1';
  const site = createSiteApp(opts.log);
  const listener = await listenHttp(site.app, { host, port: opts.port ?? 0, ...(opts.tls ? { tls: opts.tls } : {}) });
  return {
    url: `http://${host}:${listener.port}`,
    port: listener.port,
    control: site.control,
    setPage: site.setPage,
    async close() {
      site.control.closeAll();
      await listener.close();
    },
  };
}
