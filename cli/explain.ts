/**
 * `corsproof explain <file> --origin O --method M [--header H]... [--credentials] [--key K]`:
 * what happens when a page on origin O makes this request to a bucket with this configuration.
 *
 * Whether the browser preflights, what S3 answers to the preflight and to the actual request (with
 * the per-rule ✓/✗), and the verdict per engine. Every decision is harness/oracle.ts `evaluate`'s —
 * the S3 engine's answers and the Fetch rules, the same function the browser matrix's `predict` is
 * built on — so explain only lays it out; the per-engine reason applies
 * fixtures/engine-differences.json (harness/data.ts `expectationFor`) and the printed line is
 * harness/messages.ts.
 */
import {
  describeDecision,
  parseCorsConfiguration,
  type ActualDecision,
  type CorsConfiguration,
  type HeaderList,
  type RuleEvaluation,
  type RuleRef,
} from '../servers/s3/cors/index.js';
import { ENGINE_NAMES, type EngineName } from '../engines/types.js';
import { expectationFor } from '../harness/data.js';
import { engineMessage } from '../harness/messages.js';
import {
  conclude,
  evaluate,
  headerValue,
  isForbiddenMethod,
  isForbiddenRequestHeader,
  normalizeMethod,
  requestOf,
  type Prediction,
  type RequestEvaluation,
} from '../harness/oracle.js';
import { REASON_TEXT, type ReasonId } from '../harness/reasons.js';
import { FLOW_IDS, explainFlow, formatFlowText } from './explain-flow.js';
import {
  EXIT_INVALID,
  EXIT_OK,
  EXIT_USAGE,
  UsageError,
  usageExit,
  displayName,
  onePositional,
  parseCommandArgs,
  parseFormat,
  processIo,
  readDocument,
  wantsHelp,
  type Io,
} from './args.js';

/** A stand-in bucket URL for the engines' messages; --endpoint gives the real one. */
export const DEFAULT_ENDPOINT = 'https://bucket.s3.amazonaws.com';
export const DEFAULT_KEY = 'index.html';

export const EXPLAIN_HELP = `Usage: corsproof explain <file> --origin <origin> --method <method> [options]

Explains what a browser does when a page on <origin> sends <method> to a bucket whose CORS
configuration is <file> (S3 console JSON, CLI/SDK JSON or PutBucketCors XML; "-" reads stdin):
whether it preflights, which rule matches (or, per rule, why origin/method/headers do not), the
exact status and headers S3 answers, and the verdict and console message of Chromium, Firefox and
WebKit.

Usage: corsproof explain <file> --origin <origin> --flow <flow> [--key <key>] [--endpoint <url>] [--format text|json]

Explains what real client code does against the bucket instead of one request: the requests the
flow makes, the headers each sends (so the preflights it implies), what it must read back, and
what happens to each with this configuration, per engine. Flows: ${FLOW_IDS.join(', ')}.

Options:
  --origin <origin>      the page's origin, as a browser sends it: scheme://host[:port] (required)
  --method <method>      the request method, e.g. GET or PUT (required without --flow)
  --flow <flow>          a client flow instead of --method/--header/--credentials (see above)
  --header <h>           a request header the page sets, "Name: value" or just "Name"; repeatable.
                         Give Content-Type its value: only text/plain, multipart/form-data and
                         application/x-www-form-urlencoded avoid a preflight
  --credentials          the request is credentialed (fetch credentials: "include",
                         XMLHttpRequest withCredentials); default: fetch's "same-origin"
  --key <key>            the object key requested (default ${DEFAULT_KEY}; "" for the bucket root)
  --endpoint <url>       the bucket's URL, for the engines' messages (default ${DEFAULT_ENDPOINT})
  --format text|json     output format (default text)
  -h, --help             show this help

Exit status: 0 explained (whatever the verdict); 1 S3 would refuse the document; 2 usage error
or unreadable file.

Examples (the S3 CORS note's hands-on configuration, from its static website origin):
  $ corsproof explain cors.json --origin http://my-bucket-html.s3-website-eu-west-1.amazonaws.com --method GET
  $ corsproof explain cors.json --origin http://my-bucket-html.s3-website-eu-west-1.amazonaws.com \\
      --method GET --header x-custom
  $ corsproof explain cors.json --origin https://app.example.com --method PUT \\
      --header 'Content-Type: application/json' --credentials --format json
`;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface ExplainRequest {
  origin: string;
  method: string;
  headers: Record<string, string>;
  credentials: boolean;
  key: string;
  url: string;
}

