/**
 * The oracle: what a standards-following browser must do with S3's answers, computed without a
 * browser. It asks the S3 engine (servers/s3/cors) what the bucket answers to the preflight and to
 * the actual request, and applies the Fetch standard's rules on top
 * (https://fetch.spec.whatwg.org/ — CORS-preflight fetch, CORS check, CORS-safelisted request
 * headers and methods, CORS-safelisted response header names, CORS-preflight cache).
 *
 * This file is the only place corsproof writes those rules down: `evaluate` decides one request
 * (what `corsproof explain` shows), `predict` a whole scenario (what the browser matrix expects),
 * built on `evaluate`.
 *
 * Where engines legitimately word the same failure differently, fixtures/engine-differences.json
 * says how (harness/data.ts `expectationFor`); the verdict itself never depends on the engine.
 */
import {
  decideActual,
  decidePreflight,
  type ActualDecision,
  type CorsConfiguration,
  type CorsRequestFacts,
  type HeaderList,
  type PreflightDecision,
} from '../servers/s3/cors/index.js';
import type { ReasonId } from './reasons.js';
import { engineBehaviour, type Scenario, type ScenarioStep } from './data.js';
import type { EngineName } from '../engines/types.js';
import { flowById, simulateFlow, type FlowBlock, type FlowTraceEntry } from './flows.js';

export type Verdict = 'allowed' | 'blocked' | 'hidden';

export interface Prediction {
  verdict: Verdict;
  reason?: ReasonId;
  /** Where a block happens: at the preflight (actual request never sent) or at the actual response. */
  at?: 'preflight' | 'response';
  /** OPTIONS requests the bucket must receive for the whole scenario. */
  preflights: number;
  /** Non-OPTIONS requests the bucket must receive. */
  actualRequests: number;
  /** Response header names page JavaScript can read (lower-case), when the response is readable. */
  readable?: string[];
  /** One line of why, for reports (for a flow: in user terms, e.g. which header S3 does not allow). */
  why: string;
  /** Flow steps: the oracle's walk through the flow's requests (fixtures/flows/<id>.json). */
  flow?: FlowTraceEntry[];
  /**
   * Blocks after the one that decided the verdict (e.g. a multipart upload's clean-up refused too):
   * the engine prints CORS errors for them even when the verdict is "hidden".
   */
  secondary?: FlowBlock[];
}

// ---- Fetch's request-side rules -----------------------------------------------------------------

/** Fetch: CORS-safelisted methods. */
const SAFELISTED_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST']);
/** Fetch "normalize a method": these names are upper-cased, any other is sent as written. */
const NORMALISED_METHODS: ReadonlySet<string> = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
/** Fetch "forbidden method": fetch() and XMLHttpRequest refuse to send these. */
const FORBIDDEN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE', 'TRACK']);
/** Fetch "forbidden request-header": page scripts cannot set these (plus any `proxy-` or `sec-` name). */
const FORBIDDEN_HEADERS: ReadonlySet<string> = new Set([
  'accept-charset', 'accept-encoding', 'access-control-request-headers', 'access-control-request-method', 'connection',
  'content-length', 'cookie', 'cookie2', 'date', 'dnt', 'expect', 'host', 'keep-alive', 'origin', 'referer', 'set-cookie',
  'te', 'trailer', 'transfer-encoding', 'upgrade', 'via',
]);
/** Fetch: CORS-safelisted response-header names; everything else needs Access-Control-Expose-Headers. */
const SAFELISTED_RESPONSE = ['cache-control', 'content-language', 'content-length', 'content-type', 'expires', 'last-modified', 'pragma'];
const SAFE_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

export const isSafelistedMethod = (method: string): boolean => SAFELISTED_METHODS.has(method);
export const normalizeMethod = (method: string): string => (NORMALISED_METHODS.has(method.toUpperCase()) ? method.toUpperCase() : method);
export const isForbiddenMethod = (method: string): boolean => FORBIDDEN_METHODS.has(method.toUpperCase());
export function isForbiddenRequestHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return FORBIDDEN_HEADERS.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-');
}

