/**
 * The stores the suite runs itself, as bucket targets: `storeTarget('ceph-rgw')` is the run's Ceph
 * RGW (stores/run.ts starts it once per run), reached through the same remote-target code a user's
 * endpoint goes through (harness/target.ts), with a bucket per configuration.
 */
import { basename } from 'node:path';
import { remoteTarget, type BucketTarget } from '../harness/target.js';
import { RUN_ENV, useRgw } from './run.js';

export const STORE_NAMES = ['ceph-rgw'] as const;
export type StoreName = (typeof STORE_NAMES)[number];

export async function storeTarget(name: StoreName, log: (line: string) => void = () => {}): Promise<{ target: BucketTarget; release(): Promise<void> }> {
  if (name !== 'ceph-rgw') throw new Error(`unknown store ${String(name)} (known: ${STORE_NAMES.join(', ')})`);
  const lease = await useRgw(log);
  const rgw = lease.store;
  try {
    const run = process.env[RUN_ENV];
    const target = await remoteTarget({
      endpoint: rgw.endpoint,
      bucket: 'corsproof',
      region: rgw.region,
      credentials: rgw.credentials,
      bucketPerConfiguration: true,
      // The workers of one run apply a configuration with the same sentinel (see harness/target.ts).
      ...(run ? { runToken: basename(run) } : {}),
      store: { name, label: `Ceph RGW ${/\d+\.\d+\.\d+/.exec(rgw.version)?.[0] ?? ''} at ${rgw.endpoint}`.replace('  ', ' ') },
    });
    return { target, release: lease.release };
  } catch (e) {
    await lease.release();
    throw e;
  }
}
