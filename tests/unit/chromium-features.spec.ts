/**
 * The browser-UI features corsproof turns off in a stock Chromium (engines/chromium-features.ts):
 * merged into Playwright's own --disable-features, because Chromium keeps only the last one.
 */
import { test, expect } from '@playwright/test';
import { chromium } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { chromiumFeatureArgs, readPlaywrightDisabledFeatures, UI_FEATURES_OFF } from '../../engines/chromium-features.js';
import { resolveEngine } from '../../engines/index.js';
import { launchOptionsFor } from '../../engines/playwright.js';
import { isHeadlessShell, SYSTEM_CANDIDATES } from '../../engines/select.js';

const bundle = (body: string) => `var x = 1;\n    disabledFeatures = [\n${body}\n    ].filter(Boolean);\n    chromiumSwitches = () => [];`;

test('Playwright’s list is read only when every entry is a plain name', () => {
  expect(readPlaywrightDisabledFeatures(bundle(`      // See https://example.test/1 [a note]\n      "Translate",\n      /* two */ "HttpsUpgrades"`))).toEqual(['Translate', 'HttpsUpgrades']);
  // An entry computed at run time cannot be known here: no list, so nothing is merged.
  expect(readPlaywrightDisabledFeatures(bundle(`      "Translate",\n      process.env.X ? "" : "PaintHolding"`))).toBeUndefined();
  expect(readPlaywrightDisabledFeatures('chromiumSwitches = () => ["--disable-features=Translate"];')).toBeUndefined();
  expect(readPlaywrightDisabledFeatures(bundle(''))).toBeUndefined();
});

test('the installed Playwright’s list is read, and the merged switch keeps all of it', () => {
  const core = createRequire(import.meta.url).resolve('playwright-core/package.json');
  const theirs = readPlaywrightDisabledFeatures(readFileSync(join(dirname(core), 'lib', 'coreBundle.js'), 'utf8'));
  // Playwright 1.64 turns these off; a bump that moves them out of reach fails here.
  expect(theirs).toEqual(expect.arrayContaining(['HttpsUpgrades', 'Translate', 'OptimizationHints']));
  const f = chromiumFeatureArgs();
  expect(f?.ignoreDefaultArgs).toEqual([`--disable-features=${theirs!.join(',')}`]);
  expect(f?.args).toEqual([`--disable-features=${[...theirs!, ...UI_FEATURES_OFF].join(',')}`]);
});

test('a system Chromium that is the whole browser gets one --disable-features with Playwright’s and corsproof’s features, and no omnibox WebUI', async () => {
  const running = resolveEngine('chromium');
  if (running.source !== 'system' || isHeadlessShell(running.path)) {
    // Playwright's build and the headless shell have no browser UI: their arguments are Playwright's alone.
    expect(launchOptionsFor(running).ignoreDefaultArgs).toBeUndefined();
  }
  // The whole browser, whichever Chromium runs the other projects (provision installs both).
  const whole = running.source === 'system' && !isHeadlessShell(running.path) ? running.path : SYSTEM_CANDIDATES.chromium.find((p) => !isHeadlessShell(p) && existsSync(p));
  expect(whole, `no system Chromium browser among ${SYSTEM_CANDIDATES.chromium.join(', ')}: apt-get install -y chromium`).toBeTruthy();
  const options = launchOptionsFor({ engine: 'chromium', source: 'system', path: whole!, driver: 'playwright', product: 'Chromium' });
  const browser = await chromium.launch(options);
  try {
    const page = await browser.newPage();
    await page.goto('chrome://version');
    const switches = (await page.locator('#command_line').innerText()).split(/\s+/).filter((a) => a.startsWith('--disable-features='));
    expect(switches).toHaveLength(1);
    const features = switches[0]!.slice('--disable-features='.length).split(',');
    expect(features).toEqual(expect.arrayContaining(['HttpsUpgrades', 'Translate', ...UI_FEATURES_OFF]));
    const targets = (await (await browser.newBrowserCDPSession()).send('Target.getTargets')).targetInfos.map((t) => t.url);
    expect(targets.filter((u) => u.startsWith('chrome://omnibox-popup'))).toEqual([]);
  } finally {
    await browser.close();
  }
});
