/**
 * What each engine prints for each CORS failure reason: message templates, the counterpart of the
 * per-engine regexes in ./reasons.ts (tests/unit/cli-messages.spec.ts checks that every template
 * here is classified by those regexes as the same reason, so the two cannot drift).
 *
 * Texts: ../shared/reference/browser-cors-evidence.md §1 — Chromium 156 (cors_error_string.cc),
 * Firefox ESR 153 (security.properties; typographic quotes ‘ ’), WebKitGTK 2.50.6
 * (CrossOriginAccessControl.cpp; the SECURITY console line). They are predictions of the line an
 * engine prints, for `corsproof explain`; engines change tails between releases, which is why the
 * classifier matches core phrases only. `compareWithEngine` holds a prediction against what an
 * engine really printed (tests/unit/engine-messages.spec.ts, on lines recorded from the matrix and
 * from scripts/capture-engine-messages.ts).
 */
import type { EngineMessage, EngineName } from '../engines/types.js';
import { classify, type ReasonId } from './reasons.js';

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
  /** Initiator: 'fetch' (default), 'XMLHttpRequest' or 'image' (`<img crossorigin>`). */
  kind?: 'fetch' | 'XMLHttpRequest' | 'image';
}

export interface EngineMessageText {
  /** The line that carries the reason (what ./reasons.ts classifies). */
  message: string;
  /** Further lines the engine prints for the same failure. */
  followUps: string[];
}

/** Every parameter of a line, as text: what the templates below fill in. */
interface Parts {
  url: string;
  origin: string;
  method: string;
  status: string;
  header: string;
  allowOrigin: string;
  allowCredentials: string;
  /** Chromium's resource type word: fetch, XMLHttpRequest, image. */
  kind: string;
  /** WebKit's follow-up line's opening: "Fetch API cannot load", "XMLHttpRequest cannot load", "Cannot load image". */
  loader: string;
}

const WEBKIT_LOADER: Record<NonNullable<MessageContext['kind']>, string> = {
  fetch: 'Fetch API cannot load',
  XMLHttpRequest: 'XMLHttpRequest cannot load',
  image: 'Cannot load image',
};

// ---- Chromium -----------------------------------------------------------------------------------

/** Chromium's reason strings (after "has been blocked by CORS policy: "). */
const CHROMIUM: Record<ReasonId, (c: Parts) => string> = {
  'missing-allow-origin': () => "No 'Access-Control-Allow-Origin' header is present on the requested resource.",
  'origin-mismatch': (c) =>
    `The 'Access-Control-Allow-Origin' header has a value '${c.allowOrigin}' that is not equal to the supplied origin. Have the server send the header with a valid value.`,
  'method-not-allowed': (c) => `Method ${c.method} is not allowed by Access-Control-Allow-Methods in preflight response.`,
  'header-not-allowed': (c) => `Request header field ${c.header} is not allowed by Access-Control-Allow-Headers in preflight response.`,
  'preflight-status': () => 'It does not have HTTP ok status.',
  'wildcard-with-credentials': (c) =>
    "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' when the request's credentials mode is 'include'." +
    (c.kind === 'XMLHttpRequest' ? ' The credentials mode of requests initiated by the XMLHttpRequest is controlled by the withCredentials attribute.' : ''),
  'credentials-flag': (c) =>
    `The value of the 'Access-Control-Allow-Credentials' header in the response is '${c.allowCredentials}' which must be 'true' when the request's credentials mode is 'include'.`,
};

/** Method and header refusals have their own error codes, without the preflight prefix. */
const CHROMIUM_NO_PREFLIGHT_PREFIX: ReadonlySet<ReasonId> = new Set(['method-not-allowed', 'header-not-allowed']);

function chromium(reason: ReasonId, at: MessageContext['at'], c: Parts): EngineMessageText {
  const prefix = at === 'preflight' && !CHROMIUM_NO_PREFLIGHT_PREFIX.has(reason) ? "Response to preflight request doesn't pass access control check: " : '';
  return {
    message: `Access to ${c.kind} at '${c.url}' from origin '${c.origin}' has been blocked by CORS policy: ${prefix}${CHROMIUM[reason](c)}`,
    followUps: ['Failed to load resource: net::ERR_FAILED'],
  };
}

// ---- Firefox ------------------------------------------------------------------------------------