// ---- Arguments ----------------------------------------------------------------------------------

function checkOrigin(o: string | undefined): string {
  if (o === undefined || o === '') throw new UsageError('corsproof explain needs --origin, the page\'s origin (e.g. --origin https://www.example.com).');
  if (o === 'null') return o;
  let serialized: string | undefined;
  try {
    serialized = new URL(o).origin;
  } catch {
    serialized = undefined;
  }
  if (serialized === o) return o;
  const hint = serialized && serialized !== 'null' ? `; did you mean ${serialized}?` : '.';
  throw new UsageError(
    `--origin ${JSON.stringify(o)} is not an origin as a browser sends it (lower-case scheme://host[:port], no path, no trailing "/", no default port)${hint}`,
  );
}

function checkMethod(m: string | undefined): string {
  if (m === undefined || m === '') throw new UsageError('corsproof explain needs --method (e.g. --method GET).');
  if (!TOKEN.test(m)) throw new UsageError(`--method ${JSON.stringify(m)} is not an HTTP method name.`);
  if (isForbiddenMethod(m)) throw new UsageError(`--method ${m} is a forbidden method: fetch() refuses to send it.`);
  return normalizeMethod(m);
}

function parseHeaders(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of raw) {
    const colon = h.indexOf(':');
    const name = (colon === -1 ? h : h.slice(0, colon)).trim();
    const value = colon === -1 ? '' : h.slice(colon + 1).trim();
    if (!TOKEN.test(name)) throw new UsageError(`--header ${JSON.stringify(h)} is not "Name: value" or "Name" with a valid header name.`);
    if (isForbiddenRequestHeader(name)) {
      throw new UsageError(`--header ${name} is a forbidden request header: page scripts cannot set it (the browser does).`);
    }
    out[name] = value;
  }
  return out;
}

function requestUrl(endpoint: string, key: string): string {
  let base: URL;
  try {
    base = new URL(endpoint);
  } catch {
    throw new UsageError(`--endpoint ${JSON.stringify(endpoint)} is not a URL (e.g. https://my-bucket.s3.eu-west-1.amazonaws.com).`);
  }
  const path = key.split('/').map(encodeURIComponent).join('/');
  return `${base.href.replace(/\/$/, '')}/${path}`;
}

// ---- The explanation ----------------------------------------------------------------------------

export interface EngineVerdict {
  verdict: Prediction['verdict'];
  reason?: ReasonId;
  reasonText?: string;
  /** The console line the engine prints (the one ./harness/reasons.ts classifies). */
  message?: string;
  followUps?: string[];
  /** Why this engine's reason differs from the oracle's (fixtures/engine-differences.json). */
  note?: string;
}

export interface Explanation {
  request: ExplainRequest;
  preflight: {
    needed: boolean;
    why: string;
    request?: HeaderList;
    response?: {
      status: number;
      headers: HeaderList;
      rule?: RuleRef;
      code?: string;
      message?: string;
      method?: string;
      resourceType?: 'BUCKET' | 'OBJECT';
      reason?: string;
      evaluations: RuleEvaluation[];
      summary: string;
    };
  };
  actual: {
    sent: boolean;
    /** Whether it carries an Origin header (a same-origin GET or HEAD does not). */
    origin: boolean;
    headers: HeaderList;
    rule?: RuleRef;
    reason: ActualDecision['reason'];
    evaluations: RuleEvaluation[];
    summary: string;
  };
  /** The rule that answers the browser's first request (the preflight when there is one), or null. */
  rule: RuleRef | null;
  prediction: Prediction & { reasonText?: string };
  engines: Record<EngineName, EngineVerdict>;
}

function preflightWhy(requestMethod: string, e: RequestEvaluation['preflight']): string {
  const { method, headers } = e.because;
  const reasons: string[] = [];
  if (method !== undefined) reasons.push(`${method} is not a CORS-safelisted method (GET, HEAD, POST)`);
  if (headers.length === 1) reasons.push(`${headers[0]} is not a CORS-safelisted request header`);
  if (headers.length > 1) reasons.push(`${headers.join(', ')} are not CORS-safelisted request headers`);
  if (reasons.length > 0) return reasons.join(', and ');
  return `${requestMethod} is a CORS-safelisted method and every request header is safelisted`;
}

