/**
 * What a case is expected to do — computed in one place, used by the test's title, its assertion
 * and the matrix report, so the three can never name different things.
 *
 * The expectation is the fixture's hand-written one; per engine, the engine-differences table (or the
 * fixture's own per-engine entry) may name another reason for the same verdict. The oracle (the S3
 * engine's answers + the Fetch standard) is computed alongside: tests/unit/oracle.spec.ts holds the
 * hand-written expectations to it, and the engine-differences table needs to know where the oracle
 * says a block happens (preflight or response).
 */
import { ENGINE_NAMES, type EngineName } from '../engines/types.js';
import { expectationFor, fillPlaceholders, fixtureExpectation, fixtureExpectationIn, type CorsFixture, type Expectation, type Scenario } from './data.js';
import { predict, type Prediction } from './oracle.js';
import { makeOrigins, type Origins } from './origins.js';
import type { CorsConfiguration } from '../servers/s3/cors/index.js';

export type EngineExpectation = Expectation & { why?: string };

export interface CaseExpectation {
  /** The fixture's hand-written expectation, before engine differences. */
  declared: Expectation;
  /** What S3 + the Fetch standard predict for this case. */
  oracle: Prediction;
  /** The same per engine, with the engines' measured behaviours (fixtures/engine-differences.json "behaviours"). */
  oracles: Record<EngineName, Prediction>;
  /** The expectation each engine is held to. */
  engines: Record<EngineName, EngineExpectation>;
}

/** The fixture's configuration with the run's origins filled in (undefined: no CORS configuration). */
export function fixtureConfiguration(fixture: CorsFixture, origins: Origins): CorsConfiguration | undefined {
  return fixture.cors === null ? undefined : { CORSRules: fillPlaceholders(fixture.cors, origins) };
}

/**
 * `origins` are the run's (or, for a test title computed before any server runs, `titleOrigins`);
 * `target` is the origin the case's requests go to (default: the bucket's).
 */
export function caseExpectation(fixture: CorsFixture, scenario: Scenario, origins: Origins, target = origins.BUCKET_ORIGIN): CaseExpectation {
  const config = fixtureConfiguration(fixture, origins);
  const oracle = predict(config, scenario, origins.SITE_ORIGIN, new URL(target).origin);
  const oracles = Object.fromEntries(ENGINE_NAMES.map((e) => [e, predict(config, scenario, origins.SITE_ORIGIN, new URL(target).origin, e)])) as Record<EngineName, Prediction>;
  const declared = fixtureExpectation(fixture, scenario.id);
  // Per engine: engine-differences.json's per-engine verdicts ("verdicts"), then its per-engine reasons.
  const engines = Object.fromEntries(
    ENGINE_NAMES.map((e) => [e, expectationFor(fixtureExpectationIn(fixture, scenario.id, e), e, oracles[e].at)]),
  ) as Record<EngineName, EngineExpectation>;
  return { declared, oracle, oracles, engines };
}

/**
 * Stand-in origins for naming tests before the servers have ports. Where a block happens does not
 * depend on the port numbers, so the per-engine reasons computed with these are the run's own (the
 * matrix spec checks that they are).
 */
export function titleOrigins(pageOrigin?: string): Origins {
  const o = makeOrigins(8080, 9090);
  if (!pageOrigin) return o;
  const u = new URL(pageOrigin);
  return { ...o, SITE_ORIGIN: u.origin, SITE_HOST: u.hostname, SITE_PORT: u.port || (u.protocol === 'https:' ? '443' : '80') };
}

/**
 * "put-json should be blocked (missing-allow-origin; webkit: preflight-status)": the verdict, the
 * reason most engines report, and every engine that reports another.
 */
export function expectationTitle(scenarioId: string, x: CaseExpectation): string {
  const byEngine = ENGINE_NAMES.map((e) => [e, x.engines[e]] as const);
  const base = x.declared;
  const others = byEngine.filter(([, e]) => e.verdict === 'blocked' && base.verdict === 'blocked' && e.reason !== base.reason);
  const reason = base.verdict === 'blocked' ? ` (${base.reason}${others.map(([n, e]) => `; ${n}: ${(e as { reason: string }).reason}`).join('')})` : '';
  // An engine whose verdict departs from the standard (engine-differences.json "verdicts").
  const verdicts = byEngine.filter(([, e]) => e.verdict !== base.verdict).map(([n, e]) => `; ${n}: ${expectationLabel(e)}`).join('');
  return `${scenarioId} should be ${base.verdict}${reason}${verdicts}`;
}

/** One line for reports: "blocked (missing-allow-origin)". */
export const expectationLabel = (e: Expectation) => (e.verdict === 'blocked' ? `blocked (${e.reason})` : e.verdict);