/** Firefox's "(Reason: …)" part and what follows it, with its typographic quotes. */
const FIREFOX: Record<ReasonId, (c: Parts) => string> = {
  'missing-allow-origin': (c) => `(Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: ${c.status}.`,
  'origin-mismatch': (c) => `(Reason: CORS header ‘Access-Control-Allow-Origin’ does not match ‘${c.allowOrigin}’).`,
  'method-not-allowed': () => '(Reason: Did not find method in CORS header ‘Access-Control-Allow-Methods’).',
  'header-not-allowed': (c) => `(Reason: header ‘${c.header}’ is not allowed according to header ‘Access-Control-Allow-Headers’ from CORS preflight response).`,
  'preflight-status': (c) => `(Reason: CORS preflight response did not succeed). Status code: ${c.status}.`,
  'wildcard-with-credentials': () => '(Reason: Credential is not supported if the CORS header ‘Access-Control-Allow-Origin’ is ‘*’).',
  'credentials-flag': () => '(Reason: expected ‘true’ in CORS header ‘Access-Control-Allow-Credentials’).',
};

function firefox(reason: ReasonId, at: MessageContext['at'], c: Parts): EngineMessageText {
  const head = (url: string) => `Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at ${url}.`;
  // CORSNotSupportingCredentials is the one key that quotes the URL.
  const message = `${head(reason === 'wildcard-with-credentials' ? `‘${c.url}’` : c.url)} ${FIREFOX[reason](c)}`;
  // Measured: a refused preflight is followed by a "did not succeed … (null)" line for the actual
  // request, its URL unquoted whatever the first line's key.
  const followUps = at === 'preflight' ? [`${head(c.url)} (Reason: CORS request did not succeed). Status code: (null).`] : [];
  return { message, followUps };
}

// ---- WebKit -------------------------------------------------------------------------------------

/** WebKit's SECURITY console line. It does not tell a missing Access-Control-Allow-Origin from a mismatched one. */
const WEBKIT: Record<ReasonId, (c: Parts) => string> = {
  'missing-allow-origin': (c) => `Origin ${c.origin} is not allowed by Access-Control-Allow-Origin. Status code: ${c.status}`,
  'origin-mismatch': (c) => `Origin ${c.origin} is not allowed by Access-Control-Allow-Origin. Status code: ${c.status}`,
  'method-not-allowed': (c) => `Method ${c.method} is not allowed by Access-Control-Allow-Methods.`,
  'header-not-allowed': (c) => `Request header field ${c.header} is not allowed by Access-Control-Allow-Headers.`,
  'preflight-status': (c) => `Preflight response is not successful. Status code: ${c.status}`,
  'wildcard-with-credentials': () => 'Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true.',
  'credentials-flag': () => 'Credentials flag is true, but Access-Control-Allow-Credentials is not "true".',
};

function webkit(reason: ReasonId, _at: MessageContext['at'], c: Parts): EngineMessageText {
  return { message: WEBKIT[reason](c), followUps: [`${c.loader} ${c.url} due to access control checks.`] };
}

const BY_ENGINE: Record<EngineName, (reason: ReasonId, at: MessageContext['at'], c: Parts) => EngineMessageText> = { chromium, firefox, webkit };

/** The console line `engine` prints when it blocks a request for `reason`, plus the lines that follow it. */
export function engineMessage(engine: EngineName, reason: ReasonId, context: MessageContext): EngineMessageText {
  const kind = context.kind ?? 'fetch';
  return BY_ENGINE[engine](reason, context.at, {
    url: context.url,
    origin: context.origin,
    method: context.method,
    status: String(context.status),
    header: context.header ?? '',
    allowOrigin: context.allowOrigin ?? '',
    allowCredentials: context.allowCredentials ?? '',
    kind,
    loader: WEBKIT_LOADER[kind],
  });
}

// ---- Against what an engine printed -------------------------------------------------------------

/**
 * The parts of a line that depend on the request, the server's answer or the engine's release, and
 * what each matches in an engine's line. Everything else in explain's line must be there verbatim.
 */
