/**
 * corsproof's Playwright configuration.
 *
 * Projects `chromium`, `firefox`, `webkit` run the browser suite (tests/browser) each in a real
 * engine; which build runs — Playwright's own or the system's — is decided per worker by
 * engines/select.ts and shown on every test as an `engine` annotation. `unit` and `server` run
 * without a browser.
 */
import 'dotenv/config';
import { defineConfig } from '@playwright/test';

const browserProject = (name: 'chromium' | 'firefox' | 'webkit') => ({
  name,
  testDir: 'tests/browser',
  use: { browserName: name },
});

export default defineConfig({
  outputDir: 'test-results/artifacts',
  // Cases, not files, are the unit of parallelism and of sharding (the matrix is one spec file);
  // each worker has its own servers and engine, so any case can run in any worker.
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  // Each worker launches its own engines and servers; two cores here, so two workers.
  workers: process.env.CI ? 2 : undefined,
  reporter: [
    ['list'],
    ['./harness/engines-reporter.ts'],
    ['json', { outputFile: 'test-results/results.json' }],
    ['html', { open: 'never', outputFolder: 'playwright-report' }],
    // After 'html', so its copy of cors-matrix.html lands next to the finished report.
    ['./harness/matrix-reporter.ts'],
  ],
  metadata: { 'CORS matrix': 'cors-matrix.html next to this report (also test-results/cors-matrix.{json,md,html})' },
  projects: [
    { name: 'unit', testDir: 'tests/unit' },
    { name: 'server', testDir: 'tests/server' },
    browserProject('chromium'),
    browserProject('firefox'),
    browserProject('webkit'),
    // Bad input, load, network exposure, process hygiene, repeat runs, the CI workflow (tests/reliability).
    { name: 'reliability', testDir: 'tests/reliability' },
  ],
});
