/**
 * The generic case runner: one fixture configuration × one scenario × one engine.
 *
 * Each case gets its own bucket (so configurations never leak between cases) and a unique
 * `corsproof-case` id on every URL (so engines' preflight caches never leak either), runs the
 * scenario's requests in the engine's page, and gathers the evidence: what page JavaScript saw, the
 * engine's own messages, the browser's network events, and the bucket server's record of every
 * exchange, preflights included.
 */
import type { BucketServer } from '../servers/bucket/index.js';
import { CASE_PARAM, type Exchange, type ExchangeLog } from '../servers/exchange-log.js';
import type { CaseRun, CaseSpec, EngineSession } from '../engines/types.js';
import { classify, type Classification } from './reasons.js';
import { expectationFor, fillPlaceholders, type CorsFixture, type Expectation, type Origins, type Scenario } from './data.js';

export interface CaseContext {
  engine: EngineSession;
  bucket: BucketServer;
  log: ExchangeLog;
  origins: Origins;
}

export type Verdict = 'allowed' | 'blocked';

export interface CaseEvidence {
  caseId: string;
  fixture: string;
  scenario: string;
  engine: string;
  bucketName: string;
  objectUrl: string;
  /** The configuration the bucket had, placeholders filled (null = none). */
  cors: unknown;
  /** The fixture's expectation for this engine (a per-engine reason already applied). */
  expected: Expectation;
  observed: Verdict;
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

export function observedVerdict(run: CaseRun): Verdict {
  return run.result.steps.every((s) => s.settled === 'response') ? 'allowed' : 'blocked';
}

export async function runCorsCase(
  ctx: CaseContext,
  fixture: CorsFixture,
  scenario: Scenario,
  opts: { caseId: string; timeoutMs: number },
): Promise<CaseEvidence> {
  const declared = fixture.expect[scenario.id];
  if (!declared) throw new Error(`fixture ${fixture.id} has no expectation for scenario ${scenario.id}`);
  const expected = expectationFor(declared, ctx.engine.build.engine);
  const bucketName = caseBucketName(fixture.id, scenario.id);
  const cors = fixture.cors === null ? undefined : { CORSRules: fillPlaceholders(fixture.cors, ctx.origins) };
  const store = ctx.bucket.store;
  store.createBucket(bucketName);
  store.setCors(bucketName, cors);
  store.putObject(bucketName, scenario.object.key, scenario.object.body, scenario.object.contentType);

  const objectUrl = `${ctx.bucket.url}/${bucketName}/${encodeURIComponent(scenario.object.key)}?${CASE_PARAM}=${encodeURIComponent(opts.caseId)}`;
  const spec: CaseSpec = {
    caseId: opts.caseId,
    steps: scenario.steps.map((s) => ({ ...s, url: objectUrl })),
  };
  try {
    const run = await ctx.engine.run(spec, opts.timeoutMs);
    return {
      caseId: opts.caseId,
      fixture: fixture.id,
      scenario: scenario.id,
      engine: ctx.engine.build.engine,
      bucketName,
      objectUrl,
      cors: cors ?? null,
      expected,
      observed: observedVerdict(run),
      ...withClassification(classify(ctx.engine.build.engine, run.messages)),
      run,
      exchanges: ctx.log.forCase(opts.caseId),
    };
  } finally {
    store.deleteBucket(bucketName);
  }
}

function withClassification(c: Classification | undefined): { classification?: Classification } {
  return c ? { classification: c } : {};
}
