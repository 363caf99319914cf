/**
 * Store divergences, named: how a real store's CORS answers differ from S3's, and which of those
 * differences change what a browser does.
 *
 * Pure: it takes what S3 would answer (the S3 engine, servers/s3/cors, through the oracle) and what
 * the store answered to a replay of the same requests (harness/replay.ts), and returns
 * - every header difference, per request, in user terms ("the store sent no
 *   Access-Control-Allow-Credentials, so credentialed requests fail in every engine");
 * - the verdict the Fetch standard gives on the store's own answers (oracle.predictWith);
 * - for a case an engine ran, whether its verdict is S3's, a *store divergence* (explained by the
 *   store's answers: the engine did what the store's headers make it do), or unexplained (neither —
 *   a harness or engine problem, reported as such).
 */
import { decideActual, decidePreflight, type CorsConfiguration, type CorsRequestFacts, type HeaderList, type RuleEvaluation } from '../servers/s3/cors/index.js';
import { expectationFor, type EngineDifference, type Expectation, type Scenario } from './data.js';
import type { EngineName } from '../engines/types.js';
import { predict, type Decider, type Prediction, type Verdict } from './oracle.js';
import type { ReasonId } from './reasons.js';
import type { ImpliedRequest, ReplayedExchange } from './replay.js';

export type DifferenceKind =
  | 'no-allow-credentials'
  | 'allow-credentials-added'
  | 'origin-echoed-for-wildcard'
  | 'wildcard-for-origin'
  | 'allow-origin-other'
  | 'allow-origin-missing'
  | 'allow-origin-added'
  | 'preflight-refused'
  | 'preflight-allowed'
  | 'preflight-status'
  | 'allow-methods-requested-only'
  | 'allow-methods'
  | 'allow-headers'
  | 'expose-headers'
  | 'max-age'
  | 'list-separator'
  | 'vary';

export interface HeaderDifference {
  kind: DifferenceKind;
  request: 'preflight' | 'actual';
  /** Scenario step (0-based) and the request's method (a preflight's: its Access-Control-Request-Method). */
  step: number;
  method: string;
  /** The header that differs (canonical casing), or "status". */
  header: string;
  s3: string | null;
  store: string | null;
  /** The difference in user terms. */
  text: string;
}

export interface StoreComparison {
  /** The Fetch standard on S3's answers (the oracle). */
  s3: Prediction;
  /** The Fetch standard on the store's replayed answers. */
  store: Prediction;
  differences: HeaderDifference[];
}

const CANON: Record<string, string> = {
  'access-control-allow-origin': 'Access-Control-Allow-Origin',
  'access-control-allow-credentials': 'Access-Control-Allow-Credentials',
  'access-control-allow-methods': 'Access-Control-Allow-Methods',
  'access-control-allow-headers': 'Access-Control-Allow-Headers',
  'access-control-expose-headers': 'Access-Control-Expose-Headers',
  'access-control-max-age': 'Access-Control-Max-Age',
  vary: 'Vary',
};

const toList = (h: Record<string, string>): HeaderList => Object.entries(h).map(([k, v]) => [CANON[k] ?? k, v]);
const fromList = (h: HeaderList): Record<string, string> => Object.fromEntries(h.map(([k, v]) => [k.toLowerCase(), v]));
const tokens = (v: string | null) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
const sameSet = (a: string[], b: string[], fold = true) => {
  const f = (x: string[]) => [...new Set(fold ? x.map((y) => y.toLowerCase()) : x)].sort().join('\n');
  return f(a) === f(b);
};
const errorCode = (body: string) => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];

/** S3's answer to one replayed request, from the S3 engine (same facts the store received). */
export function s3AnswerFor(config: CorsConfiguration | undefined, key: string, x: ImpliedRequest): { status: number; headers: Record<string, string>; code?: string; evaluations: RuleEvaluation[]; rule?: number } {
  const facts = {
    method: x.method,
    ...(x.headers['origin'] !== undefined ? { origin: x.headers['origin'] } : {}),
    ...(x.headers['access-control-request-method'] !== undefined ? { accessControlRequestMethod: x.headers['access-control-request-method'] } : {}),
    ...(x.headers['access-control-request-headers'] !== undefined ? { accessControlRequestHeaders: x.headers['access-control-request-headers'] } : {}),
    bucketExists: true,
    ...(config ? { config } : {}),
    key,
  };
  if (x.kind === 'preflight') {
    const d = decidePreflight(facts);
    return d.kind === 'allowed'
      ? { status: 200, headers: fromList(d.headers), evaluations: d.evaluations, rule: d.rule.index }
      : { status: d.status, headers: {}, code: d.code, evaluations: d.evaluations };
  }
  const d = decideActual(facts);
  return { status: 200, headers: fromList(d.headers), evaluations: d.evaluations, ...(d.rule ? { rule: d.rule.index } : {}) };
}

