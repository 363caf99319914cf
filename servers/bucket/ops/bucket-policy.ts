/**
 * The bucket policy: GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy (`?policy`). The policy
 * decides what anonymous callers may do (../policy.ts); changing it needs a signed request.
 */
import { sendBody, sendEmpty } from '../context.js';
import { Errors } from '../errors.js';
import type { Route, S3Call } from '../operation.js';
import { bucketArn } from '../policy.js';

export const bucketPolicyRoutes: Route[] = [
  { name: 'GetBucketPolicy', resource: 'bucket', method: 'GET', sub: 'policy', op: getBucketPolicy },
  { name: 'PutBucketPolicy', resource: 'bucket', method: 'PUT', sub: 'policy', op: putBucketPolicy },
  { name: 'DeleteBucketPolicy', resource: 'bucket', method: 'DELETE', sub: 'policy', op: deleteBucketPolicy },
];

function getBucketPolicy(call: S3Call): void {
  call.authorize('s3:GetBucketPolicy', bucketArn(call.bucket));
  const p = call.env.store.policy(call.bucket);
  if (!p) throw Errors.noSuchPolicy(call.bucket);
  sendBody(call.res, 200, p.text, [['Content-Type', 'application/json']], false);
}

/** The store parses and checks the document (MalformedPolicy as S3 answers it). */
async function putBucketPolicy(call: S3Call): Promise<void> {
  call.requireOwner('PutBucketPolicy');
  const body = await call.readConfigBody();
  call.env.store.setPolicy(call.bucket, body.toString('utf8'));
  sendEmpty(call.res, 204);
}

function deleteBucketPolicy(call: S3Call): void {
  call.requireOwner('DeleteBucketPolicy');
  call.env.store.setPolicy(call.bucket, undefined);
  sendEmpty(call.res, 204);
}
