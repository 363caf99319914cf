/**
 * Client flows: real client code the page runs (the AWS SDK for JavaScript v3, presigned PUT and
 * POST uploads), described as the requests it makes — method, URL shape, the request headers the
 * client really sends, the response headers it must read — in fixtures/flows/<id>.json.
 *
 * The description is data three parts of corsproof share:
 * - the oracle (`simulateFlow`) walks it through S3's CORS engine and the Fetch standard to predict
 *   the verdict, the exchanges the bucket must see, and a reason in user terms;
 * - `corsproof explain --flow` prints it;
 * - tests/browser/flows.spec.ts compares it with what the SDK actually sent (the bucket server's
 *   record of a browser run), so it cannot drift from the bundled SDK.
 *
 * The Node half of a flow step is here too: `prepareFlowStep` gives the page what an app's page gets —
 * the endpoint and test credentials for the SDK flows, or a URL / form a server presigned (made here,
 * in Node, as a backend does: the page of a presigned flow never holds a key).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CorsConfiguration, PreflightDecision, RuleRef } from '../servers/s3/cors/index.js';
import { evaluate, unsafeRequestHeaders, type CorsRequest, type Decider, type PreflightCacheEntry, type RequestEvaluation } from './oracle.js';
import type { FlowId, FlowStep } from '../servers/site/sdk/contract.js';
import { FLOW_IDS } from '../servers/site/sdk/contract.js';
import type { EngineName, StepOutcome } from '../engines/types.js';
import type { Exchange } from '../servers/exchange-log.js';
import { engineBehaviour, FIXTURES_DIR, parseDataFile, type DataFileError } from './data.js';
import type { ReasonId } from './reasons.js';

export { FLOW_IDS, type FlowId };

// ---------------------------------------------------------------------------------------------
// The description

const readSchema = z.strictObject({
  /** Response header (lower-case) the client reads from this request's response. */
  header: z.string().regex(/^[a-z0-9-]+$/),
  /**
   * What happens when page JavaScript cannot read it (not exposed): `stop` — the client gives up
   * after this request (and the ones sent together with it); `refused` — the client carries on, and
   * the request named by `refusedBy` is answered with an error by S3.
   */
  ifHidden: z.enum(['stop', 'refused']),
  refusedBy: z.string().optional(),
  /** The one-line reason in user terms, shown when this header is what fails the flow. */
  reason: z.string().min(1),
});

const requestSchema = z.strictObject({
  /** The SDK command without "Command", or what the request is. */
  label: z.string().min(1),
  /** Tells apart repeated labels (UploadPart 1, 2). */
  part: z.number().int().positive().optional(),
  method: z.enum(['GET', 'HEAD', 'PUT', 'POST', 'DELETE']),
  /** Whether the URL names the object or only the bucket. */
  resource: z.enum(['object', 'bucket']),
  /** Query parameters the client adds (values in <angle brackets> vary per run). */
  query: z.record(z.string(), z.string()),
  /** Request headers the client sets that reach the wire (lower-case); <angle-bracket> values vary. */
  headers: z.record(z.string().regex(/^[a-z0-9-]+$/), z.string()),
  /** Response headers the client reads. */
  reads: z.array(readSchema).default([]),
  /** Sent together with the previous request (lib-storage uploads parts concurrently). */
  concurrent: z.boolean().default(false),
  /** Sent only when the flow failed after the request named here had succeeded (a clean-up). */
  onFailureAfter: z.string().optional(),
  /** The status S3 answers when everything the client needs was readable. */
  status: z.number().int(),
});

const flowSchema = z.strictObject({
  description: z.string().min(1),
  /** The client code, as an app writes it. */
  client: z.string().min(1),
  /**
   * Whose credentials sign: `sdk-credentials` (the SDK in the page holds keys — the test bucket's
   * here; real apps use temporary credentials), `presigned-url` / `presigned-post` (a server signs,
   * the page holds no key).
   */
  pattern: z.enum(['sdk-credentials', 'presigned-url', 'presigned-post']),
  /** `sdk`: a request the browser refuses is retried by the SDK's standard retry strategy (see `attempts`). */
  retries: z.enum(['sdk', 'none']),
  /** Why particular request headers are there, for reasons and `explain`. */
  notes: z.record(z.string(), z.string()).default({}),
  requests: z.array(requestSchema).min(1),
});

