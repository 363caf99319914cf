/**
 * `corsproof check`'s own runner: the user's configuration × the standard scenarios in each engine,
 * without Playwright's test runner around it.
 *
 * A check is one configuration: it needs the cases, their evidence and the matrix, not a test
 * runner's per-test machinery (a runner process, a worker process per engine, fixtures, reporters),
 * which cost more CPU than the cases themselves on a small machine (issue 12: the runner and its
 * workers ≈ 16 s of a 23 s check on two cores). Each origin × engine is a lane in this one process:
 * its engine launches while its servers start, its cases run in the engine's page in batches, and
 * every case is held to the very rules the matrix suite holds its cases to — the same case runner
 * (harness/case.ts), the same expectation (harness/expectation.ts) and the same list of problems
 * (harness/case-problems.ts). Each case's evidence.json and transcript are written under
 * test-results/check/, the rows into test-results/cors-matrix.{json,md,html}.
 *
 * `corsproof check --report` runs the same cases through the Playwright suite instead
 * (tests/browser/verdicts.spec.ts), for its HTML report and traces.
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { mkdirSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describeBuild, resolveEngine, type EngineBuild, type EngineName, type EngineSession, type EngineStart } from '../engines/index.js';
import { HARNESS_PATH } from '../servers/site/paths.js';
import { startEngineFor } from './arrangements.js';
import { CASE_TIMEOUT_MS, CasePipeline, type CaseContext, type CaseEvidence } from './case.js';
import { caseProblems } from './case-problems.js';
import { checkFixture, originSlug, type CheckPlan } from './check-plan.js';
import type { CorsFixture, Scenario } from './data.js';
import { caseExpectation, expectationTitle, titleOrigins } from './expectation.js';
import { rowFromEvidence, writeMatrixFiles, type MatrixRow } from './matrix-reporter.js';
import type { ServerSet } from './server-set.js';
import { storeFailure } from './store-case.js';
import { localTarget, remoteOptionsFromEnv, remoteTarget, type BucketTarget } from './target.js';
import { sideBySide, transcript } from './transcript.js';

/** Cases per page round trip: a page that stops answering costs at most this many cases. */
const BATCH = 9;

export interface CheckCaseFailure {
  scenario: string;
  title: string;
  problems: string[];
  /** Expected, oracle and engine side by side, with the server's record (harness/transcript.ts). */
  sideBySide: string;
  /** The case's evidence folder (evidence.json, transcript.txt). */
  evidence: string;
}

export interface CheckLane {
  origin: string;
  engine: EngineName;
  /** The build that ran (absent when the engine could not start). */
  build?: EngineBuild;
  /** Why the lane, or some of its cases, did not run: the engine's start failure, a stuck page. */
  errors: string[];
  rows: MatrixRow[];
  failures: CheckCaseFailure[];
  seconds: number;
}

export interface CheckRunOptions {
  plan: CheckPlan;
  scenarios: readonly Scenario[];
  engines: readonly EngineName[];
  /** Where test-results/ goes (the user's project). */
  outDir: string;
  /** A line of progress (one per lane as it finishes). */
  progress?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

/**
 * Lanes run side by side, at most max(3, cores) at a time (a launch is partly waiting; six engines
 * starting at once on two cores made MiniBrowser's start fail); against a remote endpoint one at a
 * time, since its bucket holds one configuration at a time. Firefox's lanes start first: its launch
 * is the longest (≈ 3.5 s over WebDriver BiDi, measured here). With CORSPROOF_TIMING set, each lane's
 * phases and this process's CPU go to stderr.
 */
export async function runCheck(opts: CheckRunOptions): Promise<CheckLane[]> {
  const env = opts.env ?? process.env;
  const remote = remoteOptionsFromEnv(env);
  const results = join(opts.outDir, 'test-results');
  const evidenceRoot = join(results, 'check');
  rmSync(evidenceRoot, { recursive: true, force: true });
  const order = (e: EngineName) => (e === 'firefox' ? 0 : 1);
  const lanes = opts.plan.origins
    .flatMap((origin) => opts.engines.map((engine) => ({ origin, engine })))
    .sort((a, b) => order(a.engine) - order(b.engine));
  const limit = remote ? 1 : Math.min(lanes.length, Math.max(3, availableParallelism()));
  const out: CheckLane[] = new Array(lanes.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < lanes.length) {
        const i = next++;
        const { origin, engine } = lanes[i]!;
        out[i] = await runLane({ ...opts, origin, engine, index: i, remote, evidenceRoot });
        opts.progress?.(laneLine(out[i]!));
      }
    }),
  );
  if (env['CORSPROOF_TIMING']) {
    const u = process.cpuUsage();
    process.stderr.write(`[timing] this process: ${(u.user / 1e6).toFixed(2)} s user, ${(u.system / 1e6).toFixed(2)} s system, at ${(performance.now() / 1000).toFixed(2)} s\n`);
  }
  const rows = out.flatMap((l) => l.rows);
  if (rows.length) writeMatrixFiles(rows, results);
  return out;
}

function laneLine(l: CheckLane): string {
  const what = l.build ? `${l.rows.length} cases in ${l.seconds.toFixed(1)} s, ${describeBuild(l.build)}` : 'did not start';
  return `  ${l.engine.padEnd(8)} ${l.origin}: ${what}`;
}

