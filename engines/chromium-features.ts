/**
 * Chromium features a stock Chromium turns off for corsproof, merged into Playwright's own
 * `--disable-features` list.
 *
 * Why: a stock Chromium in headless mode is the whole browser, with its window's UI built off
 * screen. Chromium 156 preloads the omnibox popup's WebUI (chrome://omnibox-popup.top-chrome/ and its
 * AI-mode page) in a renderer of its own at every start. A page that only makes cross-origin
 * requests never opens it, yet it cost ≈ 2 s of CPU per launch on these two-core machines (four
 * launches: 22.4–23.0 s of system-wide CPU with it, 12.7–14.8 s without, measured side by side).
 * The headless shell (Playwright's own Chromium build, and Debian's `chromium-headless-shell`) has
 * no browser UI, so it gets nothing.
 *
 * Why merged: Chromium keeps only the last `--disable-features` on its command line, and Playwright
 * passes its own list (HttpsUpgrades, Translate, …) before the caller's arguments. A second switch
 * would silently turn Playwright's list back on. So corsproof reads Playwright's list from the
 * installed playwright-core, passes one switch with both lists, and asks Playwright to leave its own
 * out (`ignoreDefaultArgs`). When the list cannot be read exactly (a Playwright that builds it
 * differently), nothing is added: the launch is slower, never different.
 * tests/unit/chromium-features.spec.ts checks the reading, and reads chrome://version in a launched
 * Chromium for the one switch.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The browser-UI features corsproof turns off in a stock Chromium (see above). */
export const UI_FEATURES_OFF = ['WebUIOmniboxPopup', 'WebUIOmniboxAimPopup', 'PreloadTopChromeWebUI'] as const;

/**
 * Playwright's `disabledFeatures` array (packages/playwright-core/src/server/chromium/chromiumSwitches.ts)
 * read from its bundled source: only when every entry is a plain string literal, so the value read is
 * exactly the one Playwright passes.
 */
export function readPlaywrightDisabledFeatures(source: string): string[] | undefined {
  const m = /\bdisabledFeatures = \[([\s\S]*?)\]\.filter\(Boolean\);/.exec(source);
  if (!m) return undefined;
  const body = m[1]!.replace(/\/\/[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
  const entries = body.split(',').map((e) => e.trim()).filter((e) => e !== '');
  if (!entries.length || !entries.every((e) => /^"[A-Za-z0-9_]+"$/.test(e))) return undefined;
  return entries.map((e) => e.slice(1, -1));
}

let cached: { args: string[]; ignoreDefaultArgs: string[] } | null | undefined;

/**
 * The arguments that turn corsproof's features off on top of Playwright's, or undefined when
 * Playwright's list cannot be read exactly. Read once per process (a 3.5 MB file, a few ms).
 */
export function chromiumFeatureArgs(): { args: string[]; ignoreDefaultArgs: string[] } | undefined {
  if (cached === undefined) {
    cached = null;
    try {
      const fromTest = createRequire(createRequire(import.meta.url).resolve('@playwright/test/package.json'));
      const core = createRequire(fromTest.resolve('playwright/package.json')).resolve('playwright-core/package.json');
      const theirs = readPlaywrightDisabledFeatures(readFileSync(join(dirname(core), 'lib', 'coreBundle.js'), 'utf8'));
      if (theirs) {
        const merged = [...theirs, ...UI_FEATURES_OFF.filter((f) => !theirs.includes(f))];
        cached = { args: [`--disable-features=${merged.join(',')}`], ignoreDefaultArgs: [`--disable-features=${theirs.join(',')}`] };
      }
    } catch {
      // No readable playwright-core bundle: launch with Playwright's arguments alone.
    }
  }
  return cached ?? undefined;
}