export type FlowRequest = z.infer<typeof requestSchema>;
export type FlowDescription = z.infer<typeof flowSchema> & { id: FlowId };

export const FLOWS_DIR = join(FIXTURES_DIR, 'flows');

let flowsCache: Map<FlowId, FlowDescription> | undefined;

export function loadFlows(dir = FLOWS_DIR): Map<FlowId, FlowDescription> {
  if (dir === FLOWS_DIR && flowsCache) return flowsCache;
  const out = new Map<FlowId, FlowDescription>();
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const file = join(dir, f);
    const id = basename(f, '.json');
    const parsed = parseDataFile(flowSchema, file, JSON.parse(readFileSync(file, 'utf8')) as unknown);
    if (!(FLOW_IDS as readonly string[]).includes(id)) {
      throw Object.assign(new Error(`${file}: no flow "${id}" in the page's bundle (known: ${FLOW_IDS.join(', ')})`), { name: 'DataFileError' }) as DataFileError;
    }
    out.set(id as FlowId, { id: id as FlowId, ...parsed });
  }
  for (const id of FLOW_IDS) if (!out.has(id)) throw new Error(`fixtures/flows/${id}.json is missing: every flow of the bundle needs its description`);
  if (dir === FLOWS_DIR) flowsCache = out;
  return out;
}

export function flowById(id: string): FlowDescription {
  const f = loadFlows().get(id as FlowId);
  if (!f) throw new Error(`unknown flow "${id}" (known: ${FLOW_IDS.join(', ')})`);
  return f;
}

export const requestName = (r: Pick<FlowRequest, 'label' | 'part'>) => (r.part ? `${r.label} ${r.part}` : r.label);

// ---------------------------------------------------------------------------------------------
// Engines and the SDK's retries

/**
 * How many times the client sends a request the browser refused: the SDK retries a refused fetch
 * when the engine's rejection message is one it knows as a network error — measured per engine in
 * fixtures/engine-differences.json (behaviour "sdk-retries-refused-requests": 3 in Chromium and
 * WebKit, 1 in Firefox, whose message the SDK does not recognise).
 */
export function attemptsOnRefusal(flow: FlowDescription, engine: EngineName | undefined): number {
  if (flow.retries !== 'sdk') return 1;
  return Number(engineBehaviour('sdk-retries-refused-requests', engine));
}

// ---------------------------------------------------------------------------------------------
// The oracle's walk through a flow

export interface FlowBlock {
  reason: ReasonId;
  at: 'preflight' | 'response';
  /** In user terms. */
  why: string;
  request: string;
}

export interface FlowTraceEntry {
  request: string;
  method: string;
  attempts: number;
  /** OPTIONS the bucket receives for this request (all attempts). */
  preflights: number;
  /** Whether the actual request reaches the bucket (per attempt). */
  sent: boolean;
  outcome: 'ok' | 'blocked' | 'hidden' | 'refused-by-s3';
  block?: FlowBlock;
  /** Response headers the client needed and could not read. */
  hidden?: string[];
  /** The unsafe request headers (the preflight's Access-Control-Request-Headers). */
  unsafe: string[];
  cleanup: boolean;
  /** The rule that answered (the preflight's, else the actual request's), when one matched. */
  rule?: RuleRef;
}

export interface FlowPrediction {
  verdict: 'allowed' | 'blocked' | 'hidden';
  reason?: ReasonId;
  at?: 'preflight' | 'response';
  why: string;
  preflights: number;
  actualRequests: number;
  trace: FlowTraceEntry[];
  /** Blocks after the one that decided the verdict (a clean-up refused too): the engine complains about them. */
  secondary: FlowBlock[];
}

