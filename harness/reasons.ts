/**
 * Why an engine blocked a request, read from the engine's own words.
 *
 * Page JavaScript cannot tell (every CORS failure is the same TypeError — "Failed to fetch",
 * "NetworkError when attempting to fetch resource.", "Load failed"), so the reason comes from the
 * console line (Chromium), the page error (Firefox over BiDi) or MiniBrowser's console dump
 * (WebKitGTK). Patterns: ../shared/reference/browser-cors-evidence.md §1 and §8; they match the core
 * phrase only, never a whole line, because engines change the tails between releases. Firefox quotes
 * with ‘ ’, so both quote styles are accepted.
 *
 * Where an engine uses one sentence for two reasons (WebKit says "Origin … is not allowed by
 * Access-Control-Allow-Origin" for a missing and for a mismatched header), the classification lists
 * both and says it is merged, rather than guessing.
 */
import type { EngineMessage, EngineName } from '../engines/types.js';

export type ReasonId =
  | 'missing-allow-origin'
  | 'origin-mismatch'
  | 'method-not-allowed'
  | 'header-not-allowed'
  | 'preflight-status'
  | 'wildcard-with-credentials'
  | 'credentials-flag';

export const REASON_TEXT: Record<ReasonId, string> = {
  'missing-allow-origin': 'no Access-Control-Allow-Origin header',
  'origin-mismatch': 'Access-Control-Allow-Origin does not equal the page origin',
  'method-not-allowed': 'method not in the preflight’s Access-Control-Allow-Methods',
  'header-not-allowed': 'request header not in the preflight’s Access-Control-Allow-Headers',
  'preflight-status': 'preflight answered with a non-2xx status',
  'wildcard-with-credentials': 'Access-Control-Allow-Origin is * on a credentialed request',
  'credentials-flag': 'Access-Control-Allow-Credentials is not "true" on a credentialed request',
};

/** Every reason id, for schemas of the data files that name reasons. */
export const REASON_IDS = Object.keys(REASON_TEXT) as ReasonId[];

const Q = `['‘’"]`;
type Pattern = { reasons: ReasonId[]; re: RegExp };

const PATTERNS: Record<EngineName, Pattern[]> = {
  chromium: [
    { reasons: ['missing-allow-origin'], re: /No 'Access-Control-Allow-Origin' header is present/ },
    { reasons: ['origin-mismatch'], re: /'Access-Control-Allow-Origin' header has a value '.*' that is not equal to the supplied origin/ },
    { reasons: ['method-not-allowed'], re: /Method \S+ is not allowed by Access-Control-Allow-Methods/ },
    { reasons: ['header-not-allowed'], re: /Request header field \S+ is not allowed by Access-Control-Allow-Headers/ },
    { reasons: ['preflight-status'], re: /It does not have HTTP ok status/ },
    { reasons: ['wildcard-with-credentials'], re: /must not be the wildcard '\*' when the request's credentials mode is 'include'/ },
    { reasons: ['credentials-flag'], re: /'Access-Control-Allow-Credentials' header in the response is '.*' which must be 'true'/ },
  ],
  firefox: [
    { reasons: ['missing-allow-origin'], re: new RegExp(`CORS header ${Q}Access-Control-Allow-Origin${Q} missing`) },
    { reasons: ['origin-mismatch'], re: new RegExp(`CORS header ${Q}Access-Control-Allow-Origin${Q} does not match`) },
    { reasons: ['method-not-allowed'], re: new RegExp(`Did not find method in CORS header ${Q}Access-Control-Allow-Methods${Q}`) },
    { reasons: ['header-not-allowed'], re: new RegExp(`is not allowed according to header ${Q}Access-Control-Allow-Headers${Q}`) },
    { reasons: ['preflight-status'], re: /CORS preflight response did not succeed\)\. Status code: \d+/ },
    { reasons: ['wildcard-with-credentials'], re: new RegExp(`Credential is not supported if the CORS header ${Q}Access-Control-Allow-Origin${Q} is ${Q}\\*${Q}`) },
    { reasons: ['credentials-flag'], re: new RegExp(`expected ${Q}true${Q} in CORS header ${Q}Access-Control-Allow-Credentials${Q}`) },
  ],
  webkit: [
    // WebKit does not separate a missing from a mismatched header.
    { reasons: ['missing-allow-origin', 'origin-mismatch'], re: /is not allowed by Access-Control-Allow-Origin/ },
    { reasons: ['method-not-allowed'], re: /Method \S+ is not allowed by Access-Control-Allow-Methods/ },
    { reasons: ['header-not-allowed'], re: /Request header field \S+ is not allowed by Access-Control-Allow-Headers/ },
    { reasons: ['preflight-status'], re: /Preflight response is not successful\. Status code: \d+/ },
    { reasons: ['wildcard-with-credentials'], re: /Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true/ },
    { reasons: ['credentials-flag'], re: /Credentials flag is true, but Access-Control-Allow-Credentials is not "true"/ },
  ],
};

/**
 * Chromium says so when the refusal came from the preflight ("Response to preflight request …", or
 * "… in preflight response." for a refused method or header); the others do not.
 */
const CHROMIUM_PREFLIGHT = /Response to preflight request doesn't pass access control check|in preflight response\.?$/;

export interface Classification {
  /** Reasons the engine's message is consistent with (two when the engine merges them). */
  reasons: ReasonId[];
  merged: boolean;
  /** The engine's own line that carried the reason. */
  message: string;
  stream: EngineMessage['stream'];
  /** True/false when the engine's wording says whether the preflight failed; undefined when it does not say. */
  preflight?: boolean;
}

/** Finds the first CORS reason line among the case's engine messages. */
export function classify(engine: EngineName, messages: readonly EngineMessage[]): Classification | undefined {
  for (const m of messages) {
    for (const p of PATTERNS[engine]) {
      if (!p.re.test(m.text)) continue;
      return {
        reasons: p.reasons,
        merged: p.reasons.length > 1,
        message: m.text,
        stream: m.stream,
        ...(engine === 'chromium' ? { preflight: CHROMIUM_PREFLIGHT.test(m.text) } : {}),
      };
    }
  }
  return undefined;
}
