/**
 * `corsproof lint` warnings: pitfalls S3 accepts (PutBucketCors answers 200) but browsers defeat.
 * Each has a stable id, a one-line message naming the offending value, a short why and a fix.
 *
 * Every "never matches" warning is sound: it is only raised when no origin a browser can send
 * matches the entry. A browser's Origin is a serialized origin — lower-case `scheme://host[:port]`,
 * no default port, no path, no trailing `/` (Fetch, "serializing an origin") — or `null`, and S3
 * compares it to the pattern literally, case-sensitively, with `*` the only wildcard
 * (../shared/reference/s3-cors-semantics.md §1.5).
 *
 * Shadowing is computed exactly for single patterns of S3's glob language (at most one `*`; S3
 * rejects more) and soundly for unions: a later rule is reported only when, for each of its origin
 * patterns and methods, one earlier rule alone covers that origin pattern, that method and all of
 * the later rule's header patterns. Coverage that needs the union of several patterns of one
 * dimension is not detected (no warning rather than a wrong one).
 *
 * The credentials heuristic (id `wildcard-origin-credentials`): a rule that lists the bare `*`
 * origin is taken to be meant for credentialed requests when it also lists specific origins (S3
 * answers them `*` too, never with Access-Control-Allow-Credentials), or when it allows the
 * `Authorization` request header by name. A `*` rule with neither — the note's "allow all origins"
 * configuration — is the intended public-read use and gets no warning.
 */
import type { CorsConfiguration, CorsRule } from '../servers/s3/cors/index.js';
import { compileGlob, globMatches, type Glob } from '../servers/s3/cors/glob.js';
import { flowById, flowCorsRequest, requestName } from '../harness/flows.js';

export type WarningId =
  | 'origin-trailing-slash'
  | 'origin-path'
  | 'origin-no-scheme'
  | 'origin-uppercase'
  | 'origin-default-port'
  | 'wildcard-origin-credentials'
  | 'missing-allowed-headers'
  | 'etag-not-exposed'
  | 'sdk-headers-not-allowed'
  | 'checksum-not-exposed'
  | 'max-age-capped'
  | 'duplicate-rule'
  | 'shadowed-rule';

export interface LintWarning {
  id: WarningId;
  ruleIndex: number;
  ruleId?: string;
  message: string;
  why: string;
  fix: string;
}

/** One line per warning id, for `corsproof lint --help`. */
export const WARNING_SUMMARY: Record<WarningId, string> = {
  'origin-trailing-slash': 'an AllowedOrigin ending in "/" (never matches: the note\'s warning)',
  'origin-path': 'an AllowedOrigin with a path, query or fragment (never matches)',
  'origin-no-scheme': 'an AllowedOrigin without "scheme://" (never matches)',
  'origin-uppercase': 'upper case in an AllowedOrigin\'s scheme or host (never matches)',
  'origin-default-port': 'a default port spelled out, :443 for https or :80 for http (never matches)',
  'wildcard-origin-credentials': '"*" origin in a rule that looks meant for credentialed requests',
  'missing-allowed-headers': 'PUT/POST/DELETE allowed but no AllowedHeaders (preflights naming a header fail)',
  'etag-not-exposed': 'PUT/POST allowed but ETag not in ExposeHeaders (multipart uploads read it)',
  'sdk-headers-not-allowed': "PUT/POST allowed but AllowedHeaders misses headers the AWS SDK v3 sends by default (checksums, amz-sdk-*, x-amz-user-agent)",
  'checksum-not-exposed': "PUT and POST allowed, ETag exposed, but not x-amz-checksum-crc32 (the SDK's multipart upload cannot complete)",
  'max-age-capped': 'MaxAgeSeconds above what an engine honours (WebKit 600 s, Chromium 7200 s, Firefox 86400 s)',
  'duplicate-rule': 'a rule identical to an earlier one',
  'shadowed-rule': 'a rule every request of which an earlier rule matches first',
};

/** Preflight cache caps (browser-cors-evidence.md §3.2), smallest first. */
export const PREFLIGHT_CACHE_CAPS: ReadonlyArray<{ engine: string; seconds: number }> = [
  { engine: 'WebKit', seconds: 600 },
  { engine: 'Chromium', seconds: 7200 },
  { engine: 'Firefox', seconds: 86400 },
];

