/**
 * The WebKitGTK version a report names (engines/webkitgtk.ts): asked of `MiniBrowser --version`
 * once per binary and remembered in corsproof's cache, asked again when the binary changes.
 */
import { test, expect } from '@playwright/test';
import { chmodSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedWebkitGtkVersion } from '../../engines/webkitgtk.js';

test('the version is asked once per MiniBrowser binary, and again when the binary changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-webkit-version-'));
  try {
    // A stand-in MiniBrowser that answers --version as 2.50 does and counts how often it was asked.
    const bin = join(dir, 'MiniBrowser');
    const asked = join(dir, 'asked');
    const script = (v: string) => `#!/bin/sh\necho x >> "${asked}"\necho "WebKitGTK ${v}"\n`;
    writeFileSync(bin, script('2.50.6'));
    chmodSync(bin, 0o755);
    const cache = join(dir, 'cache');
    const times = () => readFileSync(asked, 'utf8').split('\n').filter(Boolean).length;
    expect(await cachedWebkitGtkVersion(bin, ':0', cache)).toBe('2.50.6');
    expect(await cachedWebkitGtkVersion(bin, ':0', cache)).toBe('2.50.6');
    expect(times()).toBe(1);
    // An update replaces the binary (new size and mtime): the new version is read, not the old one.
    writeFileSync(bin, script('2.52.1 '));
    utimesSync(bin, new Date(), new Date(Date.now() + 5_000));
    expect(await cachedWebkitGtkVersion(bin, ':0', cache)).toBe('2.52.1');
    expect(times()).toBe(2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
