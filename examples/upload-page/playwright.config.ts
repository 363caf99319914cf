import { defineConfig } from '@playwright/test';

// The page's origin. Its CORS rules name it, so the tests read it from here too.
export const PORT = Number(process.env.PORT ?? 4173);
export const APP = `http://localhost:${PORT}`;

export default defineConfig({
  testDir: 'tests',
  reporter: [['list'], ['html', { open: 'never' }]],
  // The app's own dev server, as in any Playwright setup.
  webServer: {
    command: 'node server.mjs',
    url: `http://127.0.0.1:${PORT}/`,
    env: { PORT: String(PORT) },
    reuseExistingServer: !process.env.CI,
  },
  // corsproof picks each engine's build (Playwright's own, else the system's) and launches it.
  projects: [
    { name: 'chromium', use: { browserName: 'chromium' } },
    { name: 'firefox', use: { browserName: 'firefox' } },
    { name: 'webkit', use: { browserName: 'webkit' } },
  ],
});
