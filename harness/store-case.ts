/**
 * A case against a remote store: what the store answered (a labelled server-to-server replay, plus
 * the response headers the engine's own network events report), how that differs from what S3
 * would answer, whether the engine's verdict is S3's or a store divergence, and — when the store
 * has a profile — whether that divergence is a known one.
 *
 * The case runner (harness/case.ts) calls `storeCaseEvidence` after the engine ran a case and
 * before the case's object is removed; the matrix spec holds the result to the profile with
 * `storeFailure`.
 */
import type { CaseRun } from '../engines/types.js';
import type { EngineName } from '../engines/types.js';
import type { CorsConfiguration } from '../servers/s3/cors/index.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR, loadFixtures, loadScenarios, type Expectation, type Scenario } from './data.js';
import { classifyCase, compareWithS3, type CaseClass, type HeaderDifference } from './divergence.js';
import type { Prediction, Verdict } from './oracle.js';
import type { ReasonId } from './reasons.js';
import type { ReplayedExchange } from './replay.js';
import { checkAgainstProfile, loadStoreProfile, PROFILE_FAILURES, profileFile, type ProfileCheck, type StoreProfile } from './store-profile.js';
import type { BucketTarget, StoreIdentity } from './target.js';

export interface EngineResponse {
  method: string;
  url: string;
  status?: number;
  /** The engine's failure text when it reported no response (a CORS block: net::ERR_FAILED, …). */
  failure?: string;
  /** The CORS response headers (access-control-*, vary) the engine reported. */
  headers: Record<string, string>;
}

export interface StoreCaseEvidence {
  store: StoreIdentity;
  /** Sent by corsproof from Node after the engine ran the case — what the store answers to the same requests, not what the browser received. */
  replay: ReplayedExchange[];
  /** The engine's own view of the responses (its network events; preflights never appear there). */
  engineResponses: EngineResponse[] | { unavailable: string };
  /** The Fetch standard on S3's answers (the oracle) and on the store's replayed answers. */
  s3: Prediction;
  storePrediction: Prediction;
  /** Every header difference from S3, per request. */
  differences: HeaderDifference[];
  /** The engine's verdict: S3's, a store divergence, or unexplained. */
  verdict: CaseClass;
  /** The profile's word on it (fixtures/stores/<store>.json). */
  profile: ProfileCheck & { file?: string };
}

const CORS_HEADER = (k: string) => k.startsWith('access-control-') || k === 'vary';

function engineResponses(run: CaseRun): StoreCaseEvidence['engineResponses'] {
  if (!run.network) return { unavailable: run.networkNote ?? 'the engine reports no network events' };
  return run.network
    .filter((n) => n.event === 'response' || n.event === 'requestfailed')
    .map((n) => ({
      method: n.method,
      url: n.url,
      ...(n.status !== undefined ? { status: n.status } : {}),
      ...(n.failure !== undefined ? { failure: n.failure } : {}),
      headers: Object.fromEntries(Object.entries(n.headers ?? {}).filter(([k]) => CORS_HEADER(k.toLowerCase())).map(([k, v]) => [k.toLowerCase(), v])),
    }));
}

let known: { fixtures: string[]; scenarios: string[] } | undefined;
/** The ids a profile may name; the installed package ships no fixtures, so there any fixture id goes. */
const knownIds = () =>
  (known ??= { fixtures: existsSync(join(FIXTURES_DIR, 'cors')) ? loadFixtures().map((f) => f.id) : [], scenarios: loadScenarios().map((s) => s.id) });

/** The store's profile, when one is committed or CORSPROOF_STORE_PROFILE names one. */
export function storeProfile(store: StoreIdentity): StoreProfile | undefined {
  const file = profileFile(store.name);
  return file ? loadStoreProfile(file, knownIds()) : undefined;
}

export async function storeCaseEvidence(
  target: BucketTarget,
  c: {
    caseId: string;
    fixture: string;
    scenario: Scenario;
    cors: CorsConfiguration | undefined;
    origin: string;
    engine: EngineName;
    expected: Expectation;
    observed: Verdict;
    engineReasons?: readonly ReasonId[];
    run: CaseRun;
  },
): Promise<StoreCaseEvidence> {
  if (!target.replay || !target.store) throw new Error(`${target.describe()} is not a remote store: it has no replay`);
  const replay = await target.replay(c.caseId, c.scenario.steps, c.origin);
  const comparison = compareWithS3(c.cors, c.scenario, c.origin, replay, c.engine);
  const verdict = classifyCase({
    engine: c.engine,
    expected: c.expected,
    observed: c.observed,
    ...(c.engineReasons ? { engineReasons: c.engineReasons } : {}),
    comparison,
  });
  const profile = storeProfile(target.store);
  return {
    store: target.store,
    replay,
    engineResponses: engineResponses(c.run),
    s3: comparison.s3,
    storePrediction: comparison.store,
    differences: comparison.differences,
    verdict,
    profile: {
      ...checkAgainstProfile(profile, { fixture: c.fixture, scenario: c.scenario.id, engine: c.engine, storeLabel: target.store.label }, verdict),
      ...(profile ? { file: profile.file } : {}),
    },
  };
}

/**
 * What fails a store case: a divergence its profile does not know (or knows differently), or one
 * the profile lists that did not happen. Undefined when the case is fine by its store's profile. An
 * unexplained verdict is left to the matrix's own assertions (it is not the store's doing), unless
 * the profile lists it as a known behaviour of the store.
 */
export function storeFailure(s: StoreCaseEvidence): string | undefined {
  return PROFILE_FAILURES.has(s.profile.status) ? s.profile.message : undefined;
}

/** Whether the case's verdict is the store's, known to differ from S3's (so not held to S3's). */
export function storeOwnsVerdict(s: StoreCaseEvidence): boolean {
  return s.verdict.status === 'store-divergence' || (s.verdict.status === 'unexplained' && s.profile.status === 'known');
}

/** Lines for a failure message: what the store answered to the replay, and what that means. */
export function storeLines(s: StoreCaseEvidence): string[] {
  const ex = s.replay.map((x) => {
    const acao = x.responseHeaders['access-control-allow-origin'];
    const code = /<Code>([^<]*)<\/Code>/.exec(x.bodyPreview)?.[1];
    return `${x.kind === 'preflight' ? `OPTIONS (${x.headers['access-control-request-method']})` : x.method} → ${x.error ?? `${x.status}${code ? ` ${code}` : ''}`}${acao ? ` ACAO ${acao}` : ''}${x.responseHeaders['access-control-allow-credentials'] ? ' ACAC' : ''}`;
  });
  const v = s.verdict;
  return [
    `store:    ${s.store.label}`,
    `store replay (sent from Node, not the browser): ${ex.join(', ') || 'nothing'}`,
    `store's answers give: ${s.storePrediction.verdict === 'blocked' ? `blocked (${s.storePrediction.reason} at the ${s.storePrediction.at})` : s.storePrediction.verdict} — ${s.storePrediction.why}`,
    v.status === 'store-divergence' ? v.divergence.summary : v.status === 'unexplained' ? `not a store divergence: ${v.message}` : 'the engine did as S3 would',
    `profile:  ${s.profile.message}`,
  ];
}
