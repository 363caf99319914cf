/**
 * A short readable account of one case in the order the seed note draws the CORS flow:
 * page load → preflight → actual request → verdict, with the headers that decided it.
 */
import type { Exchange } from '../servers/exchange-log.js';
import type { CaseEvidence } from './case.js';
import { REASON_TEXT } from './reasons.js';

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

export function transcript(e: CaseEvidence, pageUrl: string): string {
  const lines: string[] = [];
  lines.push(`corsproof case ${e.caseId}: fixture ${e.fixture} × scenario ${e.scenario} in ${e.engine}`);
  lines.push(`1. page: the browser loaded ${pageUrl} (origin ${new URL(pageUrl).origin})`);
  const preflights = e.exchanges.filter((x) => x.method === 'OPTIONS');
  const actual = e.exchanges.filter((x) => x.method !== 'OPTIONS');
  if (preflights.length === 0) lines.push('2. preflight: none sent');
  for (const p of preflights) lines.push('2. preflight:', ...describeExchange(p));
  if (actual.length === 0) lines.push('3. actual request: never sent');
  for (const a of actual) lines.push('3. actual request:', ...describeExchange(a));
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
  return lines.join('\n') + '\n';
}
