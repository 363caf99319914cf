/**
 * The oracle: what a standards-following browser must do with S3's answers, computed without a
 * browser. It asks the S3 engine (servers/s3/cors) what the bucket answers to the preflight and to
 * the actual request, and applies the Fetch standard's rules on top
 * (https://fetch.spec.whatwg.org/ — CORS-preflight fetch, CORS check, CORS-safelisted request
 * headers and methods, CORS-safelisted response header names, CORS-preflight cache).
 *
 * Where engines legitimately word the same failure differently, `engineReason` says how; the
 * verdict itself never depends on the engine.
 */
import { decideActual, decidePreflight, type CorsConfiguration, type HeaderList } from '../servers/s3/cors/index.js';
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

const SAFELISTED_METHODS = new Set(['GET', 'HEAD', 'POST']);
/** Fetch: CORS-safelisted response-header names; everything else needs Access-Control-Expose-Headers. */
const SAFELISTED_RESPONSE = ['cache-control', 'content-language', 'content-length', 'content-type', 'expires', 'last-modified', 'pragma'];
const SAFE_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

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

interface Request {
  mode: 'cors' | 'no-cors';
  method: string;
  credentials: boolean;
  unsafe: string[];
}

function requestOf(step: Exclude<ScenarioStep, { kind: 'flow' }>): Request {
  if (step.kind === 'img') {
    // <img> without crossorigin is a no-cors request; crossorigin="anonymous" a CORS one without
    // credentials (cross-origin), "use-credentials" with.
    return { mode: step.crossorigin ? 'cors' : 'no-cors', method: 'GET', credentials: step.crossorigin === 'use-credentials', unsafe: [] };
  }
  const mode = step.kind !== 'xhr' && step.mode === 'no-cors' ? 'no-cors' : 'cors';
  return {
    mode,
    method: (step.method ?? 'GET').toUpperCase(),
    credentials: step.credentials === 'include',
    unsafe: mode === 'cors' ? unsafeRequestHeaders(step.headers) : [],
  };
}

const get = (h: HeaderList, name: string) => h.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

/** Fetch "CORS check" (+ the credentials rules); undefined when it passes. */
function corsCheck(h: HeaderList, origin: string, credentials: boolean): ReasonId | undefined {
  const acao = get(h, 'Access-Control-Allow-Origin');
  if (acao === undefined) return 'missing-allow-origin';
  if (acao === '*' && !credentials) return undefined;
  if (acao === '*') return 'wildcard-with-credentials';
  if (acao !== origin) return 'origin-mismatch';
  if (credentials && get(h, 'Access-Control-Allow-Credentials') !== 'true') return 'credentials-flag';
  return undefined;
}

const list = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);

type Block = { reason: ReasonId; at: 'preflight' | 'response'; why: string };

/** HTTP cache modes that may answer from a stored response (Fetch: "default" needs it fresh). */
const REUSING_CACHE_MODES = new Set(['default', 'force-cache', 'only-if-cached']);

/** The object's freshness lifetime in seconds from its Cache-Control (0 = never reused without revalidation). */
function freshSeconds(cacheControl: string | undefined): number {
  if (!cacheControl || /no-store|no-cache/i.test(cacheControl)) return 0;
  const m = /max-age=(\d+)/i.exec(cacheControl);
  // Without max-age the heuristic freshness of a just-stored object (10 % of its age) is ~0.
  return m ? Number(m[1]) : 0;
}

/**
 * `origin` is the page's origin; `target` the origin the requests go to (default: another origin).
 * Same-origin requests are not subject to CORS at all: no preflight, no CORS check.
 *
 * `engine`: where engines measurably depart from the standard in a way that changes the verdict or
 * the exchanges (fixtures/engine-differences.json "behaviours": the HTTP cache reusing an `<img>`'s
 * response for a CORS fetch, the SDK retrying refused requests), predict for that engine; without
 * one, the standard's prediction.
 */
