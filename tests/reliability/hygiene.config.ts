/**
 * Configuration for the process-hygiene runs only (tests/reliability/hygiene.spec.ts starts
 * `npx playwright test -c tests/reliability/hygiene.config.ts …` as a child process): the specs in
 * fixtures-hygiene/ (a deliberate failure, a test timeout, a run waiting to be interrupted), each a
 * real CORS case through the harness's own fixtures (tests/config/test.ts) in Chromium and WebKit.
 * The `reliability` project never runs these files itself (they end in .hygiene.ts).
 */
import 'dotenv/config';
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'fixtures-hygiene',
  testMatch: '**/*.hygiene.ts',
  outputDir: '../../test-results/hygiene',
  reporter: 'list',
  workers: 2,
  timeout: 60_000,
  projects: [
    { name: 'chromium', use: { browserName: 'chromium' } },
    { name: 'webkit', use: { browserName: 'webkit' } },
  ],
});
