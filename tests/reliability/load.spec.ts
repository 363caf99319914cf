/**
 * Load: 1 000 concurrent requests — preflights (allowed and refused), GETs and PUTs across three
 * buckets with different CORS configurations — from a second process (scripts/load-client.mjs, one
 * keep-alive `http.Agent` with maxSockets 64) against `corsproof serve` in its own process, all on
 * 127.0.0.1. Every answer must carry the status and CORS headers its kind expects; the server must
 * answer afterwards; its resident memory (VmRSS from /proc/<pid>/status) must come back near the
 * baseline taken after a warm-up round.
 *
 * Baseline: after a warm-up round of the same 1 000 requests (JIT, first-use allocations, the heap
 * grown to this concurrency — about +35 MB the first time, measured). Tolerance: +50 MB over that
 * baseline after a 2 s settle. What a round legitimately keeps is small (150 stored PUT bodies of
 * 2 KiB, and `corsproof serve`'s exchange log, which keeps every exchange: a few MB per 1 000);
 * V8 grows its heap in steps and returns pages lazily, so a tight bound would measure the
 * allocator, not corsproof. A leak of ≥ 50 KiB per request (a retained body or socket buffer)
 * crosses it.
 */
import { test, expect, type TestInfo } from '@playwright/test';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { BucketServer } from '../../servers/bucket/index.js';
import { signedRaw } from '../server/helpers.js';
import { ROOT, childEnv, collect, exclusive, openFds, startServe, stopChild, vmRssKb } from './helpers.js';

const APP = 'http://app.example';
const EVIL = 'http://evil.example';
const OBJECTS = 20;
const MAX_SOCKETS = 64;
const TOLERANCE_MB = 50;

const md5hex = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const md5b64 = (b: string) => createHash('md5').update(b).digest('base64');

interface PlannedRequest {
  kind: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  expect: { status: number; headers?: Record<string, string | null>; headerIncludes?: Record<string, string>; bodyMd5?: string };
}

