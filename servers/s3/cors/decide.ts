/**
 * The decisions: pure functions of (bucket CORS configuration, request facts)
 * returning a verdict plus the exact headers S3 would send. One small function
 * per response header, in the manner of expressjs/cors's configure* functions;
 * the bucket server only writes what comes back.
 *
 * Where S3 departs from what a Fetch-spec server would do, a comment says so.
 */
import {
  CORS_METHODS,
  H_ALLOW_CREDENTIALS,
  H_ALLOW_HEADERS,
  H_ALLOW_METHODS,
  H_ALLOW_ORIGIN,
  H_EXPOSE_HEADERS,
  H_MAX_AGE,
  H_VARY,
  MSG_BUCKET_NOT_FOUND,
  MSG_CORS_NOT_ENABLED,
  MSG_NOT_ALLOWED,
  MSG_NO_ORIGIN,
  VARY_VALUE,
  msgInvalidRequestMethod,
} from './messages.js';
import { type CompiledRule, compiledFor, matchRules, parseRequestHeaders } from './match.js';
import type {
  ActualDecision,
  CorsRequestFacts,
  HeaderList,
  PreflightDecision,
  PreflightRefusalReason,
  RuleEvaluation,
} from './types.js';

type Header = [name: string, value: string];

// ---- One function per header (order of use = order on the wire, §2.3) --------------------------

/**
 * The request Origin echoed exactly, or `*` when the rule lists the bare `*`
 * origin — even when the origin also matches a specific entry of that rule
 * [S1 AWS-REC opt-random-wildcard-origin][S8][S11]; CONSENSUS [S2][S12] for the
 * mixed rule.
 */
export function allowOriginHeader(rule: CompiledRule, origin: string): Header {
  return [H_ALLOW_ORIGIN, rule.wildcardOrigin ? '*' : origin];
}

/**
 * `true` unless the rule lists the bare `*` origin; partial wildcards such as
 * `http://*.example.com` do get it [S1 AWS-REC options_match_partial_origin].
 * S3 sends it whether or not the request carried credentials.
 */
export function allowCredentialsHeader(rule: CompiledRule): Header | undefined {
  return rule.wildcardOrigin ? undefined : [H_ALLOW_CREDENTIALS, 'true'];
}

/**
 * All of the rule's methods in configuration order, joined by `, ` — not the
 * requested method (the wire contradicts the OPTIONS-object doc [S7], §8.1).
 */
export function allowMethodsHeader(rule: CompiledRule): Header {
  return [H_ALLOW_METHODS, rule.allowMethods];
}

/**
 * Preflight only, and only when ACRH listed a name: the requested names,
 * lowercased, in request order, joined by `, ` (`a,b` → `a, b`)
 * [S1 AWS-REC 2025-07-07][S11]. Never the configured patterns.
 */
export function allowHeadersHeader(requested: readonly string[]): Header | undefined {
  return requested.length === 0 ? undefined : [H_ALLOW_HEADERS, requested.join(', ')];
}

/** The rule's ExposeHeader values as written, joined by `, ` [S1 test_cors_expose_headers]. */
export function exposeHeadersHeader(rule: CompiledRule): Header | undefined {
  return rule.exposeHeaders === undefined ? undefined : [H_EXPOSE_HEADERS, rule.exposeHeaders];
}

/**
 * Decimal seconds when MaxAgeSeconds is set [S1].
 * UNVERIFIED choice: MaxAgeSeconds 0 is "set" and is sent as `Access-Control-Max-Age: 0`.
 */
export function maxAgeHeader(rule: CompiledRule): Header | undefined {
  return rule.maxAge === undefined ? undefined : [H_MAX_AGE, rule.maxAge];
}

/**
 * Always on a match, never otherwise [S1][S8]. S3 omits Vary on responses that
 * did not match (or had no Origin), which lets caches reuse them for CORS
 * requests — a known S3 pitfall reproduced on purpose (§3 "Caching pitfall").
 */
export function varyHeader(): Header {
  return [H_VARY, VARY_VALUE];
}

function matchedHeaders(rule: CompiledRule, origin: string, requested: readonly string[] | undefined): HeaderList {
  const out: HeaderList = [allowOriginHeader(rule, origin)];
  const acac = allowCredentialsHeader(rule);
  if (acac) out.push(acac);
  out.push(allowMethodsHeader(rule));
  if (requested) {
    const acah = allowHeadersHeader(requested);
    if (acah) out.push(acah);
  }
  const aceh = exposeHeadersHeader(rule);
  if (aceh) out.push(aceh);
  const acma = maxAgeHeader(rule);
  if (acma) out.push(acma);
  out.push(varyHeader());
  return out;
}

