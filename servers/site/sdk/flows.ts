/**
 * Real client code in the page: the flows a scenario's `{"kind": "flow"}` step runs, written the way
 * apps write them with the project's own pinned `@aws-sdk/client-s3` and `@aws-sdk/lib-storage`.
 *
 * This file is bundled for the browser at run time (servers/site/sdk/build.ts, esbuild) and served by
 * the site origin as /__corsproof/sdk/flows.js; runner.js loads it on the first flow step and calls
 * `window.corsproofFlows[step.flow](step)`. It returns the same StepOutcome every step kind returns,
 * plus what only a flow has: every request the client made, as the page saw it (`requests`), the one
 * that failed (`failedRequest`), and the response headers the client needed but could not read
 * (`unreadable`).
 *
 * Only the `corsproof-case` query parameter is added to what an app would send (a middleware at the
 * build step, so it is part of the URL the SDK signs, as any query parameter is): it keeps every case's
 * URLs unique (preflight caches never leak between cases) and lets the bucket server file the
 * exchanges under the case.
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { buildQueryString } from '@smithy/core/protocols';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import type { FlowStep, FlowRequestRecord, FlowStepOutcome } from './contract.js';

type Outcome = FlowStepOutcome;

/** Everything a flow's client does, recorded by the client's own middleware. */
class Recorder {
  readonly requests: FlowRequestRecord[] = [];
}

function headerNames(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

/** The URL exactly as the SDK's fetch handler builds it (its own query-string builder). */
function urlOf(req: { protocol: string; hostname: string; port?: number; path: string; query?: Record<string, string | string[] | null> }): string {
  const qs = buildQueryString(req.query ?? {});
  return `${req.protocol}//${req.hostname}${req.port ? `:${req.port}` : ''}${req.path}${qs ? `?${qs}` : ''}`;
}

/**
 * An S3 client as an app in the browser makes one (region, endpoint, credentials), path-style because
 * the test endpoint is one host name for every bucket; plus two middlewares of corsproof's: the case
 * parameter, and the recorder (after signing, so it sees each attempt exactly as `fetch` gets it).
 */
function clientFor(step: FlowStep, rec: Recorder): S3Client {
  if (!step.credentials) throw new Error(`flow ${step.flow}: the harness gave no credentials for the SDK`);
  const client = new S3Client({
    region: step.target.region,
    endpoint: step.target.endpoint,
    forcePathStyle: true,
    credentials: step.credentials,
  });
  const caseParam = step.target.caseParam;
  if (caseParam) {
    client.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { query?: Record<string, string | string[] | null> };
        req.query = { ...(req.query ?? {}), [caseParam[0]]: caseParam[1] };
        return next(args);
      },
      { step: 'build', name: 'corsproofCaseParameter', priority: 'low' },
    );
  }
  const recorder: FinalizeRequestMiddleware<ServiceInputTypes, ServiceOutputTypes> = (next, context) => async (args) => {
      const req = args.request as Parameters<typeof urlOf>[0] & { method: string; headers: Record<string, string> };
      const record: FlowRequestRecord = {
        label: context.commandName?.replace(/Command$/, '') ?? 'request',
        method: req.method,
        url: urlOf(req),
        requestHeaders: headerNames(req.headers),
      };
      rec.requests.push(record);
      try {
        const out = await next(args);
        const res = out.response as { statusCode?: number; headers?: Record<string, string> };
        record.status = res.statusCode;
        record.readableHeaders = headerNames(res.headers ?? {});
        return out;
      } catch (e) {
        record.error = errorText(e);
        throw e;
      }
  };
  client.middlewareStack.addRelativeTo(recorder, { relation: 'after', toMiddleware: 'httpSigningMiddleware', name: 'corsproofRecorder', override: true });
  return client;
}

function errorText(e: unknown): string {
  const err = e as { name?: string; message?: string };
  return `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`;
}

const PRINTABLE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Deterministic bytes, so the server's copy can be compared with what the page sent. Printable ASCII:
 * Chromium's DevTools protocol copies every request body into Network.requestWillBeSent (Playwright
 * asks for no limit), and random bytes there become JSON escapes several times their size. With
 * printable bytes the 5 MiB part's Chromium batch went from 2.9–3.4 s to 1.4–1.5 s, measured here.
 */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = PRINTABLE.charCodeAt(x & 63);
  }
  return out;
}

