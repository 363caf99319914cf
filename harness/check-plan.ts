/**
 * `corsproof check`: the user's own configuration and page origins, run through the very same
 * matrix suite (tests/browser/verdicts.spec.ts) instead of the fixtures. The CLI writes a plan file
 * and names it in CORSPROOF_CHECK; the suite and playwright.config.ts read it from there.
 *
 * There is no hand-written expectation for a user's configuration: the expected verdict of every
 * case is the oracle's (the S3 engine's answers + the Fetch standard), and each engine must agree.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { CorsConfiguration } from '../servers/s3/cors/index.js';
import { loadEngineVerdicts, loadScenarios, parseDataFile, type CorsFixture, type Expectation, type Scenario } from './data.js';
import { predict } from './oracle.js';

export { CHECK_ENV } from './check-env.js';
import { CHECK_ENV } from './check-env.js';

export interface CheckPlan {
  /** Where the configuration came from (a file name), for titles and reports. */
  source: string;
  /** null = check a bucket without CORS configuration. */
  config: CorsConfiguration | null;
  /** Page origins to serve the page from, exactly as browsers write them. */
  origins: string[];
  /** Scenario ids; all scenarios when absent. */
  scenarios?: string[];
}

const planSchema = z.strictObject({
  source: z.string(),
  // The CLI parsed and validated the configuration with the S3 engine before writing the plan.
  config: z.strictObject({ CORSRules: z.array(z.record(z.string(), z.unknown())) }).nullable(),
  origins: z.array(z.string().regex(/^https?:\/\/[^/]+$/, 'an origin: scheme://host[:port], no path')).min(1),
  scenarios: z.array(z.string()).optional(),
});

export function loadCheckPlan(env: NodeJS.ProcessEnv = process.env): CheckPlan | undefined {
  const file = env[CHECK_ENV];
  if (!file) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${CHECK_ENV}=${file}: ${(e as Error).message}`);
  }
  return parseDataFile(planSchema, file, value) as CheckPlan;
}

/** The tag that ties a check test to the project serving its origin (project grep). */
export const originTag = (origin: string) => `[page ${origin}]`;

/** An origin as a name part: https://app.example.com:8443 → app-example-com-8443. */
export const originSlug = (origin: string) => new URL(origin).host.replace(/[^a-z0-9]+/gi, '-');

/** The fixture id a check gives an origin's cases (the matrix rows' `fixture`). */
export const checkFixtureId = (origin: string) => `check-${originSlug(origin)}`;

export function checkFixture(plan: CheckPlan, origin: string, scenarios: Scenario[]): CorsFixture {
  const expect: Record<string, Expectation> = {};
  // The oracle's standard verdicts; engine-differences.json's per-engine verdicts refer to other
  // scenarios (in Firefox, img-then-fetch is what fetch-get is), which are added even when not run.
  const referenced = loadEngineVerdicts()
    .map((v) => v.as)
    .filter((id) => !scenarios.some((s) => s.id === id));
  const all = referenced.length ? loadScenarios().filter((s) => referenced.includes(s.id)) : [];
  for (const s of [...scenarios, ...all]) {
    const p = predict(plan.config ?? undefined, s, origin);
    expect[s.id] = p.verdict === 'blocked' ? { verdict: 'blocked', reason: p.reason! } : { verdict: p.verdict };
  }
  return {
    id: checkFixtureId(origin),
    description: `${plan.source} with the page at ${origin} ${originTag(origin)}`,
    cors: plan.config ? plan.config.CORSRules : null,
    expect,
  };
}

export function checkScenarios(plan: CheckPlan, all: Scenario[]): Scenario[] {
  if (!plan.scenarios?.length) return all;
  return plan.scenarios.map((id) => {
    const s = all.find((x) => x.id === id);
    if (!s) throw new Error(`unknown scenario "${id}" (known: ${all.map((x) => x.id).join(', ')})`);
    return s;
  });
}
