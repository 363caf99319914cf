/**
 * Buckets themselves: ListBuckets (the service endpoint), CreateBucket, HeadBucket,
 * GetBucketLocation (`?location`), DeleteBucket.
 */
import { sendEmpty, sendXml } from '../context.js';
import { Errors, S3Error } from '../errors.js';
import { bucketNameProblem } from '../names.js';
import type { Route, S3Call } from '../operation.js';
import { bucketArn } from '../policy.js';
import { listBucketsXml, locationXml, parseCreateBucketXml } from '../xml.js';

export const bucketsRoutes: Route[] = [
  { name: 'ListBuckets', resource: 'service', method: 'GET', op: listBuckets },
  { name: 'CreateBucket', resource: 'bucket', method: 'PUT', bucketMayNotExist: true, op: createBucket },
  // HEAD on a bucket is HeadBucket whatever sub-resource the URL names.
  { name: 'HeadBucket', resource: 'bucket', method: 'HEAD', sub: '*', op: headBucket },
  { name: 'GetBucketLocation', resource: 'bucket', method: 'GET', sub: 'location', op: getBucketLocation },
  { name: 'DeleteBucket', resource: 'bucket', method: 'DELETE', op: deleteBucket },
];

function listBuckets(call: S3Call): void {
  if (!call.isOwner()) throw Errors.accessDenied('ListBuckets needs a signed request');
  const { store } = call.env;
  const buckets = store.bucketNames().map((name) => ({ name, created: store.bucketCreated(name)! }));
  sendXml(call.res, 200, listBucketsXml(buckets, call.env.creds.region));
}

async function createBucket(call: S3Call): Promise<void> {
  call.requireOwner('CreateBucket');
  const problem = bucketNameProblem(call.bucket);
  if (problem) throw Errors.invalidBucketName(call.bucket, problem);
  const body = await call.readConfigBody();
  const constraint = parseCreateBucketXml(body.toString('utf8'));
  const region = call.env.creds.region;
  if (constraint !== undefined && constraint !== '' && constraint !== region) throw Errors.illegalLocationConstraint(constraint);
  if (constraint === 'us-east-1' && region === 'us-east-1')
    throw new S3Error(400, 'InvalidLocationConstraint', 'The specified location-constraint is not valid', [['LocationConstraint', constraint]]);
  if (call.env.store.hasBucket(call.bucket)) {
    // us-east-1 answers a repeated CreateBucket by its owner with 200; other regions with 409.
    if (region !== 'us-east-1') throw Errors.bucketAlreadyOwnedByYou(call.bucket);
  } else {
    call.env.store.createBucket(call.bucket);
  }
  sendEmpty(call.res, 200, [['Location', `/${call.bucket}`]]);
}

function headBucket(call: S3Call): void {
  call.authorize('s3:ListBucket', bucketArn(call.bucket));
  sendEmpty(call.res, 200, [['x-amz-bucket-region', call.env.creds.region]], null);
}

function getBucketLocation(call: S3Call): void {
  call.authorize('s3:GetBucketLocation', bucketArn(call.bucket));
  sendXml(call.res, 200, locationXml(call.env.creds.region));
}

function deleteBucket(call: S3Call): void {
  call.requireOwner('DeleteBucket');
  if (!call.env.store.isEmpty(call.bucket)) throw Errors.bucketNotEmpty(call.bucket);
  call.env.store.deleteBucket(call.bucket);
  sendEmpty(call.res, 204);
}