/** One request a flow makes with fetch, recorded: its status and the headers the page may read, or its error. */
async function recordedFetch(rec: Recorder, record: FlowRequestRecord, init: RequestInit): Promise<{ status: number; ok: boolean; answer: string }> {
  rec.requests.push(record);
  let r: Response;
  try {
    r = await fetch(record.url, { ...init, method: record.method });
  } catch (e) {
    record.error = errorText(e);
    throw e;
  }
  record.status = r.status;
  record.readableHeaders = headersOf(r.headers);
  return { status: r.status, ok: r.ok, answer: await r.text() };
}

/** Runs a flow body and turns what happened into a StepOutcome. */
async function run(step: FlowStep, body: (rec: Recorder) => Promise<{ status?: number; preview?: string; length?: number }>): Promise<Outcome> {
  const rec = new Recorder();
  const t0 = performance.now();
  try {
    const r = await body(rec);
    const last = rec.requests[rec.requests.length - 1];
    return {
      settled: 'response',
      type: 'flow',
      ok: true,
      status: r.status ?? last?.status,
      ...(last?.readableHeaders ? { readableHeaders: last.readableHeaders } : {}),
      ...(r.preview !== undefined ? { bodyPreview: r.preview.slice(0, 500) } : {}),
      ...(r.length !== undefined ? { bodyLength: r.length } : {}),
      requests: rec.requests,
      durationMs: performance.now() - t0,
    };
  } catch (e) {
    const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    // What failed first, in the order the requests were made: a request the browser refused (CORS:
    // "blocked"), a response missing a header the client reads ("hidden"), or an S3 error answer. The
    // error the client finally throws may be a later one (lib-storage reports a refused clean-up
    // instead of the missing ETag that caused it).
    let failed: FlowRequestRecord | undefined;
    let unreadable: string[] | undefined;
    for (const r of rec.requests) {
      if (r.error !== undefined) {
        failed = r;
        break;
      }
      const missing = (step.reads?.[r.label] ?? []).filter((h) => r.readableHeaders && r.readableHeaders[h] === undefined);
      if (missing.length) {
        failed = r;
        unreadable = missing;
        break;
      }
      if (r.status !== undefined && r.status >= 300) {
        failed = r;
        break;
      }
    }
    return {
      settled: 'error',
      errorName: err?.name ?? 'Error',
      errorMessage: String(err?.message ?? e),
      ...(err?.$metadata?.httpStatusCode !== undefined ? { status: err.$metadata.httpStatusCode } : {}),
      ...(failed ? { failedRequest: { label: failed.label, method: failed.method, url: failed.url } } : {}),
      ...(unreadable ? { unreadable } : {}),
      requests: rec.requests,
      durationMs: performance.now() - t0,
    };
  }
}

