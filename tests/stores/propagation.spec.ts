/**
 * Remote targets wait for a configuration by what the store serves, never by what S3 would answer
 * (harness/target.ts): against the run's Ceph RGW through one bucket — the mode a user's
 * CORSPROOF_TARGET runs in — every configuration change is served before the case runs, with `*`
 * rules (where RGW answers differently from S3) as fast as any; and against a store that accepts
 * PutBucketCors but never serves it, or refuses it, the error names the store and what it answered.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateBucketCommand, GetBucketCorsCommand, PutBucketCorsCommand, S3Client, type CORSRule } from '@aws-sdk/client-s3';
import { expect } from '@playwright/test';
import { storeTest as test } from '../config/stores.js';
import { fillPlaceholders, loadFixtures } from '../../harness/data.js';
import { makeOrigins } from '../../harness/origins.js';
import { remoteTarget } from '../../harness/target.js';
import type { CorsConfiguration } from '../../servers/s3/cors/index.js';

const origins = makeOrigins(41234, 9000);
const fixtures = loadFixtures();
const config = (id: string): CorsConfiguration | undefined => {
  const f = fixtures.find((x) => x.id === id)!;
  return f.cors === null ? undefined : { CORSRules: fillPlaceholders(f.cors, origins) };
};
const object = { key: 'hello.txt', body: Buffer.from('hello'), contentType: 'text/plain', headers: [] as Array<[string, string]> };

/** What the store answers a GET preflight with a custom header from the page's origin. */
async function preflight(endpoint: string, bucket: string): Promise<string | null> {
  const r = await fetch(`${endpoint}/${bucket}/any`, {
    method: 'OPTIONS',
    headers: { Origin: origins.SITE_ORIGIN, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-corsproof-demo' },
  });
  await r.arrayBuffer();
  return r.headers.get('access-control-allow-origin');
}

test('one bucket follows every configuration change on Ceph RGW, * rules included, and gets its own back', async ({ rgw }) => {
  const s3 = new S3Client({ endpoint: rgw.endpoint, forcePathStyle: true, region: rgw.region, credentials: rgw.credentials });
  const bucket = `single-${Date.now().toString(36)}`;
  const before: CORSRule[] = [{ ID: 'left-alone', AllowedOrigins: ['https://keep.example.net'], AllowedMethods: ['GET', 'HEAD'], MaxAgeSeconds: 42 }];
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: before } }));
  const target = await remoteTarget({ endpoint: rgw.endpoint, bucket, region: rgw.region, credentials: rgw.credentials, propagationTimeoutMs: 10_000, store: { name: 'ceph-rgw' } });
  // Each change is followed by a preflight from the page: allowed by the new configuration, or refused.
  const sequence: Array<[string, boolean]> = [
    ['allow-all-origins', true],
    ['rule-order-wildcard-first', true],
    ['no-cors', false],
    ['allow-specific-origin', true],
    ['allow-all-origins', true],
    ['wrong-port', false],
    ['full-access', true],
    ['no-cors', false],
  ];
  const timings: string[] = [];
  try {
    for (const [i, [fixture, allowed]] of sequence.entries()) {
      const t0 = Date.now();
      await target.prepare(`case-${i}`, config(fixture), object, origins.SITE_ORIGIN);
      const ms = Date.now() - t0;
      timings.push(`${fixture} ${ms} ms`);
      const acao = await preflight(rgw.endpoint, bucket);
      expect(acao !== null, `after ${fixture}: the page's preflight is ${allowed ? 'allowed' : 'refused'} (the store serves the new configuration)`).toBe(allowed);
      // Far from the 10 s bound: nothing waited on a timeout.
      expect(ms, `${fixture} took ${ms} ms to apply`).toBeLessThan(5_000);
      await target.finish(`case-${i}`);
    }
  } finally {
    await target.close();
  }
  await test.info().attach('apply-timings.txt', { body: timings.join('\n'), contentType: 'text/plain' });
  const after = await s3.send(new GetBucketCorsCommand({ Bucket: bucket }));
  expect(after.CORSRules, "the bucket's own configuration is back").toEqual(before);
  s3.destroy();
});

