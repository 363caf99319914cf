/**
 * The site origin: serves the page(s) the browser loads, and the remote-control channel that lets a
 * driver without a script channel (WebKitGTK's MiniBrowser, engines/webkitgtk.ts) hand cases to the
 * in-page runner and get the outcomes back.
 */
import express from 'express';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ExchangeLog, recordExchanges } from '../exchange-log.js';
import { RemoteControl } from './remote-control.js';

export const HARNESS_PATH = '/__corsproof/harness.html';
const PUBLIC_DIR = fileURLToPath(new URL('./public/', import.meta.url));

export interface SiteServerOptions {
  host?: string;
  port?: number;
  log: ExchangeLog;
}

export interface SiteServer {
  url: string;
  port: number;
  control: RemoteControl;
  /** Serve `body` at `path` (e.g. a page a walkthrough loads). */
  setPage(path: string, body: string, contentType?: string): void;
  close(): Promise<void>;
}

export async function startSiteServer(opts: SiteServerOptions): Promise<SiteServer> {
  const host = opts.host ?? '127.0.0.1';
  const control = new RemoteControl();
  const pages = new Map<string, { body: string; contentType: string }>();
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(recordExchanges(opts.log, 'site'));
  app.use((_req, res, next) => {
    // Pages and runner are never cached: every run must load what the harness serves now.
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  app.use('/__corsproof/control', control.router());
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

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(opts.port ?? 0, host, () => resolve(s));
    s.once('error', reject);
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('site server: no TCP address');
  const port = address.port;
  return {
    url: `http://${host}:${port}`,
    port,
    control,
    setPage(path, body, contentType = 'text/html; charset=utf-8') {
      pages.set(path, { body, contentType });
    },
    async close() {
      control.closeAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}
