/**
 * Store profiles: fixtures/stores/<store>.json lists a store's known divergences from S3 — what
 * fixtures/engine-differences.json is for engines. Each entry names the cases (fixtures ×
 * scenarios × engines), what S3 and the store make of them, the header difference behind it, the
 * reason and the evidence it was measured with.
 *
 * A run against a store with a profile passes when its divergences are exactly the profile's: a
 * divergence the profile does not list (new), one it lists that did not happen (vanished — the
 * store or an engine changed), or one that happened for another header (changed) fails its case,
 * naming it. Without a profile every divergence is reported and none fails.
 *
 * The file is checked by a zod schema when it loads; an error names the file, the key and what is
 * allowed (harness/data.ts parseDataFile), and a case listed twice, an unknown fixture or scenario,
 * or an entry that covers nothing is an error too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ENGINE_NAMES, type EngineName } from '../engines/types.js';
import { DataFileError, FIXTURES_DIR, parseDataFile } from './data.js';
import type { CaseClass } from './divergence.js';

const engineName = z.enum(ENGINE_NAMES as unknown as [EngineName, ...EngineName[]]);
const id = z.string().regex(/^[a-z0-9-]+$/, 'a fixture or scenario id (lower-case letters, digits, hyphens)');

const divergenceSchema = z.strictObject({
  /**
   * headers (default): the store's CORS headers make the engines do what they do (harness/divergence.ts
   * names the header). behaviour: the store's CORS headers are S3's, but it does something else
   * with the request (e.g. accepts what S3 refuses), so its answers cannot explain the verdict.
   */
  kind: z.enum(['headers', 'behaviour']).default('headers'),
  /** Fixture ids (fixtures/cors/<id>.json) this entry covers. */
  fixtures: z.array(id).min(1),
  /** Scenario ids (fixtures/scenarios/<id>.json). */
  scenarios: z.array(id).min(1),
  engines: z.array(engineName).min(1),
  /** What S3 + the Fetch standard give, as reports write it: "allowed", "blocked (credentials-flag at the response)". */
  s3: z.string().min(1),
  /** What the Fetch standard gives on the store's own answers; for a behaviour, what the engines do. */
  store: z.string().min(1),
  /** The headers whose difference decides it (canonical names, as harness/divergence.ts reports them); [] for a behaviour. */
  headers: z.array(z.string().min(1)),
  /** The difference in user terms. */
  difference: z.string().min(1),
  /** Why the store answers so (its code, documentation, an issue). */
  reason: z.string().min(1),
  /** How it was measured: the run, the replayed exchange, what each engine said. */
  evidence: z.string().min(1),
});

const profileSchema = z.strictObject({
  /** The store's name in reports. */
  store: z.string().min(1),
  /** The versions this profile was measured on. */
  versions: z.string().min(1),
  description: z.string().min(1),
  divergences: z.array(divergenceSchema),
  /** Header differences that change no verdict in the matrix, for the record (not checked per case). */
  headerDifferences: z
    .array(z.strictObject({ kind: z.string().min(1), difference: z.string().min(1), reason: z.string().min(1) }))
    .optional(),
});

export type StoreProfile = z.infer<typeof profileSchema> & { name: string; file: string };
export type ProfileDivergence = z.infer<typeof divergenceSchema>;

export const STORES_DIR = join(FIXTURES_DIR, 'stores');

/** The profile file for a store name, or the file CORSPROOF_STORE_PROFILE names. */
export function profileFile(name: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env['CORSPROOF_STORE_PROFILE']?.trim();
  if (explicit) return explicit;
  if (!name) return undefined;
  const f = join(STORES_DIR, `${name}.json`);
  return existsSync(f) ? f : undefined;
}

/**
 * Reads and checks a profile. `known` are the fixture and scenario ids that exist (each listed id
 * must be one of them; no fixture ids — the installed package has none — checks no fixture id).
 */