/** Explains one request against a valid configuration; pure (no I/O). */
export function explainRequest(config: CorsConfiguration, req: ExplainRequest): Explanation {
  const target = new URL(req.url).origin;
  // The oracle decides (the same `evaluate` the browser matrix's `predict` is built on); explain
  // only lays out its findings.
  const request = requestOf({ kind: 'fetch', method: req.method, headers: req.headers, credentials: req.credentials ? 'include' : 'same-origin' });
  const ev = evaluate(config, request, req.origin, { key: req.key, target });
  const prediction = conclude([ev], {});

  const pre = ev.preflight.sent?.decision;
  const preflight: Explanation['preflight'] = {
    needed: pre !== undefined,
    why: ev.sameOrigin
      ? `the page and the bucket are the same origin (${target}): CORS does not apply`
      : preflightWhy(request.method, ev.preflight),
  };
  if (ev.preflight.sent && pre) {
    const f = ev.preflight.sent.facts;
    preflight.request = [['Origin', f.origin!], ['Access-Control-Request-Method', f.accessControlRequestMethod!]];
    if (f.accessControlRequestHeaders) preflight.request.push(['Access-Control-Request-Headers', f.accessControlRequestHeaders]);
    preflight.response =
      pre.kind === 'allowed'
        ? { status: pre.status, headers: pre.headers, rule: pre.rule, evaluations: pre.evaluations, summary: describeDecision(pre) }
        : {
            status: pre.status,
            headers: [],
            code: pre.code,
            message: pre.message,
            ...(pre.method !== undefined ? { method: pre.method } : {}),
            ...(pre.resourceType !== undefined ? { resourceType: pre.resourceType } : {}),
            reason: pre.reason,
            evaluations: pre.evaluations,
            summary: describeDecision(pre),
          };
  }
  const act = ev.actual.decision;

  const engines = {} as Record<EngineName, EngineVerdict>;
  for (const engine of ENGINE_NAMES) {
    const block = ev.block;
    if (block === undefined) {
      engines[engine] = { verdict: prediction.verdict };
      continue;
    }
    const e = expectationFor({ verdict: 'blocked', reason: block.reason }, engine, block.at);
    const reason = e.verdict === 'blocked' ? e.reason : block.reason;
    const text = engineMessage(engine, reason, {
      url: req.url,
      origin: req.origin,
      method: request.method,
      at: block.at,
      status: block.at === 'preflight' ? (pre?.status ?? 200) : s3Status(request.method, req.key),
      ...(block.header !== undefined ? { header: block.header } : {}),
      allowOrigin: headerValue(block.headers, 'Access-Control-Allow-Origin') ?? '',
      allowCredentials: headerValue(block.headers, 'Access-Control-Allow-Credentials') ?? '',
    });
    engines[engine] = {
      verdict: 'blocked',
      reason,
      reasonText: REASON_TEXT[reason],
      message: text.message,
      followUps: text.followUps,
      ...(e.why !== undefined ? { note: e.why } : {}),
    };
  }

  const firstRule = pre ? (pre.kind === 'allowed' ? pre.rule : undefined) : act.rule;
  return {
    request: req,
    preflight,
    actual: {
      sent: ev.actual.sent,
      origin: ev.actual.origin,
      headers: act.headers,
      ...(act.rule ? { rule: act.rule } : {}),
      reason: act.reason,
      evaluations: act.evaluations,
      summary: describeDecision(act),
    },
    rule: firstRule ?? null,
    prediction: { ...prediction, ...(prediction.reason ? { reasonText: REASON_TEXT[prediction.reason] } : {}) },
    engines,
  };
}

/**
 * The status of S3's answer to the actual request, for the engines' "Status code" parts, assuming
 * the object exists and the page may read it: DeleteObject answers 204, a POST (or any other
 * method) to an object key 405 MethodNotAllowed (measured: the matrix's post-text in Firefox and
 * WebKit), GET, HEAD and PUT 200. The bucket root (--key "") is taken as 200.
 */
export function s3Status(method: string, key: string): number {
  if (key === '' || method === 'GET' || method === 'HEAD' || method === 'PUT') return 200;
  return method === 'DELETE' ? 204 : 405;
}

// ---- Text output --------------------------------------------------------------------------------

const STATUS_TEXT: Record<number, string> = { 200: 'OK', 400: 'Bad Request', 403: 'Forbidden' };
const mark = (ok: boolean): string => (ok ? '✓' : '✗');
const ruleName = (r: RuleRef): string => (r.id === undefined ? `rule #${r.index}` : `rule #${r.index} (ID ${r.id})`);

