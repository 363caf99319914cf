/**
 * The relay between Playwright and Chromium (engines/cdp-pipe.ts): Network.enable gets a
 * maxPostDataSize, every other byte goes through unchanged, and a real Chromium started through it
 * keeps large request bodies out of its DevTools events while still reporting the requests.
 */
import { test, expect } from '@playwright/test';
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumRelay, POST_DATA_LIMIT } from '../../engines/cdp-pipe.js';
import { resolveEngine } from '../../engines/index.js';
import { launchOptionsFor } from '../../engines/playwright.js';

/** Runs the relay in front of a stand-in "Chromium" that echoes fd 3 to fd 4 and records its arguments. */
async function throughRelay(chunks: string[]): Promise<{ echoed: string; args: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-relay-'));
  try {
    const fake = join(dir, 'fake-chromium');
    writeFileSync(
      fake,
      `#!${process.execPath}\nrequire('node:fs').writeFileSync(${JSON.stringify(join(dir, 'args.json'))}, JSON.stringify(process.argv.slice(2)));\n` +
        `const net = require('node:net'); const i = new net.Socket({ fd: 3, readable: true, writable: false }); const o = new net.Socket({ fd: 4, readable: false, writable: true });\n` +
        `i.pipe(o);\n`,
      { mode: 0o755 },
    );
    const relay = chromiumRelay(fake, dir)!;
    expect(statSync(relay).mode & 0o111).not.toBe(0);
    const p = spawn(relay, ['--remote-debugging-pipe', '--flag=a b'], { stdio: ['ignore', 'inherit', 'inherit', 'pipe', 'pipe'] });
    const echoed: Buffer[] = [];
    p.stdio[4]!.on('data', (d: Buffer) => echoed.push(d));
    const toRelay = p.stdio[3] as NodeJS.WritableStream;
    for (const c of chunks) {
      toRelay.write(c);
      await new Promise((r) => setTimeout(r, 20));
    }
    toRelay.end();
    const code = await new Promise<number | null>((r) => p.on('exit', r));
    expect(code).toBe(0);
    return { echoed: Buffer.concat(echoed).toString(), args: JSON.parse(readFileSync(join(dir, 'args.json'), 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the relay adds maxPostDataSize to Network.enable and passes everything else byte for byte', async () => {
  const other = '{"id":1,"method":"Page.enable","params":{},"sessionId":"S"}\0';
  const enable = '{"id":2,"method":"Network.enable","params":{},"sessionId":"S"}\0';
  const own = '{"id":3,"method":"Network.enable","params":{"maxPostDataSize":5},"sessionId":"T"}\0';
  const text = '{"id":4,"method":"Runtime.evaluate","params":{"expression":"\\"method\\":\\"Network.enable\\" ü"}}\0';
  // Messages split across writes, two in one write.
  const all = other + enable + own + text;
  const { echoed, args } = await throughRelay([all.slice(0, 30), all.slice(30, 75), all.slice(75)]);
  const out = echoed.split('\0').filter(Boolean);
  expect(out).toHaveLength(4);
  expect(out[0]).toBe(other.slice(0, -1));
  expect(JSON.parse(out[1]!)).toEqual({ id: 2, method: 'Network.enable', params: { maxPostDataSize: POST_DATA_LIMIT }, sessionId: 'S' });
  expect(out[2]).toBe(own.slice(0, -1));
  expect(out[3]).toBe(text.slice(0, -1));
  expect(args).toEqual(['--remote-debugging-pipe', '--flag=a b']);
});

test('a system Chromium started through the relay reports every request, with bodies only up to the limit', async () => {
  const choice = resolveEngine('chromium');
  expect(choice.source, 'the relay is for the system Chromium; this machine runs Playwright’s own').toBe('system');
  const server = createServer((req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    req.resume();
    req.on('end', () => res.end(req.url === '/' ? '<!doctype html><title>relay</title>' : 'ok'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const browser = await chromium.launch({ ...launchOptionsFor(choice), executablePath: chromiumRelay(choice.path)! });
  try {
    const page = await browser.newPage();
    await page.goto(base + '/');
    const seen: Array<{ url: string; bodyLength: number | null; contentType: string | undefined }> = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') seen.push({ url: r.url(), bodyLength: r.postData()?.length ?? null, contentType: r.headers()['content-type'] });
    });
    await page.evaluate(async (limit) => {
      await fetch('/small', { method: 'POST', body: 'x'.repeat(100), headers: { 'content-type': 'text/plain' } });
      await fetch('/large', { method: 'POST', body: 'y'.repeat(limit + 1), headers: { 'content-type': 'text/plain' } });
    }, POST_DATA_LIMIT);
    expect(seen).toEqual([
      { url: `${base}/small`, bodyLength: 100, contentType: 'text/plain' },
      { url: `${base}/large`, bodyLength: null, contentType: 'text/plain' },
    ]);
  } finally {
    await browser.close();
    server.close();
  }
});
