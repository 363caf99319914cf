/**
 * The generic case runner: fixture configuration × scenario × engine.
 *
 * Each case gets its own bucket (so configurations never leak between cases) and a unique
 * `corsproof-case` id on every URL (so engines' preflight caches never leak either). Cases are
 * prepared, then run in the engine's page several at a time — one round trip for a whole batch, the
 * cases one after the other inside the page, each bracketed by its own markers — and each case's
 * evidence is gathered on its own: what page JavaScript saw, the engine's own messages, the
 * browser's network events, and the bucket server's record of every exchange, preflights included.
 *
 * The runner measures; what a case is expected to do is harness/expectation.ts's business.
 */
import type { Exchange, ExchangeLog } from '../servers/exchange-log.js';
import type { BucketTarget } from './target.js';
import type { CaseRun, CaseSpec, EngineSession, Step } from '../engines/types.js';
import { classify, type Classification } from './reasons.js';
import { objectBody, type CorsFixture, type Scenario } from './data.js';
import type { Origins } from './origins.js';
import type { Prediction, Verdict } from './oracle.js';
import { caseExpectation, fixtureConfiguration, type EngineExpectation } from './expectation.js';
import { storeCaseEvidence, type StoreCaseEvidence } from './store-case.js';
import { flowObservedAt, flowObservedVerdict, prepareFlowStep } from './flows.js';

/** How long one case may take in the page before it is aborted and reported (every engine). */
export const CASE_TIMEOUT_MS = 15_000;

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
  expected: EngineExpectation;
  /** What the oracle computes from the S3 engine and the Fetch standard. */
  oracle: Prediction;
  observed: Verdict;
  /** Where the block happened, read from the server's record (an unanswered preflight stops the request). */
  observedAt?: 'preflight' | 'response';
  classification?: Classification;
  /** Steps the harness could not run (a case that ran out of time names what it waited for). */
  harnessErrors: string[];
  run: CaseRun;
  /** The bucket server's record of this case, in arrival order (empty for a remote target). */
  exchanges: Exchange[];
  /** False against a remote endpoint: there is no server record, only the engines' evidence. */
  serverRecord: boolean;
  target: string;
  /**
   * A remote store: its answers to a replay of the case's requests, how they differ from S3's, and
   * whether the verdict is S3's or a store divergence (harness/store-case.ts).
   */
  store?: StoreCaseEvidence;
}