/** Fetch "CORS-unsafe request-header names": sorted, lower-cased (the ACRH value browsers send). */
export function unsafeRequestHeaders(headers: Record<string, string> = {}): string[] {
  const unsafe: string[] = [];
  for (const [rawName, value] of Object.entries(headers)) {
    const name = rawName.toLowerCase();
    let safe = false;
    if (value.length <= 128) {
      if (name === 'accept') safe = !/[\x00-\x08\x0a-\x1f"():<>?@[\\\]{}\x7f]/.test(value);
      else if (name === 'accept-language' || name === 'content-language') safe = /^[0-9A-Za-z *,\-.;=]*$/.test(value);
      else if (name === 'content-type') safe = SAFE_CONTENT_TYPES.has(value.split(';')[0]!.trim().toLowerCase());
      // Fetch: a "simple range header value" with a start (bytes=N- or bytes=N-M, N ≤ M, no
      // whitespace); suffix ranges (bytes=-N) are not safelisted. All three engines agree (measured).
      else if (name === 'range') {
        const m = /^bytes=(\d+)-(\d*)$/.exec(value);
        safe = m !== null && (m[2] === '' || Number(m[1]) <= Number(m[2]));
      }
    }
    if (!safe) unsafe.push(name);
  }
  return [...new Set(unsafe)].sort();
}

/** One request as Fetch sees it: its mode, normalised method, credentials mode and unsafe headers. */
export interface CorsRequest {
  mode: 'cors' | 'no-cors';
  method: string;
  /** The credentials mode is "include" (fetch credentials: 'include', XHR withCredentials, crossorigin="use-credentials"). */
  credentials: boolean;
  /** CORS-unsafe request-header names (sorted, lower-case): the preflight's Access-Control-Request-Headers. */
  unsafe: string[];
}

/** The request a scenario step (fixtures/scenarios/*.json, or explain's one fetch) makes. */
export function requestOf(step: Exclude<ScenarioStep, { kind: 'flow' }>): CorsRequest {
  if (step.kind === 'img') {
    // <img> without crossorigin is a no-cors request; crossorigin="anonymous" a CORS one without
    // credentials (cross-origin), "use-credentials" with.
    return { mode: step.crossorigin ? 'cors' : 'no-cors', method: 'GET', credentials: step.crossorigin === 'use-credentials', unsafe: [] };
  }
  const mode = step.kind !== 'xhr' && step.mode === 'no-cors' ? 'no-cors' : 'cors';
  return {
    mode,
    method: normalizeMethod(step.method ?? 'GET'),
    credentials: step.credentials === 'include',
    unsafe: mode === 'cors' ? unsafeRequestHeaders(step.headers) : [],
  };
}

// ---- Fetch's response-side rules ----------------------------------------------------------------

/** A header's value in an S3 answer (names compare case-insensitively). */
export const headerValue = (h: HeaderList, name: string): string | undefined => h.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

/** Fetch "CORS check" (+ the credentials rules); undefined when it passes. */
function corsCheck(h: HeaderList, origin: string, credentials: boolean): ReasonId | undefined {
  const acao = headerValue(h, 'Access-Control-Allow-Origin');
  if (acao === undefined) return 'missing-allow-origin';
  if (acao === '*' && !credentials) return undefined;
  if (acao === '*') return 'wildcard-with-credentials';
  if (acao !== origin) return 'origin-mismatch';
  if (credentials && headerValue(h, 'Access-Control-Allow-Credentials') !== 'true') return 'credentials-flag';
  return undefined;
}

const list = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);

/** A CORS-preflight cache entry made by an earlier request to the same URL. */
export interface PreflightCacheEntry {
  credentials: boolean;
  methods: string[];
  headers: string[];
}

/** Why the browser stopped a request. */
export interface Block {
  reason: ReasonId;
  at: 'preflight' | 'response';
  /** One line of why, for reports. */
  why: string;
  /** The headers of the response that failed (S3's CORS headers; none for a refused preflight). */
  headers: HeaderList;
  /** header-not-allowed: the first request header the preflight did not allow (lower-case). */
  header?: string;
}

