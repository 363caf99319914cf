/**
 * Fixture CORS configurations and request scenarios are data (fixtures/cors/*.json,
 * fixtures/scenarios/*.json). Add a file there to add a case; one generic runner runs them all.
 *
 * Every data file is checked against a schema when it loads (zod): a typo in a key, a scenario id
 * that does not exist, a reason nobody classifies, or a configuration S3 would refuse is an error
 * that names the file, the key and what is allowed — never a silent fallback.
 *
 * Fixture configurations are in the S3 console's JSON shape and name origins by placeholder
 * (`{{SITE_ORIGIN}}`), because the ports are chosen at run time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { validateCorsConfiguration, type CorsRule } from '../servers/s3/cors/index.js';
import { REASON_IDS, type ReasonId } from './reasons.js';
import { ENGINE_NAMES, type EngineName } from '../engines/types.js';
import { makeOrigins, type Origins } from './origins.js';
import { FLOW_IDS } from '../servers/site/sdk/contract.js';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Schemas

const reasonId = z.enum(REASON_IDS as [ReasonId, ...ReasonId[]]);
const engineName = z.enum(ENGINE_NAMES as unknown as [EngineName, ...EngineName[]]);
const where = z.enum(['preflight', 'response']);

/** The failure in user terms, one line (e.g. "ETag is not exposed: the multipart upload cannot complete"). */
const why = z.string().min(1).optional();
const expectationSchema = z.discriminatedUnion('verdict', [
  z.strictObject({ verdict: z.literal('allowed'), why }),
  /** The response was readable, but the header the scenario reads was not exposed to JavaScript. */
  z.strictObject({ verdict: z.literal('hidden'), why }),
  z.strictObject({
    verdict: z.literal('blocked'),
    reason: reasonId,
    why,
    /**
     * Only where engines legitimately differ: the reason a given engine reports instead, and why.
     * The verdict itself is never per-engine.
     */
    engines: z.partialRecord(engineName, z.strictObject({ reason: reasonId, why: z.string().min(1) })).optional(),
  }),
]);
export type Expectation = z.infer<typeof expectationSchema>;

const corsRuleSchema = z.strictObject({
  ID: z.string().optional(),
  AllowedHeaders: z.array(z.string()).optional(),
  AllowedMethods: z.array(z.string()),
  AllowedOrigins: z.array(z.string()),
  ExposeHeaders: z.array(z.string()).optional(),
  MaxAgeSeconds: z.number().int().optional(),
});

const fixtureSchema = z.strictObject({
  description: z.string().min(1),
  /** Where the configuration comes from (a document users copy it from), when it is not ours. */
  source: z.string().min(1).optional(),
  /** S3 console JSON with placeholders, or null for "no CORS configuration". */
  cors: z.array(corsRuleSchema).nullable(),
  /** Expected verdict per scenario id; "*" is the default for scenarios not listed. */
  expect: z.record(z.string(), expectationSchema),
});

const requestCommon = {
  method: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.string().optional(),
  credentials: z.enum(['omit', 'same-origin', 'include']).optional(),
};
const stepSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.enum(['fetch', 'fragment']),
    ...requestCommon,
    mode: z.enum(['cors', 'no-cors']).optional(),
    cache: z.enum(['default', 'no-store', 'reload', 'no-cache', 'force-cache', 'only-if-cached']).optional(),
  }),
  z.strictObject({ kind: z.literal('xhr'), ...requestCommon }),
  z.strictObject({ kind: z.literal('img'), crossorigin: z.enum(['anonymous', 'use-credentials']).optional() }),
  /** Real client code from the page's SDK bundle (harness/flows.ts, fixtures/flows/<flow>.json). */
  z.strictObject({
    kind: z.literal('flow'),
    flow: z.enum(FLOW_IDS),
    upload: z.strictObject({ text: z.string().optional(), size: z.number().int().positive().optional(), contentType: z.string().optional() }).optional(),
  }),
]);
export type ScenarioStep = z.infer<typeof stepSchema>;

const objectSchema = z.union([
  z.strictObject({ key: z.string().min(1), contentType: z.string(), cacheControl: z.string().optional(), body: z.string() }),
  z.strictObject({ key: z.string().min(1), contentType: z.string(), cacheControl: z.string().optional(), bodyBase64: z.string() }),
]);

const scenarioSchema = z.strictObject({
  description: z.string().min(1),
  /** The object the scenario's requests address; the harness stores it before the case. */
  object: objectSchema,
  /** false, or the Access-Control-Request-Method / -Headers the engine must send in its preflight. */
  preflight: z.union([z.literal(false), z.strictObject({ method: z.string(), headers: z.string().optional() })]),
  /** The verdict is whether JavaScript can read this response header ("hidden" when it cannot). */
  readHeader: z.string().optional(),
  /** false for requests CORS does not gate (plain <img>, no-cors fetch): they always complete. */
  corsGated: z.boolean().optional(),
  /** The scenario repeats one preflighted request to probe the preflight cache. */
  cacheProbe: z.boolean().optional(),
  steps: z.array(stepSchema).min(1),
});

