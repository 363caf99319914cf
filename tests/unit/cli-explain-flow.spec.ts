/**
 * `corsproof explain --flow`: the flow's requests, the preflights they imply, what the client must
 * read, and per engine what this configuration does to them — on the configurations people copy.
 */
import { test, expect } from '@playwright/test';
import { explain } from '../../cli/explain.js';
import { explainFlow } from '../../cli/explain-flow.js';
import { fillPlaceholders, loadFixtures } from '../../harness/data.js';
import { makeOrigins } from '../../harness/origins.js';
import { memoryIo } from './cli-samples/memory-io.js';

const origins = makeOrigins(8080, 9090);
const fixtures = Object.fromEntries(loadFixtures().map((f) => [f.id, f]));
const cors = (id: string) => JSON.stringify(fillPlaceholders(fixtures[id]!.cors!, origins));
const bucketUrl = 'https://my-bucket.s3.eu-west-1.amazonaws.com';

async function run(argv: string[], stdin = '') {
  const io = memoryIo(stdin);
  const code = await explain(argv, io);
  return { code, out: io.out(), err: io.err() };
}

test('multipart: the preflights it implies, the headers it sends and what it must read', () => {
  const x = explainFlow({ CORSRules: fillPlaceholders(fixtures['sdk-flows']!.cors!, origins) }, { origin: origins.SITE_ORIGIN, flow: 'sdk-multipart-upload', key: 'big.bin', bucketUrl });
  expect(x.requests.map((r) => [r.name, r.method, r.preflight?.method ?? null])).toEqual([
    ['CreateMultipartUpload', 'POST', 'POST'],
    ['UploadPart 1', 'PUT', 'PUT'],
    ['UploadPart 2', 'PUT', 'PUT'],
    ['CompleteMultipartUpload', 'POST', 'POST'],
    ['AbortMultipartUpload', 'DELETE', 'DELETE'],
  ]);
  expect(x.requests[1]!.reads.map((r) => r.header)).toEqual(['etag', 'x-amz-checksum-crc32']);
  expect(x.requests[1]!.preflight!.headers).toContain('x-amz-checksum-crc32');
  expect(x.requests[2]!.concurrentWith).toBe('UploadPart 1');
  expect(x.requests[4]!.onlyOnFailureAfter).toBe('CreateMultipartUpload');
  expect(x.engines.chromium).toMatchObject({ verdict: 'allowed', preflights: 4, actualRequests: 4 });
});

test("the AWS user guide's Example 1: multipart fails only because ETag is not exposed", () => {
  const x = explainFlow({ CORSRules: fillPlaceholders(fixtures['aws-userguide-example-1']!.cors!, origins) }, { origin: origins.SITE_ORIGIN, flow: 'sdk-multipart-upload', key: 'big.bin', bucketUrl });
  for (const e of Object.values(x.engines)) {
    expect(e.verdict).toBe('hidden');
    expect(e.why).toMatch(/^ETag is not exposed: the multipart upload cannot complete/);
    expect(e.steps.map((s) => s.outcome)).toEqual(['ok', 'hidden', 'hidden', 'ok']);
  }
});

test('a refused PutObject: the engine line per engine, and three attempts where the SDK retries', async () => {
  const { code, out } = await run(['-', '--origin', origins.SITE_ORIGIN, '--flow', 'sdk-put-object', '--endpoint', bucketUrl, '--key', 'a.txt'], cors('sdk-v3-headers-before-checksums'));
  expect(code).toBe(0);
  expect(out).toContain("Verdict: blocked — the SDK's default checksum header x-amz-checksum-crc32, the SDK's default checksum-algorithm header x-amz-sdk-checksum-algorithm are not in AllowedHeaders");
  expect(out).toContain('Access-Control-Request-Headers: amz-sdk-invocation-id,amz-sdk-request,authorization,x-amz-checksum-crc32,x-amz-content-sha256,x-amz-date,x-amz-sdk-checksum-algorithm,x-amz-user-agent');
  expect(out).toMatch(/chromium\s+blocked — no Access-Control-Allow-Origin header; the bucket receives 3 OPTIONS and 0 other requests/);
  expect(out).toMatch(/firefox\s+blocked — no Access-Control-Allow-Origin header; the bucket receives 1 OPTIONS and 0 other requests/);
  expect(out).toMatch(/webkit\s+blocked — preflight answered with a non-2xx status/);
  expect(out).toContain("Access to fetch at 'https://my-bucket.s3.eu-west-1.amazonaws.com/a.txt?x-id=PutObject' from origin");
});

test('--format json carries the same explanation', async () => {
  const { code, out } = await run(['-', '--origin', origins.SITE_ORIGIN, '--flow', 'presigned-post', '--format', 'json'], cors('uppy-aws-s3'));
  expect(code).toBe(0);
  const x = JSON.parse(out);
  expect(x.flow.pattern).toBe('presigned-post');
  expect(x.requests[0].preflight).toBeNull();
  expect(x.engines.webkit).toMatchObject({ verdict: 'blocked', preflights: 0, actualRequests: 1 });
});

test('usage errors: an unknown flow, or --method with --flow', async () => {
  const unknown = await run(['-', '--origin', origins.SITE_ORIGIN, '--flow', 'sdk-copy-object'], cors('sdk-flows'));
  expect(unknown.code).toBe(2);
  expect(unknown.err).toContain('--flow "sdk-copy-object" is not a flow corsproof knows (sdk-put-object, sdk-get-object');
  const both = await run(['-', '--origin', origins.SITE_ORIGIN, '--flow', 'sdk-get-object', '--method', 'GET'], cors('sdk-flows'));
  expect(both.code).toBe(2);
  expect(both.err).toBe("--flow describes the flow's own requests: leave out --method.\n");
});