/** Deterministic shuffle (mulberry32), so a failing index means the same request next run. */
function shuffle<T>(items: T[], seed = 20_240_501): T[] {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

const objectBody = (bucket: string, i: number) => `${bucket}/obj-${i} `.repeat(400).slice(0, 8192);

function plan(total: number, tag: string): PlannedRequest[] {
  const mix: Array<[string, number]> = [
    ['preflight-allowed', 0.25],
    ['preflight-refused', 0.1],
    ['get-specific-origin', 0.25],
    ['get-wildcard-origin', 0.15],
    ['get-no-cors', 0.1],
    ['put-specific-origin', 0.15],
  ];
  const out: PlannedRequest[] = [];
  for (const [kind, share] of mix) {
    const n = Math.round(total * share);
    for (let i = 0; i < n; i++) {
      const obj = i % OBJECTS;
      switch (kind) {
        case 'preflight-allowed':
          out.push({
            kind,
            method: 'OPTIONS',
            path: `/load-a/obj-${obj}`,
            headers: { Origin: APP, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
            expect: {
              status: 200,
              headers: { 'access-control-allow-origin': APP, 'access-control-allow-credentials': 'true', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '600' },
              headerIncludes: { 'access-control-allow-methods': 'PUT', vary: 'Origin' },
            },
          });
          break;
        case 'preflight-refused':
          out.push({
            kind,
            method: 'OPTIONS',
            path: i % 2 ? `/load-c/obj-${obj}` : `/load-a/obj-${obj}`,
            headers: { Origin: i % 2 ? APP : EVIL, 'Access-Control-Request-Method': 'GET' },
            expect: { status: 403, headers: { 'access-control-allow-origin': null, 'access-control-allow-methods': null } },
          });
          break;
        case 'get-specific-origin':
          out.push({
            kind,
            method: 'GET',
            path: `/load-a/obj-${obj}`,
            headers: { Origin: APP },
            expect: {
              status: 200,
              headers: { 'access-control-allow-origin': APP, 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'ETag', etag: `"${md5hex(objectBody('load-a', obj))}"` },
              headerIncludes: { vary: 'Origin' },
              bodyMd5: md5hex(objectBody('load-a', obj)),
            },
          });
          break;
        case 'get-wildcard-origin':
          out.push({
            kind,
            method: 'GET',
            path: `/load-b/obj-${obj}`,
            headers: { Origin: `http://site-${i}.example` },
            expect: { status: 200, headers: { 'access-control-allow-origin': '*', 'access-control-allow-credentials': null }, bodyMd5: md5hex(objectBody('load-b', obj)) },
          });
          break;
        case 'get-no-cors':
          out.push({
            kind,
            method: 'GET',
            path: `/load-c/obj-${obj}`,
            headers: { Origin: APP },
            expect: { status: 200, headers: { 'access-control-allow-origin': null, vary: null }, bodyMd5: md5hex(objectBody('load-c', obj)) },
          });
          break;
        case 'put-specific-origin': {
          const body = `${tag} upload ${i} `.repeat(120).slice(0, 2048);
          out.push({
            kind,
            method: 'PUT',
            path: `/load-a/${tag}-put-${i}`,
            headers: { Origin: APP, 'Content-Type': 'text/plain' },
            body,
            expect: { status: 200, headers: { 'access-control-allow-origin': APP, etag: `"${md5hex(body)}"` } },
          });
          break;
        }
      }
    }
  }
  return shuffle(out);
}

interface LoadResult {
  total: number;
  ok: number;
  failed: number;
  networkErrors: number;
  byKind: Record<string, { total: number; ok: number }>;
  elapsedMs: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  failures: unknown[];
}

async function runClient(port: number, requests: PlannedRequest[]): Promise<LoadResult> {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'load-client.mjs')], { cwd: ROOT, env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin!.end(JSON.stringify({ port, maxSockets: MAX_SOCKETS, timeoutMs: 30_000, requests }));
  const r = await collect(child, 90_000);
  if (r.code !== 0) throw new Error(`load client exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as LoadResult;
}

test('1 000 concurrent requests from a second process: all answered correctly, memory back near baseline', async ({}, testInfo) => {
  test.setTimeout(360_000);
  // Not while a nested browser run holds the CPU: the figures should describe the server.
  await exclusive(() => loadRun(testInfo));
});

async function loadRun(testInfo: TestInfo): Promise<void> {
  const serve = await startServe(['--bucket-port', '0']);
  try {
    const pid = serve.child.pid!;
    const target = { port: serve.bucketPort, url: serve.bucketUrl } as BucketServer;
    const signed = async (method: string, path: string, headers: Record<string, string> = {}, body?: string) => {
      const r = await signedRaw(target, method, path, headers, body);
      expect(r.status, `${method} ${path}: ${r.text}`).toBeLessThan(300);
    };
    // Three buckets: a specific origin with GET/PUT, any origin with GET, no CORS at all; the
    // bucket policies let anonymous callers read (and write load-a), as a public bucket would.
    const corsA =
      `<CORSConfiguration><CORSRule><AllowedOrigin>${APP}</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>` +
      '<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule></CORSConfiguration>';
    const corsB = '<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>';
    for (const b of ['load-a', 'load-b', 'load-c']) {
      await signed('PUT', `/${b}`);
      const actions = b === 'load-a' ? ['s3:GetObject', 's3:PutObject'] : ['s3:GetObject'];
      await signed('PUT', `/${b}?policy`, {}, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: actions, Resource: `arn:aws:s3:::${b}/*` }] }));
      for (let i = 0; i < OBJECTS; i++) await signed('PUT', `/${b}/obj-${i}`, { 'content-type': 'text/plain' }, objectBody(b, i));
    }
    await signed('PUT', '/load-a?cors', { 'content-md5': md5b64(corsA) }, corsA);
    await signed('PUT', '/load-b?cors', { 'content-md5': md5b64(corsB) }, corsB);

    // Warm-up with the same load (JIT, first-use allocations, the heap grown to this concurrency),
    // then the baseline: what remains after the measured round is what that round retained.
    const warm = await runClient(serve.bucketPort, plan(1_000, 'warm'));
    expect(warm.failures, 'warm-up answers').toEqual([]);
    await new Promise((r) => setTimeout(r, 1_000));
    const rssBeforeKb = vmRssKb(pid);
    const fdsBefore = openFds(pid);

    const load = await runClient(serve.bucketPort, plan(1_000, 'load'));
    const rssAfterKb = vmRssKb(pid);
    await new Promise((r) => setTimeout(r, 2_000));
    const rssSettledKb = vmRssKb(pid);
    const fdsSettled = openFds(pid);

    // Alive and still right afterwards.
    const head = await fetch(`${serve.bucketUrl}/load-a/obj-3`, { method: 'HEAD' });
    const get = await fetch(`${serve.bucketUrl}/load-a/obj-3`, { headers: { Origin: APP } });
    const getBody = Buffer.from(await get.arrayBuffer());

    const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;
    const figures = {
      requests: load.total,
      ok: load.ok,
      failed: load.failed,
      networkErrors: load.networkErrors,
      requestsPerSecond: load.requestsPerSecond,
      elapsedMs: load.elapsedMs,
      latencyMs: load.latencyMs,
      maxSockets: MAX_SOCKETS,
      byKind: load.byKind,
      serverRssMb: { before: mb(rssBeforeKb), after: mb(rssAfterKb), settled: mb(rssSettledKb), toleranceMb: TOLERANCE_MB },
      serverOpenFds: { before: fdsBefore, settled: fdsSettled },
      failures: load.failures,
    };
    console.log(
      `[load] ${load.total} requests in ${load.elapsedMs} ms = ${load.requestsPerSecond} req/s; ${load.failed} wrong, ${load.networkErrors} network errors; ` +
        `latency p50 ${load.latencyMs.p50} ms, p95 ${load.latencyMs.p95} ms, max ${load.latencyMs.max} ms; ` +
        `server RSS ${mb(rssBeforeKb)} MB before → ${mb(rssAfterKb)} MB after → ${mb(rssSettledKb)} MB settled; open fds ${fdsBefore} → ${fdsSettled}`,
    );
    await testInfo.attach('load.json', { body: JSON.stringify(figures, null, 2), contentType: 'application/json' });
    testInfo.annotations.push({ type: 'load', description: `${load.requestsPerSecond} req/s, ${load.failed} failed, RSS ${mb(rssBeforeKb)} → ${mb(rssSettledKb)} MB` });

    expect(load.total).toBe(1_000);
    expect(load.failures, 'every answer had its expected status and CORS headers').toEqual([]);
    expect(load.networkErrors).toBe(0);
    for (const [kind, k] of Object.entries(load.byKind)) expect(k.ok, kind).toBe(k.total);
    expect(head.status, 'the server answers after the load').toBe(200);
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBe(APP);
    expect(md5hex(getBody)).toBe(md5hex(objectBody('load-a', 3)));
    expect(serve.child.exitCode, 'the server process is still running').toBeNull();
    expect(rssSettledKb - rssBeforeKb, `RSS growth in KiB (tolerance ${TOLERANCE_MB} MB)`).toBeLessThan(TOLERANCE_MB * 1024);
    expect(fdsSettled, 'the client\'s connections were closed').toBeLessThanOrEqual(fdsBefore + 4);
  } finally {
    await stopChild(serve.child, serve.exited);
  }
}
