/**
 * A chosen page origin (`corsproof check --origin https://app.example.com`) keeps its port in the
 * browser's eyes while the worker's site server listens on a free one: LoopbackProxy routes that
 * host:port, for plain requests and for CONNECT tunnels alike, and leaves other ports alone.
 */
import { test, expect } from '@playwright/test';
import http from 'node:http';
import net from 'node:net';
import { LoopbackProxy } from '../../engines/host-map.js';

async function listen(handler: http.RequestListener): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise((r) => server.close(() => r())) };
}

function viaProxy(proxyUrl: string, url: string): Promise<{ status: number; body: string }> {
  const p = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    http
      .get({ host: p.hostname, port: Number(p.port), path: url, headers: { host: new URL(url).host } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function tunnel(proxyUrl: string, target: string): Promise<string> {
  const p = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(p.port), p.hostname, () => s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    let seen = '';
    s.on('data', (c) => {
      seen += c.toString();
      if (seen.startsWith('HTTP/1.1 200') && seen.includes('\r\n\r\n') && !seen.includes('GET')) {
        seen += 'GET';
        s.write('GET /tunnelled HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n');
      }
    });
    s.on('end', () => resolve(seen));
    s.on('error', reject);
  });
}

test('a routed page address reaches the site server on its own port, plain and tunnelled', async () => {
  const site = await listen((req, res) => res.end(`site saw ${req.url}`));
  const proxy = new LoopbackProxy(['app.example.com']);
  const url = await proxy.start();
  try {
    // Before the page opens nothing is routed: the browser's port is dialled as is.
    proxy.route('app.example.com:443', site.port);
    proxy.route('app.example.com:80', site.port);
    expect(await viaProxy(url, 'http://app.example.com/page')).toEqual({ status: 200, body: 'site saw /page' });
    expect(await tunnel(url, 'app.example.com:443')).toContain('site saw /tunnelled');
    // Another port of the same host is not the page's: it goes where the browser addressed it.
    expect(await viaProxy(url, `http://app.example.com:${site.port}/direct`)).toEqual({ status: 200, body: 'site saw /direct' });
    // A host the run does not map is refused, routed or not.
    expect((await viaProxy(url, 'http://elsewhere.example.org/')).status).toBe(502);
  } finally {
    await proxy.close();
    await site.close();
  }
});