export interface CaseRequest {
  fixture: CorsFixture;
  scenario: Scenario;
  caseId: string;
  /** Where the bucket is addressed (default BUCKET_ORIGIN). */
  targetOrigin?: string;
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

interface Prepared {
  req: CaseRequest;
  spec: CaseSpec;
  bucketName: string;
  objectUrl: string;
}

async function prepare(ctx: CaseContext, req: CaseRequest): Promise<Prepared> {
  const { fixture, scenario, caseId } = req;
  const cors = fixtureConfiguration(fixture, ctx.origins);
  const stored: Array<[string, string]> = scenario.object.cacheControl ? [['Cache-Control', scenario.object.cacheControl]] : [];
  const { bucket: bucketName, url: objectUrl, urlFor, access } = await ctx.target.prepare(
    caseId,
    cors,
    { key: scenario.object.key, body: objectBody(scenario.object), contentType: scenario.object.contentType, headers: stored },
    ctx.origins.SITE_ORIGIN,
    req.targetOrigin,
  );
  const steps: Step[] = [];
  const presigned = new Map<string, string>();
  for (const s of scenario.steps) {
    if (s.kind === 'flow') {
      steps.push(await prepareFlowStep(s, access, objectUrl));
      continue;
    }
    const method = s.kind === 'img' ? 'GET' : (s.method ?? 'GET').toUpperCase();
    // One URL per method within a case (a remote target presigns): steps that must hit the same
    // URL — the HTTP cache of img-then-fetch — do.
    if (urlFor && !presigned.has(method)) presigned.set(method, await urlFor(method));
    steps.push({ ...s, url: presigned.get(method) ?? objectUrl } as Step);
  }
  return { req, spec: { caseId, steps }, bucketName, objectUrl };
}

function evidenceOf(ctx: CaseContext, p: Prepared, run: CaseRun): CaseEvidence {
  const { fixture, scenario, caseId, targetOrigin } = p.req;
  const engineName = ctx.engine.build.engine;
  const expectation = caseExpectation(fixture, scenario, ctx.origins, targetOrigin);
  const exchanges = ctx.target.serverRecord ? ctx.log.forCase(caseId) : [];
  const observed = observedVerdict(run, scenario);
  const classification = classify(engineName, run.messages);
  // A block happened at the preflight when the last thing the bucket saw was an OPTIONS that no
  // actual request followed.
  const last = exchanges[exchanges.length - 1];
  // A flow says which of its requests failed: stopped at the preflight when that one never arrived.
  const flowAt = run.result.steps[0]?.failedRequest ? flowObservedAt(run.result.steps[0], exchanges) : undefined;
  const stoppedAtPreflight = flowAt ? flowAt === 'preflight' : last?.method === 'OPTIONS';
  const harnessErrors = run.result.steps.filter((s) => s.settled === 'harness-error').map((s) => `${s.errorName}: ${s.errorMessage}`);
  return {
    caseId,
    fixture: fixture.id,
    scenario: scenario.id,
    engine: engineName,
    bucketName: p.bucketName,
    objectUrl: p.objectUrl,
    cors: fixtureConfiguration(fixture, ctx.origins) ?? null,
    expected: expectation.engines[engineName],
    // The oracle as it applies to this engine (exchange counts differ where engines behave differently).
    oracle: expectation.oracles[engineName],
    observed,
    ...(observed === 'blocked' && ctx.target.serverRecord ? { observedAt: stoppedAtPreflight ? ('preflight' as const) : ('response' as const) } : {}),
    ...(classification ? { classification } : {}),
    harnessErrors,
    run,
    exchanges,
    serverRecord: ctx.target.serverRecord,
    target: ctx.target.describe(),
  };
}

function storeEvidence(ctx: CaseContext, p: Prepared, e: CaseEvidence): Promise<StoreCaseEvidence> {
  return storeCaseEvidence(ctx.target, {
    caseId: e.caseId,
    fixture: e.fixture,
    scenario: p.req.scenario,
    cors: fixtureConfiguration(p.req.fixture, ctx.origins),
    origin: ctx.origins.SITE_ORIGIN,
    engine: ctx.engine.build.engine,
    expected: e.expected,
    observed: e.observed,
    ...(e.classification ? { engineReasons: e.classification.reasons } : {}),
    run: e.run,
  });
}

/**
 * Runs the cases in one round trip to the engine's page and returns each case's evidence, in
 * order. A case that runs out of time is reported in its evidence (`harnessErrors`); the others
 * are unaffected.
 */
export async function runCases(ctx: CaseContext, requests: readonly CaseRequest[], caseTimeoutMs: number): Promise<CaseEvidence[]> {
  if (ctx.target.kind === 'remote') {
    // A remote bucket holds one configuration at a time: a batch never spans two fixtures there.
    const out: CaseEvidence[] = [];
    for (let i = 0; i < requests.length; ) {
      let j = i;
      while (j < requests.length && requests[j]!.fixture === requests[i]!.fixture) j++;
      out.push(...(await runBatchOf(ctx, requests.slice(i, j), caseTimeoutMs)));
      i = j;
    }
    return out;
  }
  return runBatchOf(ctx, requests, caseTimeoutMs);
}

async function runBatchOf(ctx: CaseContext, requests: readonly CaseRequest[], caseTimeoutMs: number): Promise<CaseEvidence[]> {
  const prepared: Prepared[] = [];
  try {
    // Together: a remote store's uploads overlap (a remote bucket's configuration changes stay in order).
    const settled = await Promise.allSettled(requests.map((r) => prepare(ctx, r)));
    for (const r of settled) if (r.status === 'fulfilled') prepared.push(r.value);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const runs = await ctx.engine.runBatch(
      prepared.map((p) => p.spec),
      caseTimeoutMs,
    );
    const evidences = prepared.map((p, i) => evidenceOf(ctx, p, runs[i]!));
    // A remote store keeps no record for us: replay each case's requests before its object goes.
    if (ctx.target.replay) await Promise.all(evidences.map(async (e, i) => (e.store = await storeEvidence(ctx, prepared[i]!, e))));
    return evidences;
  } finally {
    await Promise.all(prepared.map((p) => ctx.target.finish(p.req.caseId)));
  }
}

/** One case on its own (one round trip). */
export async function runCorsCase(
  ctx: CaseContext,
  fixture: CorsFixture,
  scenario: Scenario,
  opts: { caseId: string; timeoutMs: number; targetOrigin?: string },
): Promise<CaseEvidence> {
  const [e] = await runCases(ctx, [{ fixture, scenario, caseId: opts.caseId, ...(opts.targetOrigin ? { targetOrigin: opts.targetOrigin } : {}) }], opts.timeoutMs);
  return e!;
}
