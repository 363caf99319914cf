import { defineConfig } from '@playwright/test';

// Preliminary: browser projects are added by the engine layer.
export default defineConfig({
  reporter: [['list'], ['json', { outputFile: 'test-results/results.json' }], ['html', { open: 'never' }]],
  projects: [
    { name: 'unit', testDir: 'tests/unit' },
    { name: 'server', testDir: 'tests/server' },
  ],
});
