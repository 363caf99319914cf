/**
 * `corsproof lint` on the configurations people copy, for the AWS SDK's default uploads: the
 * request headers it sends (from fixtures/flows, held to the real SDK by tests/browser/flows.spec.ts)
 * and the response headers its multipart upload reads. Each verdict here is the one the browser
 * matrix measures for the same fixture.
 */
import { test, expect } from '@playwright/test';
import { fillPlaceholders, loadFixtures } from '../../harness/data.js';
import { makeOrigins } from '../../harness/origins.js';
import { lintConfiguration } from '../../cli/lint-rules.js';

const origins = makeOrigins(8080, 9090);
const fixtures = Object.fromEntries(loadFixtures().map((f) => [f.id, f]));
const lint = (id: string) => lintConfiguration({ CORSRules: fillPlaceholders(fixtures[id]!.cors!, origins) });
const sdkWarnings = (id: string) => lint(id).filter((w) => w.id === 'sdk-headers-not-allowed' || w.id === 'checksum-not-exposed' || w.id === 'etag-not-exposed');

test('an allow-list written before v3.729 is missing exactly the default checksum headers', () => {
  const w = sdkWarnings('sdk-v3-headers-before-checksums');
  expect(w.map((x) => x.id)).toEqual(['sdk-headers-not-allowed', 'checksum-not-exposed']);
  expect(w[0]!.message).toBe(
    'AllowedHeaders does not allow x-amz-checksum-crc32, x-amz-sdk-checksum-algorithm and x-amz-checksum-algorithm, which the AWS SDK v3 sends by default on PutObject, UploadPart and CreateMultipartUpload',
  );
  expect(w[0]!.why).toContain('since v3.729 also the default checksum headers');
});

test("Uppy's configuration (presigned uploads) cannot serve the SDK's PutObject", () => {
  const w = sdkWarnings('uppy-aws-s3');
  expect(w.map((x) => x.id)).toEqual(['sdk-headers-not-allowed']);
  expect(w[0]!.message).toContain('amz-sdk-invocation-id');
  expect(w[0]!.message).toContain('x-amz-user-agent');
  expect(w[0]!.message).toContain('x-amz-checksum-crc32');
  expect(w[0]!.fix).toContain('"x-amz-*", "amz-sdk-*"');
});

test("Amplify's policy exposes ETag but not the part checksum the SDK's multipart upload reads", () => {
  expect(sdkWarnings('amplify-storage').map((x) => x.id)).toEqual(['checksum-not-exposed']);
});

test("the AWS user guide's Example 1 allows any header but exposes no ETag", () => {
  // Its two PUT/POST rules, one per origin.
  expect(sdkWarnings('aws-userguide-example-1').map((x) => [x.id, x.ruleIndex])).toEqual([['etag-not-exposed', 0], ['etag-not-exposed', 1]]);
});

test('the configuration built for every flow lints clean of SDK warnings', () => {
  expect(sdkWarnings('sdk-flows')).toEqual([]);
});

test('a GET-only rule says nothing about uploads', () => {
  expect(sdkWarnings('allow-specific-origin')).toEqual([]);
});
