/**
 * `corsproof explain <file> --origin O --flow <id>`: what real client code — the AWS SDK's
 * PutObject, GetObject, ListObjectsV2, lib-storage's multipart Upload, a presigned PUT or a POST
 * form — does against a bucket with this configuration, request by request.
 *
 * The flow's description (fixtures/flows/<id>.json, held to the bundled SDK by
 * tests/browser/flows.spec.ts) says which requests it makes, which headers each sends (so which
 * preflights it implies) and which response headers it must read; the oracle's walk
 * (harness/flows.ts `simulateFlow`, built on harness/oracle.ts `evaluate`) says what happens to each
 * with this configuration, per engine (the SDK retries a refused request in Chromium and WebKit, not
 * in Firefox).
 */
import type { CorsConfiguration, RuleRef } from '../servers/s3/cors/index.js';
import { ENGINE_NAMES, type EngineName } from '../engines/types.js';
import { expectationFor } from '../harness/data.js';
import { flowById, flowCorsRequest, requestName, simulateFlow, type FlowDescription, type FlowPrediction, type FlowRequest } from '../harness/flows.js';
import { engineMessage } from '../harness/messages.js';
import { REASON_TEXT, type ReasonId } from '../harness/reasons.js';
import { FLOW_IDS } from '../servers/site/sdk/contract.js';

export { FLOW_IDS };

export interface FlowExplainRequest {
  origin: string;
  flow: string;
  key: string;
  /** The bucket's URL (path-style endpoint + bucket), for paths and the engines' messages. */
  bucketUrl: string;
}

export interface FlowRequestExplained {
  n: number;
  name: string;
  method: string;
  /** Path and query as the client builds them (<UploadId> and the like stand for run-time values). */
  target: string;
  headers: Array<{ name: string; value: string; note?: string }>;
  /** The preflight this request implies: its Access-Control-Request-Method / -Headers, or null. */
  preflight: { method: string; headers: string[]; why: string } | null;
  reads: Array<{ header: string; ifHidden: string }>;
  concurrentWith?: string;
  onlyOnFailureAfter?: string;
}

export interface FlowEngineVerdict {
  verdict: FlowPrediction['verdict'];
  reason?: ReasonId;
  reasonText?: string;
  why: string;
  /** What the bucket receives: OPTIONS and other requests (retries included). */
  preflights: number;
  actualRequests: number;
  /** Per request of the flow: what happened. */
  steps: Array<{ request: string; attempts: number; preflights: number; sent: boolean; outcome: string; why?: string; hidden?: string[]; rule?: RuleRef }>;
  /** The console line of the failure, when blocked. */
  message?: string;
  secondary: string[];
}

export interface FlowExplanation {
  flow: Pick<FlowDescription, 'id' | 'description' | 'client' | 'pattern' | 'retries'>;
  origin: string;
  requests: FlowRequestExplained[];
  engines: Record<EngineName, FlowEngineVerdict>;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'POST']);

function targetOf(r: FlowRequest, bucketUrl: string, key: string): string {
  const base = new URL(bucketUrl);
  const path = r.resource === 'object' ? `${base.pathname.replace(/\/$/, '')}/${key.split('/').map(encodeURIComponent).join('/')}` : base.pathname.replace(/\/$/, '') || '/';
  const q = Object.entries(r.query)
    .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
    .join('&');
  return `${path}${q ? `?${q}` : ''}`;
}

const PATTERN_TEXT: Record<FlowDescription['pattern'], string> = {
  'sdk-credentials': 'the SDK in the page signs every request with AWS credentials (corsproof uses its test bucket\'s keys; a real app must not ship long-lived keys: it gets temporary credentials, e.g. from Cognito)',
  'presigned-url': 'a server presigns the URL; the page holds no key',
  'presigned-post': 'a server signs the form\'s policy (createPresignedPost); the page holds no key',
};

export function explainFlow(config: CorsConfiguration | undefined, req: FlowExplainRequest): FlowExplanation {
  const flow = flowById(req.flow);
  const requests: FlowRequestExplained[] = [];
  const main = flow.requests.filter((r) => !r.onFailureAfter);
  flow.requests.forEach((r, i) => {
    const cors = flowCorsRequest(r);
    const needed = !SAFE_METHODS.has(r.method) || cors.unsafe.length > 0;
    const prev = main[main.indexOf(r) - 1];
    const why = [!SAFE_METHODS.has(r.method) ? `${r.method} is not a CORS-safelisted method` : '', cors.unsafe.length ? `it sends ${cors.unsafe.length === 1 ? 'a header' : 'headers'} that ${cors.unsafe.length === 1 ? 'is' : 'are'} not CORS-safelisted` : '']
      .filter(Boolean)
      .join(', and ');
    requests.push({
      n: i + 1,
      name: requestName(r),
      method: r.method,
      target: targetOf(r, req.bucketUrl, req.key),
      headers: Object.entries(r.headers).map(([name, value]) => ({ name, value, ...(flow.notes[name] ? { note: flow.notes[name] } : {}) })),
      preflight: needed ? { method: r.method, headers: cors.unsafe, why } : null,
      reads: r.reads.map((x) => ({ header: x.header, ifHidden: x.reason })),
      ...(r.concurrent && prev ? { concurrentWith: requestName(prev) } : {}),
      ...(r.onFailureAfter ? { onlyOnFailureAfter: r.onFailureAfter } : {}),
    });
  });

  const engines = {} as Record<EngineName, FlowEngineVerdict>;
  for (const engine of ENGINE_NAMES) {
    const p = simulateFlow(flow, config, req.origin, req.key, engine);
    const v: FlowEngineVerdict = {
      verdict: p.verdict,
      why: p.why,
      preflights: p.preflights,
      actualRequests: p.actualRequests,
      steps: p.trace.map((t) => ({
        request: t.request,
        attempts: t.attempts,
        preflights: t.preflights,
        sent: t.sent,
        outcome: t.outcome,
        ...(t.block ? { why: t.block.why } : {}),
        ...(t.hidden ? { hidden: t.hidden } : {}),
        ...(t.rule ? { rule: t.rule } : {}),
      })),
      secondary: p.secondary.map((b) => b.why),
    };
    if (p.verdict === 'blocked' && p.reason && p.at) {
      const e = expectationFor({ verdict: 'blocked', reason: p.reason }, engine, p.at);
      const reason = e.verdict === 'blocked' ? e.reason : p.reason;
      const failed = p.trace.find((t) => t.outcome === 'blocked' && !t.cleanup)!;
      const r = flow.requests.find((x) => requestName(x) === failed.request)!;
      v.reason = reason;
      v.reasonText = REASON_TEXT[reason];
      v.message = engineMessage(engine, reason, {
        url: new URL(targetOf(r, req.bucketUrl, req.key), req.bucketUrl).href,
        origin: req.origin,
        method: r.method,
        at: p.at,
        status: p.at === 'preflight' ? 403 : r.status,
      }).message;
    }
    engines[engine] = v;
  }
  return { flow: { id: flow.id, description: flow.description, client: flow.client, pattern: flow.pattern, retries: flow.retries }, origin: req.origin, requests, engines };
}

