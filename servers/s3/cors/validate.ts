/**
 * PutBucketCors validation: what S3 answers (code + exact message) for a
 * configuration, checked in this order:
 *
 *   1. structure (MalformedXML): the document must validate against S3's schema —
 *      every rule has ≥1 AllowedOrigin and ≥1 AllowedMethod, no unknown members,
 *      MaxAgeSeconds an xsd:int;
 *   2. size (64 KB);
 *   3. rule count (100);
 *   4. per rule, in document order, the first offending value decides:
 *      AllowedMethod → AllowedOrigin → ID → AllowedHeader → MaxAgeSeconds → ExposeHeader.
 *
 * UNVERIFIED choice: schema errors anywhere in the document beat semantic errors
 * in an earlier rule (step 1 before step 4). Reason: S3 reports MalformedXML for a
 * document that "did not validate against our published schema", i.e. at
 * unmarshal time, before it can look at rule values. Scality [S12] checks
 * existence per rule instead; no AWS capture separates the two.
 *
 * UNVERIFIED choice: within one rule the checks run in Scality's order [S12]
 * (methods, origins, ID, headers, max-age, expose) — Scality's suite was written to
 * pass against AWS [S11] and is the most AWS-faithful reimplementation found.
 */
import {
  CORS_METHODS,
  MSG_ID_TOO_LONG,
  MSG_TOO_BIG,
  MSG_TOO_MANY_RULES,
  MSG_UNSUPPORTED_METHOD_PREFIX,
  invalidRequest,
  malformedXml,
  msgExposeWildcard,
  msgHeaderWildcards,
  msgOriginWildcards,
  withRule,
} from './messages.js';
import type { CorsConfiguration, CorsRule, S3ErrorInfo } from './types.js';
import { corsConfigurationToXml } from './xml.js';

/** [S4][S6] AWS-DOC */
export const MAX_RULES = 100;
/** [S6] AWS-DOC: "The CORS configuration … can be up to 64 KB in size." */
export const MAX_DOCUMENT_BYTES = 64 * 1024;
/** [S6] AWS-DOC */
export const MAX_ID_LENGTH = 255;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const RULE_KEYS: readonly string[] = [
  'ID',
  'AllowedOrigins',
  'AllowedMethods',
  'AllowedHeaders',
  'ExposeHeaders',
  'MaxAgeSeconds',
];

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const describeJson = (v: unknown): string => (v === undefined ? 'undefined' : JSON.stringify(v));

/**
 * Structure of a configuration object (JSON-shaped, plural keys), as the CLI/SDK
 * would have serialised it into PutBucketCors XML. Every failure here is
 * MalformedXML: a missing required member is what S3 sees as a schema failure
 * [S18 aws-sdk-js#123, #701].
 *
 * UNVERIFIED choice: unknown keys (e.g. CloudFormation's `ExposedHeaders`, or a
 * mis-cased `allowedOrigins`) and wrong value types are MalformedXML too. The CLI
 * and SDKs refuse such input client-side ("Unknown parameter …"), so S3 never
 * answers it; reporting it rather than ignoring the key keeps a typo from
 * silently dropping a member.
 */
export function checkConfigurationStructure(config: unknown): S3ErrorInfo | undefined {
  if (!isPlainObject(config)) return malformedXml('the configuration must be an object with a CORSRules array');
  for (const k of Object.keys(config)) {
    if (k !== 'CORSRules') return malformedXml(`unknown top-level key ${JSON.stringify(k)}${suggest(k, ['CORSRules'])}`);
  }
  const rules = config['CORSRules'];
  if (rules === undefined) return malformedXml('CORSRules is missing');
  if (!Array.isArray(rules)) return malformedXml(`CORSRules must be an array, got ${describeJson(rules)}`);
  // [S1 AWS-REC put-cors-exc-empty]: an empty rule list is MalformedXML.
  if (rules.length === 0) return malformedXml('CORSRules is empty: at least one rule is required');
  for (let i = 0; i < rules.length; i++) {
    const e = checkRuleStructure(rules[i], i);
    if (e) return e;
  }
  return undefined;
}