const flows: Record<string, (step: FlowStep, signal?: AbortSignal) => Promise<Outcome>> = {
  /** PutObject with the SDK's defaults: since v3.729 a CRC32 checksum header on every upload. */
  'sdk-put-object': (step, signal) =>
    run(step, async (rec) => {
      const s3 = clientFor(step, rec);
      const text = step.upload?.text ?? 'uploaded by @aws-sdk/client-s3 from the page';
      const out = await s3.send(
        new PutObjectCommand({ Bucket: step.target.bucket, Key: step.target.key, Body: text, ContentType: step.upload?.contentType ?? 'text/plain' }),
        { abortSignal: signal },
      );
      return { status: out.$metadata.httpStatusCode, preview: out.ETag ?? '', length: text.length };
    }),

  'sdk-get-object': (step, signal) =>
    run(step, async (rec) => {
      const s3 = clientFor(step, rec);
      const out = await s3.send(new GetObjectCommand({ Bucket: step.target.bucket, Key: step.target.key }), { abortSignal: signal });
      const text = (await out.Body?.transformToString()) ?? '';
      return { status: out.$metadata.httpStatusCode, preview: text, length: text.length };
    }),

  'sdk-list-objects': (step, signal) =>
    run(step, async (rec) => {
      const s3 = clientFor(step, rec);
      const out = await s3.send(new ListObjectsV2Command({ Bucket: step.target.bucket }), { abortSignal: signal });
      const keys = (out.Contents ?? []).map((c) => c.Key ?? '');
      return { status: out.$metadata.httpStatusCode, preview: keys.join('\n'), length: keys.length };
    }),

  /**
   * lib-storage's Upload of a body just over one part: two UploadParts (5 MiB + the rest) between
   * CreateMultipartUpload and CompleteMultipartUpload. It reads each part's ETag (and, with the SDK's
   * default CRC32, the part's x-amz-checksum-crc32) from the UploadPart responses.
   */
  'sdk-multipart-upload': (step, signal) =>
    run(step, async (rec) => {
      const s3 = clientFor(step, rec);
      const partSize = 5 * 1024 * 1024;
      const size = step.upload?.size ?? partSize + 1024;
      const body = bytes(size, 0xc0de);
      const upload = new Upload({
        client: s3,
        params: { Bucket: step.target.bucket, Key: step.target.key, Body: body, ContentType: step.upload?.contentType ?? 'application/octet-stream' },
        partSize,
        ...(signal ? { abortController: abortControllerOf(signal) } : {}),
      });
      const out = await upload.done();
      return { status: out.$metadata?.httpStatusCode, preview: out.ETag ?? '', length: size };
    }),

  /** A presigned PUT made by a server (the harness, in Node), uploaded with fetch as apps do. */
  'presigned-put': (step, signal) =>
    run(step, async (rec) => {
      const p = step.presigned;
      if (!p) throw new Error('presigned-put: the harness gave no presigned URL');
      const body = step.upload?.base64 !== undefined ? Uint8Array.from(atob(step.upload.base64), (c) => c.charCodeAt(0)) : (step.upload?.text ?? 'uploaded through a presigned URL');
      const r = await recordedFetch(rec, { label: 'PUT (presigned URL)', method: 'PUT', url: p.url, requestHeaders: headerNames(p.headers) }, { headers: p.headers, body, ...(signal ? { signal } : {}) });
      const answer = r.answer;
      if (!r.ok) throw Object.assign(new Error(`presigned PUT answered ${r.status}: ${answer.slice(0, 200)}`), { name: 'UploadFailed' });
      return { status: r.status, preview: answer, length: typeof body === 'string' ? body.length : body.byteLength };
    }),

  /** A browser form upload: the fields of a presigned POST (made in Node), then the file, as FormData. */
  'presigned-post': (step, signal) =>
    run(step, async (rec) => {
      const p = step.post;
      if (!p) throw new Error('presigned-post: the harness gave no presigned POST');
      const text = step.upload?.text ?? 'uploaded with a presigned POST form';
      const form = new FormData();
      for (const [k, v] of Object.entries(p.fields)) form.append(k, v);
      form.append('file', new Blob([text], { type: step.upload?.contentType ?? 'text/plain' }), 'upload.txt');
      const r = await recordedFetch(rec, { label: 'POST (presigned form)', method: 'POST', url: p.url, requestHeaders: {} }, { body: form, ...(signal ? { signal } : {}) });
      const answer = r.answer;
      if (!r.ok) throw Object.assign(new Error(`presigned POST answered ${r.status}: ${answer.slice(0, 200)}`), { name: 'UploadFailed' });
      return { status: r.status, preview: answer, length: text.length };
    }),
};

/** lib-storage takes an AbortController, the runner gives a signal (the case ran out of time). */
function abortControllerOf(signal: AbortSignal): AbortController {
  const c = new AbortController();
  if (signal.aborted) c.abort();
  else signal.addEventListener('abort', () => c.abort(), { once: true });
  return c;
}

function headersOf(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => {
    out[k] = v;
  });
  return out;
}

declare global {
  interface Window {
    corsproofFlows: typeof flows;
    corsproofSdk: { version: string };
  }
}

window.corsproofFlows = flows;
window.corsproofSdk = { version: SDK_VERSION };

declare const SDK_VERSION: string;
