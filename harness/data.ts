/**
 * Fixture CORS configurations and request scenarios are data (fixtures/cors/*.json,
 * fixtures/scenarios/*.json). Add a file there to add a case; one generic runner runs them all.
 *
 * Fixture configurations are in the S3 console's JSON shape and name origins by placeholder
 * (`{{SITE_ORIGIN}}`), because the ports are chosen at run time.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CorsRule } from '../servers/s3/cors/index.js';
import type { ReasonId } from './reasons.js';
import type { EngineName } from '../engines/types.js';
import type { Origins } from './origins.js';

export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));

export type Expectation =
  | { verdict: 'allowed' }
  /** The response was readable, but the header the scenario reads was not exposed to JavaScript. */
  | { verdict: 'hidden' }
  | {
      verdict: 'blocked';
      reason: ReasonId;
      /**
       * Only where engines legitimately differ: the reason a given engine reports instead, and why.
       * The verdict itself is never per-engine.
       */
      engines?: Partial<Record<EngineName, { reason: ReasonId; why: string }>>;
    };

export interface EngineDifference {
  engine: EngineName;
  when: { reason: ReasonId; at: 'preflight' | 'response' };
  reason: ReasonId;
  why: string;
}

const differencesCache = new Map<string, EngineDifference[]>();

/** fixtures/engine-differences.json: where engines word the same failure differently (read once). */
export function loadEngineDifferences(file = join(FIXTURES_DIR, 'engine-differences.json')): EngineDifference[] {
  let d = differencesCache.get(file);
  if (!d) {
    d = (JSON.parse(readFileSync(file, 'utf8')) as { differences: EngineDifference[] }).differences;
    differencesCache.set(file, d);
  }
  return d;
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

export interface CorsFixture {
  id: string;
  description: string;
  source?: string;
  /** S3 console JSON with placeholders, or null for "no CORS configuration". */
  cors: CorsRule[] | null;
  /** Expected verdict per scenario id; "*" is the default for scenarios not listed. */
  expect: Record<string, Expectation>;
}

export function fixtureExpectation(f: CorsFixture, scenario: string): Expectation {
  const e = f.expect[scenario] ?? f.expect['*'];
  if (!e) throw new Error(`fixtures/cors/${f.id}.json has no expectation for scenario "${scenario}" and no "*" default`);
  return e;
}

interface StepCommon {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  credentials?: 'omit' | 'same-origin' | 'include';
}
export type ScenarioStep =
  | (StepCommon & { kind: 'fetch' | 'fragment'; mode?: 'cors' | 'no-cors'; cache?: RequestCache })
  | (StepCommon & { kind: 'xhr' })
  | { kind: 'img'; crossorigin?: 'anonymous' | 'use-credentials' };

export interface Scenario {
  id: string;
  description: string;
  /** The object the scenario's requests address; the harness stores it before the case. */
  object: { key: string; contentType: string; cacheControl?: string } & ({ body: string } | { bodyBase64: string });
  /** false, or the Access-Control-Request-Method / -Headers the engine must send in its preflight. */
  preflight: false | { method: string; headers?: string };
  /** The verdict is whether JavaScript can read this response header ("hidden" when it cannot). */
  readHeader?: string;
  /** false for requests CORS does not gate (plain <img>, no-cors fetch): they always complete. */
  corsGated?: boolean;
  /** The scenario repeats one preflighted request to probe the preflight cache. */
  cacheProbe?: boolean;
  steps: ScenarioStep[];
}

export function objectBody(o: Scenario['object']): Buffer {
  return 'bodyBase64' in o ? Buffer.from(o.bodyBase64, 'base64') : Buffer.from(o.body, 'utf8');
}

function readJsonDir<T>(dir: string): Array<T & { id: string }> {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      try {
        return { id: basename(f, '.json'), ...(JSON.parse(text) as T) };
      } catch (e) {
        throw new Error(`${join(dir, f)}: ${(e as Error).message}`);
      }
    });
}

export function loadFixtures(dir = join(FIXTURES_DIR, 'cors')): CorsFixture[] {
  return readJsonDir<Omit<CorsFixture, 'id'>>(dir);
}

export function loadScenarios(dir = join(FIXTURES_DIR, 'scenarios')): Scenario[] {
  return readJsonDir<Omit<Scenario, 'id'>>(dir);
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