const ruleName = (e: RuleEvaluation) => `rule ${e.rule.index + 1}${e.rule.id ? ` (${e.rule.id})` : ''}`;

/**
 * Why S3 allowed what the store refused, when S3 got there by going past an earlier rule that
 * matched the origin: the store evidently stops at the first rule for the origin.
 */
function fallThrough(s3: ReturnType<typeof s3AnswerFor>, requested: string): string | undefined {
  if (s3.rule === undefined || s3.rule === 0) return undefined;
  const earlier = s3.evaluations.filter((e) => e.rule.index < s3.rule! && e.origin);
  const matched = s3.evaluations.find((e) => e.rule.index === s3.rule);
  if (!earlier.length || !matched) return undefined;
  const first = earlier[0]!;
  if (first.method && !first.headers) {
    return `no fall-through to a later rule on headers: ${ruleName(first)} matches the origin and ${requested} but not ${first.rejectedHeaders.join(', ')}; S3 goes on to ${ruleName(matched)}, the store stops at the first rule for the origin`;
  }
  if (!first.method) {
    return `no fall-through to a later rule on methods: ${ruleName(first)} matches the origin but not ${requested}; S3 goes on to ${ruleName(matched)}, the store stops at the first rule for the origin`;
  }
  return undefined;
}

/** The header differences of one request, S3's answer against the store's. */
export function differencesOf(config: CorsConfiguration | undefined, key: string, x: ReplayedExchange): HeaderDifference[] {
  const s3 = s3AnswerFor(config, key, x);
  const store = x.responseHeaders;
  const out: HeaderDifference[] = [];
  const request = x.kind;
  const method = request === 'preflight' ? (x.headers['access-control-request-method'] ?? 'OPTIONS') : x.method;
  const where = request === 'preflight' ? `the ${method} preflight` : `the ${method} response`;
  const add = (kind: DifferenceKind, header: string, s3v: string | null, storev: string | null, text: string) =>
    out.push({ kind, request, step: x.step, method, header, s3: s3v, store: storev, text });
  const get = (h: Record<string, string>, name: string) => h[name] ?? null;

  const s3Acao = get(s3.headers, 'access-control-allow-origin');
  const stAcao = get(store, 'access-control-allow-origin');
  const origin = x.headers['origin'] ?? null;

  if (request === 'preflight') {
    const s3Allows = s3Acao !== null;
    const storeAllows = stAcao !== null;
    if (s3Allows && !storeAllows) {
      const code = errorCode(x.bodyPreview);
      const why = fallThrough(s3, method);
      add(
        'preflight-refused',
        'Access-Control-Allow-Origin',
        s3Acao,
        null,
        `the store refused ${where} (${x.status}${code ? ` ${code}` : ''}, no Access-Control-Allow-Origin) where S3 allows it${why ? `: ${why}` : ''}`,
      );
      return out; // the other headers are absent for the same reason
    }
    if (!s3Allows && storeAllows) {
      add('preflight-allowed', 'Access-Control-Allow-Origin', null, stAcao, `the store allowed ${where} (Access-Control-Allow-Origin: ${stAcao}) where S3 refuses it (${s3.status} ${s3.code ?? ''})`);
    }
    if (storeAllows && (x.status < 200 || x.status > 299)) {
      add('preflight-status', 'status', String(s3.status), String(x.status), `the store answered ${where} with status ${x.status}: browsers reject a preflight that is not 2xx`);
    }
  } else if (s3Acao !== null && stAcao === null) {
    const why = fallThrough(s3, method);
    add('allow-origin-missing', 'Access-Control-Allow-Origin', s3Acao, null, `the store sent no Access-Control-Allow-Origin on ${where} where S3 sends ${s3Acao}${why ? `: ${why}` : ''}`);
    return out;
  } else if (s3Acao === null && stAcao !== null) {
    add('allow-origin-added', 'Access-Control-Allow-Origin', null, stAcao, `the store sent Access-Control-Allow-Origin: ${stAcao} on ${where} where S3 sends none`);
  }
  if (s3Acao !== null && stAcao !== null && s3Acao !== stAcao) {
    if (s3Acao === '*' && stAcao === origin) add('origin-echoed-for-wildcard', 'Access-Control-Allow-Origin', s3Acao, stAcao, `the store echoed the origin where S3 sends * (${where})`);
    else if (stAcao === '*') add('wildcard-for-origin', 'Access-Control-Allow-Origin', s3Acao, stAcao, `the store sent * where S3 echoes the origin (${where}), so credentialed requests fail in every engine`);
    else add('allow-origin-other', 'Access-Control-Allow-Origin', s3Acao, stAcao, `the store sent Access-Control-Allow-Origin: ${stAcao} where S3 sends ${s3Acao} (${where})`);
  }
  if (s3Acao === null && stAcao === null) return out; // neither answered with CORS headers

  const s3Acac = get(s3.headers, 'access-control-allow-credentials');
  const stAcac = get(store, 'access-control-allow-credentials');
  if (s3Acac !== stAcac) {
    if (s3Acac === 'true' && stAcac !== 'true') {
      add('no-allow-credentials', 'Access-Control-Allow-Credentials', s3Acac, stAcac, `the store sent no Access-Control-Allow-Credentials (S3 sends true, ${where}), so credentialed requests fail in every engine`);
    } else {
      add('allow-credentials-added', 'Access-Control-Allow-Credentials', s3Acac, stAcac, `the store sent Access-Control-Allow-Credentials: ${stAcac} where S3 sends ${s3Acac ?? 'none'} (${where})`);
    }
  }

  const lists: Array<[string, DifferenceKind, boolean]> = [
    ['access-control-allow-methods', 'allow-methods', false],
    ['access-control-allow-headers', 'allow-headers', true],
    ['access-control-expose-headers', 'expose-headers', true],
  ];
  for (const [name, kind, fold] of lists) {
    const a = get(s3.headers, name);
    const b = get(store, name);
    if (a === b) continue;
    const header = CANON[name]!;
    if (a !== null && b !== null && sameSet(tokens(a), tokens(b), fold)) {
      add('list-separator', header, a, b, `the store writes ${header} as "${b}" where S3 writes "${a}" (the same names)`);
    } else if (kind === 'allow-methods' && b !== null && tokens(b).length === 1 && tokens(b)[0] === method && tokens(a).includes(method)) {
      add('allow-methods-requested-only', header, a, b, `the store lists only the requested method in ${header} (${b}) where S3 lists the rule's methods (${a}) — a cached preflight then covers only that method`);
    } else {
      add(kind, header, a, b, `the store sent ${b === null ? `no ${header}` : `${header}: ${b}`} where S3 sends ${a === null ? 'none' : a} (${where})`);
    }
  }
  const s3Max = get(s3.headers, 'access-control-max-age');
  const stMax = get(store, 'access-control-max-age');
  if (s3Max !== stMax) add('max-age', 'Access-Control-Max-Age', s3Max, stMax, `the store sent ${stMax === null ? 'no Access-Control-Max-Age' : `Access-Control-Max-Age: ${stMax}`} where S3 sends ${s3Max ?? 'none'} (${where})`);
  const s3Vary = get(s3.headers, 'vary');
  const stVary = get(store, 'vary');
  if (s3Vary !== stVary && !(s3Vary !== null && stVary !== null && sameSet(tokens(s3Vary), tokens(stVary)))) {
    add('vary', 'Vary', s3Vary, stVary, `the store sent ${stVary === null ? 'no Vary' : `Vary: ${stVary}`} where S3 sends ${s3Vary === null ? 'none' : `Vary: ${s3Vary}`} (${where}): a shared cache may hand one origin's answer to another`);
  }
  return out;
}

