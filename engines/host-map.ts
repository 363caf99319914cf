/**
 * Test host names (www.example.test, other.example.test, …) resolved to loopback inside the test
 * browsers only — the machine's /etc/hosts and resolver are never touched.
 *
 * - Chromium: `--host-resolver-rules` (a launch switch).
 * - Firefox: the `network.dns.localDomains` pref ("domains treated as localhost").
 * - WebKit (WebKitGTK MiniBrowser and Playwright's WebKit) has no resolver override, so it is
 *   pointed at `LoopbackProxy`, a small forward proxy that sends every request for a mapped name
 *   (or for loopback itself) to 127.0.0.1 and refuses everything else. It forwards headers as
 *   received — same names, same case, same order — so the servers' record is what the engine sent.
 *
 * - A chosen page origin (`corsproof check --origin https://app.example.com`) is reached by every
 *   engine through the proxy, which routes its host:port to the worker's site server (`route`).
 *
 * Mapped names are loopback to loopback, so Chromium's Local Network Access checks do not apply
 * (../shared/reference/browser-cors-evidence.md §4.1).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';

export function chromiumHostRules(names: readonly string[]): string[] {
  if (names.length === 0) return [];
  return [`--host-resolver-rules=${names.map((n) => `MAP ${n} 127.0.0.1`).join(', ')}`];
}

export function firefoxHostPrefs(names: readonly string[]): Record<string, string> {
  return names.length ? { 'network.dns.localDomains': names.join(',') } : {};
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * For the top-level document a driver without a script channel opens (corsproof/test's `visit()` on
 * WebKitGTK): given a plain-HTTP GET URL, a function that edits the HTML the server sent, or
 * undefined to pass the response through untouched (every other request, CORS exchanges included).
 */
export type DocumentRewriter = (url: string) => ((html: string) => string) | undefined;

export class LoopbackProxy {
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Every host:port the proxy refused (not mapped) — evidence if a page reaches outside. */
  readonly refused: string[] = [];
  /** host:port → the loopback port actually serving it (`route`). */
  private readonly routes = new Map<string, number>();

  constructor(
    private readonly names: readonly string[],
    private readonly rewrite?: DocumentRewriter,
  ) {}

  /**
   * Serve `hostPort` (e.g. app.example.com:443, as the browser addresses it) from loopback `port`:
   * a chosen page origin keeps its own port in the browser's eyes while each worker's site server
   * listens on a free one (no root for 80/443, and engines of one run side by side).
   */
  route(hostPort: string, port: number): void {
    this.routes.set(hostPort.toLowerCase(), port);
  }

  private upstreamPort(host: string, port: number): number {
    return this.routes.get(`${host.toLowerCase()}:${port}`) ?? port;
  }

  private allowed(host: string): boolean {
    const h = host.toLowerCase();
    return LOOPBACK.has(h) || this.names.includes(h);
  }

  async start(): Promise<string> {
    const server = http.createServer((req, res) => this.forward(req, res));
    server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => this.tunnel(req, client, head));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const addr = server.address();
    if (!addr || typeof addr === 'string') throw new Error('proxy: no TCP address');
    return `http://127.0.0.1:${addr.port}`;
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('corsproof proxy: absolute URL expected');
      return;
    }
    if (target.protocol !== 'http:' || !this.allowed(target.hostname)) {
      this.refused.push(target.host);
      res.writeHead(502, { 'content-type': 'text/plain' }).end(`corsproof proxy: ${target.host} is not a test host`);
      return;
    }
    const rewrite = req.method === 'GET' ? this.rewrite?.(target.href) : undefined;
    // Raw header pairs, minus the hop-by-hop proxy header, in the order and case received (a
    // document to rewrite is asked for uncompressed).
    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!.toLowerCase();
      if (name === 'proxy-connection' || (rewrite && name === 'accept-encoding')) continue;
      headers.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    }
    const upstream = http.request({
      host: '127.0.0.1',
      port: this.upstreamPort(target.hostname, Number(target.port || 80)),
      method: req.method,
      path: target.pathname + target.search,
      headers: headers as unknown as http.OutgoingHttpHeaders,
      setHost: false,
    });
    upstream.on('response', (up) => {
      if (rewrite && /^text\/html\b/i.test(up.headers['content-type'] ?? '') && !up.headers['content-encoding']) {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const body = Buffer.from(rewrite(Buffer.concat(chunks).toString('utf8')), 'utf8');
          const kept: string[] = [];
          for (let i = 0; i < up.rawHeaders.length; i += 2) {
            if (/^(content-length|transfer-encoding)$/i.test(up.rawHeaders[i]!)) continue;
            kept.push(up.rawHeaders[i]!, up.rawHeaders[i + 1]!);
          }
          kept.push('Content-Length', String(body.length));
          res.writeHead(up.statusCode ?? 502, up.statusMessage, kept as unknown as http.OutgoingHttpHeaders).end(body);
        });
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders as unknown as http.OutgoingHttpHeaders);
      up.pipe(res);
    });
    upstream.on('error', (e) => {
      if (res.writableEnded) return;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`corsproof proxy: ${e.message}`);
    });
    // The browser gave up on the request (a case aborted at its timeout): so does the proxy, as a
    // direct connection would, instead of leaving the upstream request open.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  }

  private tunnel(req: IncomingMessage, client: Socket, head: Buffer): void {
    const [host = '', port = '443'] = (req.url ?? '').split(/:(?=\d+$)/);
    if (!this.allowed(host.replace(/^\[|\]$/g, ''))) {
      this.refused.push(req.url ?? '');
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    const upstream = net.connect(this.upstreamPort(host, Number(port)), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
    });
  }
}