// ---- Facts --------------------------------------------------------------------------------------

/**
 * UNVERIFIED choice: an empty header value counts as absent — for Origin and for
 * Access-Control-Request-Method. LocalStack (`if not origin`) and Scality
 * (`if (!origin)`) both behave so [S2][S12]; browsers never send either empty.
 */
function present(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

// ---- Preflight ----------------------------------------------------------------------------------

type Refusal = Extract<PreflightDecision, { kind: 'refused' }>;

function refuse(
  status: 400 | 403,
  code: string,
  message: string,
  reason: PreflightRefusalReason,
  extra: { method?: string; resourceType?: 'BUCKET' | 'OBJECT'; evaluations?: RuleEvaluation[] } = {},
): Refusal {
  const d: Refusal = { kind: 'refused', status, code, message, reason, evaluations: extra.evaluations ?? [] };
  if (extra.method !== undefined) d.method = extra.method;
  if (extra.resourceType !== undefined) d.resourceType = extra.resourceType;
  return d;
}

/**
 * An OPTIONS request (§2.1). The checks run in the order recorded on AWS in
 * 2023+ [S1]: Origin, bucket, configuration, then ACRM, then the rules. Nothing
 * else is looked at: not authentication, cookies, ACLs or whether the key exists.
 */
export function decidePreflight(facts: CorsRequestFacts): PreflightDecision {
  const origin = present(facts.origin);
  // Step 1 [S1 AWS-REC]: even for a missing bucket or a configured one. A Referer does not count.
  if (origin === undefined) return refuse(400, 'BadRequest', MSG_NO_ORIGIN, 'no-origin');
  const acrm = present(facts.accessControlRequestMethod);
  // Steps 2–3 [S1 AWS-REC]: <Method> is the ACRM, or OPTIONS without one; the
  // resource is the BUCKET even on an object URL.
  if (!facts.bucketExists) {
    return refuse(403, 'AccessForbidden', MSG_BUCKET_NOT_FOUND, 'no-bucket', { method: acrm ?? 'OPTIONS', resourceType: 'BUCKET' });
  }
  const config = facts.config;
  if (config === undefined) {
    return refuse(403, 'AccessForbidden', MSG_CORS_NOT_ENABLED, 'no-config', { method: acrm ?? 'OPTIONS', resourceType: 'BUCKET' });
  }
  // Step 4 [S10 status][S12 message]: no ACRM → 400 "…: null".
  if (acrm === undefined) return refuse(400, 'BadRequest', msgInvalidRequestMethod(undefined), 'bad-request-method');
  // Step 4b. UNVERIFIED choice: an ACRM that is not one of the five methods
  // (PATCH, OPTIONS, lowercase "get") gets 400 BadRequest "Invalid
  // Access-Control-Request-Method: <value>", as in Scality [S12]. Reason: step 4's
  // "null" is this same message printing an absent value, so S3 evidently
  // validates the ACRM value itself before matching rules. (LocalStack answers
  // 403 not-allowed [S2]; either way the browser's preflight fails.)
  if (!CORS_METHODS.includes(acrm)) return refuse(400, 'BadRequest', msgInvalidRequestMethod(acrm), 'bad-request-method');

  const requested = parseRequestHeaders(facts.accessControlRequestHeaders);
  const { matched, evaluations } = matchRules(compiledFor(config), origin, acrm, requested);
  if (matched === undefined) {
    // Step 5 [S1 AWS-REC]: OBJECT when the URL names a key, BUCKET at the bucket root.
    const resourceType = facts.key !== undefined && facts.key !== '' ? 'OBJECT' : 'BUCKET';
    return refuse(403, 'AccessForbidden', MSG_NOT_ALLOWED, 'no-match', { method: acrm, resourceType, evaluations });
  }
  // Step 6 [S1 AWS-REC opt-right-origin]: 200, empty body.
  return { kind: 'allowed', status: 200, headers: matchedHeaders(matched, origin, requested), rule: matched.ref, evaluations };
}

// ---- Actual requests ----------------------------------------------------------------------------

/**
 * Any non-OPTIONS request (§3). Never blocks: the S3 operation answers as it
 * would without CORS, and these headers are added on a match — to error
 * responses too [S10][S11][S13]. Unlike a Fetch-spec server, S3 also honours
 * ACRM (as the method to match) and ACRH (must be allowed) on actual requests
 * [S1 AWS-REC get-wrong-op, get-non-allowed-with-acl][S10].
 */
export function decideActual(facts: CorsRequestFacts): ActualDecision {
  const origin = present(facts.origin);
  // [S1 get-no-origin][S18 trafficserver#3954]: no CORS headers, no Vary.
  if (origin === undefined) return { headers: [], reason: 'no-origin', evaluations: [] };
  // [S11]: NoSuchBucket carries no CORS headers.
  if (!facts.bucketExists) return { headers: [], reason: 'no-bucket', evaluations: [] };
  const config = facts.config;
  // [S1 AWS-REC test_cors_http_get_no_config]
  if (config === undefined) return { headers: [], reason: 'no-config', evaluations: [] };
  const method = present(facts.accessControlRequestMethod) ?? facts.method;
  const requested = parseRequestHeaders(facts.accessControlRequestHeaders);
  const { matched, evaluations } = matchRules(compiledFor(config), origin, method, requested);
  if (matched === undefined) return { headers: [], reason: 'no-match', evaluations };
  // UNVERIFIED choice: no Access-Control-Allow-Headers on actual requests, even
  // with an allowed ACRH. The Eucalyptus team saw it never appear [S13];
  // LocalStack adds it [S2]; browsers never send ACRH on actual requests.
  return { rule: matched.ref, headers: matchedHeaders(matched, origin, undefined), reason: 'matched', evaluations };
}

// ---- Explanation --------------------------------------------------------------------------------

const mark = (ok: boolean): string => (ok ? '✓' : '✗');

function ruleName(r: { index: number; id?: string }): string {
  return r.id === undefined ? `rule #${r.index}` : `rule #${r.index} (ID ${r.id})`;
}

function describeEvaluation(e: RuleEvaluation): string {
  const headers = e.headers ? 'headers ✓' : `headers ✗ (${e.rejectedHeaders.join(', ')} not allowed)`;
  return `${ruleName(e.rule)} origin ${mark(e.origin)} method ${mark(e.method)} ${headers}`;
}

function describeMisses(evaluations: RuleEvaluation[]): string {
  return evaluations.map(describeEvaluation).join('; ');
}

/**
 * One readable sentence for the CLI's explain and for reports, e.g.
 * "Preflight allowed (200): rule #1 (ID uploads) matched, after rule #0 origin ✓ method ✗ headers ✓."
 * "Preflight refused (403 AccessForbidden): no rule matched: rule #0 origin ✓ method ✗ headers ✓."
 */
export function describeDecision(d: PreflightDecision | ActualDecision): string {
  if ('kind' in d) {
    if (d.kind === 'allowed') {
      const earlier = d.evaluations.filter((e) => e.rule.index !== d.rule.index);
      const after = earlier.length > 0 ? `, after ${describeMisses(earlier)}` : '';
      return `Preflight allowed (200): ${ruleName(d.rule)} matched${after}.`;
    }
    const head = `Preflight refused (${d.status} ${d.code})`;
    switch (d.reason) {
      case 'no-origin':
        return `${head}: the request has no Origin header.`;
      case 'no-bucket':
        return `${head}: the bucket does not exist.`;
      case 'no-config':
        return `${head}: the bucket has no CORS configuration.`;
      case 'bad-request-method':
        return d.message.endsWith(': null')
          ? `${head}: the request has no Access-Control-Request-Method header.`
          : `${head}: Access-Control-Request-Method "${d.message.slice(d.message.indexOf(': ') + 2)}" is not one of ${CORS_METHODS.join(', ')}.`;
      case 'no-match':
        return `${head}: no rule matched: ${describeMisses(d.evaluations)}.`;
    }
  }
  switch (d.reason) {
    case 'matched': {
      const rule = d.rule as { index: number; id?: string };
      const earlier = d.evaluations.filter((e) => e.rule.index !== rule.index);
      const after = earlier.length > 0 ? `, after ${describeMisses(earlier)}` : '';
      return `CORS headers added: ${ruleName(rule)} matched${after}.`;
    }
    case 'no-origin':
      return 'No CORS headers: the request has no Origin header.';
    case 'no-bucket':
      return 'No CORS headers: the bucket does not exist.';
    case 'no-config':
      return 'No CORS headers: the bucket has no CORS configuration.';
    case 'no-match':
      return `No CORS headers: no rule matched: ${describeMisses(d.evaluations)}.`;
  }
}
