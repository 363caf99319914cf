/**
 * `npm run bench`: what corsproof's harness costs compared with the browser's own CORS work.
 *
 * 1. The S3 CORS engine's decisions per second (bench/cors-engine.ts).
 * 2. Per engine, the full default matrix through Playwright (`playwright test --project=<engine>
 *    --workers=1`, wall time: what a user waits for), and a quarter of it (`--shard=1/4`) to show the
 *    cost is linear in the number of cases (fixed cost + per-case cost).
 * 3. Per engine, the floor: a freshly launched browser, one page, and the very same requests of
 *    every case issued back-to-back in one go — no test runner, no per-case bookkeeping.
 * 4. Per engine, the same matrix against the run's own Ceph RGW (`--project=rgw-<engine>
 *    --workers=1`, cluster start included) and its ratio to the matrix against corsproof's own
 *    server (goal: at most 2). `--no-stores` leaves it out.
 *
 * harness_ms and floor_ms both include launching the browser; the launch-free numbers are printed
 * too. The last line is one JSON object:
 *   {"engines": {"chromium": {"cases", "harness_ms", "floor_ms", "ratio", …}, …}, "cors_engine": {…}}
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_NAMES, launchEngine, resolveEngine, type CaseSpec, type EngineName, type Step } from '../engines/index.js';
import { ExchangeLog } from '../servers/exchange-log.js';
import { localTarget } from '../harness/target.js';
import { startSiteServer } from '../servers/site/index.js';
import { startBucketServer } from '../servers/bucket/index.js';
import { fillPlaceholders, loadFixtures, loadScenarios, objectBody } from '../harness/data.js';
import { prepareFlowStep } from '../harness/flows.js';
import { makeOrigins, TEST_HOSTS } from '../harness/origins.js';

// The AWS SDK's Node 20 notice (releases after January 2027 need Node 22) is noise here, as in
// playwright.config.ts: package-lock.json pins the release corsproof is tested with.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

const root = fileURLToPath(new URL('..', import.meta.url));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code: code ?? 1, stdout, ms: performance.now() - t0 }));
  });
}

async function playwrightRun(engine: EngineName | `rgw-${EngineName}`, extra: string[]): Promise<{ cases: number; ms: number; failed: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-bench-'));
  const out = join(dir, 'results.json');
  try {
    // The matrix spec only: the origin table and the walkthrough run in workers of their own.
    const r = await run(join(root, 'node_modules/.bin/playwright'), ['test', 'tests/browser/verdicts.spec.ts', `--project=${engine}`, '--workers=1', '--reporter=json', ...extra], {
      PLAYWRIGHT_JSON_OUTPUT_NAME: out,
      CORSPROOF_OUTPUT_DIR: dir,
      CORSPROOF_TRACE: 'off',
    });
    const stats = (JSON.parse(readFileSync(out, 'utf8')) as { stats: { expected: number; unexpected: number; flaky: number } }).stats;
    return { cases: stats.expected + stats.unexpected + stats.flaky, ms: r.ms, failed: stats.unexpected };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every case's requests, back-to-back from one page of a fresh browser. */
