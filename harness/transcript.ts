/**
 * A short readable account of one case in the order the seed note draws the CORS flow:
 * page load → preflight → actual request → verdict, with the headers that decided it; and the
 * side-by-side lines a failed matrix test prints (expected, oracle, engine).
 *
 * Every line says what the evidence shows, and where it shows nothing says so: against a remote
 * endpoint there is no server record, so no line claims a preflight was or was not sent.
 */
import type { StepOutcome } from '../engines/types.js';
import type { Exchange } from '../servers/exchange-log.js';
import type { CaseEvidence } from './case.js';
import { REASON_TEXT, type ReasonId } from './reasons.js';
import type { ReplayedExchange } from './replay.js';
import { storeLines } from './store-case.js';

const CORS_REQUEST_HEADERS = ['origin', 'access-control-request-method', 'access-control-request-headers'];
const NO_RECORD = 'no server record (a remote endpoint keeps none for corsproof)';

function corsResponseHeaders(x: Exchange): string[] {
  return Object.entries(x.responseHeaders)
    .filter(([k]) => k.startsWith('access-control-') || k === 'vary')
    .map(([k, v]) => `${k}: ${v}`);
}

function describeExchange(x: Exchange): string[] {
  const req = CORS_REQUEST_HEADERS.filter((h) => x.requestHeaders[h] !== undefined).map((h) => `${h}: ${x.requestHeaders[h]}`);
  const res = corsResponseHeaders(x);
  return [
    `   ${x.method} ${x.url}`,
    ...req.map((h) => `     > ${h}`),
    `     < ${x.status}${x.note ? `  (${x.note})` : ''}`,
    ...(res.length ? res.map((h) => `     < ${h}`) : ['     < (no Access-Control-* headers)']),
  ];
}

/** A replayed exchange (a remote store: sent from Node, not by the browser). */
function describeReplay(x: ReplayedExchange): string[] {
  const req = CORS_REQUEST_HEADERS.filter((h) => x.headers[h] !== undefined).map((h) => `${h}: ${x.headers[h]}`);
  const res = Object.entries(x.responseHeaders)
    .filter(([k]) => k.startsWith('access-control-') || k === 'vary')
    .map(([k, v]) => `${k}: ${v}`);
  const code = /<Code>([^<]*)<\/Code>/.exec(x.bodyPreview)?.[1];
  return [
    `   ${x.method} ${x.url.replace(/\?.*$/, '?…')}${x.credentials ? '  (credentials: include)' : ''}`,
    ...req.map((h) => `     > ${h}`),
    `     < ${x.error ?? `${x.status}${code ? ` ${code}` : ''}`}`,
    ...(res.length ? res.map((h) => `     < ${h}`) : ['     < (no Access-Control-* headers)']),
  ];
}

/** What page JavaScript saw for one step. */
export function pageSaw(step: StepOutcome | undefined): string {
  if (step === undefined) return 'the page reported no outcome';
  if (step.settled === 'response') {
    const body = step.bodyPreview === undefined ? '' : `, body ${JSON.stringify(step.bodyPreview.slice(0, 60))}`;
    return `page read status ${step.status ?? '(none)'}${step.type ? ` (${step.type})` : ''}${body}`;
  }
  const error = [step.errorName, step.errorMessage].filter((x) => x !== undefined && x !== '').join(': ') || 'an error without name or message';
  return step.settled === 'harness-error' ? `the harness page failed: ${error}` : `page saw ${error}`;
}

/** Reasons that only a preflight can produce. */
const PREFLIGHT_ONLY: ReadonlySet<ReasonId> = new Set(['method-not-allowed', 'header-not-allowed', 'preflight-status']);

/**
 * Where the engine stopped a blocked request, as far as the evidence says: the server's record
 * first; without one, the engine's own words (a reason only a preflight has, or Chromium's
 * "Response to preflight request …"); otherwise that it is unknown.
 */
export function observedWhere(e: CaseEvidence): string {
  if (e.observedAt) return `at the ${e.observedAt}`;
  const c = e.classification;
  const why = e.serverRecord ? 'the server record does not say' : 'no server record';
  if (c && (c.reasons.every((r) => PREFLIGHT_ONLY.has(r)) || c.preflight === true)) return `at the preflight (the engine's words say so; ${why})`;
  if (c?.preflight === false) return `at the response (the engine's words say so; ${why})`;
  return `where unknown (${why}, and the engine's words do not say)`;
}

const reasonLine = (reasons: readonly ReasonId[], merged: boolean) =>
  `${reasons.join(' or ')}${merged ? ' (the engine uses one message for both)' : ''} — ${REASON_TEXT[reasons[0]!]}`;