type LaneOptions = CheckRunOptions & { origin: string; engine: EngineName; index: number; remote: ReturnType<typeof remoteOptionsFromEnv>; evidenceRoot: string };

async function runLane(o: LaneOptions): Promise<CheckLane> {
  const t0 = performance.now();
  const timing = !!(o.env ?? process.env)['CORSPROOF_TIMING'];
  const lap = (what: string) => timing && process.stderr.write(`[timing] ${o.engine} ${((performance.now() - t0) / 1000).toFixed(2)} s ${what} (process ${(performance.now() / 1000).toFixed(2)} s)\n`);
  lap('lane start');
  const lane: CheckLane = { origin: o.origin, engine: o.engine, errors: [], rows: [], failures: [], seconds: 0 };
  const fixture = checkFixture(o.plan, o.origin, [...o.scenarios]);
  const dir = join(o.evidenceRoot, `${originSlug(o.origin)}-${o.engine}`);
  let servers: ServerSet | undefined;
  let started: EngineStart | undefined;
  let session: EngineSession | undefined;
  let target: BucketTarget | undefined;
  let starting: Promise<EngineStart> | undefined;
  try {
    // The engine launches while the servers start (as the suite's engineStart fixture does).
    starting = startEngineFor(resolveEngine(o.engine, o.env ?? process.env), 'split', o.origin);
    starting.catch(() => {});
    // The servers' modules (express, the bucket and site servers: ≈ 0.3 s of this process's start)
    // load while the engine's processes start, not before.
    const { startServerSet } = await import('./server-set.js');
    servers = await startServerSet('split', o.index, o.origin);
    lap('servers');
    started = await starting;
    lap('engine started');
    session = await started.open({ site: servers.site, pageOrigin: servers.origins.SITE_ORIGIN });
    lap('page open');
    lane.build = session.build;
    target = o.remote ? await remoteTarget(o.remote) : localTarget(servers.bucket, servers.origins.BUCKET_ORIGIN);
    const ctx: CaseContext = { engine: session, target, log: servers.log, origins: servers.origins };
    const pageUrl = servers.origins.SITE_ORIGIN + HARNESS_PATH;
    // Every batch queued at once: each is prepared while the page runs the one before it, and
    // recorded while the page runs the next (harness/case.ts CasePipeline).
    const pipeline = new CasePipeline(ctx, CASE_TIMEOUT_MS);
    const queued: Array<{ batch: Scenario[]; evidences: Promise<CaseEvidence[]> }> = [];
    for (let i = 0; i < o.scenarios.length; i += BATCH) {
      const batch = o.scenarios.slice(i, i + BATCH);
      const evidences = pipeline.run(batch.map((scenario) => ({ fixture, scenario, caseId: `${fixture.id}.${scenario.id}.${o.engine}.${randomBytes(4).toString('hex')}` })));
      evidences.catch(() => {}); // awaited below, in order
      queued.push({ batch, evidences });
    }
    for (const { batch, evidences } of queued) {
      let ran: CaseEvidence[];
      try {
        ran = await evidences;
      } catch (e) {
        // The session reloads a page that stopped answering; the next batch still runs.
        lane.errors.push(`${batch.map((s) => s.id).join(', ')}: ${(e as Error).message}`);
        continue;
      }
      lap(`batch ran`);
      await Promise.all(ran.map((e, j) => record(lane, fixture, e, batch[j]!, session!.build, servers!, pageUrl, dir)));
      lap(`batch recorded`);
    }
  } catch (e) {
    lane.errors.push((e as Error).message);
  } finally {
    await target?.close().catch(() => {});
    await session?.close().catch(() => {});
    await (started ?? (await starting?.catch(() => undefined)))?.abort().catch(() => {});
    await servers?.close().catch(() => {});
    lane.seconds = (performance.now() - t0) / 1000;
    lap('closed');
  }
  return lane;
}

/** Holds one case to the matrix's rules, writes its evidence, and adds its row. */
async function record(lane: CheckLane, fixture: CorsFixture, e: CaseEvidence, scenario: Scenario, build: EngineBuild, servers: ServerSet, pageUrl: string, dir: string): Promise<void> {
  // As the suite titles and asserts it (tests/browser/verdicts.spec.ts).
  const expectation = caseExpectation(fixture, scenario, titleOrigins(lane.origin));
  const title = expectationTitle(scenario.id, expectation);
  const problems = caseProblems(e, scenario, servers.origins.SITE_ORIGIN, expectation.engines[lane.engine]);
  const store = e.store && storeFailure(e.store);
  if (store) problems.unshift(`store profile: ${store}`);
  const caseDir = join(dir, scenario.id);
  mkdirSync(caseDir, { recursive: true });
  await Promise.all([
    writeFile(join(caseDir, 'evidence.json'), JSON.stringify({ engineBuild: build, pageUrl, ...e }, null, 2)),
    writeFile(join(caseDir, 'transcript.txt'), transcript(e, pageUrl)),
  ]);
  lane.rows.push(rowFromEvidence({ ...e, engineBuild: build }, problems.length ? 'failed' : 'passed', title));
  if (problems.length) lane.failures.push({ scenario: scenario.id, title, problems, sideBySide: sideBySide(e), evidence: caseDir });
}
