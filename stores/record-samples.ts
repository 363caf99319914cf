/**
 * Records what a real store answers to the requests of chosen cases — a server-to-server replay
 * (harness/replay.ts), no browser — for the unit tests of harness/divergence.ts. Re-record rather
 * than edit: `node --import tsx stores/record-samples.ts` starts a Ceph RGW of its own
 * (stores/ceph-rgw.ts), applies each fixture's configuration to a bucket of its own, stores each
 * scenario's object, replays, stops the cluster, and writes tests/unit/store-samples/ceph-rgw.json.
 */
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutBucketCorsCommand, PutObjectCommand, S3Client, type CORSRule } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { useRgw } from './run.js';
import { fillPlaceholders, loadFixtures, loadScenarios, objectBody } from '../harness/data.js';
import { makeOrigins } from '../harness/origins.js';
import { impliedRequests, replay, type ReplayedExchange } from '../harness/replay.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
/** fixture × scenario pairs that show each difference measured on RGW (and some that show none). */
const CASES: Array<[string, string]> = [
  ['allow-all-origins', 'get-custom-header'],
  ['allow-all-origins', 'get-credentials'],
  ['allow-specific-origin', 'get-credentials'],
  ['allow-specific-origin', 'fetch-get'],
  ['expose-headers', 'read-etag'],
  ['full-access', 'delete'],
  ['full-access', 'preflight-cache'],
  ['header-fall-through', 'put-json'],
  ['header-fall-through', 'get-custom-header'],
  ['header-fall-through', 'put-custom-header'],
  ['no-cors', 'get-custom-header'],
  ['no-cors', 'img-plain'],
  ['rule-order-wildcard-first', 'get-credentials'],
  ['trailing-slash', 'fetch-get'],
];
export const SAMPLE_SITE_PORT = 8000;

const lease = await useRgw((l) => console.log(l), { own: true });
const rgw = lease.store;
const s3 = new S3Client({ endpoint: rgw.endpoint, forcePathStyle: true, region: rgw.region, credentials: rgw.credentials });
const origins = makeOrigins(SAMPLE_SITE_PORT, Number(new URL(rgw.endpoint).port));
const fixtures = loadFixtures();
const scenarios = loadScenarios();
const samples: Array<{ fixture: string; scenario: string; exchanges: ReplayedExchange[] }> = [];
try {
  for (const [fid, sid] of CASES) {
    const f = fixtures.find((x) => x.id === fid)!;
    const sc = scenarios.find((x) => x.id === sid)!;
    const bucket = `sample-${fid}-${sid}`.slice(0, 63).replace(/-+$/, '');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    if (f.cors) await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: fillPlaceholders(f.cors, origins) as CORSRule[] } }));
    const key = sc.object.key;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: objectBody(sc.object), ContentType: sc.object.contentType }));
    const urls: Record<string, string> = {};
    for (const m of ['GET', 'HEAD', 'PUT', 'DELETE', 'POST']) {
      const input = { Bucket: bucket, Key: key };
      const c = m === 'PUT' ? new PutObjectCommand(input) : m === 'DELETE' ? new DeleteObjectCommand(input) : m === 'HEAD' ? new HeadObjectCommand(input) : m === 'GET' ? new GetObjectCommand(input) : undefined;
      urls[m] = c ? await getSignedUrl(s3, c, { expiresIn: 900 }) : `${rgw.endpoint}/${bucket}/${key}`;
    }
    const exchanges = await replay(impliedRequests(sc.steps, origins.SITE_ORIGIN, { object: (m) => urls[m]!, bucket: `${rgw.endpoint}/${bucket}` }));
    samples.push({ fixture: fid, scenario: sid, exchanges });
  }
} finally {
  s3.destroy();
  await lease.release();
}
const out = fileURLToPath(new URL('../tests/unit/store-samples/ceph-rgw.json', import.meta.url));
writeFileSync(
  out,
  JSON.stringify({ store: 'ceph-rgw', version: rgw.version, recorded: new Date().toISOString().slice(0, 10), siteOrigin: origins.SITE_ORIGIN, endpoint: rgw.endpoint, samples }, null, 1) + '\n',
);
console.log(`wrote ${samples.length} cases to ${out}`);