/** The request a flow's client makes, as Fetch sees it (never credentialed: the SDK's fetch uses the default). */
export function flowCorsRequest(r: FlowRequest): CorsRequest {
  return { mode: 'cors', method: r.method, credentials: false, unsafe: unsafeRequestHeaders(r.headers) };
}

/** Why S3 refused a preflight, in user terms (which header / method / origin no rule allows). */
export function preflightRefusalWhy(flow: FlowDescription, req: FlowRequest, d: Extract<PreflightDecision, { kind: 'refused' }>, unsafe: string[]): string {
  const name = requestName(req);
  if (d.reason === 'no-config') return `the bucket has no CORS configuration, so S3 refuses ${name}'s preflight`;
  const originOk = d.evaluations.filter((e) => e.origin);
  if (originOk.length === 0) return `no CORS rule allows the page's origin, so S3 refuses ${name}'s preflight`;
  const methodOk = originOk.filter((e) => e.method);
  if (methodOk.length === 0) return `${req.method} is not in AllowedMethods for the page's origin, so S3 refuses ${name}'s preflight`;
  const rejected = [...new Set(methodOk[0]!.rejectedHeaders)];
  const described = rejected.map((h) => (flow.notes[h] ? `${flow.notes[h]} ${h}` : h));
  const verb = rejected.length === 1 ? 'is' : 'are';
  return `${described.join(', ')} ${verb} not in AllowedHeaders, so S3 refuses ${name}'s preflight (it asks for ${unsafe.join(', ')})`;
}

function blockWhy(flow: FlowDescription, r: FlowRequest, e: RequestEvaluation): string {
  const name = requestName(r);
  const d = e.preflight.sent?.decision;
  if (e.block!.at === 'preflight' && d?.kind === 'refused') return preflightRefusalWhy(flow, r, d, e.preflight.because.headers);
  if (e.block!.at === 'preflight') return `${name}'s preflight: ${e.block!.why}`;
  const effect = r.method === 'GET' || r.method === 'HEAD' ? 'is answered' : 'takes effect';
  return `${name} reaches S3 and ${effect}, but the answer has no CORS headers for the page's origin (no rule allows ${r.method} from it), so the page sees a network error`;
}

/**
 * Walks a flow through S3's answers and the Fetch rules — harness/oracle.ts `evaluate`, request by
 * request, so flows and plain steps are judged by the same code — with the client's behaviour on
 * top: the SDK's retries, what it reads from each answer, what it sends after a failure.
 */