/** What the browser and S3 do with one request. */
export interface RequestEvaluation {
  /** The page and the bucket share an origin: CORS does not apply (no preflight, no CORS check). */
  sameOrigin: boolean;
  preflight: {
    /** Fetch requires a preflight for this request (before consulting the preflight cache). */
    needed: boolean;
    /** What makes it needed: a method that is not safelisted, and the CORS-unsafe request headers. */
    because: { method?: string; headers: string[] };
    /** A preflight made earlier in the scenario answers for this request; none is sent. */
    cached: boolean;
    /** The preflight the browser sends and S3's answer, when one is sent. */
    sent?: { facts: CorsRequestFacts; decision: PreflightDecision };
  };
  actual: {
    /** Whether the browser sends the actual request (not after a failed preflight). */
    sent: boolean;
    /** Whether it carries an Origin header (Fetch: always on a CORS request, else only unless GET/HEAD). */
    origin: boolean;
    /** S3's answer to it — also when it is not sent, as S3 would answer it sent directly. */
    decision: ActualDecision;
  };
  block?: Block;
  /**
   * Response header names page JavaScript can read (lower-case) when the response reaches it
   * through CORS; [] for an opaque (no-cors) response; undefined when blocked or same-origin.
   */
  readable?: string[];
  /** The preflight-cache entry this request's preflight leaves behind (unless Max-Age is 0). */
  cache?: PreflightCacheEntry;
}

/**
 * Where the answers come from: S3's CORS engine (the default), or — harness/divergence.ts — what a
 * real store answered to a replay of the same requests, shaped as the engine's decisions so every
 * rule below applies to it unchanged.
 */
export interface Decider {
  preflight(facts: CorsRequestFacts): PreflightDecision;
  actual(facts: CorsRequestFacts): ActualDecision;
}

export const S3_DECIDER: Decider = { preflight: decidePreflight, actual: decideActual };

/**
 * One request from a page on `origin` to the object `where.key` of a bucket with `config`, at
 * `where.target` (the bucket's origin; default: another origin than the page's). `where.cache`
 * holds the preflight-cache entries earlier requests of the page left for this URL.
 */
export function evaluate(
  config: CorsConfiguration | undefined,
  req: CorsRequest,
  origin: string,
  where: { /** undefined: the bucket itself (ListObjects, POST Object). */ key?: string; target?: string; cache?: readonly PreflightCacheEntry[]; decider?: Decider },
): RequestEvaluation {
  const sameOrigin = where.target !== undefined && where.target === origin;
  const because = { ...(SAFELISTED_METHODS.has(req.method) ? {} : { method: req.method }), headers: req.unsafe };
  const needed = !sameOrigin && req.mode === 'cors' && (because.method !== undefined || req.unsafe.length > 0);
  const cached =
    needed &&
    (where.cache ?? []).some(
      (c) =>
        c.credentials === req.credentials &&
        (SAFELISTED_METHODS.has(req.method) || c.methods.includes(req.method)) &&
        req.unsafe.every((n) => c.headers.includes(n)),
    );
  const sendsOrigin = (req.mode === 'cors' && !sameOrigin) || (req.method !== 'GET' && req.method !== 'HEAD');
  const key = where.key !== undefined ? { key: where.key } : {};
  const decider = where.decider ?? S3_DECIDER;
  const decision = decider.actual({ method: req.method, ...(sendsOrigin ? { origin } : {}), bucketExists: true, ...(config ? { config } : {}), ...key });
  const result = (rest: Omit<RequestEvaluation, 'sameOrigin' | 'preflight' | 'actual'> & { sent?: RequestEvaluation['preflight']['sent']; actualSent: boolean }): RequestEvaluation => {
    const { sent, actualSent, ...more } = rest;
    return {
      sameOrigin,
      preflight: { needed, because, cached, ...(sent ? { sent } : {}) },
      actual: { sent: actualSent, origin: sendsOrigin, decision },
      ...more,
    };
  };

  if (sameOrigin) return result({ actualSent: true });
  if (req.mode === 'no-cors') return result({ actualSent: true, readable: [] });

  let sent: RequestEvaluation['preflight']['sent'];
  let entry: PreflightCacheEntry | undefined;
  if (needed && !cached) {
    const facts: CorsRequestFacts = {
      method: 'OPTIONS',
      origin,
      accessControlRequestMethod: req.method,
      ...(req.unsafe.length ? { accessControlRequestHeaders: req.unsafe.join(',') } : {}),
      bucketExists: true,
      ...(config ? { config } : {}),
      ...key,
    };
    const p = decider.preflight(facts);
    sent = { facts, decision: p };
    const stop = (block: Omit<Block, 'at'>) => result({ sent, actualSent: false, block: { ...block, at: 'preflight' } });
    if (p.kind === 'refused') {
      return stop({ reason: 'missing-allow-origin', why: `S3 refused the preflight (${p.status} ${p.code}: ${p.reason})`, headers: [] });
    }
    const failed = corsCheck(p.headers, origin, req.credentials);
    if (failed) return stop({ reason: failed, why: `the preflight response fails the CORS check (${failed})`, headers: p.headers });
    const methods = list(headerValue(p.headers, 'Access-Control-Allow-Methods'));
    const allowHeaders = list(headerValue(p.headers, 'Access-Control-Allow-Headers')).map((x) => x.toLowerCase());
    if (!SAFELISTED_METHODS.has(req.method) && !methods.includes(req.method) && !(methods.includes('*') && !req.credentials)) {
      return stop({ reason: 'method-not-allowed', why: `${req.method} is not in Access-Control-Allow-Methods`, headers: p.headers });
    }
    const missing = req.unsafe.find((n) => !allowHeaders.includes(n) && !(allowHeaders.includes('*') && !req.credentials && n !== 'authorization'));
    if (missing) return stop({ reason: 'header-not-allowed', why: `${missing} is not in Access-Control-Allow-Headers`, headers: p.headers, header: missing });
    // Cached unless Access-Control-Max-Age is 0; unset means the browsers' default of 5 s.
    const maxAge = headerValue(p.headers, 'Access-Control-Max-Age');
    if (maxAge === undefined || Number(maxAge) > 0) entry = { credentials: req.credentials, methods, headers: allowHeaders };
  }
  const cache = entry ? { cache: entry } : {};
  const failed = corsCheck(decision.headers, origin, req.credentials);
  if (failed) {
    const why = decision.rule ? `the response fails the CORS check (${failed})` : `S3 added no CORS headers (${decision.reason})`;
    return result({ sent, actualSent: true, ...cache, block: { reason: failed, at: 'response', why, headers: decision.headers } });
  }
  const exposed = list(headerValue(decision.headers, 'Access-Control-Expose-Headers')).map((x) => x.toLowerCase());
  const readable = [...SAFELISTED_RESPONSE, ...exposed.filter((x) => x !== 'set-cookie' && (x !== '*' || req.credentials))];
  return result({ sent, actualSent: true, ...cache, readable });
}

