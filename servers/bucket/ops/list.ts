/**
 * Listing a bucket's objects: ListObjects (v1, `marker`) and ListObjectsV2 (`list-type=2`,
 * `continuation-token`, `start-after`), with `prefix`, `delimiter`, `max-keys` and
 * `encoding-type=url`.
 */
import { sendXml } from '../context.js';
import { Errors } from '../errors.js';
import type { Route, S3Call } from '../operation.js';
import { bucketArn } from '../policy.js';
import { decodeContinuationToken, listObjectsXml } from '../xml.js';

export const listRoutes: Route[] = [{ name: 'ListObjects', resource: 'bucket', method: 'GET', op: listObjects }];

function listObjects(call: S3Call): void {
  call.authorize('s3:ListBucket', bucketArn(call.bucket));
  const q = (k: string) => call.param(k);
  const v2 = q('list-type') === '2';
  if (q('list-type') !== undefined && !v2) throw Errors.invalidArgument('Invalid List Type specified', 'list-type', q('list-type')!);
  const maxKeysText = q('max-keys');
  let maxKeys = 1000;
  if (maxKeysText !== undefined) {
    if (!/^\d+$/.test(maxKeysText)) throw Errors.invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', maxKeysText);
    maxKeys = Math.min(1000, Number(maxKeysText));
  }
  const encodingType = q('encoding-type');
  if (encodingType !== undefined && encodingType !== 'url') throw Errors.invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', encodingType);
  const continuationToken = v2 ? q('continuation-token') : undefined;
  const startAfter = v2 ? q('start-after') : undefined;
  const marker = v2 ? undefined : q('marker');
  let after: string | undefined;
  if (continuationToken !== undefined) {
    after = decodeContinuationToken(continuationToken);
    if (after === undefined) throw Errors.invalidArgument('The continuation token provided is incorrect', 'continuation-token', continuationToken);
  } else after = startAfter ?? marker;
  const delimiter = q('delimiter');
  const xml = listObjectsXml(call.env.store.list(call.bucket), {
    bucket: call.bucket,
    prefix: q('prefix') ?? '',
    ...(delimiter ? { delimiter } : {}),
    maxKeys,
    v2,
    ...(after !== undefined ? { after } : {}),
    ...(continuationToken !== undefined ? { continuationToken } : {}),
    ...(startAfter !== undefined ? { startAfter } : {}),
    ...(marker !== undefined ? { marker } : {}),
    ...(encodingType === 'url' ? { encodingType: 'url' as const } : {}),
    fetchOwner: q('fetch-owner') === 'true',
  });
  sendXml(call.res, 200, xml);
}
