/**
 * What each engine prints for each CORS failure reason: message templates, the counterpart of the
 * per-engine regexes in ./reasons.ts (tests/unit/cli-messages.spec.ts checks that every template
 * here is classified by those regexes as the same reason, so the two cannot drift).
 *
 * Texts: ../shared/reference/browser-cors-evidence.md §1 — Chromium 156 (cors_error_string.cc),
 * Firefox ESR 153 (security.properties; typographic quotes ‘ ’), WebKitGTK 2.50.6
 * (CrossOriginAccessControl.cpp; the SECURITY console line). They are predictions of the line an
 * engine prints, for `corsproof explain`; engines change tails between releases, which is why the
 * classifier matches core phrases only.
 */
import type { EngineName } from '../engines/types.js';
import type { ReasonId } from './reasons.js';

export interface MessageContext {
  /** The request URL the page fetched. */
  url: string;
  /** The page's origin (the Origin request header). */
  origin: string;
  /** The request method, upper case. */
  method: string;
  /** Where the block happened: the preflight (OPTIONS) response or the actual response. */
  at: 'preflight' | 'response';
  /** Status of the response that failed the check. */
  status: number;
  /** First request header the preflight did not allow (lower case), for header-not-allowed. */
  header?: string;
  /** The Access-Control-Allow-Origin value received, for origin-mismatch. */
  allowOrigin?: string;
  /** The Access-Control-Allow-Credentials value received ('' when absent), for credentials-flag. */
  allowCredentials?: string;
  /** Initiator: 'fetch' (default) or 'XMLHttpRequest'. */
  kind?: 'fetch' | 'XMLHttpRequest';
}

export interface EngineMessageText {
  /** The line that carries the reason (what ./reasons.ts classifies). */
  message: string;
  /** Further lines the engine prints for the same failure. */
  followUps: string[];
}

// ---- Chromium -----------------------------------------------------------------------------------

/** Chromium's reason strings (after "has been blocked by CORS policy: "). */
const CHROMIUM: Record<ReasonId, (c: MessageContext) => string> = {
  'missing-allow-origin': () => "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
  'origin-mismatch': (c) =>
    `The 'Access-Control-Allow-Origin' header has a value '${c.allowOrigin ?? ''}' that is not equal to the supplied origin. Have the server send the header with a valid value.`,
  'method-not-allowed': (c) => `Method ${c.method} is not allowed by Access-Control-Allow-Methods in preflight response.`,
  'header-not-allowed': (c) => `Request header field ${c.header ?? ''} is not allowed by Access-Control-Allow-Headers in preflight response.`,
  'preflight-status': () => 'It does not have HTTP ok status.',
  'wildcard-with-credentials': (c) =>
    "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'." +
    (c.kind === 'XMLHttpRequest' ? ' The credentials mode of requests initiated by the XMLHttpRequest is controlled by the withCredentials attribute.' : ''),
  'credentials-flag': (c) =>
    `The value of the 'Access-Control-Allow-Credentials' header in the response is '${c.allowCredentials ?? ''}' which must be 'true' when the request's credentials mode is 'include'.`,
};

/** Method and header refusals have their own error codes, without the preflight prefix. */
const CHROMIUM_NO_PREFLIGHT_PREFIX: ReadonlySet<ReasonId> = new Set(['method-not-allowed', 'header-not-allowed']);

function chromium(reason: ReasonId, c: MessageContext): EngineMessageText {
  const prefix = c.at === 'preflight' && !CHROMIUM_NO_PREFLIGHT_PREFIX.has(reason) ? "Response to preflight request doesn't pass access control check: " : '';
  return {
    message: `Access to ${c.kind ?? 'fetch'} at '${c.url}' from origin '${c.origin}' has been blocked by CORS policy: ${prefix}${CHROMIUM[reason](c)}`,
    followUps: ['Failed to load resource: net::ERR_FAILED'],
  };
}

// ---- Firefox ------------------------------------------------------------------------------------

/** Firefox's "(Reason: …)" part and what follows it, with its typographic quotes. */
const FIREFOX: Record<ReasonId, (c: MessageContext) => string> = {
  'missing-allow-origin': (c) => `(Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: ${c.status}.`,
  'origin-mismatch': (c) => `(Reason: CORS header ‘Access-Control-Allow-Origin’ does not match ‘${c.allowOrigin ?? ''}’).`,
  'method-not-allowed': () => '(Reason: Did not find method in CORS header ‘Access-Control-Allow-Methods’).',
  'header-not-allowed': (c) =>
    `(Reason: header ‘${c.header ?? ''}’ is not allowed according to header ‘Access-Control-Allow-Headers’ from CORS preflight response).`,
  'preflight-status': (c) => `(Reason: CORS preflight response did not succeed). Status code: ${c.status}.`,
  'wildcard-with-credentials': () => '(Reason: Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is ‘*’).',
  'credentials-flag': () => '(Reason: expected ‘true’ in CORS header ‘Access-Control-Allow-Credentials’).',
};

function firefox(reason: ReasonId, c: MessageContext): EngineMessageText {
  // CORSNotSupportingCredentials is the one key that quotes the URL.
  const at = reason === 'wildcard-with-credentials' ? `‘${c.url}’` : c.url;
  const head = `Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at ${at}.`;
  // Measured: a refused preflight is followed by a "did not succeed … (null)" line for the actual request.
  const followUps = c.at === 'preflight' ? [`${head} (Reason: CORS request did not succeed). Status code: (null).`] : [];
  return { message: `${head} ${FIREFOX[reason](c)}`, followUps };
}

// ---- WebKit -------------------------------------------------------------------------------------

/** WebKit's SECURITY console line. It does not tell a missing Access-Control-Allow-Origin from a mismatched one. */
const WEBKIT: Record<ReasonId, (c: MessageContext) => string> = {
  'missing-allow-origin': (c) => `Origin ${c.origin} is not allowed by Access-Control-Allow-Origin. Status code: ${c.status}`,
  'origin-mismatch': (c) => `Origin ${c.origin} is not allowed by Access-Control-Allow-Origin. Status code: ${c.status}`,
  'method-not-allowed': (c) => `Method ${c.method} is not allowed by Access-Control-Allow-Methods.`,
  'header-not-allowed': (c) => `Request header field ${c.header ?? ''} is not allowed by Access-Control-Allow-Headers.`,
  'preflight-status': (c) => `Preflight response is not successful. Status code: ${c.status}`,
  'wildcard-with-credentials': () => 'Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true.',
  'credentials-flag': () => 'Credentials flag is true, but Access-Control-Allow-Credentials is not "true".',
};

function webkit(reason: ReasonId, c: MessageContext): EngineMessageText {
  const loader = c.kind === 'XMLHttpRequest' ? 'XMLHttpRequest cannot load' : 'Fetch API cannot load';
  return { message: WEBKIT[reason](c), followUps: [`${loader} ${c.url} due to access control checks.`] };
}

const BY_ENGINE: Record<EngineName, (reason: ReasonId, c: MessageContext) => EngineMessageText> = { chromium, firefox, webkit };

/** The console line `engine` prints when it blocks a request for `reason`, plus the lines that follow it. */
export function engineMessage(engine: EngineName, reason: ReasonId, context: MessageContext): EngineMessageText {
  return BY_ENGINE[engine](reason, context);
}
