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
  | {
      verdict: 'blocked';
      reason: ReasonId;
      /** Where the browser stopped: at the preflight (the actual request is never sent) or at the actual response. */
      at: 'preflight' | 'response';
      /**
       * Only where engines legitimately differ: the reason a given engine reports instead, and why.
       * The verdict itself is never per-engine.
       */
      engines?: Partial<Record<EngineName, { reason: ReasonId; why: string }>>;
    };

/** The expectation as it applies to one engine (per-engine reason applied). */
export function expectationFor(e: Expectation, engine: EngineName): Expectation {
  if (e.verdict === 'allowed' || !e.engines?.[engine]) return e;
  const { engines: _all, ...rest } = e;
  return { ...rest, reason: e.engines[engine]!.reason };
}

export interface CorsFixture {
  id: string;
  description: string;
  source?: string;
  /** S3 console JSON with placeholders, or null for "no CORS configuration". */
  cors: CorsRule[] | null;
  expect: Record<string, Expectation>;
}

export interface ScenarioStep {
  kind: 'fetch';
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  credentials?: 'omit' | 'same-origin' | 'include';
  mode?: 'cors' | 'no-cors' | 'same-origin';
}

export interface Scenario {
  id: string;
  description: string;
  /** The object the scenario's requests address; the harness stores it before the case. */
  object: { key: string; body: string; contentType: string };
  /** false, or the Access-Control-Request-Method / -Headers the engine must send in its preflight. */
  preflight: false | { method: string; headers?: string };
  steps: ScenarioStep[];
}

export type { Origins } from './origins.js';

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