function evaluationLines(evals: RuleEvaluation[], requested: boolean, total: number, matched: RuleRef | undefined): string[] {
  const lines = evals.map((e) => {
    const h = requested ? `  headers ${e.headers ? '✓' : `✗ (${e.rejectedHeaders.join(', ')} not allowed)`}` : '';
    return `  ${ruleName(e.rule).padEnd(10)}  origin ${mark(e.origin)}  method ${mark(e.method)}${h}`;
  });
  if (matched) {
    lines.push(`  → ${ruleName(matched)} matches${matched.index < total - 1 ? ` (S3 uses the first match; later rules are not examined)` : ''}.`);
  } else {
    lines.push('  → no rule matches.');
  }
  return lines;
}

function headerLines(h: HeaderList, indent = '  '): string[] {
  return h.map(([k, v]) => `${indent}${k}: ${v}`);
}

export function formatExplainText(x: Explanation, total: number): string {
  const r = x.request;
  const path = new URL(r.url).pathname;
  const names = Object.entries(r.headers).map(([k, v]) => (v === '' ? k : `${k}: ${v}`));
  const out: string[] = [
    `Request: ${r.method} ${r.url}`,
    `  from origin ${r.origin}`,
    `  headers: ${names.length ? names.join('; ') : '(none)'}`,
    `  credentials: ${r.credentials ? 'included (credentials: "include")' : 'not sent (fetch\'s default, "same-origin")'}`,
    '',
  ];
  const p = x.preflight;
  if (p.needed && p.response) {
    out.push(`Preflight: yes — ${p.why}.`, `  OPTIONS ${path}`, ...headerLines(p.request ?? [], '  '), '');
    out.push('S3 evaluates the preflight against each rule in order:');
    out.push(...evaluationLines(p.response.evaluations, (p.request ?? []).length > 2, total, p.response.rule));
    const s = p.response;
    if (s.code) {
      out.push('', `S3 answers the preflight: ${s.status} ${STATUS_TEXT[s.status] ?? ''}, no Access-Control-* headers:`);
      out.push(`  <Code>${s.code}</Code>`, `  <Message>${s.message}</Message>`);
      if (s.method) out.push(`  <Method>${s.method}</Method>`);
      if (s.resourceType) out.push(`  <ResourceType>${s.resourceType}</ResourceType>`);
    } else {
      out.push('', `S3 answers the preflight: ${s.status} ${STATUS_TEXT[s.status] ?? ''}, empty body, with`, ...headerLines(s.headers, '  '));
    }
    out.push('');
  } else {
    out.push(`Preflight: no — ${p.why}.`, '');
  }

  const a = x.actual;
  if (!a.sent) {
    out.push(`Actual request: not sent — the browser stops at the failed preflight.`);
    out.push(
      a.rule
        ? `  (Sent directly, ${r.method} ${path} would match ${ruleName(a.rule)}: S3 checks no request headers on an actual request.)`
        : `  (Sent directly, ${r.method} ${path} would match no rule either.)`,
    );
  } else {
    out.push(`Actual request: ${r.method} ${path} ${a.origin ? `with Origin: ${r.origin}` : 'without Origin (a same-origin GET or HEAD carries none)'}`);
    if (a.reason === 'no-origin') {
      out.push('S3 evaluates no rule: a request without Origin is not a CORS request to it.');
    } else if (!p.needed) {
      out.push('S3 evaluates it against each rule in order:');
      out.push(...evaluationLines(a.evaluations, false, total, a.rule));
    }
    if (a.headers.length) out.push(`S3 adds to its response (whatever the object's status):`, ...headerLines(a.headers, '  '));
    else out.push('S3 adds no CORS headers (and no Vary) to its response.');
  }
  out.push('');

  const pr = x.prediction;
  if (pr.verdict === 'blocked') {
    out.push(`Verdict: blocked ${pr.at === 'preflight' ? 'at the preflight' : 'at the response'} — ${pr.reasonText}: ${pr.why}.`);
  } else {
    out.push(`Verdict: ${pr.verdict} in every engine — ${pr.why}.`);
    if (pr.readable) out.push(`  JavaScript can read these response headers: ${pr.readable.join(', ')}.`);
  }
  for (const engine of ENGINE_NAMES) {
    const e = x.engines[engine];
    if (e.verdict !== 'blocked') {
      out.push(`  ${engine.padEnd(8)}  ${e.verdict}`);
      continue;
    }
    out.push(`  ${engine.padEnd(8)}  blocked — ${e.reasonText}`, `      ${e.message}`);
    for (const f of e.followUps ?? []) out.push(`      ${f}`);
    if (e.note) out.push(`      note: ${e.note}`);
  }
  return `${out.join('\n')}\n`;
}

