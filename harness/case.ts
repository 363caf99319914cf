/**
 * The generic case runner: fixture configuration × scenario × engine.
 *
 * Each case gets its own bucket (so configurations never leak between cases) and a unique
 * `corsproof-case` id on every URL (so engines' preflight caches never leak either). Cases are
 * prepared, then run in the engine's page several at a time — one round trip for a whole batch, the
 * cases one after the other inside the page, each bracketed by its own markers; batches flow through
 * a pipeline (`CasePipeline`) so that the page never waits for the harness — and each case's
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

/** A batch's cases made ready to run: buckets configured, objects stored, URLs (presigned) made. */
async function prepareCases(ctx: CaseContext, requests: readonly CaseRequest[]): Promise<Prepared[]> {
  // Together: a remote store's uploads overlap (a remote bucket's configuration changes stay in order).
  const settled = await Promise.allSettled(requests.map((r) => prepare(ctx, r)));
  const prepared = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await finishCases(ctx, prepared);
    throw failed.reason;
  }
  return prepared;
}

async function finishCases(ctx: CaseContext, prepared: readonly Prepared[]): Promise<void> {
  await Promise.all(prepared.map((p) => ctx.target.finish(p.req.caseId)));
}

/** Each case's evidence once the page has run the batch; the cases' buckets go afterwards. */
async function completeCases(ctx: CaseContext, preparing: Promise<Prepared[]>, running: Promise<CaseRun[]>): Promise<CaseEvidence[]> {
  running.catch(() => {}); // observed below; when the preparation failed, that failure is the one reported
  const prepared = await preparing; // a preparation that failed has finished its own cases
  try {
    const runs = await running;
    const evidences = prepared.map((p, i) => evidenceOf(ctx, p, runs[i]!));
    // A remote store keeps no record for us: replay each case's requests before its object goes.
    if (ctx.target.replay) await Promise.all(evidences.map(async (e, i) => (e.store = await storeEvidence(ctx, prepared[i]!, e))));
    return evidences;
  } finally {
    await finishCases(ctx, prepared);
  }
}

/**
 * Batches of cases through one engine page, as a pipeline. The page runs the batches one after the
 * other, each in one round trip (the cases one after the other inside it, never overlapping). Against
 * corsproof's bucket server the page never waits for the harness: a batch is prepared as soon as it
 * is queued, while the page still runs the batches before it, and a batch's evidence is gathered
 * while the page already runs the next one (each case has its own bucket and its own id, so nothing
 * of one batch reaches another). Against a remote bucket each batch runs whole — prepared, run,
 * replayed — after the one before: that bucket holds one configuration at a time.
 */
export class CasePipeline {
  /** Settles when the page may start the next batch. */
  private page: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: CaseContext,
    private readonly caseTimeoutMs: number,
  ) {}

  /**
   * Queues a batch; resolves with each case's evidence, in order. A case that runs out of time is
   * reported in its evidence (`harnessErrors`); the others are unaffected. `around` wraps the page's
   * part (a trace chunk, for instance).
   */
  run(requests: readonly CaseRequest[], around: (page: () => Promise<CaseRun[]>) => Promise<CaseRun[]> = (page) => page()): Promise<CaseEvidence[]> {
    const { ctx } = this;
    const ahead = ctx.target.kind === 'local';
    const before = this.page;
    const preparing = ahead ? prepareCases(ctx, requests) : before.then(() => prepareCases(ctx, requests));
    const running = Promise.all([preparing, before]).then(([prepared]) =>
      around(() =>
        ctx.engine.runBatch(
          prepared.map((p) => p.spec),
          this.caseTimeoutMs,
        ),
      ),
    );
    const evidences = completeCases(ctx, preparing, running);
    this.page = (ahead ? running : evidences).catch(() => {});
    return evidences;
  }
}

/**
 * The size of the next batch of a group of cases run in order (the matrix suite's fixture × its
 * scenarios: tests/config/test.ts), `remaining` cases before the group's end: double the last one
 * (few round trips), but never more than half of what remains, so the batches shrink towards the
 * group's end. The page finishes a group's last batch with nothing queued behind it until
 * Playwright has finished that batch's tests and handed the worker its next group, so the smaller
 * that batch, the shorter the page waits. Measured in WebKit with 25 scenarios: the 2-4-8-11 split
 * left the page idle ≈ 150 ms at every group's end, this 2-4-8-6-3-1-1 split ≈ 15 ms.
 */
export function nextBatchSize(last: number, remaining: number): number {
  return Math.max(1, Math.min(2 * last, Math.ceil(remaining / 2)));
}

/**
 * Runs the cases in one round trip to the engine's page (a remote bucket: one per fixture) and
 * returns each case's evidence, in order.
 */
export async function runCases(ctx: CaseContext, requests: readonly CaseRequest[], caseTimeoutMs: number): Promise<CaseEvidence[]> {
  const pipeline = new CasePipeline(ctx, caseTimeoutMs);
  if (ctx.target.kind === 'remote') {
    // A remote bucket holds one configuration at a time: a batch never spans two fixtures there.
    const out: CaseEvidence[] = [];
    for (let i = 0; i < requests.length; ) {
      let j = i;
      while (j < requests.length && requests[j]!.fixture === requests[i]!.fixture) j++;
      out.push(...(await pipeline.run(requests.slice(i, j))));
      i = j;
    }
    return out;
  }
  return pipeline.run(requests);
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