test('a bucket per configuration is shared by targets of one run (as parallel workers share it)', async ({ rgw }) => {
  const opts = { endpoint: rgw.endpoint, bucket: `shared-${Date.now().toString(36)}`, region: rgw.region, credentials: rgw.credentials, bucketPerConfiguration: true, runToken: 'run-test' };
  const [a, b] = await Promise.all([remoteTarget(opts), remoteTarget(opts)]);
  try {
    const [pa, pb] = await Promise.all([
      a.prepare('a-1', config('allow-all-origins'), object, origins.SITE_ORIGIN),
      b.prepare('b-1', config('allow-all-origins'), object, origins.SITE_ORIGIN),
    ]);
    expect(pa.bucket).toBe(pb.bucket);
    const other = await a.prepare('a-2', config('no-cors'), object, origins.SITE_ORIGIN);
    expect(other.bucket).not.toBe(pa.bucket);
    expect(await preflight(rgw.endpoint, pa.bucket)).not.toBeNull();
    expect(await preflight(rgw.endpoint, other.bucket)).toBeNull();
    const replayed = await a.replay!('a-1', [{ kind: 'fetch', method: 'GET', headers: { 'x-corsproof-demo': '1' } }], origins.SITE_ORIGIN);
    expect(replayed.map((x) => `${x.kind} ${x.method} ${x.status} ${x.replay}`)).toEqual(['preflight OPTIONS 200 true', 'actual GET 200 true']);
    expect(replayed[0]!.headers).toEqual({ origin: origins.SITE_ORIGIN, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-corsproof-demo' });
    for (const id of ['a-1', 'a-2']) await a.finish(id);
    await b.finish('b-1');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

/**
 * An S3-like endpoint for configuration calls only: `cors` says what PutBucketCors does (accepted
 * and never served, or refused as MinIO does); every preflight is refused.
 */
async function stubStore(cors: 'ignored' | 'not-implemented'): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const xml = (status: number, code: string) => {
        res.writeHead(status, { 'content-type': 'application/xml' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message></Message></Error>`);
      };
      const url = new URL(req.url ?? '/', 'http://stub');
      if (req.method === 'OPTIONS') return xml(403, 'AccessDenied');
      if (url.searchParams.has('cors')) {
        if (req.method === 'GET') return xml(404, 'NoSuchCORSConfiguration');
        if (cors === 'not-implemented') return xml(501, 'NotImplemented');
        res.writeHead(req.method === 'DELETE' ? 204 : 200);
        return res.end();
      }
      res.writeHead(200, { etag: '"x"' });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

test('a store that accepts PutBucketCors but never serves it fails the case within the bound, naming the store and its answers', async () => {
  const { endpoint, server } = await stubStore('ignored');
  const target = await remoteTarget({ endpoint, bucket: 'b', region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' }, propagationTimeoutMs: 1_500, store: { label: 'stub store' } });
  try {
    const t0 = Date.now();
    const error = await target.prepare('c', config('allow-specific-origin'), object, origins.SITE_ORIGIN).then(() => undefined, (e: Error) => e);
    expect(Date.now() - t0, 'bounded by the propagation timeout').toBeLessThan(6_000);
    expect(error?.message).toMatch(
      /^stub store, bucket b: the new CORS configuration was not served within 1500 ms \(CORSPROOF_PROPAGATION_MS\)\. The store still answers: OPTIONS from http:\/\/[a-z0-9-]+\.sentinel\.corsproof\.invalid for GET → 403 AccessDenied, no Access-Control-Allow-Origin/,
    );
  } finally {
    await target.close().catch(() => {});
    server.close();
  }
});

test('a store without a per-bucket CORS API (MinIO community edition) is named as such', async () => {
  const { endpoint, server } = await stubStore('not-implemented');
  const target = await remoteTarget({ endpoint, bucket: 'b', region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' }, store: { label: 'stub store' } });
  try {
    await expect(target.prepare('c', config('allow-specific-origin'), object, origins.SITE_ORIGIN)).rejects.toThrow(
      /^stub store refused PutBucketCors on b: NotImplemented: .* — this store has no per-bucket CORS API \(MinIO community edition answers so; its CORS is one global setting\)/,
    );
  } finally {
    await target.close().catch(() => {});
    server.close();
  }
});