// ---- Command ------------------------------------------------------------------------------------

export async function explain(argv: string[], io: Io = processIo()): Promise<number> {
  if (wantsHelp(argv)) {
    io.stdout.write(EXPLAIN_HELP);
    return EXIT_OK;
  }
  let req: ExplainRequest;
  let format: 'text' | 'json';
  let file: string;
  let text: Buffer;
  try {
    const { values, positionals } = parseCommandArgs('explain', argv, {
      origin: { type: 'string' },
      method: { type: 'string' },
      header: { type: 'string', multiple: true },
      credentials: { type: 'boolean' },
      key: { type: 'string' },
      endpoint: { type: 'string' },
      format: { type: 'string' },
      flow: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.flow !== undefined) {
      return await explainFlowCommand(values as FlowArgs, positionals, io);
    }
    format = parseFormat('explain', values.format);
    file = onePositional('explain', positionals, 'a CORS configuration file (or - for stdin)');
    const origin = checkOrigin(values.origin);
    const method = checkMethod(values.method);
    const headers = parseHeaders(values.header ?? []);
    const key = values.key ?? DEFAULT_KEY;
    req = { origin, method, headers, credentials: values.credentials ?? false, key, url: requestUrl(values.endpoint ?? DEFAULT_ENDPOINT, key) };
    text = await readDocument(file, io);
  } catch (e) {
    return usageExit(e, io);
  }
  const parsed = parseCorsConfiguration(text);
  if (!parsed.ok) return refused(file, parsed.error, io);
  const x = explainRequest(parsed.config, req);
  io.stdout.write(format === 'json' ? `${JSON.stringify(x, null, 2)}\n` : formatExplainText(x, parsed.config.CORSRules.length));
  return EXIT_OK;
}

/** A configuration S3 would refuse: where and why, and exit 2 (explain and explain --flow alike). */
function refused(file: string, err: Extract<ReturnType<typeof parseCorsConfiguration>, { ok: false }>['error'], io: Io): number {
  const where = err.ruleIndex === undefined ? '' : ` (rule #${err.ruleIndex}${err.ruleId === undefined ? '' : `, ID ${err.ruleId}`})`;
  io.stderr.write(
    `${displayName(file)} is not a configuration S3 accepts: ${err.code}: ${err.message}${where}${err.detail ? ` — ${err.detail}` : ''}. Run corsproof lint for details.\n`,
  );
  return EXIT_INVALID;
}

// ---- --flow -------------------------------------------------------------------------------------

interface FlowArgs {
  origin?: string;
  method?: string;
  header?: string[];
  credentials?: boolean;
  key?: string;
  endpoint?: string;
  format?: string;
  flow: string;
}

/** `explain --flow`: the flow's requests instead of one (harness/flows.ts, cli/explain-flow.ts). */
async function explainFlowCommand(values: FlowArgs, positionals: string[], io: Io): Promise<number> {
  let text: Buffer;
  let file: string;
  let format: 'text' | 'json';
  let origin: string;
  let bucketUrl: string;
  try {
    const clash = (['method', 'header', 'credentials'] as const).filter((k) => values[k] !== undefined);
    if (clash.length) throw new UsageError(`--flow describes the flow's own requests: leave out ${clash.map((k) => `--${k}`).join(', ')}.`);
    if (!(FLOW_IDS as readonly string[]).includes(values.flow)) {
      throw new UsageError(`--flow ${JSON.stringify(values.flow)} is not a flow corsproof knows (${FLOW_IDS.join(', ')}).`);
    }
    format = parseFormat('explain', values.format);
    file = onePositional('explain', positionals, 'a CORS configuration file (or - for stdin)');
    origin = checkOrigin(values.origin);
    bucketUrl = requestUrl(values.endpoint ?? DEFAULT_ENDPOINT, '').replace(/\/$/, '');
    text = await readDocument(file, io);
  } catch (e) {
    return usageExit(e, io);
  }
  const parsed = parseCorsConfiguration(text);
  if (!parsed.ok) return refused(file, parsed.error, io);
  const x = explainFlow(parsed.config, { origin, flow: values.flow, key: values.key ?? 'upload.bin', bucketUrl });
  io.stdout.write(format === 'json' ? `${JSON.stringify(x, null, 2)}\n` : formatFlowText(x));
  return EXIT_OK;
}
