/**
 * Runs for the store-hygiene checks (see ../hygiene.spec.ts), selected with -g. Each gets the
 * run's Ceph RGW (two workers: the first starts it, the second reuses it), proves it answers S3 —
 * a bucket, a CORS configuration, a preflight — and writes the cluster's recorded daemons to
 * HYGIENE_MARKER_DIR; then it ends the way the check needs: passing, failing, past its timeout, or
 * waiting to be interrupted.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, PutBucketCorsCommand, S3Client } from '@aws-sdk/client-s3';
import { expect } from '@playwright/test';
import { storeTest as test } from '../../config/stores.js';
import type { RgwCluster } from '../../../stores/ceph-rgw.js';

async function useIt(rgw: RgwCluster, tag: string): Promise<void> {
  const s3 = new S3Client({ endpoint: rgw.endpoint, forcePathStyle: true, region: rgw.region, credentials: rgw.credentials });
  const bucket = `hygiene-${tag}-${test.info().workerIndex}-${Date.now().toString(36)}`;
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['http://www.example.test'], AllowedMethods: ['GET'] }] } }));
  } finally {
    s3.destroy();
  }
  const r = await fetch(`${rgw.endpoint}/${bucket}/x`, { method: 'OPTIONS', headers: { Origin: 'http://www.example.test', 'Access-Control-Request-Method': 'GET' } });
  expect(r.headers.get('access-control-allow-origin')).toBe('http://www.example.test');
  const dir = process.env['HYGIENE_MARKER_DIR'];
  if (dir) writeFileSync(join(dir, `rgw-${tag}-${test.info().workerIndex}.ready`), JSON.stringify(rgw.daemons));
}

for (const n of [1, 2]) {
  test(`rgw-pass ${n}: the run's RGW answers a preflight`, async ({ rgw }) => {
    await useIt(rgw, 'pass');
  });
  test(`rgw-fail ${n}: the run's RGW, then a deliberate failure`, async ({ rgw }) => {
    await useIt(rgw, 'fail');
    expect(rgw.endpoint, 'a deliberately wrong expectation').toBe('nowhere');
  });
  test(`rgw-timeout ${n}: the run's RGW, then a hang past the test timeout`, async ({ rgw }) => {
    test.setTimeout(Number(process.env['HYGIENE_TEST_TIMEOUT_MS'] ?? 8_000));
    await useIt(rgw, 'timeout');
    await new Promise(() => {});
  });
  test(`rgw-interrupt ${n}: the run's RGW, then waits to be interrupted`, async ({ rgw }) => {
    test.setTimeout(120_000);
    await useIt(rgw, 'interrupt');
    await new Promise((resolve) => setTimeout(resolve, 60_000));
  });
}
