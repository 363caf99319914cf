/**
 * The REST endpoint's routing table (servers/bucket/rest.ts): which S3 operation a request is, by
 * what its path names, its method and its sub-resource — the table a new operation file adds to.
 */
import { test, expect } from '@playwright/test';
import { routeOf } from '../../servers/bucket/rest.js';

const ROWS: Array<[resource: 'service' | 'bucket' | 'object', method: string, query: Record<string, string>, operation: string | undefined]> = [
  ['service', 'GET', {}, 'ListBuckets'],
  ['service', 'PUT', {}, undefined],
  ['bucket', 'PUT', {}, 'CreateBucket'],
  ['bucket', 'PUT', { 'corsproof-case': 'c1' }, 'CreateBucket'],
  ['bucket', 'HEAD', {}, 'HeadBucket'],
  ['bucket', 'HEAD', { cors: '' }, 'HeadBucket'],
  ['bucket', 'GET', {}, 'ListObjects'],
  ['bucket', 'GET', { 'list-type': '2', prefix: 'a/' }, 'ListObjects'],
  ['bucket', 'GET', { location: '' }, 'GetBucketLocation'],
  ['bucket', 'PUT', { location: '' }, undefined],
  ['bucket', 'DELETE', { location: '' }, undefined],
  ['bucket', 'DELETE', {}, 'DeleteBucket'],
  ['bucket', 'GET', { cors: '' }, 'GetBucketCors'],
  ['bucket', 'PUT', { cors: '' }, 'PutBucketCors'],
  ['bucket', 'DELETE', { cors: '' }, 'DeleteBucketCors'],
  ['bucket', 'GET', { policy: '' }, 'GetBucketPolicy'],
  ['bucket', 'PUT', { policy: '' }, 'PutBucketPolicy'],
  ['bucket', 'DELETE', { policy: '' }, 'DeleteBucketPolicy'],
  ['bucket', 'GET', { website: '' }, 'GetBucketWebsite'],
  ['bucket', 'PUT', { website: '' }, 'PutBucketWebsite'],
  ['bucket', 'DELETE', { website: '' }, 'DeleteBucketWebsite'],
  // Several sub-resources: the first in the table's order (UNVERIFIED choice, see rest.ts).
  ['bucket', 'GET', { website: '', cors: '' }, 'GetBucketCors'],
  ['bucket', 'POST', {}, 'PostObject'],
  ['bucket', 'PATCH', {}, undefined],
  ['object', 'GET', {}, 'GetObject'],
  ['object', 'GET', { cors: '' }, 'GetObject'],
  ['object', 'HEAD', {}, 'HeadObject'],
  ['object', 'PUT', {}, 'PutObject'],
  ['object', 'DELETE', {}, 'DeleteObject'],
  ['object', 'POST', {}, undefined],
  // Multipart uploads (ops/multipart.ts) and POST Object (ops/post-object.ts).
  ['object', 'POST', { uploads: '' }, 'CreateMultipartUpload'],
  ['object', 'PUT', { partNumber: '1', uploadId: 'u' }, 'UploadPart'],
  ['object', 'POST', { uploadId: 'u' }, 'CompleteMultipartUpload'],
  ['object', 'DELETE', { uploadId: 'u' }, 'AbortMultipartUpload'],
  ['object', 'GET', { uploadId: 'u' }, 'ListParts'],
  ['object', 'GET', { partNumber: '2' }, 'GetObject'],
  ['object', 'HEAD', { partNumber: '2' }, 'HeadObject'],
  ['bucket', 'GET', { uploads: '' }, 'ListMultipartUploads'],
  ['bucket', 'POST', { cors: '' }, undefined],
];

test('should route each request to the S3 operation its resource, method and sub-resource name', () => {
  const routed = ROWS.map(([resource, method, query]) => routeOf(resource, method, query)?.name);
  expect(routed).toEqual(ROWS.map((r) => r[3]));
});