const ruleName = (r: RuleRef): string => (r.id === undefined ? `rule #${r.index}` : `rule #${r.index} (ID ${r.id})`);

export function formatFlowText(x: FlowExplanation): string {
  const out: string[] = [
    `Flow ${x.flow.id}: ${x.flow.description}`,
    `  client code: ${x.flow.client}`,
    `  signing: ${PATTERN_TEXT[x.flow.pattern]}`,
    '',
    `The requests it makes (fixtures/flows/${x.flow.id}.json):`,
  ];
  for (const r of x.requests) {
    const when = r.onlyOnFailureAfter ? ` — only when the flow fails after ${r.onlyOnFailureAfter} succeeded` : r.concurrentWith ? ` — sent together with ${r.concurrentWith}` : '';
    out.push(`  ${r.n}. ${r.name}${when}`, `       ${r.method} ${r.target}`);
    out.push(`       headers: ${r.headers.map((h) => (h.value.startsWith('<') ? h.name : `${h.name}: ${h.value}`)).join(', ') || '(none the page sets)'}`);
    if (r.preflight) {
      out.push(`       preflight: yes — ${r.preflight.why}:`, `         Access-Control-Request-Method: ${r.preflight.method}`);
      if (r.preflight.headers.length) out.push(`         Access-Control-Request-Headers: ${r.preflight.headers.join(',')}`);
    } else {
      out.push('       preflight: no — a CORS-safelisted method with only safelisted headers');
    }
    if (r.reads.length) {
      out.push('       reads from the answer (must be in ExposeHeaders):');
      for (const h of r.reads) out.push(`         ${h.header} — ${h.ifHidden}`);
    }
  }
  const notes = new Map<string, string>();
  for (const r of x.requests) for (const h of r.headers) if (h.note) notes.set(h.name, h.note);
  if (notes.size) {
    out.push('', 'Where those headers come from:');
    for (const [h, n] of notes) out.push(`  ${h}: ${n}`);
  }

  out.push('', `With this configuration, from ${x.origin}:`);
  const std = x.engines.chromium;
  std.steps.forEach((s, i) => {
    const what =
      s.outcome === 'blocked'
        ? `blocked — ${s.why}`
        : s.outcome === 'hidden'
          ? `answered${s.rule ? ` (${ruleName(s.rule)})` : ''}, but ${s.hidden!.join(' and ')} ${s.hidden!.length === 1 ? 'is' : 'are'} not exposed`
          : s.outcome === 'refused-by-s3'
            ? 'sent, and refused by S3 (the client lacked what it could not read)'
            : `passes${s.rule ? ` (${ruleName(s.rule)})` : ''}`;
    out.push(`  ${i + 1}. ${s.request}: ${what}`);
  });
  const verdicts = new Set(ENGINE_NAMES.map((e) => x.engines[e].verdict));
  const v = std;
  out.push('', `Verdict: ${v.verdict}${verdicts.size > 1 ? ' (per engine below)' : ''} — ${v.why}.`);
  for (const engine of ENGINE_NAMES) {
    const e = x.engines[engine];
    const seen = `the bucket receives ${e.preflights} OPTIONS and ${e.actualRequests} other request${e.actualRequests === 1 ? '' : 's'}`;
    out.push(`  ${engine.padEnd(8)}  ${e.verdict}${e.reasonText ? ` — ${e.reasonText}` : ''}; ${seen}`);
    if (e.message) out.push(`      ${e.message}`);
    for (const s of e.secondary) out.push(`      also refused: ${s}`);
  }
  const retried = ENGINE_NAMES.filter((e) => x.engines[e].steps.some((s) => s.attempts > 1));
  if (retried.length) {
    out.push(
      '',
      `The SDK retries a request the browser refuses — in ${retried.join(' and ')} (${x.engines[retried[0]!].steps.find((s) => s.attempts > 1)!.attempts} attempts); Firefox's "NetworkError when attempting to fetch resource." is not a message it retries (fixtures/engine-differences.json, sdk-retries-refused-requests).`,
    );
  }
  return `${out.join('\n')}\n`;
}
