/**
 * The bucket's CORS configuration: GetBucketCors, PutBucketCors, DeleteBucketCors (`?cors`).
 * The document is parsed and validated by the S3 CORS engine (../../s3/cors), exactly as S3's
 * PutBucketCors answers it (reference §1.3, §1.4).
 */
import { corsConfigurationToXml, detectCorsDocumentShape, parseCorsConfiguration } from '../../s3/cors/index.js';
import { note, sendEmpty, sendXml } from '../context.js';
import { Errors, S3Error } from '../errors.js';
import type { Route, S3Call } from '../operation.js';
import { bucketArn } from '../policy.js';

export const bucketCorsRoutes: Route[] = [
  { name: 'GetBucketCors', resource: 'bucket', method: 'GET', sub: 'cors', op: getBucketCors },
  { name: 'PutBucketCors', resource: 'bucket', method: 'PUT', sub: 'cors', op: putBucketCors },
  { name: 'DeleteBucketCors', resource: 'bucket', method: 'DELETE', sub: 'cors', op: deleteBucketCors },
];

function getBucketCors(call: S3Call): void {
  call.authorize('s3:GetBucketCORS', bucketArn(call.bucket));
  const config = call.env.store.getCors(call.bucket);
  if (!config) throw Errors.noSuchCors(call.bucket);
  sendXml(call.res, 200, corsConfigurationToXml(config));
}

async function putBucketCors(call: S3Call): Promise<void> {
  call.requireOwner('PutBucketCors');
  const body = await call.readConfigBody();
  // S3 requires an integrity header on PutBucketCors (§1.3): Content-MD5 or a flexible checksum.
  const hasIntegrity =
    call.req.headers['content-md5'] !== undefined ||
    Object.keys(call.req.headers).some((h) => h.startsWith('x-amz-checksum-')) ||
    /x-amz-checksum-/i.test(call.header('x-amz-trailer') ?? '');
  if (!hasIntegrity) throw Errors.missingContentMd5();
  // The REST API takes only the XML document; JSON (the CLI's and console's input shapes) is
  // not well-formed XML to S3, whatever the engine's JSON parser would make of it.
  const shape = detectCorsDocumentShape(body);
  if (shape !== 'xml')
    throw Errors.malformedXml(
      shape === undefined
        ? 'PutBucketCors takes an XML CORSConfiguration document'
        : `PutBucketCors takes the XML document; this body is the ${shape} shape (what the CLI or console accept)`,
    );
  const parsed = parseCorsConfiguration(body);
  if (!parsed.ok) throw S3Error.fromInfo(parsed.error);
  call.env.store.setCors(call.bucket, parsed.config);
  note(call.res, `stored CORS configuration with ${parsed.config.CORSRules.length} rule(s)`);
  sendEmpty(call.res, 200);
}

/** 204 whether or not a configuration exists [S1 AWS-REC test_delete_cors]. */
function deleteBucketCors(call: S3Call): void {
  call.requireOwner('DeleteBucketCors');
  call.env.store.setCors(call.bucket, undefined);
  sendEmpty(call.res, 204);
}