export function simulateFlow(flow: FlowDescription, config: CorsConfiguration | undefined, origin: string, key: string, engine: EngineName | undefined, decider?: Decider): FlowPrediction {
  const trace: FlowTraceEntry[] = [];
  // Preflight-cache entries per URL (each request of a flow has its own URL; retries share it).
  const cache = new Map<string, PreflightCacheEntry[]>();
  const attempts = attemptsOnRefusal(flow, engine);
  let first: { verdict: 'blocked' | 'hidden'; reason?: ReasonId; at?: 'preflight' | 'response'; why: string } | undefined;
  const secondary: FlowBlock[] = [];
  const succeeded = new Set<string>();
  /** Requests S3 refuses because the client lacked a header it could not read. */
  const refusedBy = new Map<string, string>();
  let stop = false;

  const send = (r: FlowRequest, cleanup: boolean): FlowTraceEntry => {
    const name = requestName(r);
    const url = `${r.method} ${r.resource} ${JSON.stringify(r.query)}`;
    const entries = cache.get(url) ?? [];
    cache.set(url, entries);
    const req = flowCorsRequest(r);
    const entry: FlowTraceEntry = { request: name, method: r.method, attempts: 0, preflights: 0, sent: false, outcome: 'ok', unsafe: req.unsafe, cleanup };
    for (let attempt = 1; attempt <= attempts; attempt++) {
      entry.attempts = attempt;
      const e = evaluate(config, req, origin, { ...(r.resource === 'object' ? { key } : {}), cache: entries, ...(decider ? { decider } : {}) });
      if (e.preflight.sent) entry.preflights++;
      const rule = e.preflight.sent ? (e.preflight.sent.decision.kind === 'allowed' ? e.preflight.sent.decision.rule : undefined) : e.actual.decision.rule;
      if (rule) entry.rule = rule;
      else delete entry.rule;
      if (e.cache) entries.push(e.cache);
      entry.sent = e.actual.sent;
      if (e.block) {
        entry.outcome = 'blocked';
        entry.block = { reason: e.block.reason, at: e.block.at, why: blockWhy(flow, r, e), request: name };
        continue; // the SDK retries a request the browser refused (see attemptsOnRefusal)
      }
      entry.outcome = 'ok';
      delete entry.block;
      const readable = new Set(e.readable ?? []);
      const hidden = r.reads.filter((x) => !readable.has(x.header));
      if (hidden.length) {
        entry.hidden = hidden.map((x) => x.header);
        entry.outcome = 'hidden';
        for (const h of hidden) {
          if (h.ifHidden === 'stop') {
            stop = true;
            first ??= { verdict: 'hidden', why: h.reason };
          } else if (h.refusedBy) refusedBy.set(h.refusedBy, h.reason);
        }
      }
      break;
    }
    if (entry.outcome === 'ok' && refusedBy.has(r.label)) {
      entry.outcome = 'refused-by-s3';
      first ??= { verdict: 'hidden', why: refusedBy.get(r.label)! };
    }
    if (entry.outcome === 'blocked') {
      if (cleanup || first) secondary.push(entry.block!);
      else first = { verdict: 'blocked', reason: entry.block!.reason, at: entry.block!.at, why: entry.block!.why };
    }
    if (entry.outcome === 'ok' || entry.outcome === 'hidden') succeeded.add(r.label);
    trace.push(entry);
    return entry;
  };

  const main = flow.requests.filter((r) => !r.onFailureAfter);
  const cleanups = flow.requests.filter((r) => r.onFailureAfter);
  let failed = false;
  for (let i = 0; i < main.length && !failed; ) {
    // A group: one request and the ones the client sends together with it.
    const group = [main[i]!];
    for (i++; i < main.length && main[i]!.concurrent; i++) group.push(main[i]!);
    const sent = group.map((r) => send(r, false));
    failed = stop || sent.some((e) => e.outcome === 'blocked' || e.outcome === 'refused-by-s3');
  }
  if (failed) for (const c of cleanups) if (succeeded.has(c.onFailureAfter!)) send(c, true);
  const preflights = trace.reduce((n, e) => n + e.preflights, 0);
  const actualRequests = trace.reduce((n, e) => n + (e.sent ? e.attempts : 0), 0);
  if (!first) return { verdict: 'allowed', why: `every request of ${flow.id} passes CORS and the client reads what it needs`, preflights, actualRequests, trace, secondary };
  return { ...first, preflights, actualRequests, trace, secondary };
}

// ---------------------------------------------------------------------------------------------
// The Node half of a flow step

/** Where and how a case's flows reach the bucket (from the case's BucketTarget). */
export interface FlowAccess {
  endpoint: string;
  bucket: string;
  key: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** The query parameter every request of the case carries (local target: `corsproof-case`). */
  caseParam?: [string, string];
}

/** A tiny PNG, the "file" presigned uploads send (its type needs a preflight, as real uploads do). */
export const UPLOAD_PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC';

/** The AWS SDK, loaded by the first flow case (the oracle, the CLI and plain cases never need it). */
async function sdk() {
  const [{ PutObjectCommand, S3Client }, { createPresignedPost }, { getSignedUrl }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/s3-presigned-post'),
    import('@aws-sdk/s3-request-presigner'),
  ]);
  return { PutObjectCommand, S3Client, createPresignedPost, getSignedUrl };
}