export function parseStoreProfile(file: string, value: unknown, known: { fixtures: readonly string[]; scenarios: readonly string[] }): StoreProfile {
  const p = parseDataFile(profileSchema, file, value);
  const problems: string[] = [];
  const owner = new Map<string, number>();
  p.divergences.forEach((d, i) => {
    for (const f of d.fixtures) if (known.fixtures.length && !known.fixtures.includes(f)) problems.push(`divergences[${i}].fixtures: "${f}" is not a fixture (allowed: ${known.fixtures.join(', ')})`);
    for (const s of d.scenarios) if (!known.scenarios.includes(s)) problems.push(`divergences[${i}].scenarios: "${s}" is not a scenario (allowed: ${known.scenarios.join(', ')})`);
    for (const f of d.fixtures)
      for (const s of d.scenarios)
        for (const e of d.engines) {
          const k = `${f} × ${s} in ${e}`;
          const before = owner.get(k);
          if (before !== undefined) problems.push(`divergences[${i}]: ${k} is already listed by divergences[${before}] (a case may be listed once)`);
          else owner.set(k, i);
        }
  });
  if (problems.length) throw new DataFileError(file, problems);
  const name = file.replace(/^.*\//, '').replace(/\.json$/, '');
  return { ...p, name, file };
}

const cache = new Map<string, StoreProfile>();

export function loadStoreProfile(file: string, known: { fixtures: readonly string[]; scenarios: readonly string[] }): StoreProfile {
  let p = cache.get(file);
  if (!p) {
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new DataFileError(file, [(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON: ${(e as Error).message}`]);
    }
    p = parseStoreProfile(file, value, known);
    cache.set(file, p);
  }
  return p;
}

/** The entry listing this case, if any. */
export function profileEntry(p: StoreProfile, fixture: string, scenario: string, engine: EngineName): { entry: ProfileDivergence; index: number } | undefined {
  const index = p.divergences.findIndex((d) => d.fixtures.includes(fixture) && d.scenarios.includes(scenario) && d.engines.includes(engine));
  return index < 0 ? undefined : { entry: p.divergences[index]!, index };
}

export type ProfileCheck =
  | { status: 'as-s3' | 'known' | 'unprofiled'; message: string; entry?: number }
  | { status: 'new' | 'vanished' | 'changed'; message: string; entry?: number };

export const PROFILE_FAILURES: ReadonlySet<ProfileCheck['status']> = new Set(['new', 'vanished', 'changed']);

/** Holds one case's classification (harness/divergence.ts classifyCase) to the store's profile. */
export function checkAgainstProfile(
  profile: StoreProfile | undefined,
  c: { fixture: string; scenario: string; engine: EngineName; storeLabel: string },
  cls: CaseClass,
): ProfileCheck {
  const name = `${c.fixture} × ${c.scenario} in ${c.engine}`;
  const where = profile ? profileEntry(profile, c.fixture, c.scenario, c.engine) : undefined;
  const file = profile?.file.replace(/^.*\/fixtures\//, 'fixtures/');
  if (cls.status === 'unexplained') {
    // Not the store's headers: a known behaviour of the store, or the matrix's own failure.
    if (where?.entry.kind === 'behaviour' && where.entry.store === cls.observed) {
      return { status: 'known', entry: where.index, message: `known store behaviour (${file} divergences[${where.index}]): ${where.entry.difference}` };
    }
    return { status: 'as-s3', message: `not a store divergence: ${cls.message}` };
  }
  if (!profile) {
    return cls.status === 'store-divergence'
      ? { status: 'unprofiled', message: `store divergence (no profile for ${c.storeLabel}, reported only): ${cls.divergence.summary}` }
      : { status: 'as-s3', message: 'as S3 (no profile for this store)' };
  }
  if (cls.status === 'as-s3') {
    return where
      ? {
          status: 'vanished',
          entry: where.index,
          message: `${name}: ${file} divergences[${where.index}] lists it as a known divergence (${where.entry.difference}), but ${c.storeLabel} now answers as S3 would — remove it from the profile, or find out what changed in the store or the engine`,
        }
      : { status: 'as-s3', message: 'as S3' };
  }
  const d = cls.divergence;
  if (!where || where.entry.kind === 'behaviour') {
    return {
      status: 'new',
      message: `new store divergence, ${name}: ${d.summary} (headers: ${d.headers.join(', ') || 'none named'}). If the store is expected to answer so, add it to ${file} with its reason and evidence`,
    };
  }
  const sameHeaders = [...where.entry.headers].sort().join(',') === d.headers.join(',');
  if (!sameHeaders || where.entry.store !== d.store || where.entry.s3 !== d.s3) {
    return {
      status: 'changed',
      entry: where.index,
      message: `${name}: ${file} divergences[${where.index}] expects S3 → ${where.entry.s3}, the store → ${where.entry.store} (headers ${where.entry.headers.join(', ')}); this run: S3 → ${d.s3}, the store → ${d.store} (headers ${d.headers.join(', ') || 'none'}) — ${d.summary}`,
    };
  }
  return { status: 'known', entry: where.index, message: `known store divergence (${file} divergences[${where.index}]): ${d.summary}` };
}