export function predict(config: CorsConfiguration | undefined, scenario: Scenario, origin: string, target?: string, engine?: EngineName): Prediction {
  if (target !== undefined && target === origin) {
    return { verdict: 'allowed', preflights: 0, actualRequests: scenario.steps.length, why: 'same origin: CORS does not apply' };
  }
  const flowStep = scenario.steps.find((s) => s.kind === 'flow');
  if (flowStep) {
    if (scenario.steps.length !== 1) throw new Error(`scenario ${scenario.id}: a flow step must be the scenario's only step`);
    const f = simulateFlow(flowById(flowStep.flow), config, origin, scenario.object.key, engine, { unsafe: unsafeRequestHeaders, corsCheck });
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
  let preflights = 0;
  let actualRequests = 0;
  // Preflight cache entries made by earlier steps of this scenario (same URL, same credentials mode).
  const cache: Array<{ credentials: boolean; methods: string[]; headers: string[] }> = [];
  // The HTTP cache: the response an earlier step stored for the (one) URL, while it is fresh.
  let stored: { headers: HeaderList; cors: boolean } | undefined;
  const fresh = freshSeconds(scenario.object.cacheControl) > 0;
  let readable: string[] | undefined;
  // The page runs every step even after one is blocked; the first block decides the verdict.
  let block: Block | undefined;
  const key = scenario.object.key;

  for (const step of scenario.steps) {
    if (step.kind === 'flow') continue;
    const req = requestOf(step);
    // <img> uses the default cache mode; the runner's fetches default to no-store.
    const cacheMode = step.kind === 'img' ? 'default' : step.kind === 'xhr' ? 'default' : (step.cache ?? 'no-store');
    // A stored GET answer, still fresh, with no Vary that tells the requests apart (S3 sends no Vary
    // without Origin), answers this request from the cache — CORS check included. The standard
    // reuses it whatever the first request's mode; an engine may not (behaviour
    // "cors-fetch-reuses-no-cors-response").
    const fromCache =
      req.method === 'GET' &&
      stored !== undefined &&
      REUSING_CACHE_MODES.has(cacheMode) &&
      (stored.cors || req.mode === 'no-cors' || engineBehaviour('cors-fetch-reuses-no-cors-response', engine) === true);
    if (req.mode === 'no-cors') {
      if (!fromCache) actualRequests++;
      if (!fromCache && fresh && cacheMode !== 'no-store') stored = { headers: [], cors: false };
      readable = [];
      continue;
    }
    if (fromCache) {
      const failed = corsCheck(stored!.headers, origin, req.credentials);
      if (failed) {
        block ??= {
          reason: failed,
          at: 'response',
          why: 'the HTTP cache answers the CORS request with the response stored for the plain <img> (no Origin, so S3 sent no Access-Control-Allow-Origin and no Vary)',
        };
        continue;
      }
      const exposed = list(get(stored!.headers, 'Access-Control-Expose-Headers')).map((x) => x.toLowerCase());
      readable = [...SAFELISTED_RESPONSE, ...exposed];
      continue;
    }
    const needsPreflight = !SAFELISTED_METHODS.has(req.method) || req.unsafe.length > 0;
    const cached = cache.find(
      (c) =>
        c.credentials === req.credentials &&
        (SAFELISTED_METHODS.has(req.method) || c.methods.includes(req.method)) &&
        req.unsafe.every((n) => c.headers.includes(n)),
    );
    const stepBlock = ((): Block | undefined => {
      if (needsPreflight && !cached) {
        preflights++;
        const p = decidePreflight({
          method: 'OPTIONS',
          origin,
          accessControlRequestMethod: req.method,
          ...(req.unsafe.length ? { accessControlRequestHeaders: req.unsafe.join(',') } : {}),
          bucketExists: true,
          ...(config ? { config } : {}),
          key,
        });
        if (p.kind === 'refused') {
          return { reason: 'missing-allow-origin', at: 'preflight', why: `S3 refused the preflight (${p.status} ${p.code}: ${p.reason})` };
        }
        const failed = corsCheck(p.headers, origin, req.credentials);
        if (failed) return { reason: failed, at: 'preflight', why: `the preflight response fails the CORS check (${failed})` };
        const methods = list(get(p.headers, 'Access-Control-Allow-Methods'));
        const allowHeaders = list(get(p.headers, 'Access-Control-Allow-Headers')).map((x) => x.toLowerCase());
        if (!SAFELISTED_METHODS.has(req.method) && !methods.includes(req.method) && !(methods.includes('*') && !req.credentials)) {
          return { reason: 'method-not-allowed', at: 'preflight', why: `${req.method} is not in Access-Control-Allow-Methods` };
        }
        const missing = req.unsafe.find((n) => !allowHeaders.includes(n) && !(allowHeaders.includes('*') && !req.credentials && n !== 'authorization'));
        if (missing) return { reason: 'header-not-allowed', at: 'preflight', why: `${missing} is not in Access-Control-Allow-Headers` };
        // Cached unless Access-Control-Max-Age is 0; unset means the browsers' default of 5 s.
        const maxAge = get(p.headers, 'Access-Control-Max-Age');
        if (maxAge === undefined || Number(maxAge) > 0) cache.push({ credentials: req.credentials, methods, headers: allowHeaders });
      }
      actualRequests++;
      const a = decideActual({ method: req.method, origin, bucketExists: true, ...(config ? { config } : {}), key });
      if (req.method === 'GET' && fresh && cacheMode !== 'no-store') stored = { headers: a.headers, cors: true };
      const failed = corsCheck(a.headers, origin, req.credentials);
      if (failed) {
        return { reason: failed, at: 'response', why: a.rule ? `the response fails the CORS check (${failed})` : `S3 added no CORS headers (${a.reason})` };
      }
      const exposed = list(get(a.headers, 'Access-Control-Expose-Headers')).map((x) => x.toLowerCase());
      readable = [...SAFELISTED_RESPONSE, ...exposed.filter((x) => x !== 'set-cookie' && (x !== '*' || req.credentials))];
      return undefined;
    })();
    block ??= stepBlock;
  }

  if (block) return { verdict: 'blocked', ...block, preflights, actualRequests };
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
