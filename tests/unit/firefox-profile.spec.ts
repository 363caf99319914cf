/**
 * Firefox's warm profile (engines/firefox-profile.ts): each launch gets a directory of its own, a
 * copy of the template without anything one start leaves for the next (locks, HTTP cache, session
 * store, crash reports, the launcher's user.js), and an empty one while there is no template.
 */
import { test, expect } from '@playwright/test';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshProfile, templateDir } from '../../engines/firefox-profile.js';

function template(files: string[], marker = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-template-test-'));
  for (const f of files) {
    if (f.endsWith('/')) mkdirSync(join(dir, f), { recursive: true });
    else writeFileSync(join(dir, f), 'x');
  }
  if (marker) writeFileSync(join(dir, 'corsproof-template.json'), '{}');
  return dir;
}

test('a launch gets a copy of the template without locks, cache, session store, crash reports or user.js', () => {
  const t = template(['prefs.js', 'compatibility.ini', 'extensions.json', 'startupCache/', 'places.sqlite', 'lock', '.parentlock', 'cache2/', 'sessionstore.jsonlz4', 'sessionstore-backups/', 'sessionCheckpoints.json', 'crashes/', 'minidumps/', 'user.js', 'prefs.js.playwright']);
  const a = freshProfile(t);
  const b = freshProfile(t);
  try {
    expect(a).not.toBe(b);
    expect(readdirSync(a).sort()).toEqual(['compatibility.ini', 'extensions.json', 'places.sqlite', 'prefs.js', 'startupCache']);
    expect(readdirSync(b).sort()).toEqual(readdirSync(a).sort());
  } finally {
    for (const d of [t, a, b]) rmSync(d, { recursive: true, force: true });
  }
});

test('without a finished template (no marker: absent or still being built) a launch starts from an empty profile', () => {
  const t = template(['prefs.js', 'startupCache/'], false);
  const a = freshProfile(t);
  try {
    expect(readdirSync(a)).toEqual([]);
  } finally {
    for (const d of [t, a]) rmSync(d, { recursive: true, force: true });
  }
});

test('the template is per Firefox build: another binary, or the same path updated, gets its own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-template-key-'));
  const ff = join(dir, 'firefox');
  writeFileSync(ff, 'build 1');
  const first = templateDir(ff, dir);
  expect(templateDir(ff, dir)).toBe(first);
  utimesSync(ff, new Date(), new Date(Date.now() + 60_000));
  expect(templateDir(ff, dir), 'same path, new build').not.toBe(first);
  expect(templateDir(undefined, dir), "Playwright's own build").not.toBe(first);
  rmSync(dir, { recursive: true, force: true });
});
