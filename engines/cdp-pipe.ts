/**
 * A bound on the request bodies Chromium copies into DevTools events, for corsproof's own pages.
 *
 * Why: Chromium's DevTools protocol puts every request body into `Network.requestWillBeSent`
 * unless the client's `Network.enable` sets `maxPostDataSize`, and Playwright 1.64 sends
 * `Network.enable` with no parameters. The renderer then serializes the body (as text and as base64)
 * before the request leaves, and Playwright parses it. The SDK's multipart flow uploads a 5 MiB part
 * (S3's minimum), which is ≈ 12 MB of protocol traffic. Measured here (Chromium 156 headless shell,
 * a page PUTting 5 MiB four times over raw CDP): 130–170 ms an upload with `maxPostDataSize` set or
 * without the Network domain, 600–1130 ms without it, and 49 MB of events against 40 kB.
 * `maxPostDataSize: 0` is not a bound: Chromium reads 0 as "no limit" (the same 49 MB measured).
 *
 * How: Playwright has no option for it, so the Chromium it launches is started through a small
 * Node script between Playwright and the browser (Playwright talks to Chromium over the pipe on
 * file descriptors 3 and 4). The script starts the real Chromium with the same arguments, hands
 * it descriptor 4 (Chromium → Playwright) untouched, and forwards Playwright's commands on
 * descriptor 3, adding `maxPostDataSize` to each `Network.enable` that has none. Nothing else is
 * read or changed. Bodies up to POST_DATA_LIMIT still reach Playwright (`request.postData()`);
 * corsproof's evidence records headers, never bodies.
 *
 * For corsproof's own harness pages only (engines/playwright.ts); the Playwright fixtures for a
 * user's own pages (lib/test.ts) launch Chromium as Playwright does, so their tests can still read
 * any request body. The script is written once per Node and Chromium path into corsproof's cache.
 */
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { engineCacheDir, writeCacheFile } from './cache-dir.js';

/** Request bodies up to this size (bytes) are still copied into DevTools events. */
export const POST_DATA_LIMIT = 64 * 1024;

/** The relay's source for one Chromium executable (CommonJS, run by this process's Node). */
export function relaySource(chromiumPath: string, limit = POST_DATA_LIMIT): string {
  return `#!${process.execPath}
'use strict';
// corsproof (engines/cdp-pipe.ts): starts Chromium with these arguments and forwards Playwright's
// DevTools commands from fd 3, adding maxPostDataSize to Network.enable. fd 4 goes to Chromium as is.
const { spawn } = require('node:child_process');
const { closeSync } = require('node:fs');
const net = require('node:net');
const child = spawn(${JSON.stringify(chromiumPath)}, process.argv.slice(2), { stdio: ['ignore', 'inherit', 'inherit', 'pipe', 4] });
closeSync(4);
const commands = new net.Socket({ fd: 3, readable: true, writable: false });
const toChromium = child.stdio[3];
const NEEDLE = Buffer.from('"method":"Network.enable"');
const limit = (message) => {
  if (message.indexOf(NEEDLE) === -1) return message;
  try {
    const m = JSON.parse(message.subarray(0, -1).toString());
    if (m.method !== 'Network.enable' || (m.params && m.params.maxPostDataSize > 0)) return message;
    m.params = Object.assign({}, m.params, { maxPostDataSize: ${limit} });
    return Buffer.from(JSON.stringify(m) + '\\0');
  } catch {
    return message;
  }
};
let carry = Buffer.alloc(0);
commands.on('data', (chunk) => {
  const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
  let start = 0;
  for (let end = data.indexOf(0); end !== -1; end = data.indexOf(0, start)) {
    toChromium.write(limit(data.subarray(start, end + 1)));
    start = end + 1;
  }
  carry = Buffer.from(data.subarray(start));
});
commands.on('end', () => toChromium.end());
commands.on('error', () => toChromium.end());
toChromium.on('error', () => {});
child.on('error', (e) => {
  process.stderr.write('corsproof: cannot start ' + ${JSON.stringify(chromiumPath)} + ': ' + e.message + '\\n');
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => child.kill(s));
`;
}

/**
 * The executable to give Playwright for this Chromium: the relay script, written to corsproof's
 * cache on first use. Undefined when it cannot be written (Playwright then starts Chromium itself:
 * slower uploads, the same evidence).
 */
export function chromiumRelay(chromiumPath: string, root = engineCacheDir()): string | undefined {
  // A "#!" line cannot hold a path with blanks.
  if (/\s/.test(process.execPath)) return undefined;
  const source = relaySource(chromiumPath);
  const file = join(root, `chromium-relay-${createHash('sha256').update(source).digest('hex').slice(0, 16)}.cjs`);
  return existsSync(file) || writeCacheFile(file, source, 0o755) ? file : undefined;
}
