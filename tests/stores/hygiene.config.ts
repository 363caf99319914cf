/**
 * Configuration for the store-hygiene runs only (tests/stores/hygiene.spec.ts starts
 * `npx playwright test -c tests/stores/hygiene.config.ts …` as a child process): the
 * specs in fixtures-hygiene/rgw.hygiene.ts, with the same global setup as the suite's own
 * configuration (stores/global-setup.ts: the run owns its stores and stops them).
 */
import 'dotenv/config';
import { defineConfig } from '@playwright/test';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

export default defineConfig({
  testDir: 'fixtures-hygiene',
  testMatch: 'rgw.hygiene.ts',
  globalSetup: '../../stores/global-setup.ts',
  outputDir: '../../test-results/store-hygiene',
  reporter: 'list',
  workers: 2,
  fullyParallel: true,
  timeout: 60_000,
  projects: [{ name: 'rgw' }],
});
