/**
 * A fresh Firefox profile for every launch, copied from a warm template.
 *
 * Firefox's first start on an empty profile installs its built-in add-ons, migrates its UI and
 * fills its startup cache before the first window is up: measured here (Firefox ESR 153 over
 * WebDriver BiDi, 2 cores), launch to a ready session took 4.3–5.1 s and 7.1 s of CPU from an empty
 * profile, 3.2–3.5 s and 4.8 s of CPU from a copy of a profile that had started once. Chromium gains
 * nothing from the same (1.4–1.7 s either way), so only Firefox gets a template.
 *
 * The template is a profile in which Firefox started once with no page, no preference of corsproof's
 * and no network: it holds no HTTP cache, cookie, HSTS entry or history of any test host, and every
 * launch copies it into a new directory of its own, so runs and workers share nothing. It lives in
 * node_modules/.cache/corsproof/, keyed by the Firefox build (path, size, mtime) and Playwright's
 * version. One process builds it (a lock directory); a launch that finds it missing or being built
 * starts from an empty profile as before, so nobody waits for it.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { BrowserType, LaunchOptions } from '@playwright/test';
import { binaryKey, engineCacheDir } from './cache-dir.js';

/** Files a started profile has that must never be carried into another launch. */
const NOT_COPIED = /^(lock|\.parentlock|cache2|sessionstore.*|sessionCheckpoints\.json|crashes|minidumps|datareporting|saved-telemetry-pings|user\.js|prefs\.js\.playwright)$/;

const MARKER = 'corsproof-template.json';

function playwrightVersion(): string {
  try {
    return (createRequire(import.meta.url)('@playwright/test/package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Where the template for this Firefox build is (whether or not it exists yet). */
export function templateDir(executablePath: string | undefined, root = engineCacheDir()): string {
  const h = createHash('sha256').update(playwrightVersion());
  if (executablePath) {
    h.update(binaryKey(executablePath));
  } else {
    h.update('playwright-bundled');
  }
  return join(root, `firefox-profile-${h.digest('hex').slice(0, 16)}`);
}

/**
 * A new, empty-of-state profile directory for one launch: a copy of the template when there is
 * one, else an empty directory. The caller removes it after the browser has closed.
 */
export function freshProfile(template: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-firefox-'));
  if (!existsSync(join(template, MARKER))) return dir;
  try {
    for (const name of readdirSync(template)) {
      if (name === MARKER || NOT_COPIED.test(name)) continue;
      cpSync(join(template, name), join(dir, name), { recursive: true });
    }
  } catch {
    // A template being replaced meanwhile: start empty.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  return dir;
}

/**
 * Builds the template if it is missing and nobody else is building it: Firefox starts once on an
 * empty profile (no preferences of corsproof's, no page), closes, and its profile becomes the
 * template. Returns false when it did not build one (present, another process building, or the
 * start failed: the caller's own launch then says why).
 */
export async function buildTemplate(type: BrowserType, template: string, options: Pick<LaunchOptions, 'executablePath'> & { channel?: string }): Promise<boolean> {
  if (existsSync(join(template, MARKER))) return false;
  mkdirSync(dirname(template), { recursive: true });
  const lock = `${template}.lock`;
  try {
    if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
  } catch {
    /* no lock */
  }
  try {
    mkdirSync(lock);
  } catch {
    return false;
  }
  const work = `${template}.build-${process.pid}`;
  try {
    rmSync(work, { recursive: true, force: true });
    const context = await type.launchPersistentContext(work, { ...options, headless: true });
    await context.close();
    writeFileSync(join(work, MARKER), JSON.stringify({ executablePath: options.executablePath ?? 'playwright-bundled', playwright: playwrightVersion(), builtAt: new Date().toISOString() }, null, 2));
    rmSync(template, { recursive: true, force: true });
    renameSync(work, template);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(lock, { recursive: true, force: true });
  }
}
