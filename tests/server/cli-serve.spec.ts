/**
 * `npx corsproof` and `corsproof serve` as a user runs them: subcommand dispatch, flags, `.env`,
 * one line per server, clean shutdown on SIGINT/SIGTERM.
 */
import { test, expect } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { Agent, request } from 'node:http';
import { SERVE_KEEP_EXCHANGES, parseServeArgs, startServing } from '../../cli/serve.js';
import { ProcessGroup } from '../../engines/processes.js';

const owned = new ProcessGroup();

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'corsproof.mjs');

function run(args: string[], cwd = process.cwd()) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 30_000 });
}

test('should list the commands for --help and refuse an unknown command in one sentence', () => {
  const help = run(['--help']);
  expect(help.status).toBe(0);
  expect(help.stdout).toContain('serve');
  const unknown = run(['frobnicate']);
  expect(unknown.status).toBe(2);
  expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
  expect(unknown.stderr).toContain('Unknown command "frobnicate"');
  const serveHelp = run(['serve', '--help']);
  expect(serveHelp.status).toBe(0);
  expect(serveHelp.stdout).toContain('--bucket-port');
  const badFlag = run(['serve', '--bucket-port', 'eighty']);
  expect(badFlag.status).toBe(2);
  expect(badFlag.stderr).toContain('--bucket-port must be a port number');
});

test('should read ports from flags over the environment', () => {
  expect(parseServeArgs(['--bucket-port=81', '--site-port', '82', '--host', '0.0.0.0'], {})).toMatchObject({ bucketPort: 81, sitePort: 82, host: '0.0.0.0' });
  expect(parseServeArgs([], { CORSPROOF_BUCKET_PORT: '91', CORSPROOF_SITE_PORT: '92' })).toMatchObject({ bucketPort: 91, sitePort: 92, host: '127.0.0.1' });
  expect(parseServeArgs(['--bucket-port', '93'], { CORSPROOF_BUCKET_PORT: '91' })).toMatchObject({ bucketPort: 93 });
  expect(() => parseServeArgs(['--anonymous-access', 'sometimes'], {})).toThrow(/'policy' or 'open'/);
});

test('should serve on the .env ports, print one line per server and exit 0 on SIGINT', async () => {
  const bucketPort = await getPort();
  const sitePort = await getPort({ exclude: [bucketPort] });
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-serve-'));
  writeFileSync(join(dir, '.env'), `CORSPROOF_BUCKET_PORT=${bucketPort}\nCORSPROOF_SITE_PORT=${sitePort}\n`);
  // In a process group of the worker's: killed at worker exit even if a timed-out test never stops it.
  const child = owned.spawn(process.execPath, [BIN, 'serve'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no output within 20 s: ${out}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/^site /m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const lines = out.trim().split('\n');
  expect(lines[0]).toBe(`bucket http://127.0.0.1:${bucketPort}`);
  expect(lines[1]).toBe(`site http://127.0.0.1:${sitePort}`);
  const r = await fetch(`http://127.0.0.1:${bucketPort}/no-such-bucket/x`, { method: 'OPTIONS', headers: { Origin: 'http://a.example' } });
  expect(r.status).toBe(403);
  child.kill('SIGINT');
  expect(await exited).toBe(0);
});

test('should say clearly when the port is taken', async () => {
  const port = await getPort();
  const { createServer } = await import('node:net');
  const blocker = createServer().listen(port, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  try {
    const r = run(['serve', '--bucket-port', String(port)]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('EADDRINUSE');
  } finally {
    blocker.close();
  }
});

test('should keep a long-lived serve\'s exchange log bounded: 10 000 requests, the newest kept', async () => {
  test.setTimeout(120_000);
  const serving = await startServing(parseServeArgs(['--anonymous-access', 'open'], {}), {});
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const get = (port: number, path: string, headers: Record<string, string> = {}) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  try {
    serving.bucket.store.createBucket('long-lived');
    serving.bucket.store.putObject('long-lived', 'k', 'x'.repeat(100), 'text/plain');
    serving.bucket.store.setCors('long-lived', { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] });
    // A case someone is still reading: recorded first, kept whatever follows.
    const release = serving.log.hold('still-read');
    expect(await get(serving.bucket.port, '/long-lived/k?corsproof-case=still-read', { Origin: 'http://page.example' })).toBe(200);
    const total = 10_000;
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        // Mostly the bucket, some the site server: both write to the same log.
        const status =
          i % 10 === 0
            ? await get(serving.site.port, `/favicon.ico?corsproof-case=r${i}`)
            : await get(serving.bucket.port, `/long-lived/k?corsproof-case=r${i}`, { Origin: 'http://page.example' });
        if (status >= 300) failures.push(`request ${i}: ${status}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(failures, 'every request answered').toEqual([]);
    const kept = serving.log.all();
    expect(kept.length, 'the bound, plus the held case').toBe(SERVE_KEEP_EXCHANGES + 1);
    expect(serving.log.dropped).toBe(total - SERVE_KEEP_EXCHANGES);
    expect(serving.log.forCase('still-read'), 'the held case survives 10 000 later exchanges').toHaveLength(1);
    // The newest exchanges are the ones kept: the last requests sent are all there.
    const seqs = kept.map((e) => e.seq);
    expect(Math.max(...seqs)).toBe(total + 1);
    for (const i of [total - 1, total - 2, total - 500]) expect(serving.log.forCase(`r${i}`), `request ${i}`).toHaveLength(1);
    expect(serving.log.forCase('r0'), 'the oldest are gone').toHaveLength(0);
    // What the kept exchanges weigh (their JSON): bounded by the count, a few hundred bytes each here.
    const bytes = JSON.stringify(kept).length;
    console.log(`[serve log] ${kept.length} exchanges kept of ${total + 1}, ${Math.round(bytes / 1024)} KiB as JSON`);
    expect(bytes).toBeLessThan(SERVE_KEEP_EXCHANGES * 2_048);
    release();
    expect(serving.log.all(), 'released: the bound applies to it too').toHaveLength(SERVE_KEEP_EXCHANGES);
  } finally {
    agent.destroy();
    await serving.close();
  }
});
