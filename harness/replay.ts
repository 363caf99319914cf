/**
 * A server-to-server replay of the requests a case implies — the evidence of what a remote store
 * answers, since a remote endpoint keeps no server record for us and no engine shows preflights.
 *
 * For each step of a scenario the Fetch standard fixes what the browser sends: the preflight
 * (OPTIONS with Origin, Access-Control-Request-Method and, for CORS-unsafe headers,
 * Access-Control-Request-Headers: lower-cased, sorted, comma-separated) when the method or a
 * header is not CORS-safelisted, then the actual request (its method, the Origin for a CORS request,
 * the scenario's own request headers and body). `impliedRequests` lists them; `replay` sends them
 * from Node and records every response header. A replay is labelled as one everywhere: it is what
 * the store answers to the same requests, not what the browser received (the browser's own view is
 * in its network events, where the engine reports them).
 *
 * What a replay cannot carry: the browser's cookies (none exist for the bucket's origin here, so a
 * credentialed request differs only in that flag, which is recorded) and its other default headers
 * (Accept, User-Agent, Sec-Fetch-*), which S3-compatible stores do not consult for CORS.
 */
import type { ScenarioStep } from './data.js';
import { flowById, flowCorsRequest, requestName } from './flows.js';
import { isSafelistedMethod, requestOf } from './oracle.js';

export interface ImpliedRequest {
  /** Index of the scenario step it belongs to. */
  step: number;
  kind: 'preflight' | 'actual';
  /** The request's CORS mode: a no-cors request carries no Origin (for GET/HEAD) and is never preflighted. */
  mode: 'cors' | 'no-cors';
  credentials: boolean;
  method: string;
  url: string;
  /** Whether the URL names the object or only the bucket (a flow's ListObjects, POST Object). */
  resource: 'object' | 'bucket';
  /** Request headers as the browser sends them (CORS-relevant and the scenario's own). */
  headers: Record<string, string>;
  body?: string;
  /** A client flow's request (fixtures/flows), by name: "UploadPart 1". */
  flowRequest?: string;
  /**
   * A flow's actual request is replayed without the client's signature or state (an upload id, a
   * presigned form): the store answers it with an error, and only its CORS headers are compared.
   */
  unsigned?: boolean;
}

export interface ReplayedExchange extends ImpliedRequest {
  /** Always true: this exchange was sent by corsproof from Node, not by the browser. */
  replay: true;
  status: number;
  /** Every response header, names lower-cased. */
  responseHeaders: Record<string, string>;
  /** The first bytes of the body (an error document says why a store refused). */
  bodyPreview: string;
  durationMs: number;
  /** Set when the request itself failed (connection refused, timeout). */
  error?: string;
}

/** Where a case's requests go: a URL per method (presigned for a private bucket), and the bucket's own URL. */
export interface ReplayUrls {
  object(method: string): string;
  bucket: string;
}

/**
 * The preflight (when one is needed) and the actual request of every step, in order — for a client
 * flow, of every request its description lists (fixtures/flows/<id>.json).
 */
export function impliedRequests(steps: readonly ScenarioStep[], origin: string, urls: ReplayUrls): ImpliedRequest[] {
  const out: ImpliedRequest[] = [];
  steps.forEach((step, i) => {
    if (step.kind === 'flow') {
      for (const r of flowById(step.flow).requests) {
        const req = flowCorsRequest(r);
        const url = r.resource === 'object' ? urls.object(r.method) : urls.bucket;
        const common = { step: i, mode: 'cors' as const, credentials: false, url, resource: r.resource, flowRequest: requestName(r) };
        if (!isSafelistedMethod(req.method) || req.unsafe.length > 0) {
          out.push({ ...common, kind: 'preflight', method: 'OPTIONS', headers: preflightHeaders(origin, req.method, req.unsafe) });
        }
        // Only what the store's CORS answer may depend on: the Origin and the content type.
        const headers: Record<string, string> = { origin };
        if (r.headers['content-type'] && !r.headers['content-type'].startsWith('<')) headers['content-type'] = r.headers['content-type'];
        out.push({ ...common, kind: 'actual', method: req.method, headers, unsigned: true });
      }
      return;
    }
    const r = requestOf(step);
    const url = urls.object(r.method);
    const own = step.kind === 'img' ? {} : (step.headers ?? {});
    if (r.mode === 'cors' && (!isSafelistedMethod(r.method) || r.unsafe.length > 0)) {
      out.push({ step: i, kind: 'preflight', mode: 'cors', credentials: r.credentials, method: 'OPTIONS', url, resource: 'object', headers: preflightHeaders(origin, r.method, r.unsafe) });
    }
    // Fetch: a CORS request always carries Origin; a no-cors one only when its method is not GET/HEAD.
    const withOrigin = r.mode === 'cors' || (r.method !== 'GET' && r.method !== 'HEAD');
    const headers: Record<string, string> = {};
    if (withOrigin) headers['origin'] = origin;
    for (const [k, v] of Object.entries(own)) headers[k.toLowerCase()] = v;
    const body = step.kind === 'img' ? undefined : step.body;
    out.push({ step: i, kind: 'actual', mode: r.mode, credentials: r.credentials, method: r.method, url, resource: 'object', headers, ...(body !== undefined ? { body } : {}) });
  });
  return out;
}

function preflightHeaders(origin: string, method: string, unsafe: readonly string[]): Record<string, string> {
  return { origin, 'access-control-request-method': method, ...(unsafe.length ? { 'access-control-request-headers': unsafe.join(',') } : {}) };
}

/** Sends the requests one after the other (as the page does) and records the store's answers. */
export async function replay(requests: readonly ImpliedRequest[], timeoutMs = 10_000): Promise<ReplayedExchange[]> {
  const out: ReplayedExchange[] = [];
  for (const req of requests) {
    const t0 = performance.now();
    try {
      const r = await fetch(req.url, {
        method: req.method,
        headers: req.headers,
        ...(req.body !== undefined ? { body: req.body } : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = req.method === 'HEAD' ? '' : await r.text();
      const responseHeaders: Record<string, string> = {};
      r.headers.forEach((v, k) => (responseHeaders[k] = v));
      out.push({ ...req, replay: true, status: r.status, responseHeaders, bodyPreview: body.slice(0, 300), durationMs: Math.round(performance.now() - t0) });
    } catch (e) {
      out.push({ ...req, replay: true, status: 0, responseHeaders: {}, bodyPreview: '', durationMs: Math.round(performance.now() - t0), error: (e as Error).message });
    }
  }
  return out;
}