function signingClient(S3Client: typeof import('@aws-sdk/client-s3').S3Client, access: FlowAccess): S3Client {
  const s3 = new S3Client({ endpoint: access.endpoint, region: access.region, forcePathStyle: true, credentials: access.credentials });
  const p = access.caseParam;
  if (p) {
    // Part of the signed URL, like any query parameter (the page's SDK does the same).
    s3.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { query?: Record<string, string | string[] | null> };
        req.query = { ...(req.query ?? {}), [p[0]]: p[1] };
        return next(args);
      },
      { step: 'build', name: 'corsproofCaseParameter', priority: 'low' },
    );
  }
  return s3;
}

/** Everything the page's flow needs, made the way an app's backend makes it. */
export async function prepareFlowStep(step: { flow: FlowId; upload?: FlowStep['upload'] }, access: FlowAccess, url: string): Promise<FlowStep> {
  const flow = flowById(step.flow);
  const out: FlowStep = {
    kind: 'flow',
    flow: step.flow,
    url,
    target: { endpoint: access.endpoint, bucket: access.bucket, key: access.key, region: access.region, ...(access.caseParam ? { caseParam: access.caseParam } : {}) },
    reads: Object.fromEntries(flow.requests.filter((r) => r.reads.length).map((r) => [r.label, r.reads.map((x) => x.header)])),
    ...(step.upload ? { upload: step.upload } : {}),
  };
  if (flow.pattern === 'sdk-credentials') return { ...out, credentials: access.credentials };
  const { PutObjectCommand, S3Client, createPresignedPost, getSignedUrl } = await sdk();
  const s3 = signingClient(S3Client, access);
  try {
    if (flow.pattern === 'presigned-url') {
      const contentType = flow.requests[0]!.headers['content-type'] ?? 'application/octet-stream';
      const signed = await getSignedUrl(s3, new PutObjectCommand({ Bucket: access.bucket, Key: access.key, ContentType: contentType }), { expiresIn: 900 });
      return { ...out, presigned: { url: signed, headers: { 'Content-Type': contentType } }, upload: { contentType, base64: UPLOAD_PNG_BASE64, ...step.upload } };
    }
    const post = await createPresignedPost(s3 as unknown as Parameters<typeof createPresignedPost>[0], {
      Bucket: access.bucket,
      Key: access.key,
      Conditions: [['content-length-range', 0, 1024 * 1024], ['starts-with', '$Content-Type', 'text/']],
      Fields: { 'Content-Type': 'text/plain' },
      Expires: 900,
    });
    // The form's URL is the bucket's; the case parameter keeps the exchange filed under the case.
    const formUrl = new URL(post.url);
    if (access.caseParam) formUrl.searchParams.set(access.caseParam[0], access.caseParam[1]);
    return { ...out, post: { url: formUrl.href, fields: post.fields } };
  } finally {
    s3.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// What a browser run of a flow shows

/** The verdict page JavaScript experienced in a flow step. */
export function flowObservedVerdict(o: StepOutcome): 'allowed' | 'blocked' | 'hidden' {
  if (o.settled === 'response') return 'allowed';
  return o.unreadable?.length ? 'hidden' : 'blocked';
}

/** Where a blocked flow was stopped: its failed request reached the bucket (response) or not (preflight). */
export function flowObservedAt(o: StepOutcome, exchanges: readonly Exchange[]): 'preflight' | 'response' | undefined {
  const f = o.failedRequest;
  if (!f) return undefined;
  const u = new URL(f.url);
  const sent = exchanges.some((x) => x.method === f.method && sameRequestTarget(x.url, u));
  return sent ? 'response' : 'preflight';
}

function sameRequestTarget(recorded: string, u: URL): boolean {
  const r = new URL(recorded, u.origin);
  if (r.pathname !== u.pathname) return false;
  const a = [...r.searchParams.keys()].sort().join('&');
  const b = [...u.searchParams.keys()].sort().join('&');
  return a === b && [...u.searchParams].every(([k, v]) => r.searchParams.get(k) === v);
}