/**
 * The store's answers, shaped as the S3 engine's decisions (oracle.ts `Decider`), so the oracle's
 * Fetch rules, HTTP-cache and client-flow logic apply to them unchanged. A request is found in the
 * replay by what the store sees of it: preflight or not, method, Access-Control-Request-Headers,
 * Origin, object or bucket.
 *
 * Not modelled: a preflight answered with CORS headers but a non-2xx status counts as refused (the
 * engines would name "preflight-status" and the case would read as unexplained, not hide).
 */
export function replayDecider(exchanges: readonly ReplayedExchange[]): Decider {
  const corsHeaders = (x: ReplayedExchange) => toList(Object.fromEntries(Object.entries(x.responseHeaders).filter(([k]) => k.startsWith('access-control-') || k === 'vary')));
  const resource = (f: CorsRequestFacts) => (f.key !== undefined && f.key !== '' ? 'object' : 'bucket');
  const find = (f: CorsRequestFacts, kind: 'preflight' | 'actual'): ReplayedExchange => {
    const x = exchanges.find(
      (e) =>
        e.kind === kind &&
        e.resource === resource(f) &&
        (kind === 'preflight'
          ? e.headers['access-control-request-method'] === f.accessControlRequestMethod && (e.headers['access-control-request-headers'] ?? '') === (f.accessControlRequestHeaders ?? '')
          : e.method === f.method && (e.headers['origin'] !== undefined) === (f.origin !== undefined)),
    );
    if (!x) {
      const what = kind === 'preflight' ? `${f.accessControlRequestMethod} preflight (${f.accessControlRequestHeaders ?? 'no request headers'})` : `${f.method} request${f.origin ? '' : ' without Origin'}`;
      throw new Error(`the replay has no ${what} for the ${resource(f)}: the requests replayed and the oracle's disagree`);
    }
    return x;
  };
  return {
    preflight(f) {
      const x = find(f, 'preflight');
      const headers = corsHeaders(x);
      if (!x.error && x.responseHeaders['access-control-allow-origin'] !== undefined && x.status >= 200 && x.status <= 299) {
        return { kind: 'allowed', status: 200, headers, rule: { index: -1 }, evaluations: [] };
      }
      const code = x.error ? 'no answer' : (errorCode(x.bodyPreview) ?? 'no CORS headers');
      return { kind: 'refused', status: x.status === 400 ? 400 : 403, code, message: '', reason: 'no-match', evaluations: [] };
    },
    actual(f) {
      const x = find(f, 'actual');
      const matched = x.responseHeaders['access-control-allow-origin'] !== undefined;
      return { headers: corsHeaders(x), reason: matched ? 'matched' : 'no-match', evaluations: [], ...(matched ? { rule: { index: -1 } } : {}) };
    },
  };
}