async function floor(engine: EngineName): Promise<{ cases: number; requests: number; launchMs: number; requestsMs: number }> {
  const log = new ExchangeLog();
  const site = await startSiteServer({ log });
  const bucket = await startBucketServer({ log, anonymousAccess: 'open' });
  const origins = makeOrigins(site.port, bucket.port);
  const target = localTarget(bucket, origins.BUCKET_ORIGIN);
  const steps: Step[] = [];
  let cases = 0;
  for (const fixture of loadFixtures()) {
    const cors = fixture.cors === null ? undefined : { CORSRules: fillPlaceholders(fixture.cors, origins) };
    for (const scenario of loadScenarios()) {
      // The same per-case setup the harness does (a fresh bucket, a unique URL), done up front.
      const stored: Array<[string, string]> = scenario.object.cacheControl ? [['Cache-Control', scenario.object.cacheControl]] : [];
      const { url, access } = await target.prepare(
        `floor.${fixture.id}.${scenario.id}.${++cases}`,
        cors,
        { key: scenario.object.key, body: objectBody(scenario.object), contentType: scenario.object.contentType, headers: stored },
        origins.SITE_ORIGIN,
      );
      for (const s of scenario.steps) steps.push(s.kind === 'flow' ? await prepareFlowStep(s, access, url) : ({ ...s, url } as Step));
    }
  }
  const t0 = performance.now();
  const session = await launchEngine(resolveEngine(engine), { site, pageOrigin: origins.SITE_ORIGIN, hosts: TEST_HOSTS });
  const launchMs = performance.now() - t0;
  try {
    const spec: CaseSpec = { caseId: 'floor', steps };
    const t1 = performance.now();
    await session.run(spec, 600_000);
    return { cases, requests: steps.length, launchMs, requestsMs: performance.now() - t1 };
  } finally {
    await session.close();
    await bucket.close();
    await site.close();
  }
}

const round = (n: number) => Math.round(n);
const result: { engines: Record<string, unknown>; cors_engine?: unknown } = { engines: {} };

const engineBench = await run(process.execPath, ['--import', 'tsx', 'bench/cors-engine.ts']);
const lastLine = engineBench.stdout.trim().split('\n').pop() ?? '{}';
result.cors_engine = JSON.parse(lastLine);
console.log(`S3 CORS engine: ${lastLine}`);

const only = process.argv.slice(2).filter((a): a is EngineName => (ENGINE_NAMES as readonly string[]).includes(a));
const stores = !process.argv.includes('--no-stores');
for (const engine of only.length ? only : ENGINE_NAMES) {
  const f = await floor(engine);
  const full = await playwrightRun(engine, []);
  const quarter = await playwrightRun(engine, ['--shard=1/4']);
  const floorMs = f.launchMs + f.requestsMs;
  const perCase = (full.ms - quarter.ms) / Math.max(1, full.cases - quarter.cases);
  const row = {
    cases: full.cases,
    harness_ms: round(full.ms),
    floor_ms: round(floorMs),
    ratio: Number((full.ms / floorMs).toFixed(2)),
    failed: full.failed,
    floor_launch_ms: round(f.launchMs),
    floor_requests_ms: round(f.requestsMs),
    harness_per_case_ms: Number(perCase.toFixed(1)),
    harness_fixed_ms: round(full.ms - perCase * full.cases),
    floor_per_case_ms: Number((f.requestsMs / f.cases).toFixed(1)),
    quarter: { cases: quarter.cases, harness_ms: round(quarter.ms) },
    ...(stores ? { rgw: await playwrightRun(`rgw-${engine}`, []).then((r) => ({ cases: r.cases, ms: round(r.ms), failed: r.failed, ratio_to_own_server: Number((r.ms / full.ms).toFixed(2)) })) } : {}),
  };
  result.engines[engine] = row;
  console.log(
    `${engine.padEnd(8)} cases ${row.cases}  harness ${row.harness_ms} ms  floor ${row.floor_ms} ms (launch ${row.floor_launch_ms} + requests ${row.floor_requests_ms})  ratio ${row.ratio}` +
      `  | per case: harness ${row.harness_per_case_ms} ms, floor ${row.floor_per_case_ms} ms; harness fixed ${row.harness_fixed_ms} ms` +
      `  | quarter: ${quarter.cases} cases in ${row.quarter.harness_ms} ms${full.failed ? `  | ${full.failed} FAILED` : ''}` +
      (row.rgw ? `  | Ceph RGW: ${row.rgw.cases} cases in ${row.rgw.ms} ms, ${row.rgw.ratio_to_own_server}× corsproof's server${row.rgw.failed ? `, ${row.rgw.failed} FAILED` : ''}` : ''),
  );
}
console.log(JSON.stringify(result));