/** A measured engine behaviour the oracle needs to predict per engine (the value per engine, with its evidence). */
const behaviourSchema = z.strictObject({
  what: z.string().min(1),
  /** What the Fetch standard (or the client's documentation) implies. */
  standard: z.union([z.boolean(), z.number()]),
  engines: z.record(engineName, z.strictObject({ value: z.union([z.boolean(), z.number()]), evidence: z.string().min(1) })),
  sources: z.array(z.string()).default([]),
});

const engineDifferencesSchema = z.strictObject({
  description: z.string(),
  differences: z.array(
    z.strictObject({
      engine: engineName,
      when: z.strictObject({ reason: reasonId, at: where }),
      reason: reasonId,
      why: z.string().min(1),
    }),
  ),
  /**
   * Where an engine's verdict for a scenario departs from the standard: in that engine, expect what
   * the fixture expects for scenario `as` instead (e.g. Firefox refetches a URL a plain <img>
   * cached, so its img-then-fetch is a plain CORS GET: what the fixture says of fetch-get).
   */
  verdicts: z
    .array(z.strictObject({ engine: engineName, scenario: z.string().min(1), as: z.string().min(1), why: z.string().min(1) }))
    .default([]),
  /** Engine behaviours behind those differences (and behind per-engine exchange counts), keyed by name. */
  behaviours: z.record(z.string(), behaviourSchema).default({}),
});

export type EngineDifference = z.infer<typeof engineDifferencesSchema>['differences'][number];
export type EngineVerdictDifference = z.infer<typeof engineDifferencesSchema>['verdicts'][number];
export type EngineBehaviour = z.infer<typeof behaviourSchema>;
export type CorsFixture = Omit<z.infer<typeof fixtureSchema>, 'cors'> & { id: string; cors: CorsRule[] | null };
export type Scenario = z.infer<typeof scenarioSchema> & { id: string };

/** Where a data file is, as a user names it (relative to the project when it is inside). */
const shown = (file: string) => (file.startsWith(ROOT) ? relative(ROOT, file) : file);

function pathText(path: readonly PropertyKey[]): string {
  return path.length ? path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(top level)';
}

