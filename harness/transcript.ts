/**
 * A short readable account of one case in the order the seed note draws the CORS flow:
 * page load → preflight → actual request → verdict, with the headers that decided it.
 */
import type { Exchange } from '../servers/exchange-log.js';
import type { CaseEvidence } from './case.js';
import { REASON_TEXT } from './reasons.js';
import type { ReplayedExchange } from './replay.js';

const CORS_REQUEST_HEADERS = ['origin', 'access-control-request-method', 'access-control-request-headers'];

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

export function transcript(e: CaseEvidence, pageUrl: string): string {
  const lines: string[] = [];
  lines.push(`corsproof case ${e.caseId}: fixture ${e.fixture} × scenario ${e.scenario} in ${e.engine}`);
  lines.push(`1. page: the browser loaded ${pageUrl} (origin ${new URL(pageUrl).origin})`);
  if (e.store) {
    // A remote store keeps no record for us and engines never show preflights: the store's answers
    // to the same requests, replayed from Node after the engine ran the case.
    lines.push(`   bucket: ${e.store.store.label} — what follows is a REPLAY from Node of the requests this case implies, not what the browser received`);
    const pre = e.store.replay.filter((x) => x.kind === 'preflight');
    const act = e.store.replay.filter((x) => x.kind === 'actual');
    if (pre.length === 0) lines.push('2. preflight: none implied');
    for (const p of pre) lines.push('2. preflight (replayed):', ...describeReplay(p));
    for (const a of act) lines.push('3. actual request (replayed):', ...describeReplay(a));
    const seen = e.store.engineResponses;
    if ('unavailable' in seen) lines.push(`   the engine's own view: ${seen.unavailable}`);
    else for (const r of seen) lines.push(`   the engine's own view: ${r.method} → ${r.status ?? r.failure ?? '?'}${Object.keys(r.headers).length ? `, ${Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`).join(', ')}` : ''}`);
  } else {
    const preflights = e.exchanges.filter((x) => x.method === 'OPTIONS');
    const actual = e.exchanges.filter((x) => x.method !== 'OPTIONS');
    if (preflights.length === 0) lines.push('2. preflight: none sent');
    for (const p of preflights) lines.push('2. preflight:', ...describeExchange(p));
    if (actual.length === 0) lines.push('3. actual request: never sent');
    for (const a of actual) lines.push('3. actual request:', ...describeExchange(a));
  }
  const step = e.run.result.steps[e.run.result.steps.length - 1];
  const js =
    step?.settled === 'response'
      ? `page read status ${step.status} (${step.type}), body ${JSON.stringify(step.bodyPreview?.slice(0, 60))}`
      : `page saw ${step?.errorName}: ${step?.errorMessage}`;
  lines.push(`4. verdict: ${e.observed.toUpperCase()} — ${js}`);
  if (e.classification) {
    lines.push(
      `   engine said (${e.classification.stream}): ${e.classification.message}`,
      `   reason: ${e.classification.reasons.join(' or ')}${e.classification.merged ? ' (the engine uses one message for both)' : ''} — ${REASON_TEXT[e.classification.reasons[0]!]}`,
    );
  }
  lines.push(
    `   expected: ${e.expected.verdict}${e.expected.verdict === 'blocked' ? ` (${e.expected.reason})` : ''}${e.expected.why ? ` — ${e.expected.why}` : ''}`,
    `   oracle:   ${e.oracle.verdict}${e.oracle.reason ? ` (${e.oracle.reason} at the ${e.oracle.at})` : ''} — ${e.oracle.why}`,
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
