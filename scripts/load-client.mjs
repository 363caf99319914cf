#!/usr/bin/env node
// Load client for the reliability suite (tests/reliability/load.spec.ts): a separate process that
// sends a list of HTTP requests to a corsproof server on 127.0.0.1, all at once through one
// keep-alive agent, checks every answer against its expectation, and prints one JSON summary.
//
//   node scripts/load-client.mjs < plan.json
//
// plan.json: { "port": 9000, "maxSockets": 64, "timeoutMs": 30000,
//              "requests": [{ "kind": "preflight", "method": "OPTIONS", "path": "/b/k",
//                             "headers": {…}, "body": "…" (utf-8, optional),
//                             "expect": { "status": 200,
//                                         "headers": { "access-control-allow-origin": "http://a" | null },
//                                         "headerIncludes": { "access-control-allow-methods": "PUT" },
//                                         "bodyMd5": "hex" } }, …] }
// A header expected as null must be absent. Output: { total, ok, failed, networkErrors, byKind,
// elapsedMs, requestsPerSecond, latencyMs: {p50, p95, p99, max}, failures: [first 20] }.
// Loopback only: the host is fixed to 127.0.0.1, whatever the plan says.
import { createHash } from 'node:crypto';
import { Agent, request } from 'node:http';

const HOST = '127.0.0.1';

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function send(agent, port, r, timeoutMs) {
  return new Promise((resolve) => {
    const started = performance.now();
    const body = r.body !== undefined ? Buffer.from(r.body, 'utf8') : undefined;
    const headers = { ...r.headers, ...(body ? { 'Content-Length': String(body.length) } : {}) };
    const req = request({ host: HOST, port, method: r.method, path: r.path, headers, agent, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), ms: performance.now() - started }),
      );
      res.on('error', (e) => resolve({ error: e.message, ms: performance.now() - started }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => resolve({ error: `${e.code ?? ''} ${e.message}`.trim(), ms: performance.now() - started }));
    if (body) req.write(body);
    req.end();
  });
}

function check(r, a) {
  const problems = [];
  const e = r.expect ?? {};
  if (e.status !== undefined && a.status !== e.status) problems.push(`status ${a.status}, expected ${e.status}`);
  for (const [name, want] of Object.entries(e.headers ?? {})) {
    const got = a.headers[name.toLowerCase()];
    if (want === null && got !== undefined) problems.push(`${name}: ${got}, expected absent`);
    if (want !== null && got !== want) problems.push(`${name}: ${got ?? '(absent)'}, expected ${want}`);
  }
  for (const [name, part] of Object.entries(e.headerIncludes ?? {})) {
    const got = a.headers[name.toLowerCase()];
    if (typeof got !== 'string' || !got.includes(part)) problems.push(`${name}: ${got ?? '(absent)'}, expected to include ${part}`);
  }
  if (e.bodyMd5 !== undefined) {
    const md5 = createHash('md5').update(a.body).digest('hex');
    if (md5 !== e.bodyMd5) problems.push(`body md5 ${md5}, expected ${e.bodyMd5}`);
  }
  return problems;
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0);

const plan = await readStdin();
const timeoutMs = plan.timeoutMs ?? 30_000;
const agent = new Agent({ keepAlive: true, maxSockets: plan.maxSockets ?? 64 });
const started = performance.now();
const answers = await Promise.all(plan.requests.map((r) => send(agent, plan.port, r, timeoutMs)));
const elapsedMs = performance.now() - started;
agent.destroy();

const byKind = {};
const failures = [];
let ok = 0;
let networkErrors = 0;
answers.forEach((a, i) => {
  const r = plan.requests[i];
  const k = (byKind[r.kind] ??= { total: 0, ok: 0 });
  k.total++;
  const problems = a.error ? [`network error: ${a.error}`] : check(r, a);
  if (a.error) networkErrors++;
  if (problems.length === 0) {
    ok++;
    k.ok++;
  } else if (failures.length < 20) failures.push({ index: i, kind: r.kind, method: r.method, path: r.path, problems });
});
const latencies = answers.map((a) => a.ms).sort((x, y) => x - y);
const round = (n) => Math.round(n * 10) / 10;
process.stdout.write(
  `${JSON.stringify({
    total: answers.length,
    ok,
    failed: answers.length - ok,
    networkErrors,
    byKind,
    elapsedMs: round(elapsedMs),
    requestsPerSecond: round(answers.length / (elapsedMs / 1000)),
    latencyMs: { p50: round(percentile(latencies, 50)), p95: round(percentile(latencies, 95)), p99: round(percentile(latencies, 99)), max: round(latencies[latencies.length - 1] ?? 0) },
    maxSockets: plan.maxSockets ?? 64,
    failures,
  })}\n`,
);
