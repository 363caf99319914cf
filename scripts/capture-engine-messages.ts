/**
 * Records what each real engine prints for every CORS failure reason, as test data for
 * harness/messages.ts `compareWithEngine` (tests/unit/engine-messages.spec.ts).
 *
 * S3 (and so the matrix) only ever produces three of the seven reasons: it answers a refused
 * request without any CORS header and a matched one with headers browsers accept, so
 * origin-mismatch, method-not-allowed, header-not-allowed, preflight-status and credentials-flag
 * need a server that answers what S3 never does — which other stores, proxies and CDNs in front of
 * a bucket do. This script is that server: one plain Node HTTP endpoint at
 * http://s3.example.test:PORT whose answer each case chooses, a harness page on the site origin,
 * and each engine as the matrix drives it (engines/index.ts launchEngine).
 *
 *   npx tsx scripts/capture-engine-messages.ts [chromium] [firefox] [webkit]
 *
 * writes tests/unit/engine-messages/crafted.json (the engines' lines verbatim, with the build
 * that printed them). Re-run it when an engine release changes; never edit the file by hand.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ENGINE_NAMES, launchEngine, resolveEngine, type EngineMessage, type EngineName, type FetchStep, type Step, type XhrStep } from '../engines/index.js';
import { startSiteServer } from '../servers/site/index.js';
import { ExchangeLog } from '../servers/exchange-log.js';
import { BUCKET_HOST, PAGE_HOST, TEST_HOSTS } from '../harness/origins.js';
import type { ReasonId } from '../harness/reasons.js';

interface Crafted {
  id: string;
  reason: ReasonId;
  at: 'preflight' | 'response';
  /** The page's request (the URL is filled in). */
  step: Omit<FetchStep, 'url'> | Omit<XhrStep, 'url'>;
  /** The endpoint's answer to the preflight (OPTIONS) and to the actual request. */
  preflight?: (origin: string) => { status: number; headers: Record<string, string> };
  actual?: (origin: string) => { status: number; headers: Record<string, string> };
}

const ok = (origin: string, more: Record<string, string> = {}) => ({ status: 200, headers: { 'Access-Control-Allow-Origin': origin, ...more } });

const CASES: Crafted[] = [
  { id: 'origin-mismatch-response', reason: 'origin-mismatch', at: 'response', step: { kind: 'fetch', method: 'GET' }, actual: () => ok('http://other.example') },
  {
    id: 'origin-mismatch-preflight',
    reason: 'origin-mismatch',
    at: 'preflight',
    step: { kind: 'fetch', method: 'PUT', body: 'x' },
    preflight: () => ok('http://other.example', { 'Access-Control-Allow-Methods': 'PUT' }),
  },
  {
    id: 'method-not-allowed',
    reason: 'method-not-allowed',
    at: 'preflight',
    step: { kind: 'fetch', method: 'PUT', body: 'x' },
    preflight: (o) => ok(o, { 'Access-Control-Allow-Methods': 'GET' }),
  },
  {
    id: 'header-not-allowed',
    reason: 'header-not-allowed',
    at: 'preflight',
    step: { kind: 'fetch', method: 'GET', headers: { 'x-custom': '1' } },
    preflight: (o) => ok(o, { 'Access-Control-Allow-Methods': 'GET', 'Access-Control-Allow-Headers': 'x-other' }),
  },
  {
    id: 'preflight-status',
    reason: 'preflight-status',
    at: 'preflight',
    step: { kind: 'fetch', method: 'PUT', body: 'x' },
    preflight: (o) => ({ status: 500, headers: { 'Access-Control-Allow-Origin': o, 'Access-Control-Allow-Methods': 'PUT' } }),
  },
  {
    id: 'credentials-flag-response',
    reason: 'credentials-flag',
    at: 'response',
    step: { kind: 'fetch', method: 'GET', credentials: 'include' },
    actual: (o) => ok(o),
  },
  {
    id: 'credentials-flag-preflight',
    reason: 'credentials-flag',
    at: 'preflight',
    step: { kind: 'fetch', method: 'PUT', body: 'x', credentials: 'include' },
    preflight: (o) => ok(o, { 'Access-Control-Allow-Methods': 'PUT' }),
  },
  {
    id: 'wildcard-with-credentials-preflight',
    reason: 'wildcard-with-credentials',
    at: 'preflight',
    step: { kind: 'fetch', method: 'PUT', body: 'x', credentials: 'include' },
    preflight: () => ok('*', { 'Access-Control-Allow-Methods': 'PUT' }),
  },
  {
    id: 'wildcard-with-credentials-xhr',
    reason: 'wildcard-with-credentials',
    at: 'response',
    step: { kind: 'xhr', method: 'GET', credentials: 'include' },
    actual: () => ok('*'),
  },
];

function answer(c: Crafted | undefined, req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin ?? '';
  const a = c && (req.method === 'OPTIONS' ? c.preflight : c.actual)?.(origin);
  const { status, headers } = a ?? { status: 200, headers: {} };
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store', ...headers });
  res.end(req.method === 'OPTIONS' ? '' : 'corsproof');
}

async function capture(engine: EngineName): Promise<object[]> {
  const endpoint = createServer((req, res) => {
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('c') ?? '';
    answer(CASES.find((c) => c.id === id), req, res);
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  const port = (endpoint.address() as { port: number }).port;
  const site = await startSiteServer({ log: new ExchangeLog() });
  const session = await launchEngine(resolveEngine(engine), { site, pageOrigin: `http://${PAGE_HOST}:${site.port}`, hosts: TEST_HOSTS });
  const out: object[] = [];
  try {
    for (const c of CASES) {
      const caseId = `${c.id}.${engine}.${Date.now().toString(36)}`;
      const url = `http://${BUCKET_HOST}:${port}/object.txt?c=${c.id}&corsproof-case=${caseId}`;
      const run = await session.run({ caseId, steps: [{ ...c.step, url } as Step] }, 15_000);
      const settled = run.result.steps[0]?.settled;
      if (settled === 'response') throw new Error(`${engine} ${c.id}: the request was not blocked`);
      out.push({ engine, build: `${session.build.product} ${session.build.version}`, case: c.id, reason: c.reason, at: c.at, messages: run.messages as EngineMessage[] });
      console.log(`${engine} ${c.id}: ${run.messages.map((m) => m.text).join(' | ')}`);
    }
  } finally {
    await session.close();
    await site.close();
    await new Promise((r) => endpoint.close(r));
  }
  return out;
}

const file = fileURLToPath(new URL('../tests/unit/engine-messages/crafted.json', import.meta.url));
const engines = (process.argv.slice(2).length ? process.argv.slice(2) : [...ENGINE_NAMES]) as EngineName[];
let kept: Array<{ engine: string }> = [];
try {
  kept = (JSON.parse(readFileSync(file, 'utf8')) as { cases: Array<{ engine: string }> }).cases.filter((c) => !engines.includes(c.engine as EngineName));
} catch {
  /* first recording */
}
const cases = [...kept];
for (const e of engines) cases.push(...((await capture(e)) as Array<{ engine: string }>));
cases.sort((a, b) => ENGINE_NAMES.indexOf(a.engine as EngineName) - ENGINE_NAMES.indexOf(b.engine as EngineName));
writeFileSync(
  file,
  `${JSON.stringify(
    {
      description:
        'What real engines printed for CORS failures S3 itself never produces, recorded by scripts/capture-engine-messages.ts against an endpoint answering each case as named (never edited by hand).',
      cases,
    },
    null,
    1,
  )}\n`,
);
console.log(`${cases.length} cases → ${file}`);
