/**
 * The generic case runner: one fixture configuration × one scenario × one engine.
 *
 * Each case gets its own bucket (so configurations never leak between cases) and a unique
 * `corsproof-case` id on every URL (so engines' preflight caches never leak either), runs the
 * scenario's requests in the engine's page, and gathers the evidence: what page JavaScript saw, the
 * engine's own messages, the browser's network events, and the bucket server's record of every
 * exchange, preflights included. It also computes what the oracle predicts for the case.
 */
import type { BucketServer } from '../servers/bucket/index.js';
import { CASE_PARAM, type Exchange, type ExchangeLog } from '../servers/exchange-log.js';
import type { CaseRun, CaseSpec, EngineSession, Step } from '../engines/types.js';
import { classify, type Classification } from './reasons.js';
import {
  expectationFor,
  fillPlaceholders,
  fixtureExpectation,
  objectBody,
  type CorsFixture,
  type Expectation,
  type Scenario,
} from './data.js';
import type { Origins } from './origins.js';
import { predict, type Prediction, type Verdict } from './oracle.js';

export interface CaseContext {
  engine: EngineSession;
  bucket: BucketServer;
  log: ExchangeLog;
  origins: Origins;
}

export interface CaseEvidence {
  caseId: string;
  fixture: string;
  scenario: string;
  engine: string;
  bucketName: string;
  objectUrl: string;
  /** The configuration the bucket had, placeholders filled (null = none). */
  cors: unknown;
  /** The fixture's hand-written expectation for this engine (engine differences applied). */
  expected: Expectation & { why?: string };
  /** What the oracle computes from the S3 engine and the Fetch standard. */
  oracle: Prediction;
  observed: Verdict;
  /** Where the block happened, read from the server's record (an unanswered preflight stops the request). */
  observedAt?: 'preflight' | 'response';
  classification?: Classification;
  run: CaseRun;
  /** The bucket server's record of this case, in arrival order. */
  exchanges: Exchange[];
}

let counter = 0;

/** A bucket name S3 would accept: 3–63 chars, lowercase letters, digits and hyphens. */
function caseBucketName(fixture: string, scenario: string): string {
  const n = (++counter).toString(36);
  const stem = `cp-${fixture}-${scenario}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 55).replace(/-+$/, '');
  return `${stem}-${n}`;
}

/** The verdict page JavaScript experienced. */
export function observedVerdict(run: CaseRun, scenario: Scenario): Verdict {
  if (!run.result.steps.every((s) => s.settled === 'response')) return 'blocked';
  if (scenario.readHeader) {
    const last = run.result.steps[run.result.steps.length - 1];
    return last?.readableHeaders?.[scenario.readHeader.toLowerCase()] !== undefined ? 'allowed' : 'hidden';
  }
  return 'allowed';
}

export async function runCorsCase(
  ctx: CaseContext,
  fixture: CorsFixture,
  scenario: Scenario,
  opts: { caseId: string; timeoutMs: number; /** Where the bucket is addressed (default BUCKET_ORIGIN). */ targetOrigin?: string },
): Promise<CaseEvidence> {
  const engineName = ctx.engine.build.engine;
  const cors = fixture.cors === null ? undefined : { CORSRules: fillPlaceholders(fixture.cors, ctx.origins) };
  const target = opts.targetOrigin ?? ctx.origins.BUCKET_ORIGIN;
  const oracle = predict(cors, scenario, ctx.origins.SITE_ORIGIN, new URL(target).origin);
  const expected = expectationFor(fixtureExpectation(fixture, scenario.id), engineName, oracle.at);
  const bucketName = caseBucketName(fixture.id, scenario.id);
  const store = ctx.bucket.store;
  store.createBucket(bucketName);
  store.setCors(bucketName, cors);
  const stored: Array<[string, string]> = scenario.object.cacheControl ? [['Cache-Control', scenario.object.cacheControl]] : [];
  store.putObject(bucketName, scenario.object.key, objectBody(scenario.object), scenario.object.contentType, stored);

  const objectUrl = `${target}/${bucketName}/${encodeURIComponent(scenario.object.key)}?${CASE_PARAM}=${encodeURIComponent(opts.caseId)}`;
  const spec: CaseSpec = { caseId: opts.caseId, steps: scenario.steps.map((s) => ({ ...s, url: objectUrl }) as Step) };
  try {
    const run = await ctx.engine.run(spec, opts.timeoutMs);
    const exchanges = ctx.log.forCase(opts.caseId);
    const observed = observedVerdict(run, scenario);
    const classification = classify(engineName, run.messages);
    // A block happened at the preflight when the last thing the bucket saw was an OPTIONS that no
    // actual request followed.
    const last = exchanges[exchanges.length - 1];
    const stoppedAtPreflight = last?.method === 'OPTIONS';
    return {
      caseId: opts.caseId,
      fixture: fixture.id,
      scenario: scenario.id,
      engine: engineName,
      bucketName,
      objectUrl,
      cors: cors ?? null,
      expected,
      oracle,
      observed,
      ...(observed === 'blocked' ? { observedAt: stoppedAtPreflight ? ('preflight' as const) : ('response' as const) } : {}),
      ...(classification ? { classification } : {}),
      run,
      exchanges,
    };
  } finally {
    store.deleteBucket(bucketName);
  }
}
