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
import type { Scenario, ScenarioStep } from './data.js';

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
  /** One line of why, for reports. */
  why: string;
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

function requestOf(step: ScenarioStep): Request {
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

/** What a bucket answered (or would answer) to one request of a case. */
export interface CorsAnswer {
  status: number;
  headers: HeaderList;
  /** Why the answer carries no CORS headers, in the answerer's words (for reports). */
  refusal?: string;
}

/** The request facts an answerer needs for one step (`unsafe`: the ACRH names, sorted). */
export interface AnswerRequest {
  step: number;
  method: string;
  credentials: boolean;
  unsafe: string[];
}

/** Where answers come from: S3 (the engine in servers/s3/cors) or a real store (a replay). */
export interface Answerer {
  preflight(req: AnswerRequest): CorsAnswer;
  actual(req: AnswerRequest): CorsAnswer;
}

/** S3's answers for a configuration, from the S3 CORS engine. */
export function s3Answerer(config: CorsConfiguration | undefined, origin: string, key: string): Answerer {
  return {
    preflight(req) {
      const p = decidePreflight({
        method: 'OPTIONS',
        origin,
        accessControlRequestMethod: req.method,
        ...(req.unsafe.length ? { accessControlRequestHeaders: req.unsafe.join(',') } : {}),
        bucketExists: true,
        ...(config ? { config } : {}),
        key,
      });
      return p.kind === 'refused'
        ? { status: p.status, headers: [], refusal: `S3 refused the preflight (${p.status} ${p.code}: ${p.reason})` }
        : { status: p.status, headers: p.headers };
    },
    actual(req) {
      const a = decideActual({ method: req.method, origin, bucketExists: true, ...(config ? { config } : {}), key });
      return { status: 200, headers: a.headers, ...(a.rule ? {} : { refusal: `S3 added no CORS headers (${a.reason})` }) };
    },
  };
}

/**
 * `origin` is the page's origin; `target` the origin the requests go to (default: another origin).
 * Same-origin requests are not subject to CORS at all: no preflight, no CORS check.
 */
export function predict(config: CorsConfiguration | undefined, scenario: Scenario, origin: string, target?: string): Prediction {
  return predictWith(s3Answerer(config, origin, scenario.object.key), scenario, origin, target);
}

const isOk = (status: number) => status >= 200 && status <= 299;

/**
 * The Fetch standard applied to the answers of `answers` — S3's (predict) or those a real store
 * gave to a replay of the same requests (harness/divergence.ts).
 */
export function predictWith(answers: Answerer, scenario: Scenario, origin: string, target?: string): Prediction {
  if (target !== undefined && target === origin) {
    return { verdict: 'allowed', preflights: 0, actualRequests: scenario.steps.length, why: 'same origin: CORS does not apply' };
  }
  let preflights = 0;
  let actualRequests = 0;
  // Preflight cache entries made by earlier steps of this scenario (same URL, same credentials mode).
  const cache: Array<{ credentials: boolean; methods: string[]; headers: string[] }> = [];
  let readable: string[] | undefined;
  // The page runs every step even after one is blocked; the first block decides the verdict.
  let block: Block | undefined;

  for (const [index, step] of scenario.steps.entries()) {
    const req = requestOf(step);
    const facts: AnswerRequest = { step: index, method: req.method, credentials: req.credentials, unsafe: req.unsafe };
    if (req.mode === 'no-cors') {
      actualRequests++;
      readable = [];
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
        const p = answers.preflight(facts);
        const failed = corsCheck(p.headers, origin, req.credentials);
        if (failed) return { reason: failed, at: 'preflight', why: p.refusal ?? `the preflight response fails the CORS check (${failed})` };
        // Fetch: the CORS check first, then the status (an allowed-looking 403 still fails).
        if (!isOk(p.status)) return { reason: 'preflight-status', at: 'preflight', why: `the preflight was answered with status ${p.status}` };
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
      const a = answers.actual(facts);
      const failed = corsCheck(a.headers, origin, req.credentials);
      if (failed) return { reason: failed, at: 'response', why: a.refusal ?? `the response fails the CORS check (${failed})` };
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
