/**
 * The page's SDK bundle: servers/site/sdk/flows.ts with the project's own pinned
 * `@aws-sdk/client-s3` and `@aws-sdk/lib-storage`, bundled for browsers with esbuild at run time.
 *
 * Never committed: built into node_modules/.cache/corsproof/sdk-<key>/flows.js (the node_modules
 * the SDK is installed in — the clone's, or the user's project's for the installed package), where
 * the key is made of the installed version of every @aws-sdk/*, @smithy/* and @aws-crypto/*
 * package there (what `npm ci` installs from package-lock.json, so the lockfile's versions), esbuild's
 * version and the flow sources. So it is built once per change of those — the first run after
 * `npm ci` or an SDK bump — not once per run or per worker: workers that start together wait for
 * the one building it (a lock directory next to it).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The flow sources next to this module: TypeScript in the clone, compiled JavaScript in the package. */
const SOURCES = ['flows', 'contract'].map((f) => (existsSync(join(HERE, `${f}.ts`)) ? join(HERE, `${f}.ts`) : join(HERE, `${f}.js`)));
export const SDK_BUNDLE_PATH = '/__corsproof/sdk/flows.js';

export interface SdkBundle {
  /** Absolute path of the built file. */
  file: string;
  /** @aws-sdk/client-s3 version inside. */
  sdkVersion: string;
  /** Every @aws-sdk/*, @smithy/*, @aws-crypto/* package installed next to it, and esbuild, with versions. */
  versions: Record<string, string>;
  bytes: number;
  /** How long the esbuild run took when this bundle was built (ms). */
  buildMs: number;
  /** True when this call found it already built. */
  cached: boolean;
}

/** The node_modules folder the bundled SDK resolves from. */
function sdkNodeModules(): string {
  const pkg = createRequire(import.meta.url).resolve('@aws-sdk/client-s3/package.json');
  const i = pkg.lastIndexOf(`${sep}node_modules${sep}`);
  return pkg.slice(0, i + `${sep}node_modules`.length);
}

function installedVersions(nodeModules: string): Record<string, string> {
  const out: Record<string, string> = {};
  const version = (dir: string): string | undefined => {
    try {
      return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
    } catch {
      return undefined;
    }
  };
  for (const scope of ['@aws-sdk', '@smithy', '@aws-crypto']) {
    const dir = join(nodeModules, scope);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      const v = version(join(dir, name));
      if (v) out[`${scope}/${name}`] = v;
    }
  }
  const esbuild = version(dirname(createRequire(import.meta.url).resolve('esbuild/package.json')));
  if (esbuild) out['esbuild'] = esbuild;
  return out;
}

/** The cache key and what it is made of. */
export function bundleKey(): { key: string; sdkVersion: string; versions: Record<string, string>; nodeModules: string } {
  const nodeModules = sdkNodeModules();
  const versions = installedVersions(nodeModules);
  const sdkVersion = versions['@aws-sdk/client-s3'];
  if (!sdkVersion) throw new Error(`@aws-sdk/client-s3 is not installed in ${nodeModules}: run npm ci`);
  const h = createHash('sha256');
  for (const name of Object.keys(versions).sort()) h.update(`${name}@${versions[name]}\n`);
  for (const f of SOURCES) h.update(readFileSync(f));
  return { key: `sdk-${sdkVersion}-${h.digest('hex').slice(0, 16)}`, sdkVersion, versions, nodeModules };
}

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
  const { key, sdkVersion, versions, nodeModules } = bundleKey();
  const cacheDir = join(nodeModules, '.cache', 'corsproof');
  const dir = join(cacheDir, key);
  const file = join(dir, 'flows.js');
  const meta = join(dir, 'meta.json');
  const done = (): SdkBundle | undefined => {
    if (!existsSync(meta) || !existsSync(file)) return undefined;
    const m = JSON.parse(readFileSync(meta, 'utf8')) as { buildMs: number };
    return { file, sdkVersion, versions, bytes: statSync(file).size, buildMs: m.buildMs, cached: true };
  };
  const ready = done();
  if (ready) return ready;

  mkdirSync(cacheDir, { recursive: true });
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