/**
 * The oracle words its reasons for S3. Where a store prediction's reason is only the store's answer
 * it says "the store"; claims about S3's rules or S3's own behaviour (a flow's "S3 refuses
 * CompleteMultipartUpload") stay S3's, since the replay cannot show them.
 */
const forStore = (p: Prediction): Prediction => ({
  ...p,
  why: p.why
    .replace(/^S3 refused the preflight \((\d+) ([^:]*): no-match\)/, 'the store refused the preflight ($1 $2)')
    .replace(/^S3 added no CORS headers \(no-match\)/, 'the store added no CORS headers')
    .replace(/^no CORS rule allows the page's origin, so S3 refuses (.+)'s preflight$/, "the store refuses $1's preflight"),
});

/** S3 against the store for one case's replayed requests, in `engine` (HTTP-cache reuse and SDK retries are per engine). */
export function compareWithS3(config: CorsConfiguration | undefined, scenario: Scenario, origin: string, exchanges: readonly ReplayedExchange[], engine?: EngineName): StoreComparison {
  return {
    s3: predict(config, scenario, origin, undefined, engine),
    store: forStore(predict(config, scenario, origin, undefined, engine, replayDecider(exchanges))),
    differences: exchanges.flatMap((x) => differencesOf(config, scenario.object.key, x)),
  };
}

const verdictText = (v: Verdict, reason?: ReasonId, at?: string) => (v === 'blocked' ? `blocked (${reason}${at ? ` at the ${at}` : ''})` : v);

/** Which header each Fetch failure reason rests on. */
const REASON_HEADERS: Record<ReasonId, string[]> = {
  'missing-allow-origin': ['Access-Control-Allow-Origin'],
  'origin-mismatch': ['Access-Control-Allow-Origin'],
  'wildcard-with-credentials': ['Access-Control-Allow-Origin'],
  'credentials-flag': ['Access-Control-Allow-Credentials'],
  'method-not-allowed': ['Access-Control-Allow-Methods'],
  'header-not-allowed': ['Access-Control-Allow-Headers'],
  'preflight-status': ['status', 'Access-Control-Allow-Origin'],
};

