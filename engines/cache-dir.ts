/**
 * corsproof's cache folder for start-up state that is the same for every run on a machine
 * (Firefox's warm profile template, GStreamer's plugin registry, the version of WebKitGTK, the
 * Chromium relay, the test certificate): next to the installed Playwright, in
 * node_modules/.cache/corsproof/ (where the page's SDK bundle and a clone's compiled CLI are cached
 * too), else under the system's temporary folder.
 */
import { chmodSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export function engineCacheDir(): string {
  try {
    const pkg = createRequire(import.meta.url).resolve('@playwright/test/package.json');
    return join(dirname(dirname(dirname(pkg))), '.cache', 'corsproof');
  } catch {
    return join(tmpdir(), 'corsproof-cache');
  }
}

/**
 * What identifies one build of an installed binary for cached start-up state: its path, size and
 * mtime (a package update replaces the file). Throws when the file does not exist.
 */
export function binaryKey(path: string): string {
  const s = statSync(path);
  return `${path}\n${s.size}\n${s.mtimeMs}`;
}

/**
 * Writes a file of corsproof's cache whole or not at all (a temporary file renamed into place), so
 * another process reading it never sees half of it. `mode` is set exactly (umask aside). False when
 * it cannot be written: a read-only cache, and the caller works without it.
 */
export function writeCacheFile(file: string, data: string, mode?: number): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, data, mode === undefined ? {} : { mode });
    if (mode !== undefined) chmodSync(tmp, mode);
    renameSync(tmp, file);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}
