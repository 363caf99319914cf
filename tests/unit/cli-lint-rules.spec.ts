/**
 * Soundness of the lint warnings that claim "never": checked against the S3 engine's own matcher
 * on generated configurations and probe requests. A shadowed rule must never be the first match;
 * an origin flagged as never matching must match no serialized origin.
 */
import { test, expect } from '@playwright/test';
import { globContains, lintConfiguration } from '../../cli/lint-rules.js';
import { compileCorsConfiguration, type CorsConfiguration, type CorsRule } from '../../servers/s3/cors/index.js';
import { compileGlob, globMatches } from '../../servers/s3/cors/glob.js';
import { matchRules } from '../../servers/s3/cors/match.js';

/** mulberry32: a small seeded PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ORIGIN_PATTERNS = [
  '*', 'https://app.example.com', 'https://*.example.com', 'https://*', 'http://*', '*.example.com', 'https://a*',
  'https://app.example.*', 'http://app.example.com', 'https://app.example.com:8443', '*example.com', 'https://*com',
];
const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'];
const HEADER_PATTERNS = ['*', 'x-amz-*', 'x-amz-meta-*', 'content-type', 'Content-Type', 'authorization', 'x-*', '*-type', 'range'];
const FILLERS = ['', 'a', 'app', 'x.y', '://', 'a.example', 'meta-foo', '-'];

function pick<T>(r: () => number, xs: readonly T[], min: number, max: number): T[] {
  const n = min + Math.floor(r() * (max - min + 1));
  const out = new Set<T>();
  while (out.size < n) out.add(xs[Math.floor(r() * xs.length)] as T);
  return [...out];
}

const expand = (pattern: string): string[] => (pattern.includes('*') ? FILLERS.map((f) => pattern.replace('*', f)) : [pattern]);

test('globContains agrees with brute force on S3’s glob language', () => {
  const patterns = [...ORIGIN_PATTERNS, ...HEADER_PATTERNS.map((h) => h.toLowerCase())];
  for (const outer of patterns) {
    for (const inner of patterns) {
      const claimed = globContains(compileGlob(outer), compileGlob(inner));
      const counterexample = expand(inner).find((s) => !globMatches(compileGlob(outer), s));
      // Sound (no counterexample when claimed) and, on these patterns, exact (one when refused).
      expect(claimed, `${inner} ⊆ ${outer}: counterexample ${JSON.stringify(counterexample)}`).toBe(counterexample === undefined);
    }
  }
});

test('a rule reported as shadowed or duplicate is never the first match (600 generated configurations)', () => {
  const r = prng(20260210);
  let reported = 0;
  const violations: string[] = [];
  for (let n = 0; n < 600; n++) {
    const rules: CorsRule[] = Array.from({ length: 2 + Math.floor(r() * 3) }, () => {
      const rule: CorsRule = { AllowedOrigins: pick(r, ORIGIN_PATTERNS, 1, 2), AllowedMethods: pick(r, METHODS, 1, 3) };
      if (r() < 0.8) rule.AllowedHeaders = pick(r, HEADER_PATTERNS, 1, 2);
      return rule;
    });
    const config: CorsConfiguration = { CORSRules: rules };
    const flagged = lintConfiguration(config).filter((w) => w.id === 'shadowed-rule' || w.id === 'duplicate-rule');
    if (flagged.length === 0) continue;
    reported += flagged.length;
    const compiled = compileCorsConfiguration(config);
    const origins = [...new Set(rules.flatMap((x) => x.AllowedOrigins.flatMap(expand)))];
    const headerNames = [...new Set(rules.flatMap((x) => (x.AllowedHeaders ?? []).flatMap(expand)))].map((h) => h.toLowerCase());
    const headerSets = [[], ...headerNames.map((h) => [h]), ...headerNames.slice(1).map((h, i) => [headerNames[i]!, h])];
    const shadowed = new Set(flagged.map((w) => w.ruleIndex));
    for (const origin of origins) {
      for (const method of METHODS) {
        for (const hs of headerSets) {
          const first = matchRules(compiled, origin, method, hs).matched?.ref.index;
          if (first !== undefined && shadowed.has(first)) violations.push(`${JSON.stringify(rules)}: ${origin} ${method} [${hs}] matched rule #${first} first`);
        }
      }
    }
  }
  expect(violations).toEqual([]);
  expect(reported).toBeGreaterThan(50);
});

test('an AllowedOrigin flagged as never matching matches no serialized origin', () => {
  const entries = [
    'https://app.example.com/', 'https://*.example.com/', 'https://*/', 'https://app.example.com/*', 'https://*.example.com/app',
    'https://app.example.com?x=*', 'app.example.com', 'www.*.com', 'localhost:3000', '', 'https://App.example.com', 'HTTPS://*.example.com',
    'https://app.example.com:443', 'http://*:80', 'https://*.example.com:443', 'http://app.example.com:80',
  ];
  const hosts = ['app.example.com', 'www.app.example.com', 'a.example.com', 'localhost', '127.0.0.1', 'www.x.com', 'example.com'];
  const serialized = new Set<string>(['null']);
  for (const scheme of ['http', 'https']) {
    for (const host of hosts) {
      for (const port of ['', ':80', ':443', ':3000', ':8443']) serialized.add(new URL(`${scheme}://${host}${port}`).origin);
    }
  }
  for (const entry of entries) {
    const warnings = lintConfiguration({ CORSRules: [{ AllowedOrigins: [entry], AllowedMethods: ['GET'] }] });
    expect(warnings.length, `${JSON.stringify(entry)} should be flagged`).toBeGreaterThan(0);
    const g = compileGlob(entry);
    for (const origin of serialized) expect(globMatches(g, origin), `${JSON.stringify(entry)} matches ${origin}`).toBe(false);
    // The fix, where it names an origin, does match one (the flagged entries all have a sensible fix).
    const fixed = /^write "([^"]+)"/.exec(warnings[0]!.fix)?.[1];
    if (fixed && !fixed.includes('*')) expect(serialized.has(fixed) || new URL(fixed).origin === fixed).toBe(true);
  }
});
