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
import { unsafeRequestHeaders } from './oracle.js';

const SAFELISTED_METHODS = new Set(['GET', 'HEAD', 'POST']);

export interface ImpliedRequest {
  /** Index of the scenario step it belongs to. */
  step: number;
  kind: 'preflight' | 'actual';
  /** The request's CORS mode: a no-cors request carries no Origin (for GET/HEAD) and is never preflighted. */
  mode: 'cors' | 'no-cors';
  credentials: boolean;
  method: string;
  url: string;
  /** Request headers as the browser sends them (CORS-relevant and the scenario's own). */
  headers: Record<string, string>;
  body?: string;
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

function requestOf(step: ScenarioStep): { mode: 'cors' | 'no-cors'; method: string; credentials: boolean; headers: Record<string, string>; body?: string } {
  if (step.kind === 'img') {
    return { mode: step.crossorigin ? 'cors' : 'no-cors', method: 'GET', credentials: step.crossorigin === 'use-credentials', headers: {} };
  }
  const mode = step.kind !== 'xhr' && step.mode === 'no-cors' ? 'no-cors' : 'cors';
  return {
    mode,
    method: (step.method ?? 'GET').toUpperCase(),
    credentials: step.credentials === 'include',
    headers: step.headers ?? {},
    ...(step.body !== undefined ? { body: step.body } : {}),
  };
}

/**
 * The preflight (when one is needed) and the actual request of every step, in order. `urlFor`
 * gives the URL each method is sent to (presigned per method for a private bucket).
 */
export function impliedRequests(steps: readonly ScenarioStep[], origin: string, urlFor: (method: string) => string): ImpliedRequest[] {
  const out: ImpliedRequest[] = [];
  steps.forEach((step, i) => {
    const r = requestOf(step);
    const url = urlFor(r.method);
    if (r.mode === 'cors') {
      const unsafe = unsafeRequestHeaders(r.headers);
      if (!SAFELISTED_METHODS.has(r.method) || unsafe.length > 0) {
        out.push({
          step: i,
          kind: 'preflight',
          mode: 'cors',
          credentials: r.credentials,
          method: 'OPTIONS',
          url,
          headers: {
            origin,
            'access-control-request-method': r.method,
            ...(unsafe.length ? { 'access-control-request-headers': unsafe.join(',') } : {}),
          },
        });
      }
    }
    // Fetch: a CORS request always carries Origin; a no-cors one only when its method is not GET/HEAD.
    const withOrigin = r.mode === 'cors' || (r.method !== 'GET' && r.method !== 'HEAD');
    const headers: Record<string, string> = {};
    if (withOrigin) headers['origin'] = origin;
    for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = v;
    out.push({
      step: i,
      kind: 'actual',
      mode: r.mode,
      credentials: r.credentials,
      method: r.method,
      url,
      headers,
      ...(r.body !== undefined ? { body: r.body } : {}),
    });
  });
  return out;
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