// ---- A scenario ---------------------------------------------------------------------------------

/** HTTP cache modes that may answer from a stored response (Fetch: "default" needs it fresh). */
const REUSING_CACHE_MODES: ReadonlySet<string> = new Set(['default', 'force-cache', 'only-if-cached']);

/** Whether the object's Cache-Control keeps a stored answer fresh (heuristic freshness of a just-stored object is ~0). */
function storedFresh(cacheControl: string | undefined): boolean {
  if (!cacheControl || /no-store|no-cache/i.test(cacheControl)) return false;
  return Number(/max-age=(\d+)/i.exec(cacheControl)?.[1] ?? 0) > 0;
}

/**
 * `origin` is the page's origin; `target` the origin the requests go to (default: another origin).
 * The page runs every step even after one is blocked, each to the same URL (so a preflight one
 * step makes may answer for a later one, and a GET answer the HTTP cache keeps may answer a later
 * GET); the first block decides the verdict.
 *
 * `engine`: where engines measurably depart from the standard in a way that changes the verdict or
 * the exchanges (fixtures/engine-differences.json "behaviours": the HTTP cache answering a CORS fetch
 * with a plain <img>'s response, the SDK retrying refused requests), predict for that engine;
 * without one, the standard's prediction.
 */
export function predict(config: CorsConfiguration | undefined, scenario: Scenario, origin: string, target?: string, engine?: EngineName, decider?: Decider): Prediction {
  const flowStep = scenario.steps.find((s) => s.kind === 'flow');
  if (flowStep) {
    if (scenario.steps.length !== 1) throw new Error(`scenario ${scenario.id}: a flow step must be the scenario's only step`);
    if (target !== undefined && target === origin) return { verdict: 'allowed', preflights: 0, actualRequests: 0, why: 'same origin: CORS does not apply' };
    const f = simulateFlow(flowById(flowStep.flow), config, origin, scenario.object.key, engine, decider);
    return {
      verdict: f.verdict,
      ...(f.reason ? { reason: f.reason } : {}),
      ...(f.at ? { at: f.at } : {}),
      preflights: f.preflights,
      actualRequests: f.actualRequests,
      why: f.why,
      flow: f.trace,
      ...(f.secondary.length ? { secondary: f.secondary } : {}),
    };
  }
  const cache: PreflightCacheEntry[] = [];
  // The HTTP cache's stored GET answer for the URL, while fresh: who asked (CORS or not) and S3's CORS headers on it.
  const fresh = storedFresh(scenario.object.cacheControl);
  let stored: { cors: boolean; headers: HeaderList } | undefined;
  const evaluations = scenario.steps.map((step): RequestEvaluation => {
    if (step.kind === 'flow') throw new Error('unreachable');
    const req = requestOf(step);
    // <img> and XHR use the default cache mode; the runner's fetches default to no-store.
    const cacheMode = step.kind === 'img' || step.kind === 'xhr' ? 'default' : (step.cache ?? 'no-store');
    const e = evaluate(config, req, origin, { key: scenario.object.key, ...(target !== undefined ? { target } : {}), cache, ...(decider ? { decider } : {}) });
    // A fresh stored answer with no Vary that tells the requests apart (S3 sends no Vary without
    // Origin) answers a later GET from the cache, CORS check included. The standard reuses it
    // whatever mode stored it; an engine may refetch instead (behaviour cors-fetch-reuses-no-cors-response).
    const reuse =
      !e.sameOrigin &&
      req.method === 'GET' &&
      stored !== undefined &&
      REUSING_CACHE_MODES.has(cacheMode) &&
      (stored.cors || req.mode === 'no-cors' || engineBehaviour('cors-fetch-reuses-no-cors-response', engine) === true);
    if (reuse) return fromHttpCache(e, stored!, req, origin);
    if (e.cache) cache.push(e.cache);
    if (e.actual.sent && req.method === 'GET' && fresh && cacheMode !== 'no-store') stored = { cors: req.mode === 'cors', headers: req.mode === 'cors' ? e.actual.decision.headers : [] };
    return e;
  });
  return conclude(evaluations, scenario);
}