/** Why each origin pitfall never matches a browser's Origin. */
const NEVER = {
  slash: 'a browser\'s Origin never ends with "/" (it is scheme://host[:port]) and S3 compares origins literally, so this entry never matches and the browser blocks the request — the S3 CORS note\'s "No Trailing Slash!"',
  path: 'a browser\'s Origin is scheme://host[:port], never a page URL, and S3 compares origins literally, so this entry never matches and the browser blocks the request',
  scheme: 'a browser\'s Origin always starts with its scheme (http:// or https://) and S3 compares origins literally, so this entry never matches and the browser blocks the request',
  upper: 'browsers send the scheme and host of Origin in lower case and S3 compares origins case-sensitively, so this entry never matches and the browser blocks the request',
  port: 'browsers leave the default port out of Origin (https://host, never https://host:443) and S3 compares origins literally, so this entry never matches and the browser blocks the request',
};

export function lintConfiguration(config: CorsConfiguration): LintWarning[] {
  const out: LintWarning[] = [];
  config.CORSRules.forEach((rule, index) => {
    const add = (id: WarningId, message: string, why: string, fix: string): void => {
      out.push({ id, ruleIndex: index, ...(rule.ID !== undefined ? { ruleId: rule.ID } : {}), message, why, fix });
    };
    for (const origin of rule.AllowedOrigins) checkOrigin(origin, add);
    checkWildcardCredentials(rule, add);
    checkAllowedHeaders(rule, add);
    checkEtag(rule, add);
    checkSdkUploadHeaders(rule, add);
    checkChecksumExposed(rule, add);
    checkMaxAge(rule, add);
    checkShadowing(config.CORSRules, index, add);
  });
  return out;
}

type Add = (id: WarningId, message: string, why: string, fix: string) => void;

const q = (s: string): string => JSON.stringify(s);

/** "a", "a and b", "a, b and c". */
const listed = (xs: readonly string[]): string => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

// ---- The AWS SDK's default uploads (fixtures/flows/*.json) ----------------------------------------

/**
 * The request headers the SDK's default uploads ask a preflight for, per method, from the flow
 * descriptions (tests/browser/flows.spec.ts holds those to what the bundled SDK sends): PutObject and
 * UploadPart for PUT, CreateMultipartUpload and CompleteMultipartUpload for POST.
 */
function sdkUploadHeaders(method: 'PUT' | 'POST'): Array<{ header: string; requests: string[]; note?: string }> {
  const out = new Map<string, { header: string; requests: string[]; note?: string }>();
  for (const id of ['sdk-put-object', 'sdk-multipart-upload'] as const) {
    const flow = flowById(id);
    for (const r of flow.requests) {
      if (r.method !== method || r.onFailureAfter) continue;
      for (const h of flowCorsRequest(r).unsafe) {
        const e = out.get(h) ?? { header: h, requests: [], ...(flow.notes[h] ? { note: flow.notes[h] } : {}) };
        const name = requestName(r).replace(/ \d+$/, '');
        if (!e.requests.includes(name)) e.requests.push(name);
        out.set(h, e);
      }
    }
  }
  return [...out.values()];
}

function checkSdkUploadHeaders(rule: CorsRule, add: Add): void {
  const allowed = (rule.AllowedHeaders ?? []).map((h) => compileGlob(h.toLowerCase()));
  // No AllowedHeaders at all is missing-allowed-headers' warning.
  if (allowed.length === 0) return;
  const missing = new Map<string, { header: string; requests: Set<string>; note?: string }>();
  for (const method of ['PUT', 'POST'] as const) {
    if (!rule.AllowedMethods.includes(method)) continue;
    for (const h of sdkUploadHeaders(method)) {
      if (allowed.some((g) => globMatches(g, h.header))) continue;
      const m = missing.get(h.header) ?? { header: h.header, requests: new Set<string>(), ...(h.note ? { note: h.note } : {}) };
      for (const r of h.requests) m.requests.add(r);
      missing.set(h.header, m);
    }
  }
  if (missing.size === 0) return;
  const names = [...missing.keys()];
  const checksums = names.filter((h) => h.startsWith('x-amz-checksum-') || h === 'x-amz-sdk-checksum-algorithm');
  const requests = [...new Set([...missing.values()].flatMap((m) => [...m.requests]))];
  add(
    'sdk-headers-not-allowed',
    `AllowedHeaders does not allow ${listed(names)}, which the AWS SDK v3 sends by default on ${listed(requests)}`,
    `the SDK's preflight asks for every header it sets${checksums.length ? ` — since v3.729 also the default checksum headers (${listed(checksums)})` : ''}; S3 refuses a preflight naming a header no AllowedHeader matches (403), so the SDK's ${listed(requests)} fail in the browser before they are sent (aws/aws-sdk-js-v3#1376, #6818)`,
    `add them to AllowedHeaders (e.g. "AllowedHeaders": [${[...new Set([...(rule.AllowedHeaders ?? []), 'x-amz-*', 'amz-sdk-*'])].map(q).join(', ')}]), or "*"`,
  );
}

