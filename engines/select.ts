/**
 * Which build of each engine runs, decided once per worker and shown on every test.
 *
 * - Playwright's own builds where they are installed (developer laptops; CI after
 *   `npx playwright install --with-deps`).
 * - Otherwise the system's engines from Debian packages: Chromium over CDP (its headless shell when
 *   installed, else the whole browser), Firefox ESR over WebDriver BiDi (`channel: 'moz-firefox'`),
 *   and WebKitGTK's MiniBrowser through our own driver.
 * - `CORSPROOF_BROWSERS=bundled|system` forces one side; `CORSPROOF_<ENGINE>_PATH` names the
 *   executable (and implies the system driver for it).
 *
 * This module is pure (the filesystem comes in through `Probe`) so the choice is unit-tested for both
 * sides on any machine.
 */
import type { DriverKind, EngineChoice, EngineName } from './types.js';

export interface SelectionEnv {
  CORSPROOF_BROWSERS?: string | undefined;
  CORSPROOF_CHROMIUM_PATH?: string | undefined;
  CORSPROOF_FIREFOX_PATH?: string | undefined;
  CORSPROOF_WEBKIT_PATH?: string | undefined;
}

export interface Probe {
  /** Path of Playwright's own build of the engine if it is installed, else undefined. */
  bundledPath(engine: EngineName): string | undefined;
  exists(path: string): boolean;
}

/**
 * Where Debian (and derivatives) put each engine, in order of preference.
 *
 * Chromium's headless shell (Debian's `chromium-headless-shell`, built from the same source and
 * version as `chromium`) comes first. It is the build Playwright itself runs for headless Chromium:
 * Blink and the network service without the browser's UI. The CORS checks, the console lines and
 * the DevTools network events are the same, but a start costs less: measured here, a Chromium-only
 * `corsproof check` used 1.4–2.2 s less CPU with it than with the whole browser, and the chromium
 * project passed in full with either.
 */
export const SYSTEM_CANDIDATES: Record<EngineName, readonly string[]> = {
  chromium: ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium', '/usr/bin/chromium-browser'],
  firefox: ['/usr/bin/firefox-esr', '/usr/bin/firefox'],
  webkit: [
    '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
    '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
    '/usr/lib/x86_64-linux-gnu/webkitgtk-6.0/MiniBrowser',
    '/usr/lib/aarch64-linux-gnu/webkitgtk-6.0/MiniBrowser',
  ],
};

/** What to install, per engine, for each way of getting it. */
export const INSTALL_HINT: Record<EngineName, string> = {
  chromium: '`npx playwright install --with-deps chromium`, or on Debian `apt-get install -y chromium-headless-shell` (or `chromium`)',
  firefox: '`npx playwright install --with-deps firefox`, or on Debian `apt-get install -y firefox-esr` (Firefox ≥ 138)',
  webkit:
    '`npx playwright install --with-deps webkit`, or on Debian `apt-get install -y libwebkit2gtk-4.1-0 xvfb x11-apps` (WebKitGTK MiniBrowser)',
};

const PATH_VAR: Record<EngineName, keyof SelectionEnv> = {
  chromium: 'CORSPROOF_CHROMIUM_PATH',
  firefox: 'CORSPROOF_FIREFOX_PATH',
  webkit: 'CORSPROOF_WEBKIT_PATH',
};

const SYSTEM_DRIVER: Record<EngineName, DriverKind> = {
  chromium: 'playwright',
  firefox: 'playwright-bidi',
  webkit: 'minibrowser',
};

/** Whether a Chromium executable is the headless shell (no browser UI), by its Debian file name. */
export function isHeadlessShell(path: string): boolean {
  return /headless[-_]shell$/.test(path);
}

function systemProduct(engine: EngineName, path: string): string {
  if (engine === 'chromium') return isHeadlessShell(path) ? 'Chromium headless shell' : 'Chromium';
  if (engine === 'firefox') return /esr/i.test(path) ? 'Firefox ESR' : 'Firefox';
  return 'WebKitGTK';
}

const BUNDLED_PRODUCT: Record<EngineName, string> = { chromium: 'Chromium', firefox: 'Firefox', webkit: 'WebKit' };

export type Selection = { ok: true; choice: EngineChoice } | { ok: false; message: string };

export function chooseEngine(engine: EngineName, env: SelectionEnv, probe: Probe): Selection {
  const mode = (env.CORSPROOF_BROWSERS ?? 'auto').trim().toLowerCase() || 'auto';
  if (!['auto', 'bundled', 'system'].includes(mode)) {
    return { ok: false, message: `CORSPROOF_BROWSERS must be auto, bundled or system, not "${env.CORSPROOF_BROWSERS}"` };
  }
  const system = (path: string): Selection => ({
    ok: true,
    choice: { engine, source: 'system', path, driver: SYSTEM_DRIVER[engine], product: systemProduct(engine, path) },
  });

  const override = env[PATH_VAR[engine]]?.trim();
  if (override) {
    if (!probe.exists(override)) {
      return { ok: false, message: `${PATH_VAR[engine]}=${override} does not exist. Install ${INSTALL_HINT[engine]}.` };
    }
    return system(override);
  }

  if (mode !== 'system') {
    const bundled = probe.bundledPath(engine);
    if (bundled) {
      return {
        ok: true,
        choice: { engine, source: 'bundled', path: bundled, driver: 'playwright', product: BUNDLED_PRODUCT[engine] },
      };
    }
    if (mode === 'bundled') {
      return {
        ok: false,
        message: `Playwright's own ${engine} is not installed (CORSPROOF_BROWSERS=bundled). Run \`npx playwright install --with-deps ${engine}\`.`,
      };
    }
  }

  const found = SYSTEM_CANDIDATES[engine].find((p) => probe.exists(p));
  if (found) return system(found);
  return {
    ok: false,
    message:
      `No ${engine} engine found: Playwright's build is not installed and none of ${SYSTEM_CANDIDATES[engine].join(', ')} exists. ` +
      `Install ${INSTALL_HINT[engine]} (or set ${PATH_VAR[engine]}).`,
  };
}