/** Thrown for a data file that does not fit its schema; the message names file, key and what is allowed. */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${shown(file)}: ${problems.length === 1 ? problems[0] : `\n  - ${problems.join('\n  - ')}`}`);
    this.name = 'DataFileError';
  }
}

/** Parses `value` (read from `file`) with `schema`, or throws a DataFileError naming every problem. */
export function parseDataFile<S extends z.ZodType>(schema: S, file: string, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new DataFileError(
    file,
    r.error.issues.map((i) => {
      const extra = i.code === 'unrecognized_keys' ? ` (allowed here: ${allowedKeys(schema, i.path)})` : '';
      return `${pathText(i.path)}: ${i.message}${extra}`;
    }),
  );
}

/** The keys an object schema at `path` allows, for "unknown key" errors. */
function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string {
  let s: unknown = schema;
  for (const p of path) {
    const def = (s as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown; valueType?: unknown } }).def;
    if (def?.type === 'object' && typeof p === 'string') s = def.shape?.[p];
    else if (def?.type === 'array') s = def.element;
    else if (def?.type === 'record') s = def.valueType;
    else return 'see the schema in harness/data.ts';
    const inner = (s as { def?: { type?: string; innerType?: unknown } })?.def;
    if (inner?.type === 'optional' || inner?.type === 'nullable') s = inner.innerType;
  }
  const shape = (s as { def?: { shape?: Record<string, unknown> } })?.def?.shape;
  return shape ? Object.keys(shape).join(', ') : 'see the schema in harness/data.ts';
}

function readJson(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataFileError(file, [`not valid JSON: ${(e as Error).message}`]);
  }
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

// ---------------------------------------------------------------------------------------------
// Loaders

const differencesCache = new Map<string, z.infer<typeof engineDifferencesSchema>>();
const DIFFERENCES_FILE = join(FIXTURES_DIR, 'engine-differences.json');

function engineDifferencesFile(file: string): z.infer<typeof engineDifferencesSchema> {
  let d = differencesCache.get(file);
  if (!d) {
    d = parseDataFile(engineDifferencesSchema, file, readJson(file));
    differencesCache.set(file, d);
  }
  return d;
}

/** fixtures/engine-differences.json: where engines word the same failure differently (read once). */
export function loadEngineDifferences(file = DIFFERENCES_FILE): EngineDifference[] {
  return engineDifferencesFile(file).differences;
}

/** fixtures/engine-differences.json: per-engine verdicts where an engine departs from the standard. */
export function loadEngineVerdicts(file = DIFFERENCES_FILE): EngineVerdictDifference[] {
  return engineDifferencesFile(file).verdicts;
}

/** A measured engine behaviour's value for `engine` (the standard's value without an engine). */
export function engineBehaviour(name: string, engine: EngineName | undefined, file = DIFFERENCES_FILE): boolean | number {
  const b = engineDifferencesFile(file).behaviours[name];
  if (!b) throw new Error(`${shown(file)}: no behaviour "${name}" (known: ${Object.keys(engineDifferencesFile(file).behaviours).join(', ')})`);
  if (engine === undefined) return b.standard;
  const v = b.engines[engine];
  if (!v) throw new Error(`${shown(file)}: behaviours.${name} has no value for ${engine}`);
  return v.value;
}

/**
 * The expectation as it applies to one engine: a fixture's own per-engine reason first, then the
 * engine-differences table (which needs to know where the block happens: the oracle says).
 */
export function expectationFor(
  e: Expectation,
  engine: EngineName,
  at: 'preflight' | 'response' | undefined,
  differences: readonly EngineDifference[] = loadEngineDifferences(),
): Expectation & { why?: string } {
  if (e.verdict !== 'blocked') return e;
  const { engines, ...rest } = e;
  const own = engines?.[engine];
  if (own) return { ...rest, reason: own.reason, why: own.why };
  const d = differences.find((x) => x.engine === engine && x.when.reason === e.reason && x.when.at === at);
  return d ? { ...rest, reason: d.reason, why: d.why } : rest;
}

/**
 * A fixture's hand-written expectation for a scenario in one engine: the fixture's own, unless
 * engine-differences.json says this engine's verdict for the scenario is the fixture's verdict for
 * another scenario (then with that entry's why).
 */
export function fixtureExpectationIn(
  f: CorsFixture,
  scenario: string,
  engine: EngineName,
  verdicts: readonly EngineVerdictDifference[] = loadEngineVerdicts(),
): Expectation {
  const v = verdicts.find((x) => x.engine === engine && x.scenario === scenario);
  if (!v) return fixtureExpectation(f, scenario);
  const e = fixtureExpectation(f, v.as);
  return { ...e, why: `${v.why}${e.why ? ` — ${e.why}` : ''}` };
}

export function fixtureExpectation(f: CorsFixture, scenario: string): Expectation {
  const e = f.expect[scenario] ?? f.expect['*'];
  if (!e) throw new Error(`fixtures/cors/${f.id}.json has no expectation for scenario "${scenario}" and no "*" default`);
  return e;
}

export function objectBody(o: Scenario['object']): Buffer {
  return 'bodyBase64' in o ? Buffer.from(o.bodyBase64, 'base64') : Buffer.from(o.body, 'utf8');
}

/** Placeholder values used only to check that a fixture's configuration is one S3 accepts. */
const SAMPLE_ORIGINS = makeOrigins(8080, 9090);

/**
 * One fixture file, checked: the schema, every `expect` key names a scenario (or is "*"), every
 * scenario has an expectation, placeholders are known, and S3's PutBucketCors would accept the
 * configuration.
 */
export function parseFixture(file: string, value: unknown, scenarioIds: readonly string[]): CorsFixture {
  const f = parseDataFile(fixtureSchema, file, value);
  const problems: string[] = [];
  for (const key of Object.keys(f.expect)) {
    if (key !== '*' && !scenarioIds.includes(key)) {
      problems.push(`expect.${key}: no scenario is named "${key}" (allowed: "*" or one of ${scenarioIds.join(', ')})`);
    }
  }
  if (!f.expect['*']) {
    const missing = scenarioIds.filter((s) => !f.expect[s]);
    if (missing.length) problems.push(`expect: no "*" default and no expectation for ${missing.join(', ')}`);
  }
  if (f.cors) {
    try {
      const err = validateCorsConfiguration({ CORSRules: fillPlaceholders(f.cors, SAMPLE_ORIGINS) as CorsRule[] });
      if (err) problems.push(`cors: S3 would refuse this configuration: ${err.code}: ${err.message}`);
    } catch (e) {
      problems.push(`cors: ${(e as Error).message} (allowed: ${Object.keys(SAMPLE_ORIGINS).map((k) => `{{${k}}}`).join(', ')})`);
    }
  }
  if (problems.length) throw new DataFileError(file, problems);
  return { id: basename(file, '.json'), ...f, cors: f.cors as CorsRule[] | null };
}

export function parseScenario(file: string, value: unknown): Scenario {
  return { id: basename(file, '.json'), ...parseDataFile(scenarioSchema, file, value) };
}

export function loadScenarios(dir = join(FIXTURES_DIR, 'scenarios')): Scenario[] {
  return jsonFiles(dir).map((file) => parseScenario(file, readJson(file)));
}

export function loadFixtures(dir = join(FIXTURES_DIR, 'cors'), scenarios: readonly Scenario[] = loadScenarios()): CorsFixture[] {
  const ids = scenarios.map((s) => s.id);
  return jsonFiles(dir).map((file) => parseFixture(file, readJson(file), ids));
}

const PLACEHOLDER = /\{\{([A-Z_]+)\}\}/g;

/** Replaces `{{NAME}}` placeholders in every string of `value`; an unknown name is an error. */
export function fillPlaceholders<T>(value: T, origins: Origins): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'string'
        ? v.replace(PLACEHOLDER, (_m, name: string) => {
            const o = (origins as unknown as Record<string, string | undefined>)[name];
            if (o === undefined) throw new Error(`unknown placeholder {{${name}}}`);
            return o;
          })
        : v,
    ),
  ) as T;
}