function checkChecksumExposed(rule: CorsRule, add: Add): void {
  const exposed = (rule.ExposeHeaders ?? []).map((h) => h.toLowerCase());
  // Without ETag the multipart upload fails earlier (etag-not-exposed); it needs both methods.
  if (!rule.AllowedMethods.includes('PUT') || !rule.AllowedMethods.includes('POST') || !exposed.includes('etag')) return;
  if (exposed.includes('x-amz-checksum-crc32')) return;
  add(
    'checksum-not-exposed',
    'rule allows PUT and POST and exposes ETag but not x-amz-checksum-crc32',
    "lib-storage's Upload (AWS SDK v3.729 and later) creates multipart uploads with the default CRC32 checksum and reads each part's x-amz-checksum-crc32 from the UploadPart answer; unexposed, it completes the upload without the parts' checksums and S3 refuses CompleteMultipartUpload (400 InvalidRequest, aws/aws-sdk-js-v3#6818)",
    `add "x-amz-checksum-crc32" to ExposeHeaders (e.g. "ExposeHeaders": [${[...(rule.ExposeHeaders ?? []), 'x-amz-checksum-crc32'].map(q).join(', ')}])`,
  );
}

// ---- Origins ------------------------------------------------------------------------------------

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

function checkOrigin(origin: string, add: Add): void {
  if (origin === '*' || origin === 'null') return;
  const sep = origin.indexOf('://');
  const star = origin.indexOf('*');
  if (sep === -1 || (star !== -1 && star < sep) || !SCHEME.test(origin.slice(0, sep))) {
    // No literal scheme. A leading `*` (e.g. "*.example.com") can match "https://www" and is fine;
    // so is a head that can still grow into "http://" or "https://" ("http*").
    const head = star === -1 ? origin : origin.slice(0, star);
    const couldBeScheme = star !== -1 && (head === '' || 'http://'.startsWith(head) || 'https://'.startsWith(head) || head.includes('://'));
    if (couldBeScheme) return;
    if (origin === '') {
      add('origin-no-scheme', 'AllowedOrigins has an empty entry ""', `S3 accepts it, but ${NEVER.scheme}`, 'remove it, or write the full origin, e.g. "https://www.example.com"');
      return;
    }
    add(
      'origin-no-scheme',
      `AllowedOrigin ${q(origin)} has no scheme`,
      NEVER.scheme,
      `write ${q(`https://${origin}`)} (or ${q(`http://${origin}`)} for a page served over HTTP, such as an S3 website endpoint)`,
    );
    return;
  }
  const scheme = origin.slice(0, sep);
  const rest = origin.slice(sep + 3);
  const cut = rest.search(/[/?#]/);
  const authority = cut === -1 ? rest : rest.slice(0, cut);
  const base = `${scheme}://${authority}`;
  if (cut !== -1) {
    if (cut === rest.length - 1 && rest[cut] === '/') {
      add(
        'origin-trailing-slash',
        `AllowedOrigin ${q(origin)} ends with "/"`,
        NEVER.slash,
        `write ${q(base)}`,
      );
    } else {
      add('origin-path', `AllowedOrigin ${q(origin)} has a path, query or fragment (${q(rest.slice(cut))})`, NEVER.path, `write ${q(base)}`);
    }
  }
  if (/[A-Z]/.test(base)) {
    add('origin-uppercase', `AllowedOrigin ${q(origin)} has upper case in its scheme or host`, NEVER.upper, `write ${q(base.toLowerCase() + origin.slice(base.length))}`);
  }
  const port = /:([0-9]+)$/.exec(authority)?.[1];
  const s = scheme.toLowerCase();
  if ((s === 'https' && port === '443') || (s === 'http' && port === '80')) {
    add(
      'origin-default-port',
      `AllowedOrigin ${q(origin)} spells out the default port :${port}`,
      NEVER.port,
      `write ${q(origin.slice(0, sep + 3) + authority.slice(0, -(port.length + 1)) + (cut === -1 ? '' : rest.slice(cut)))}`,
    );
  }
}

// ---- Credentials --------------------------------------------------------------------------------

function checkWildcardCredentials(rule: CorsRule, add: Add): void {
  if (!rule.AllowedOrigins.includes('*')) return;
  const specific = rule.AllowedOrigins.filter((o) => o !== '*');
  const blocked =
    'credentialed requests (fetch credentials: "include", XMLHttpRequest withCredentials, <img crossorigin="use-credentials">) fail in every engine: S3 answers a rule listing "*" with Access-Control-Allow-Origin: * and no Access-Control-Allow-Credentials, and the Fetch standard refuses "*" with credentials ("Cannot use wildcard …")';
  if (specific.length > 0) {
    add(
      'wildcard-origin-credentials',
      `rule lists "*" together with specific origins (${specific.map(q).join(', ')})`,
      `S3 answers "*" to those origins too, so listing them changes nothing for plain requests, and their ${blocked}`,
      'move the specific origins to a rule of their own before this one (S3 echoes the origin and sends Access-Control-Allow-Credentials: true for it), or drop them',
    );
    return;
  }
  if ((rule.AllowedHeaders ?? []).some((h) => h.toLowerCase() === 'authorization')) {
    add(
      'wildcard-origin-credentials',
      'rule allows the "*" origin and names the Authorization request header',
      `naming Authorization suggests authenticated requests; if they carry credentials (cookies or browser-managed HTTP authentication), ${blocked}. A token the page sets itself in Authorization is not a credential in the CORS sense and works`,
      'list the exact origins instead of "*" if the requests carry credentials; otherwise this warning does not apply',
    );
  }
}

// ---- Methods and headers ------------------------------------------------------------------------

function checkAllowedHeaders(rule: CorsRule, add: Add): void {
  const preflighted = rule.AllowedMethods.filter((m) => m === 'PUT' || m === 'POST' || m === 'DELETE');
  if (preflighted.length === 0 || (rule.AllowedHeaders ?? []).length > 0) return;
  add(
    'missing-allowed-headers',
    `rule allows ${preflighted.join(', ')} but has no AllowedHeaders`,
    'such requests are preflighted whenever they send a header that is not CORS-safelisted (a JSON PUT sends Access-Control-Request-Headers: content-type; the AWS SDK adds authorization and x-amz-*), and S3 never matches a rule without AllowedHeaders to a preflight that names a header: it answers 403 and the browser blocks the request',
    'add "AllowedHeaders": ["*"], or the exact names the page sends (e.g. ["content-type", "x-amz-*"])',
  );
}

function checkEtag(rule: CorsRule, add: Add): void {
  const writes = rule.AllowedMethods.filter((m) => m === 'PUT' || m === 'POST');
  if (writes.length === 0 || (rule.ExposeHeaders ?? []).some((h) => h.toLowerCase() === 'etag')) return;
  add(
    'etag-not-exposed',
    `rule allows ${writes.join(', ')} but does not expose ETag`,
    'page JavaScript can read only the CORS-safelisted response headers and those in Access-Control-Expose-Headers; multipart uploads from the browser (the AWS SDK\'s Upload, Uppy, EvaporateJS) read each part\'s ETag to complete the upload and fail without it',
    `add "ETag" to ExposeHeaders (e.g. "ExposeHeaders": [${[...(rule.ExposeHeaders ?? []), 'ETag'].map(q).join(', ')}])`,
  );
}

function checkMaxAge(rule: CorsRule, add: Add): void {
  const max = rule.MaxAgeSeconds;
  if (max === undefined) return;
  const capped = PREFLIGHT_CACHE_CAPS.filter((c) => max > c.seconds);
  if (capped.length === 0) return;
  const effective = PREFLIGHT_CACHE_CAPS.map((c) => `${c.engine} after ${Math.min(max, c.seconds)} s`);
  add(
    'max-age-capped',
    `MaxAgeSeconds ${max} is more than ${listed(capped.map((c) => `${c.engine} (${c.seconds} s)`))} ${capped.length === 1 ? 'honours' : 'honour'}`,
    `browsers cap how long they cache a preflight — WebKit at 600 s (10 min), Chromium at 7200 s (2 h), Firefox at 86400 s (24 h) — so the same request is preflighted again: ${listed(effective)}`,
    `use at most ${capped[0]!.seconds} for the same preflight lifetime in every engine, or accept the caps`,
  );
}

// ---- Shadowing and duplicates -------------------------------------------------------------------

/** L(inner) ⊆ L(outer) for globs with at most one `*` (exact for that language). */
export function globContains(outer: Glob, inner: Glob): boolean {
  if (inner.parts === undefined) return globMatches(outer, inner.pattern);
  if (outer.parts === undefined) return false;
  if (inner.parts.length > 2 || outer.parts.length > 2) return false; // not S3's language: unsure
  const [a, b] = inner.parts as [string, string];
  const [c, d] = outer.parts as [string, string];
  return a.startsWith(c) && b.endsWith(d);
}

const sortedSet = (xs: readonly string[]): string => JSON.stringify([...new Set(xs)].sort());

function sameRule(a: CorsRule, b: CorsRule): boolean {
  const lower = (xs: readonly string[] | undefined) => (xs ?? []).map((x) => x.toLowerCase());
  return (
    sortedSet(a.AllowedOrigins) === sortedSet(b.AllowedOrigins) &&
    sortedSet(a.AllowedMethods) === sortedSet(b.AllowedMethods) &&
    sortedSet(lower(a.AllowedHeaders)) === sortedSet(lower(b.AllowedHeaders)) &&
    sortedSet(lower(a.ExposeHeaders)) === sortedSet(lower(b.ExposeHeaders)) &&
    a.MaxAgeSeconds === b.MaxAgeSeconds
  );
}

interface Compiled {
  origins: Glob[];
  methods: Set<string>;
  headers: Glob[];
}

const compile = (r: CorsRule): Compiled => ({
  origins: r.AllowedOrigins.map((o) => compileGlob(o)),
  methods: new Set(r.AllowedMethods),
  headers: (r.AllowedHeaders ?? []).map((h) => compileGlob(h.toLowerCase())),
});

/** Earlier rule `e` matches every request with an origin in L(p), method m, and headers the later rule allows. */
function covers(e: Compiled, later: Compiled, p: Glob, m: string): boolean {
  return e.methods.has(m) && e.origins.some((o) => globContains(o, p)) && later.headers.every((h) => e.headers.some((g) => globContains(g, h)));
}

const ruleLabel = (rules: readonly CorsRule[], i: number): string => {
  const id = rules[i]?.ID;
  return id === undefined ? `rule #${i}` : `rule #${i} (ID ${id})`;
};

function checkShadowing(rules: readonly CorsRule[], index: number, add: Add): void {
  if (index === 0) return;
  const rule = rules[index] as CorsRule;
  const dup = rules.slice(0, index).findIndex((r) => sameRule(r, rule));
  if (dup !== -1) {
    add(
      'duplicate-rule',
      `rule is identical to ${ruleLabel(rules, dup)}`,
      'S3 uses the first rule that matches, so the copy never answers a request; it only adds to the 100-rule and 64 KB limits',
      'delete it',
    );
    return;
  }
  const later = compile(rule);
  const earlier = rules.slice(0, index).map(compile);
  const by = new Set<number>();
  for (const p of later.origins) {
    for (const m of later.methods) {
      const i = earlier.findIndex((e) => covers(e, later, p, m));
      if (i === -1) return;
      by.add(i);
    }
  }
  const names = listed([...by].sort((x, y) => x - y).map((i) => ruleLabel(rules, i)));
  const own: string[] = [];
  if ((rule.ExposeHeaders ?? []).length > 0) own.push('ExposeHeaders');
  if (rule.MaxAgeSeconds !== undefined) own.push('MaxAgeSeconds');
  add(
    'shadowed-rule',
    `rule can never match: every request it allows is matched first by ${names}`,
    `S3 answers with the first rule, in document order, whose origin, method and headers all match, so this rule never answers${own.length ? ` and its ${own.join(' and ')} never reach a browser` : ''}`,
    `move it before ${names} if it is meant to answer those requests, or delete it`,
  );
}
