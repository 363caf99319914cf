/**
 * Stores the suite runs itself, as a worker fixture: `rgw` is the run's Ceph RGW (stores/run.ts
 * starts it in the first worker that asks and the run's teardown stops it). A worker that cannot
 * get it fails its tests with the reason — what to install, or the step that failed — never skips.
 */
import { test as base, type Fixtures } from '@playwright/test';
import { useRgw } from '../../stores/run.js';
import type { RgwCluster } from '../../stores/ceph-rgw.js';

export type StoreWorkerFixtures = { rgw: RgwCluster };

export const storeFixtures: Fixtures<{}, StoreWorkerFixtures> = {
  rgw: [
    async ({}, use) => {
      const lease = await useRgw((line) => console.log(`[stores] ${line}`));
      try {
        await use(lease.store);
      } finally {
        await lease.release();
      }
    },
    // Starting the cluster takes ≈ 15 s, longer on a busy machine.
    { scope: 'worker', timeout: 180_000 },
  ],
};

export const storeTest = base.extend<{}, StoreWorkerFixtures>(storeFixtures);
