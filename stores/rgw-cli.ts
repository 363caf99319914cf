/**
 * `npm run rgw [-- --bucket NAME]`: a throwaway Ceph RGW for trying corsproof against a real
 * S3-compatible store by hand. Starts the one-node cluster (stores/ceph-rgw.ts), creates the bucket,
 * prints the variables that point corsproof at it, and runs until Ctrl-C, which stops every daemon
 * it started.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { useRgw } from './run.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
const args = process.argv.slice(2);
const i = args.indexOf('--bucket');
const bucket = i >= 0 ? args[i + 1] : 'my-bucket';
if (!bucket || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
  console.error(`usage: npm run rgw [-- --bucket NAME]   (NAME: 3–63 lower-case letters, digits, dots, hyphens; got "${bucket ?? ''}")`);
  process.exit(2);
}

let lease: Awaited<ReturnType<typeof useRgw>>;
try {
  lease = await useRgw((l) => console.log(l), { own: true });
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
const rgw = lease.store;
const s3 = new S3Client({ endpoint: rgw.endpoint, forcePathStyle: true, region: rgw.region, credentials: rgw.credentials });
try {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
} finally {
  s3.destroy();
}
console.log(`bucket ${rgw.endpoint}/${bucket}`);
console.log('Point corsproof at it (in another terminal; or put these lines in .env):');
console.log(`  CORSPROOF_TARGET=${rgw.endpoint}`);
console.log(`  CORSPROOF_TARGET_BUCKET=${bucket}`);
console.log('  CORSPROOF_TARGET_STORE=ceph-rgw');
console.log(`  AWS_ACCESS_KEY_ID=${rgw.credentials.accessKeyId}`);
console.log(`  AWS_SECRET_ACCESS_KEY=${rgw.credentials.secretAccessKey}`);
console.log(`  AWS_REGION=${rgw.region}`);
console.log('Ctrl-C stops the cluster.');

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await lease.release();
  console.log('Ceph RGW stopped.');
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// Keep running until a signal.
setInterval(() => {}, 1 << 30);