const HOLES: Record<keyof Parts, string> = {
  url: '\\S+?',
  origin: '\\S+?',
  method: '\\S+?',
  // Where explain cannot know it (the S3 operation's own status, e.g. 405 for a POST to an
  // object), and engines print the status of whichever response they looked at.
  status: '\\d{3}',
  header: '\\S+?',
  allowOrigin: '.*?',
  allowCredentials: '.*?',
  kind: '\\S+?',
  loader: '.+?',
};
const MARK = '\u0000';
const HOLE_PARTS = Object.fromEntries(Object.keys(HOLES).map((k) => [k, `${MARK}${k}${MARK}`])) as unknown as Parts;
const SHOWN_PARTS = Object.fromEntries(Object.keys(HOLES).map((k) => [k, `<${k}>`])) as unknown as Parts;

/**
 * A template line as a pattern: holes for the parameters, a trailing "Status code: N" part
 * optional (Firefox's keys before CORSMissingAllowOrigin2 / CORSPreflightDidNotSucceed3, and
 * older WebKit, end without it), found anywhere in the engine's text (a driver may prefix it, a
 * release may add a tail such as Chromium's former "If an opaque response serves your needs, …").
 */
function linePattern(template: string): RegExp {
  const statusTail = new RegExp(` Status code: ${MARK}status${MARK}(\\.?)$`);
  const tail = statusTail.exec(template);
  const body = tail ? template.slice(0, tail.index) : template;
  const source = (t: string) =>
    t
      .split(new RegExp(`${MARK}(\\w+)${MARK}`))
      .map((piece, i) => (i % 2 === 1 ? `(?:${HOLES[piece as keyof Parts]})` : piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
  return new RegExp(tail ? `${source(body)}(?: Status code: (?:${HOLES.status})${tail[1] ? '\\.' : ''})?` : source(body));
}

export interface EngineComparison {
  /** Explain's line for (engine, reason) is in what the engine printed, parameters aside. */
  ok: boolean;
  /** Explain's line with its parameters shown as <url>, <origin>, <status>, …. */
  expectedLine: string;
  /** The engine's line that matched; otherwise the line it printed for a CORS reason, if any; otherwise all it printed. */
  printed: string;
  /** Explain's further lines and whether the engine printed each (informative: `ok` does not include them). */
  followUps: Array<{ expected: string; found: boolean }>;
}

/**
 * Compares the line explain prints for `engine` blocking a request for `reason` (engineMessage)
 * with what the engine printed for that case (engines/types.ts EngineMessage[]). Ignored, because
 * they are the request's, the server's or the release's: URLs, origins, the method, header names,
 * the Access-Control-Allow-Origin/-Credentials values quoted, status codes, Chromium's initiator
 * word (fetch, XMLHttpRequest, image) and WebKit's loader phrase, a trailing "Status code: N" part
 * the engine leaves out, and text the engine adds before or after the line. `at` (where the
 * request was stopped) decides Chromium's preflight prefix and Firefox's follow-up; without it,
 * either form is accepted.
 */
export function compareWithEngine(
  engine: EngineName,
  reason: ReasonId,
  printed: readonly EngineMessage[],
  opts: { at?: MessageContext['at'] } = {},
): EngineComparison {
  const ats: Array<MessageContext['at']> = opts.at ? [opts.at] : ['response', 'preflight'];
  const candidates = ats.map((at) => {
    const holes = BY_ENGINE[engine](reason, at, HOLE_PARTS);
    return {
      at,
      re: linePattern(holes.message),
      followUps: holes.followUps.map((f) => ({ re: linePattern(f), shown: f.split(MARK).map((x, i) => (i % 2 ? `<${x}>` : x)).join('') })),
      shown: BY_ENGINE[engine](reason, at, SHOWN_PARTS).message,
    };
  });
  const texts = printed.map((m) => m.text);
  for (const c of candidates) {
    const hit = texts.find((t) => c.re.test(t));
    if (hit !== undefined) {
      return {
        ok: true,
        expectedLine: c.shown,
        printed: hit,
        followUps: c.followUps.map((f) => ({ expected: f.shown, found: texts.some((t) => t !== hit && f.re.test(t)) })),
      };
    }
  }
  const c = candidates[0]!;
  const said = classify(engine, printed)?.message ?? (texts.length ? texts.join('\n') : '(nothing)');
  return {
    ok: false,
    expectedLine: [...new Set(candidates.map((x) => x.shown))].join('\n  or: '),
    printed: said,
    followUps: c.followUps.map((f) => ({ expected: f.shown, found: texts.some((t) => f.re.test(t)) })),
  };
}
