/**
 * Rule matching (§0, §1.5): origins and headers against the rule's globs (glob.ts),
 * the Access-Control-Request-Headers list, and
 * first-match evaluation with fall-through, in the manner of LocalStack's
 * `match_rules` / `_match_rule` [S2] — but pure, and recording why each rule
 * did or did not match.
 */
import { type Glob, compileGlob, globMatches } from './glob.js';
import type { CorsConfiguration, CorsRule, RuleEvaluation, RuleRef } from './types.js';

// ---- Compiled configuration ---------------------------------------------------------------------

export interface CompiledRule {
  readonly ref: RuleRef;
  readonly source: CorsRule;
  /** Copy of every value the rule was compiled from (see `isCompiledFrom`). */
  readonly snapshot: RuleSnapshot;
  readonly origins: readonly Glob[];
  /** The rule lists the bare `*` origin: ACAO is `*` and there is no ACAC (§1.5 Echo, §2.3). */
  readonly wildcardOrigin: boolean;
  readonly methods: readonly string[];
  /** AllowedHeader patterns, lowercased: header names compare case-insensitively [S1 AWS-REC]. */
  readonly headers: readonly Glob[];
  /** Precomputed header values. */
  readonly allowMethods: string;
  readonly exposeHeaders: string | undefined;
  readonly maxAge: string | undefined;
}

export interface CompiledCorsConfiguration {
  readonly source: CorsConfiguration;
  readonly rules: readonly CompiledRule[];
}

interface RuleSnapshot {
  readonly id: string | undefined;
  readonly origins: readonly string[];
  readonly methods: readonly string[];
  readonly headers: readonly string[] | undefined;
  readonly expose: readonly string[] | undefined;
  readonly maxAge: number | undefined;
}

/** Precompiles a configuration's globs and header values (decisions cache this per config object). */
export function compileCorsConfiguration(config: CorsConfiguration): CompiledCorsConfiguration {
  const rules = config.CORSRules.map((r, index): CompiledRule => {
    const ref: RuleRef = r.ID === undefined ? { index } : { index, id: r.ID };
    const expose = r.ExposeHeaders ?? [];
    return {
      ref,
      source: r,
      snapshot: {
        id: r.ID,
        origins: [...r.AllowedOrigins],
        methods: [...r.AllowedMethods],
        headers: r.AllowedHeaders && [...r.AllowedHeaders],
        expose: r.ExposeHeaders && [...r.ExposeHeaders],
        maxAge: r.MaxAgeSeconds,
      },
      origins: r.AllowedOrigins.map((o) => compileGlob(o)),
      wildcardOrigin: r.AllowedOrigins.includes('*'),
      methods: [...r.AllowedMethods],
      headers: (r.AllowedHeaders ?? []).map((h) => compileGlob(h.toLowerCase())),
      // [S1][S11][S13]: all of the rule's methods, in configuration order.
      allowMethods: r.AllowedMethods.join(', '),
      // [S1 test_cors_expose_headers]: as written, in order.
      exposeHeaders: expose.length > 0 ? expose.join(', ') : undefined,
      maxAge: r.MaxAgeSeconds === undefined ? undefined : String(r.MaxAgeSeconds),
    };
  });
  return { source: config, rules };
}

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean => {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/** True when `config` still holds exactly the values `compiled` was built from. */
export function isCompiledFrom(compiled: CompiledCorsConfiguration, config: CorsConfiguration): boolean {
  const rules = config.CORSRules;
  if (compiled.source !== config || rules.length !== compiled.rules.length) return false;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i] as CorsRule;
    const s = (compiled.rules[i] as CompiledRule).snapshot;
    if (
      r.ID !== s.id ||
      r.MaxAgeSeconds !== s.maxAge ||
      !sameList(r.AllowedOrigins, s.origins) ||
      !sameList(r.AllowedMethods, s.methods) ||
      !sameList(r.AllowedHeaders, s.headers) ||
      !sameList(r.ExposeHeaders, s.expose)
    ) {
      return false;
    }
  }
  return true;
}

const cache = new WeakMap<CorsConfiguration, CompiledCorsConfiguration>();

/**
 * The compiled form of `config`, cached per configuration object. The cache
 * entry is re-checked value by value on every use (no allocation), so a caller
 * that edits a configuration object in place still gets decisions for what it
 * holds now — the decision stays a pure function of its inputs.
 */
export function compiledFor(config: CorsConfiguration): CompiledCorsConfiguration {
  const hit = cache.get(config);
  if (hit !== undefined && isCompiledFrom(hit, config)) return hit;
  const fresh = compileCorsConfiguration(config);
  cache.set(config, fresh);
  return fresh;
}

// ---- Request facts ------------------------------------------------------------------------------

/**
 * Access-Control-Request-Headers as S3 reads it [S1 AWS-REC 2025-07-07][S11]:
 * split on `,`, trim, drop empty items, lowercase. `a,,B` → ['a', 'b'].
 * UNVERIFIED choice: duplicates are kept (and echoed in ACAH) — browsers never
 * send any, and S3 is only known to echo the list in request order.
 */
export function parseRequestHeaders(raw: string | undefined): string[] {
  if (raw === undefined || raw === '') return [];
  const out: string[] = [];
  for (const item of raw.split(',')) {
    const name = item.trim();
    if (name !== '') out.push(name.toLowerCase());
  }
  return out;
}

// ---- Evaluation ---------------------------------------------------------------------------------

/** Origin check: raw string against each pattern, case-sensitive (§1.5). */
export function originAllowed(rule: CompiledRule, origin: string): boolean {
  for (const g of rule.origins) if (globMatches(g, origin)) return true;
  return false;
}

/** Method check: exact, case-sensitive against the uppercase AllowedMethod values [S2][S12]. */
export function methodAllowed(rule: CompiledRule, method: string): boolean {
  return rule.methods.includes(method);
}

/**
 * Requested header names (already lowercased) that no AllowedHeader matches.
 * A rule without AllowedHeader rejects every requested name [S1 opt-get-headers].
 */
export function rejectedHeaders(rule: CompiledRule, requested: readonly string[]): string[] {
  const rejected: string[] = [];
  for (const name of requested) {
    let ok = false;
    for (const g of rule.headers) {
      if (globMatches(g, name)) {
        ok = true;
        break;
      }
    }
    if (!ok) rejected.push(name);
  }
  return rejected;
}

export function evaluateRule(rule: CompiledRule, origin: string, method: string, requested: readonly string[]): RuleEvaluation {
  const rejected = requested.length === 0 ? [] : rejectedHeaders(rule, requested);
  return {
    rule: rule.ref,
    origin: originAllowed(rule, origin),
    method: methodAllowed(rule, method),
    headers: rejected.length === 0,
    rejectedHeaders: rejected,
  };
}

export interface MatchResult {
  /** The first rule, in document order, whose origin, method and headers all pass. */
  matched: CompiledRule | undefined;
  /** One entry per rule examined: every rule before the match (or all of them), then the match. */
  evaluations: RuleEvaluation[];
}

/**
 * First match in document order. A rule that fails on any criterion —
 * headers included — does not stop the search [S3][S6][S11].
 */
export function matchRules(
  config: CompiledCorsConfiguration,
  origin: string,
  method: string,
  requested: readonly string[],
): MatchResult {
  const evaluations: RuleEvaluation[] = [];
  for (const rule of config.rules) {
    const ev = evaluateRule(rule, origin, method, requested);
    evaluations.push(ev);
    if (ev.origin && ev.method && ev.headers) return { matched: rule, evaluations };
  }
  return { matched: undefined, evaluations };
}
