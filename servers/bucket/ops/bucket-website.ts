/**
 * The bucket's static-website configuration: GetBucketWebsite, PutBucketWebsite,
 * DeleteBucketWebsite (`?website`). The website endpoint that serves it is ../website.ts.
 */
import { sendEmpty, sendXml } from '../context.js';
import { Errors } from '../errors.js';
import type { Route, S3Call } from '../operation.js';
import { bucketArn } from '../policy.js';
import { parseWebsiteXml, websiteXml } from '../xml.js';

export const bucketWebsiteRoutes: Route[] = [
  { name: 'GetBucketWebsite', resource: 'bucket', method: 'GET', sub: 'website', op: getBucketWebsite },
  { name: 'PutBucketWebsite', resource: 'bucket', method: 'PUT', sub: 'website', op: putBucketWebsite },
  { name: 'DeleteBucketWebsite', resource: 'bucket', method: 'DELETE', sub: 'website', op: deleteBucketWebsite },
];

function getBucketWebsite(call: S3Call): void {
  call.authorize('s3:GetBucketWebsite', bucketArn(call.bucket));
  const w = call.env.store.website(call.bucket);
  if (!w) throw Errors.noSuchWebsite(call.bucket);
  sendXml(call.res, 200, websiteXml(w));
}

async function putBucketWebsite(call: S3Call): Promise<void> {
  call.requireOwner('PutBucketWebsite');
  const body = await call.readConfigBody();
  call.env.store.setWebsite(call.bucket, parseWebsiteXml(body.toString('utf8')));
  sendEmpty(call.res, 200);
}

function deleteBucketWebsite(call: S3Call): void {
  call.requireOwner('DeleteBucketWebsite');
  call.env.store.setWebsite(call.bucket, undefined);
  sendEmpty(call.res, 204);
}
