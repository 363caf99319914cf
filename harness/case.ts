/**
 * The generic case runner: one fixture configuration × one scenario × one engine.
 *
 * Each case gets its own bucket (so configurations never leak between cases) and a unique
 * `corsproof-case` id on every URL (so engines' preflight caches never leak either), runs the
 * scenario's requests in the engine's page, and gathers the evidence: what page JavaScript saw, the
 * engine's own messages, the browser's network events, and the bucket server's record of every
 * exchange, preflights included. It also computes what the oracle predicts for the case.
 */
import type { Exchange, ExchangeLog } from '../servers/exchange-log.js';
import type { BucketTarget } from './target.js';
import type { CaseRun, CaseSpec, EngineSession, Step } from '../engines/types.js';
import { classify, type Classification } from './reasons.js';
import {
  expectationFor,
  fillPlaceholders,
  fixtureExpectationIn,
  objectBody,
  type CorsFixture,
  type Expectation,
  type Scenario,
} from './data.js';
import type { Origins } from './origins.js';
import { predict, type Prediction, type Verdict } from './oracle.js';
import { flowObservedAt, flowObservedVerdict, prepareFlowStep } from './flows.js';

export interface CaseContext {
  engine: EngineSession;
  /** Where the case's bucket lives: corsproof's bucket server, or a remote endpoint. */
  target: BucketTarget;
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
  /** The bucket server's record of this case, in arrival order (empty for a remote target). */
  exchanges: Exchange[];
  /** False against a remote endpoint: there is no server record, only the engines' evidence. */
  serverRecord: boolean;
  target: string;
}

/** The verdict page JavaScript experienced. */
export function observedVerdict(run: CaseRun, scenario: Scenario): Verdict {
  if (scenario.steps[0]?.kind === 'flow' && run.result.steps[0]?.settled !== 'harness-error') return flowObservedVerdict(run.result.steps[0]!);
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
  const oracle = predict(cors, scenario, ctx.origins.SITE_ORIGIN, new URL(target).origin, engineName);
  const expected = expectationFor(fixtureExpectationIn(fixture, scenario.id, engineName), engineName, oracle.at);
  const stored: Array<[string, string]> = scenario.object.cacheControl ? [['Cache-Control', scenario.object.cacheControl]] : [];
  const { bucket: bucketName, url: objectUrl, urlFor, access } = await ctx.target.prepare(
    opts.caseId,
    cors,
    { key: scenario.object.key, body: objectBody(scenario.object), contentType: scenario.object.contentType, headers: stored },
    ctx.origins.SITE_ORIGIN,
    opts.targetOrigin,
  );
  const steps: Step[] = [];
  for (const s of scenario.steps) {
    if (s.kind === 'flow') {
      steps.push(await prepareFlowStep(s, access, objectUrl));
      continue;
    }
    const method = s.kind === 'img' ? 'GET' : (s.method ?? 'GET').toUpperCase();
    steps.push({ ...s, url: urlFor ? await urlFor(method) : objectUrl } as Step);
  }
  const spec: CaseSpec = { caseId: opts.caseId, steps };
  try {
    const run = await ctx.engine.run(spec, opts.timeoutMs);
    const exchanges = ctx.target.serverRecord ? ctx.log.forCase(opts.caseId) : [];
    const observed = observedVerdict(run, scenario);
    const classification = classify(engineName, run.messages);
    // A block happened at the preflight when the last thing the bucket saw was an OPTIONS that no
    // actual request followed.
    const last = exchanges[exchanges.length - 1];
    const flowAt = run.result.steps[0]?.failedRequest ? flowObservedAt(run.result.steps[0], exchanges) : undefined;
    const stoppedAtPreflight = flowAt ? flowAt === 'preflight' : last?.method === 'OPTIONS';
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
      ...(observed === 'blocked' && ctx.target.serverRecord ? { observedAt: stoppedAtPreflight ? ('preflight' as const) : ('response' as const) } : {}),
      ...(classification ? { classification } : {}),
      run,
      exchanges,
      serverRecord: ctx.target.serverRecord,
      target: ctx.target.describe(),
    };
  } finally {
    await ctx.target.finish(opts.caseId);
  }
}