/** A GET the HTTP cache answers with a stored response: nothing is sent; the CORS check runs on what was stored. */
function fromHttpCache(e: RequestEvaluation, stored: { cors: boolean; headers: HeaderList }, req: CorsRequest, origin: string): RequestEvaluation {
  const base: RequestEvaluation = { ...e, preflight: { ...e.preflight, needed: false, cached: false }, actual: { ...e.actual, sent: false } };
  delete base.preflight.sent;
  delete base.block;
  delete base.cache;
  if (req.mode === 'no-cors') return { ...base, readable: [] };
  const failed = corsCheck(stored.headers, origin, req.credentials);
  if (failed) {
    const refetch = e.block ? ` (and S3 would refuse a refetch too: ${e.block.why})` : '';
    const why = stored.cors
      ? `the HTTP cache answers with a stored response that fails the CORS check (${failed})`
      : `the HTTP cache answers the CORS fetch with the response it stored for the plain <img> — no Origin was sent, so S3 added no Access-Control-Allow-Origin and no Vary${refetch}`;
    delete base.readable;
    return { ...base, block: { reason: failed, at: 'response', why, headers: stored.headers } };
  }
  const exposed = list(headerValue(stored.headers, 'Access-Control-Expose-Headers')).map((x) => x.toLowerCase());
  return { ...base, readable: [...SAFELISTED_RESPONSE, ...exposed] };
}

/** The verdict of a scenario whose steps were evaluated in order (`readHeader`: the header it reads). */
export function conclude(evaluations: readonly RequestEvaluation[], scenario: Pick<Scenario, 'readHeader' | 'corsGated'>): Prediction {
  const actualRequests = evaluations.filter((e) => e.actual.sent).length;
  if (evaluations.length > 0 && evaluations.every((e) => e.sameOrigin)) {
    return { verdict: 'allowed', preflights: 0, actualRequests, why: 'same origin: CORS does not apply' };
  }
  const preflights = evaluations.filter((e) => e.preflight.sent).length;
  const block = evaluations.find((e) => e.block)?.block;
  if (block) return { verdict: 'blocked', reason: block.reason, at: block.at, why: block.why, preflights, actualRequests };
  // What the page reads is the last response that reached it.
  const readable = evaluations.reduce<string[] | undefined>((r, e) => e.readable ?? r, undefined);
  if (scenario.readHeader && !readable?.includes(scenario.readHeader.toLowerCase())) {
    return { verdict: 'hidden', preflights, actualRequests, readable: readable ?? [], why: `${scenario.readHeader} is not in Access-Control-Expose-Headers` };
  }
  return {
    verdict: 'allowed',
    preflights,
    actualRequests,
    ...(readable ? { readable } : {}),
    why: scenario.corsGated === false ? 'not gated by CORS' : 'every CORS check passes',
  };
}