export function transcript(e: CaseEvidence, pageUrl: string): string {
  const lines: string[] = [];
  lines.push(`corsproof case ${e.caseId}: fixture ${e.fixture} × scenario ${e.scenario} in ${e.engine}`);
  lines.push(`1. page: the browser loaded ${pageUrl} (origin ${new URL(pageUrl).origin})`);
  if (e.store) {
    // A remote store keeps no record for us and engines never show preflights: the store's answers
    // to the same requests, replayed from Node after the engine ran the case.
    lines.push(`   bucket: ${e.store.store.label} — ${NO_RECORD}; below is a REPLAY from Node of the requests this case implies, not what the browser received`);
    const pre = e.store.replay.filter((x) => x.kind === 'preflight');
    const act = e.store.replay.filter((x) => x.kind === 'actual');
    if (pre.length === 0) lines.push('2. preflight: none implied');
    for (const p of pre) lines.push('2. preflight (replayed):', ...describeReplay(p));
    for (const a of act) lines.push('3. actual request (replayed):', ...describeReplay(a));
    const seen = e.store.engineResponses;
    if ('unavailable' in seen) lines.push(`   the engine's own view: ${seen.unavailable}`);
    else for (const r of seen) lines.push(`   the engine's own view: ${r.method} → ${r.status ?? r.failure ?? '?'}${Object.keys(r.headers).length ? `, ${Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`).join(', ')}` : ''}`);
  } else if (!e.serverRecord) {
    lines.push(`2.–3. requests to ${e.target}: ${NO_RECORD}; what the engine did is below`);
  } else if (e.run.result.steps[0]?.requests) {
    // A client flow makes many requests: the bucket's record in arrival order, each preflight
    // before the request it asked about.
    if (e.exchanges.length === 0) lines.push('2.–3. requests: none reached the bucket');
    for (const x of e.exchanges) lines.push(x.method === 'OPTIONS' ? '2. preflight:' : '3. request:', ...describeExchange(x));
  } else {
    const preflights = e.exchanges.filter((x) => x.method === 'OPTIONS');
    const actual = e.exchanges.filter((x) => x.method !== 'OPTIONS');
    if (preflights.length === 0) lines.push('2. preflight: none sent');
    for (const p of preflights) lines.push('2. preflight:', ...describeExchange(p));
    if (actual.length === 0) lines.push('3. actual request: never sent');
    for (const a of actual) lines.push('3. actual request:', ...describeExchange(a));
  }
  const verdict = e.observed === 'blocked' ? `BLOCKED ${observedWhere(e)}` : e.observed.toUpperCase();
  lines.push(`4. verdict: ${verdict} — ${pageSaw(e.run.result.steps[e.run.result.steps.length - 1])}`);
  if (e.classification) {
    lines.push(`   engine said (${e.classification.stream}): ${e.classification.message}`, `   reason: ${reasonLine(e.classification.reasons, e.classification.merged)}`);
  } else if (e.observed === 'blocked') {
    lines.push('   engine said: no CORS message corsproof recognises');
  }
  lines.push(
    `   expected: ${e.expected.verdict}${e.expected.verdict === 'blocked' ? ` (${e.expected.reason})` : ''}${e.expected.why ? ` — ${e.expected.why}` : ''}`,
    `   oracle:   ${oracleText(e)} — ${e.oracle.why}`,
  );
  if (e.store) {
    const v = e.store.verdict;
    const p = e.store.storePrediction;
    lines.push(`   the store's answers give: ${p.verdict}${p.reason ? ` (${p.reason} at the ${p.at})` : ''} — ${p.why}`);
    lines.push(`5. store: ${v.status === 'store-divergence' ? v.divergence.summary : v.status === 'unexplained' ? `not a store divergence: ${v.message}` : 'the engine did as S3 would'}`);
    const other = e.store.differences.filter((d) => v.status !== 'store-divergence' || !v.divergence.causes.some((c) => c.kind === d.kind && c.request === d.request));
    for (const d of other) lines.push(`   also: ${d.text}`);
    lines.push(`   profile: ${e.store.profile.message}`);
  }
  return lines.join('\n') + '\n';
}

function oracleText(e: CaseEvidence): string {
  const o = e.oracle;
  if (o.verdict !== 'blocked') return o.verdict;
  return `blocked (${o.reason ?? 'no reason'}${o.at ? ` at the ${o.at}` : ''})`;
}

/** Expected, oracle and engine side by side, with the evidence: what a failed matrix assertion prints. */
export function sideBySide(e: CaseEvidence): string {
  const exp = e.expected.verdict === 'blocked' ? `blocked (${e.expected.reason})` : e.expected.verdict;
  const eng = e.observed === 'blocked' ? `blocked (${e.classification?.reasons.join('|') ?? 'no CORS message'}, ${observedWhere(e)})` : e.observed;
  const server = e.exchanges.map(
    (x) => `${x.method} → ${x.status}${x.responseHeaders['access-control-allow-origin'] ? ` ACAO ${x.responseHeaders['access-control-allow-origin']}` : ''}`,
  );
  return [
    `expected: ${exp}`,
    `oracle:   ${oracleText(e)} — ${e.oracle.why}`,
    ...(e.expected.why ? [`why:      ${e.expected.why}`] : []),
    `engine:   ${eng}`,
    `engine said: ${e.classification?.message ?? JSON.stringify(e.run.messages.map((m) => m.text))}`,
    `page saw: ${JSON.stringify(e.run.result.steps.map((s) => pageSaw(s)))}`,
    ...(e.store ? storeLines(e.store) : [`server record: ${e.serverRecord ? server.join(', ') || 'nothing' : NO_RECORD}`]),
  ].join('\n');
}