function checkRuleStructure(rule: unknown, index: number): S3ErrorInfo | undefined {
  const at = `rule #${index}`;
  if (!isPlainObject(rule)) return malformedXml(`${at} must be an object, got ${describeJson(rule)}`, index);
  const id = typeof rule['ID'] === 'string' ? rule['ID'] : undefined;
  const fail = (d: string): S3ErrorInfo => malformedXml(`${at}: ${d}`, index, id);
  for (const k of Object.keys(rule)) {
    if (!RULE_KEYS.includes(k)) return fail(`unknown key ${JSON.stringify(k)}${suggest(k, RULE_KEYS)}`);
  }
  if (rule['ID'] !== undefined && typeof rule['ID'] !== 'string') return fail(`ID must be a string, got ${describeJson(rule['ID'])}`);
  for (const k of ['AllowedOrigins', 'AllowedMethods'] as const) {
    const v = rule[k];
    if (v === undefined) return fail(`${k} is required (at least one entry)`);
    if (!isStringArray(v)) return fail(`${k} must be an array of strings, got ${describeJson(v)}`);
    if (v.length === 0) return fail(`${k} is empty: at least one entry is required`);
  }
  for (const k of ['AllowedHeaders', 'ExposeHeaders'] as const) {
    const v = rule[k];
    if (v !== undefined && !isStringArray(v)) return fail(`${k} must be an array of strings, got ${describeJson(v)}`);
  }
  const m = rule['MaxAgeSeconds'];
  if (m !== undefined && !(typeof m === 'number' && Number.isInteger(m) && m >= INT32_MIN && m <= INT32_MAX)) {
    return fail(`MaxAgeSeconds must be a 32-bit integer, got ${describeJson(m)}`);
  }
  return undefined;
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function suggest(key: string, known: readonly string[]): string {
  // Case, singular/plural and CloudFormation's "ExposedHeaders" are the usual slips.
  const norm = (s: string): string => s.toLowerCase().replace(/s$/, '').replace(/edheader$/, 'eheader');
  const hit = known.find((k) => norm(k) === norm(key));
  return hit ? ` (did you mean ${JSON.stringify(hit)}?)` : ` (expected one of ${known.join(', ')})`;
}

/**
 * Size, count and per-rule value checks on a structurally valid configuration.
 * `documentBytes` is the size of the PutBucketCors body S3 would receive; when
 * omitted it is the size of `corsConfigurationToXml(config)`.
 */
export function checkConfigurationValues(config: CorsConfiguration, documentBytes?: number): S3ErrorInfo | undefined {
  const tooBig = checkDocumentSize(documentBytes ?? Buffer.byteLength(corsConfigurationToXml(config), 'utf8'));
  if (tooBig) return tooBig;
  if (config.CORSRules.length > MAX_RULES) {
    // UNVERIFIED choice: InvalidRequest with Scality's/MinIO's text [S11][S12][S16]
    // (Scality's suite targets AWS). moto and LocalStack say MalformedXML instead.
    return {
      ...invalidRequest(MSG_TOO_MANY_RULES),
      detail: `the configuration has ${config.CORSRules.length} rules`,
    };
  }
  for (let i = 0; i < config.CORSRules.length; i++) {
    const rule = config.CORSRules[i] as CorsRule;
    const e = checkRuleValues(rule, i);
    if (e) return e;
  }
  return undefined;
}

/** The 64 KB bound on the PutBucketCors body [S6]. */
export function checkDocumentSize(bytes: number): S3ErrorInfo | undefined {
  if (bytes <= MAX_DOCUMENT_BYTES) return undefined;
  // UNVERIFIED choice: 400 MaxMessageLengthExceeded "Your request was too big." —
  // the error S3 documents for an over-long request body; no capture of a
  // >64 KB PutBucketCors exists. JSON input is measured as the XML the CLI
  // would send (S3 never sees the JSON).
  return {
    status: 400,
    code: 'MaxMessageLengthExceeded',
    message: MSG_TOO_BIG,
    detail: `the PutBucketCors document is ${bytes} bytes; the limit is ${MAX_DOCUMENT_BYTES}`,
  };
}

function checkRuleValues(rule: CorsRule, index: number): S3ErrorInfo | undefined {
  const id = rule.ID;
  // [S1 AWS-REC] exact, case-sensitive: "get" is rejected too [S11 putCors.js].
  for (const m of rule.AllowedMethods) {
    if (!CORS_METHODS.includes(m)) return invalidRequest(MSG_UNSUPPORTED_METHOD_PREFIX + m, index, id);
  }
  // [S17 #1870] at most one `*`; any other string (even "") is accepted [S1].
  for (const o of rule.AllowedOrigins) {
    if (countStars(o) > 1) return invalidRequest(msgOriginWildcards(o), index, id);
  }
  if (id !== undefined && [...id].length > MAX_ID_LENGTH) {
    // UNVERIFIED choice: 400 InvalidArgument "ID length should not exceed allowed
    // limit of 255" with ArgumentName/ArgumentValue — S3's answer to the same
    // 255-character ID limit on lifecycle rules; no CORS capture exists.
    return withRule(
      {
        status: 400,
        code: 'InvalidArgument',
        message: MSG_ID_TOO_LONG,
        extra: { ArgumentName: 'ID', ArgumentValue: id },
        detail: `rule #${index}: ID is ${[...id].length} characters long`,
      },
      index,
      id,
    );
  }
  for (const h of rule.AllowedHeaders ?? []) {
    if (countStars(h) > 1) return invalidRequest(msgHeaderWildcards(h), index, id);
  }
  if (rule.MaxAgeSeconds !== undefined && rule.MaxAgeSeconds < 0) {
    // UNVERIFIED choice: a negative MaxAgeSeconds is rejected with MalformedXML and
    // S3's standard message, following Scality [S12] (which rejects it as
    // MalformedXML, with a custom text). 0 is accepted and sent as "0".
    return malformedXml(`rule #${index}: MaxAgeSeconds ${rule.MaxAgeSeconds} is negative`, index, id);
  }
  for (const h of rule.ExposeHeaders ?? []) {
    if (h.includes('*')) return invalidRequest(msgExposeWildcard(h), index, id);
  }
  // UNVERIFIED choice: duplicate rule IDs are accepted. Nothing documents a
  // uniqueness rule for CORS IDs (lifecycle has one; CORS IDs are labels only).
  return undefined;
}

function countStars(s: string): number {
  let n = 0;
  for (let i = s.indexOf('*'); i !== -1; i = s.indexOf('*', i + 1)) n++;
  return n;
}