/**
 * The header differences that decide a divergence between the S3 and store predictions: those of
 * the request where either side blocks, on the headers that block.
 */
export function decidingDifferences(c: StoreComparison): HeaderDifference[] {
  const blocks = [c.store, c.s3].filter((p) => p.verdict === 'blocked');
  const picked = c.differences.filter((d) =>
    blocks.some((p) => (p.at === undefined || d.request === (p.at === 'preflight' ? 'preflight' : 'actual')) && REASON_HEADERS[p.reason!].includes(d.header)),
  );
  if (picked.length) return dedupe(picked);
  // "hidden" against "allowed": the exposed headers decide.
  if (c.s3.verdict !== c.store.verdict) return dedupe(c.differences.filter((d) => d.header === 'Access-Control-Expose-Headers'));
  return [];
}

function dedupe(ds: HeaderDifference[]): HeaderDifference[] {
  const seen = new Set<string>();
  return ds.filter((d) => {
    const k = `${d.kind}|${d.request}|${d.method}|${d.header}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export interface StoreDivergence {
  /** verdict: the engine's verdict is not S3's; reason: both block, for a different reason. */
  kind: 'verdict' | 'reason';
  s3: string;
  store: string;
  /** Headers whose difference decides it (canonical names, sorted), e.g. ["Access-Control-Allow-Credentials"]. */
  headers: string[];
  causes: HeaderDifference[];
  /** One line for reports. */
  summary: string;
}

export type CaseClass =
  | { status: 'as-s3'; note?: string }
  | { status: 'store-divergence'; divergence: StoreDivergence }
  | { status: 'unexplained'; message: string; /** The engine's verdict as reports write it: "allowed", "blocked (credentials-flag)". */ observed: string };

/**
 * Classifies an engine's verdict on a store: S3's (nothing to explain), a store divergence (the
 * engine did what the store's replayed answers make the Fetch standard do), or unexplained.
 * `expected` is the S3 expectation as it applies to this engine (data.expectationFor).
 */
export function classifyCase(input: {
  engine: EngineName;
  expected: Expectation;
  observed: Verdict;
  /** The reasons the engine's own message names (reasons.classify), when it printed one. */
  engineReasons?: readonly ReasonId[];
  comparison: StoreComparison;
  differences?: readonly EngineDifference[];
}): CaseClass {
  const { engine, expected, observed, engineReasons, comparison: c } = input;
  const reasonOk = (e: Expectation) => e.verdict !== 'blocked' || (engineReasons ?? []).includes(e.reason);
  const matches = (e: Expectation) => observed === e.verdict && reasonOk(e);
  const storeExpected: Expectation =
    c.store.verdict === 'blocked'
      ? expectationFor({ verdict: 'blocked', reason: c.store.reason! }, engine, c.store.at, ...(input.differences ? [input.differences] : []))
      : { verdict: c.store.verdict };
  if (matches(expected)) {
    return matches(storeExpected) || storeExpected.verdict === expected.verdict
      ? { status: 'as-s3' }
      : { status: 'as-s3', note: `the store's replayed answers predict ${verdictText(c.store.verdict, c.store.reason, c.store.at)}, but the engine did as S3 would (${c.store.why})` };
  }
  if (matches(storeExpected)) {
    const causes = decidingDifferences(c);
    const kind = observed === expected.verdict ? 'reason' : 'verdict';
    const s3 = verdictText(c.s3.verdict, c.s3.reason, c.s3.at);
    const store = verdictText(c.store.verdict, c.store.reason, c.store.at);
    const headers = [...new Set(causes.map((d) => d.header))].sort();
    return {
      status: 'store-divergence',
      divergence: {
        kind,
        s3,
        store,
        headers,
        causes,
        summary: `store divergence: S3 → ${s3}, this store → ${store}${causes.length ? ` — ${causes.map((d) => d.text).join('; ')}` : ` — ${c.store.why}`}`,
      },
    };
  }
  const seen = observed === 'blocked' ? `blocked (${engineReasons?.length ? engineReasons.join('|') : 'no CORS message from the engine'})` : observed;
  return {
    status: 'unexplained',
    observed: seen,
    message: `the engine's verdict, ${seen}, is neither S3's (${verdictText(c.s3.verdict, c.s3.reason, c.s3.at)}) nor what the store's replayed answers give (${verdictText(c.store.verdict, c.store.reason, c.store.at)}: ${c.store.why})`,
  };
}
