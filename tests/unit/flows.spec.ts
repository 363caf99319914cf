/**
 * The oracle's walk through client flows (harness/flows.ts `simulateFlow`): what the SDK does after
 * a refusal (retries, per engine), what it reads, what it sends after a failure — and the scenario
 * files agreeing with the flow descriptions they run.
 */
import { test, expect } from '@playwright/test';
import { loadScenarios } from '../../harness/data.js';
import { makeOrigins } from '../../harness/origins.js';
import { flowById, flowCorsRequest, loadFlows, simulateFlow } from '../../harness/flows.js';
import { FLOW_IDS } from '../../servers/site/sdk/contract.js';
import type { CorsConfiguration, CorsRule } from '../../servers/s3/cors/index.js';

const origins = makeOrigins(41234, 9000);
const O = origins.SITE_ORIGIN;
const config = (rule: Partial<CorsRule>): CorsConfiguration => ({ CORSRules: [{ AllowedOrigins: [O], AllowedMethods: ['GET'], ...rule }] });
const multipart = flowById('sdk-multipart-upload');

test('every flow of the bundle has a description, and every flow scenario names the preflight its flow starts with', () => {
  expect([...loadFlows().keys()].sort()).toEqual([...FLOW_IDS].sort());
  for (const s of loadScenarios()) {
    const step = s.steps[0];
    if (step?.kind !== 'flow') continue;
    const first = flowById(step.flow).requests.find((r) => {
      const c = flowCorsRequest(r);
      return !['GET', 'HEAD', 'POST'].includes(r.method) || c.unsafe.length > 0;
    });
    expect(s.preflight, s.id).toEqual(first ? { method: first.method, ...(flowCorsRequest(first).unsafe.length ? { headers: flowCorsRequest(first).unsafe.join(',') } : {}) } : false);
  }
});

test("a refused PutObject is sent three times in Chromium and WebKit, once in Firefox (the SDK's retries)", () => {
  const c = config({ AllowedMethods: ['PUT'], AllowedHeaders: ['content-type'] });
  const put = flowById('sdk-put-object');
  for (const [engine, n] of [['chromium', 3], ['firefox', 1], ['webkit', 3]] as const) {
    expect(simulateFlow(put, c, O, 'k', engine)).toMatchObject({ verdict: 'blocked', reason: 'missing-allow-origin', at: 'preflight', preflights: n, actualRequests: 0 });
  }
  expect(simulateFlow(put, c, O, 'k', undefined).why).toContain(
    'the SDK\'s retry header amz-sdk-invocation-id, the SDK\'s retry header amz-sdk-request, the SigV4 signature authorization, the SDK\'s default checksum header x-amz-checksum-crc32',
  );
});

test('a presigned PUT is never retried: fetch, not the SDK', () => {
  const p = simulateFlow(flowById('presigned-put'), config({ AllowedMethods: ['PUT'] }), O, 'k', 'chromium');
  expect(p).toMatchObject({ verdict: 'blocked', preflights: 1, actualRequests: 0 });
  expect(p.why).toBe("the file's Content-Type content-type is not in AllowedHeaders, so S3 refuses PUT (presigned URL)'s preflight (it asks for content-type)");
});

test('multipart with ETag hidden: both parts go out, then the upload is aborted; the verdict is "hidden" with the ETag reason', () => {
  const p = simulateFlow(multipart, config({ AllowedMethods: ['PUT', 'POST', 'DELETE'], AllowedHeaders: ['*'] }), O, 'k', 'chromium');
  expect(p.verdict).toBe('hidden');
  expect(p.why).toMatch(/^ETag is not exposed: the multipart upload cannot complete/);
  expect(p.trace.map((e) => [e.request, e.outcome])).toEqual([
    ['CreateMultipartUpload', 'ok'],
    ['UploadPart 1', 'hidden'],
    ['UploadPart 2', 'hidden'],
    ['AbortMultipartUpload', 'ok'],
  ]);
  expect(p).toMatchObject({ preflights: 4, actualRequests: 4, secondary: [] });
});

test('multipart with ETag hidden and DELETE not allowed: the refused clean-up is a secondary block, retried by the SDK', () => {
  const c = config({ AllowedMethods: ['PUT', 'POST'], AllowedHeaders: ['*'] });
  const chromium = simulateFlow(multipart, c, O, 'k', 'chromium');
  expect(chromium.verdict).toBe('hidden');
  expect(chromium.secondary.map((b) => [b.request, b.reason, b.at])).toEqual([['AbortMultipartUpload', 'missing-allow-origin', 'preflight']]);
  expect(chromium.secondary[0]!.why).toBe("DELETE is not in AllowedMethods for the page's origin, so S3 refuses AbortMultipartUpload's preflight");
  expect(chromium).toMatchObject({ preflights: 3 + 3, actualRequests: 3 });
  expect(simulateFlow(multipart, c, O, 'k', 'firefox')).toMatchObject({ preflights: 3 + 1, actualRequests: 3 });
});

test("multipart with ETag exposed but not the part checksum: CompleteMultipartUpload is sent and refused by S3", () => {
  const p = simulateFlow(multipart, config({ AllowedMethods: ['PUT', 'POST', 'DELETE'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'] }), O, 'k', 'webkit');
  expect(p.verdict).toBe('hidden');
  expect(p.why).toMatch(/^x-amz-checksum-crc32 is not exposed/);
  expect(p.trace.map((e) => [e.request, e.outcome])).toEqual([
    ['CreateMultipartUpload', 'ok'],
    ['UploadPart 1', 'hidden'],
    ['UploadPart 2', 'hidden'],
    ['CompleteMultipartUpload', 'refused-by-s3'],
    ['AbortMultipartUpload', 'ok'],
  ]);
});

test('multipart with everything it needs completes without a clean-up', () => {
  const p = simulateFlow(multipart, config({ AllowedMethods: ['PUT', 'POST'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag', 'x-amz-checksum-crc32'] }), O, 'k', 'chromium');
  expect(p).toMatchObject({ verdict: 'allowed', preflights: 4, actualRequests: 4, secondary: [] });
});

test('a form upload is a simple request: no preflight, and a refused answer still took effect', () => {
  const p = simulateFlow(flowById('presigned-post'), config({ AllowedMethods: ['GET', 'PUT'] }), O, 'k', 'chromium');
  expect(p).toMatchObject({ verdict: 'blocked', at: 'response', preflights: 0, actualRequests: 1 });
  expect(p.why).toContain('reaches S3 and takes effect');
});
