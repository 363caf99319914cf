/**
 * The page's SDK bundle: servers/site/sdk/flows.ts with the project's own pinned
 * `@aws-sdk/client-s3` and `@aws-sdk/lib-storage`, bundled for browsers with esbuild at run time.
 *
 * Never committed: built into node_modules/.cache/corsproof/sdk-<key>/flows.js, where the key is made
 * of the versions and integrity hashes package-lock.json records for every @aws-sdk/*, @smithy/* and
 * @aws-crypto/* package, esbuild's version and the flow sources. So it is built once per change of
 * those (the first run after `npm ci` or an SDK bump), not once per run or per worker; workers that
 * start together wait for the one building it (a lock directory next to it).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SOURCES = ['flows.ts', 'contract.ts'].map((f) => fileURLToPath(new URL(`./${f}`, import.meta.url)));
export const SDK_BUNDLE_PATH = '/__corsproof/sdk/flows.js';

export interface SdkBundle {
  /** Absolute path of the built file. */
  file: string;
  /** @aws-sdk/client-s3 version inside. */
  sdkVersion: string;
  /** Every bundled package and its version, from package-lock.json. */
  versions: Record<string, string>;
  bytes: number;
  /** How long the esbuild run took when this bundle was built (ms). */
  buildMs: number;
  /** True when this call found it already built. */
  cached: boolean;
}

interface LockEntry {
  version?: string;
  integrity?: string;
}

function lockedPackages(): Record<string, LockEntry> {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const out: Record<string, LockEntry> = {};
  for (const [path, entry] of Object.entries(lock.packages)) {
    const m = /^node_modules\/((@aws-sdk|@smithy|@aws-crypto)\/[^/]+|esbuild|tslib|buffer|events|stream-browserify)$/.exec(path);
    if (m) out[m[1]!] = entry;
  }
  return out;
}

/** The cache key and what it is made of. */
export function bundleKey(): { key: string; sdkVersion: string; versions: Record<string, string> } {
  const pkgs = lockedPackages();
  const sdkVersion = pkgs['@aws-sdk/client-s3']?.version;
  if (!sdkVersion) throw new Error('package-lock.json has no node_modules/@aws-sdk/client-s3: run npm ci');
  const h = createHash('sha256');
  for (const name of Object.keys(pkgs).sort()) h.update(`${name}@${pkgs[name]!.version}#${pkgs[name]!.integrity ?? ''}\n`);
  for (const f of SOURCES) h.update(readFileSync(f));
  const versions = Object.fromEntries(Object.entries(pkgs).map(([k, v]) => [k, v.version ?? '?']));
  return { key: `sdk-${sdkVersion}-${h.digest('hex').slice(0, 16)}`, sdkVersion, versions };
}

const cacheDir = () => join(ROOT, 'node_modules', '.cache', 'corsproof');

let inProcess: Promise<SdkBundle> | undefined;

/** The bundle, built if needed (once per key across processes). */
export function ensureSdkBundle(): Promise<SdkBundle> {
  inProcess ??= build().catch((e: unknown) => {
    inProcess = undefined;
    throw e;
  });
  return inProcess;
}

async function build(): Promise<SdkBundle> {
  const { key, sdkVersion, versions } = bundleKey();
  const dir = join(cacheDir(), key);
  const file = join(dir, 'flows.js');
  const meta = join(dir, 'meta.json');
  const done = (): SdkBundle | undefined => {
    if (!existsSync(meta) || !existsSync(file)) return undefined;
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { buildMs: number };
    return { file, sdkVersion, versions, bytes: statSync(file).size, buildMs: m.buildMs, cached: true };
  };
  const ready = done();
  if (ready) return ready;

  mkdirSync(cacheDir(), { recursive: true });
  const lock = `${dir}.lock`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another process builds it: wait for its result; take over a lock left by a dead builder.
      const now = done();
      if (now) return now;
      try {
        if (Date.now() - statSync(lock).mtimeMs > 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > deadline) throw new Error(`the SDK bundle ${file} was not built within 120 s by another process (lock ${lock})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    const again = done();
    if (again) return again;
    const { build: esbuild } = await import('esbuild');
    const t0 = performance.now();
    const result = await esbuild({
      entryPoints: [SOURCES[0]!],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      // The engines corsproof drives, and what the SDK itself supports.
      target: ['chrome110', 'firefox115', 'safari16'],
      minify: true,
      legalComments: 'none',
      write: false,
      define: { SDK_VERSION: JSON.stringify(sdkVersion) },
      logLevel: 'silent',
    });
    const buildMs = Math.round(performance.now() - t0);
    const code = result.outputFiles[0]!.contents;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${file}.tmp`, code);
    renameSync(`${file}.tmp`, file);
    writeFileSync(meta, JSON.stringify({ key, sdkVersion, versions, bytes: code.length, buildMs, builtAt: new Date().toISOString() }, null, 2));
    return { file, sdkVersion, versions, bytes: code.length, buildMs, cached: false };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
