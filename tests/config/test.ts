/**
 * The harness as Playwright fixtures — the one `test` and `expect` browser specs import.
 *
 * Worker scope: the servers (each worker its own, on its own ports, so parallel workers never share
 * state; arranged as the spec asks with `test.use({ serverMode })`), one engine session, and the
 * batch runner. Test scope: `matrixCase` (one fixture × scenario of a group, run together with the
 * rest of its group in one page round trip), `corsCase` (one case on its own), both attaching each
 * case's evidence to the test it belongs to; and an automatic `engine` annotation naming the build
 * that ran.
 *
 * The base is Playwright's bare test type (`_baseTest`), not `@playwright/test`'s `test`: corsproof
 * launches and drives its engines itself and never uses Playwright's page, context or browser
 * fixtures, whose automatic per-test fixtures (trace recording, context options) are still set up
 * and torn down around every test, each as report steps that capture and source-map a stack. In a
 * matrix run that was ≈ 5 ms of a worker's CPU per test (650 trivial tests: 7.3 s against 2.7 s,
 * measured here), in the process that also serves the engine's requests. The one option of
 * Playwright's the projects set, `browserName`, is declared here.
 */
import { _baseTest as base, expect, type TestInfo } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describeBuild, resolveEngine, type EngineName, type EngineSession, type EngineStart } from '../../engines/index.js';
import { pageBound } from '../../engines/types.js';
import { HARNESS_PATH } from '../../servers/site/paths.js';
import type { ServerSet } from '../../harness/server-set.js';
import { startEngineFor, type ServerMode } from '../../harness/arrangements.js';
import { CASE_TIMEOUT_MS, type CaseContext, type CaseEvidence } from '../../harness/case.js';
import type { CorsFixture, Scenario } from '../../harness/data.js';
import { transcript } from '../../harness/transcript.js';
import type { BucketTarget } from '../../harness/target.js';

// The servers, the case runner and the remote-target client (the AWS SDK) are loaded by the fixtures
// that use them, in the worker: collecting the tests (in the runner process, before any worker
// starts) then needs none of them.
const serverSet = () => import('../../harness/server-set.js');
const caseRunner = () => import('../../harness/case.js');
const targets = () => import('../../harness/target.js');
const storeTargets = () => import('../../stores/targets.js');
type StoreName = import('../../stores/targets.js').StoreName;

function traceMode(): 'on' | 'off' | 'retain-on-failure' {
  const v = (process.env.CORSPROOF_TRACE ?? 'off').trim();
  if (v === 'on' || v === 'off' || v === 'retain-on-failure') return v;
  throw new Error(`CORSPROOF_TRACE must be on, off or retain-on-failure, not "${v}"`);
}

export type Servers = ServerSet;


const newCaseId = (fixture: CorsFixture, scenario: Scenario, engine: EngineName) =>
  `${fixture.id}.${scenario.id}.${engine}.${randomBytes(4).toString('hex')}`;

/** Trace chunks: one per batch of cases (the batch runs in one page round trip). */
type Tracing = NonNullable<EngineSession['tracing']>;

/**
 * Runs a group's cases in batches and hands each test its own case's evidence. A group is a
 * describe block whose tests run in order in one worker (`test.describe.configure({ mode:
 * 'default' })`). A test whose case is not ready runs a batch starting with its own case: while the
 * tests arrive in the group's order the batches double (2, 4, 8, … cases: a whole group in a few page
 * round trips); when they do not (`--grep`, `--repeat-each`, a worker restarted after a failure) the
 * batch is its own case and the next one, so a filtered run does at most one case it did not ask for.
 */
export interface MatrixRunner {
  take(fixture: CorsFixture, group: readonly Scenario[], index: number, testInfo: TestInfo): Promise<{ evidence: CaseEvidence; trace?: string }>;
}

type WorkerFixtures = {
  /** The project's engine (`use: { browserName }` in playwright.config.ts). */
  browserName: EngineName;
  serverMode: ServerMode;
  /** Run against a store the suite runs itself (the rgw-* projects: `use: { store: 'ceph-rgw' }`). */
  store: StoreName | undefined;
  pageOrigin: string | undefined;
  /** The engine being launched while the servers start (awaited by engineSession). */
  engineStart: Promise<EngineStart>;
  servers: Servers;
  bucketTarget: BucketTarget;
  engineSession: EngineSession;
  matrixRunner: MatrixRunner;
};
type TestFixtures = {
  engineAnnotation: void;
  corsCase: (fixture: CorsFixture, scenario: Scenario, opts?: { targetOrigin?: string }) => Promise<CaseEvidence>;
  /** The case of `group[index]` under `fixture`, run in a batch with the rest of its group. */
  matrixCase: (fixture: CorsFixture, group: readonly Scenario[], index: number) => Promise<CaseEvidence>;
};

/** Writes each case's evidence.json and transcript next to the test and attaches them. */
async function attachEvidence(testInfo: TestInfo, engineSession: EngineSession, servers: Servers, evidences: CaseEvidence[]): Promise<void> {
  const pageUrl = servers.origins.SITE_ORIGIN + HARNESS_PATH;
  await Promise.all(
    evidences.map(async (evidence, i) => {
      // One case per test is a matrix cell ("evidence.json", read by the matrix reporter); tests
      // that run several cases number them.
      const name = evidences.length === 1 ? 'evidence.json' : `evidence-${i + 1}-${evidence.fixture}-${evidence.scenario}.json`;
      // A file, not an inline body: keeps results.json small and the worker→runner messages light.
      const path = testInfo.outputPath(name);
      await writeFile(path, JSON.stringify({ engineBuild: engineSession.build, pageUrl, ...evidence }, null, 2));
      // Pushed rather than testInfo.attach(): attach() makes a report step and captures (and
      // source-maps) a stack for it, the largest per-test cost of a matrix run after the browser's
      // own work (measured with the worker's CPU profile). A pushed attachment is reported the same.
      testInfo.attachments.push(
        { name, path, contentType: 'application/json' },
        { name: name.replace(/^evidence/, 'transcript').replace(/\.json$/, '.txt'), body: Buffer.from(transcript(evidence, pageUrl)), contentType: 'text/plain' },
      );
    }),
  );
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  browserName: ['chromium', { scope: 'worker', option: true }],

  /** Which arrangement of servers the spec needs (harness/server-set.ts); `test.use({ serverMode })`. */
  serverMode: ['split', { scope: 'worker', option: true }],

  /**
   * Serve the harness page from this exact origin instead of http://www.example.test:PORT
   * (`corsproof check --origin`); its host name is mapped to loopback inside the engines.
   */
  pageOrigin: [undefined, { scope: 'worker', option: true }],

  engineStart: [
    async ({ browserName, serverMode, pageOrigin }, use) => {
      // async: an engine that cannot be chosen is a rejection engineSession reports, not a throw here.
      const pending = (async () => startEngineFor(resolveEngine(browserName as EngineName), serverMode, pageOrigin))();
      // Observed by engineSession; here only kept from counting as unhandled meanwhile.
      pending.catch(() => {});
      try {
        await use(pending);
      } finally {
        await (await pending.catch(() => undefined))?.abort();
      }
    },
    { scope: 'worker', timeout: 90_000 },
  ],

  servers: [
    // Depends on engineStart only so that the engine launches while the servers start.
    async ({ serverMode, pageOrigin, engineStart: _launching }, use, workerInfo) => {
      const set = await (await serverSet()).startServerSet(serverMode, workerInfo.parallelIndex, pageOrigin);
      try {
        await use(set);
      } finally {
        await set.close();
      }
    },
    { scope: 'worker', timeout: 30_000 },
  ],

  store: [undefined, { scope: 'worker', option: true }],

  bucketTarget: [
    async ({ servers, store }, use) => {
      const { localTarget, remoteOptionsFromEnv, remoteTarget } = await targets();
      // The run's own store (started once per run, stopped by the run: stores/run.ts), a user's
      // endpoint (CORSPROOF_TARGET), or corsproof's bucket server.
      const own = store && servers.mode === 'split' ? await (await storeTargets()).storeTarget(store, (l) => console.log(`[stores] ${l}`)) : undefined;
      const remote = !own && servers.mode === 'split' ? remoteOptionsFromEnv() : undefined;
      const target = own ? own.target : remote ? await remoteTarget(remote) : localTarget(servers.bucket, servers.origins.BUCKET_ORIGIN);
      try {
        await use(target);
      } finally {
        await target.close();
        await own?.release();
      }
    },
    // A store may have to start first (Ceph RGW: ≈ 15 s, more on a busy machine).
    { scope: 'worker', timeout: 180_000 },
  ],

  engineSession: [
    async ({ engineStart, servers }, use) => {
      const session = await (await engineStart).open({ site: servers.site, pageOrigin: servers.origins.SITE_ORIGIN });
      try {
        await use(session);
      } finally {
        await session.close();
      }
    },
    { scope: 'worker', timeout: 90_000 },
  ],

  matrixRunner: [
    async ({ engineSession, servers, bucketTarget }, use) => {
      const ctx: CaseContext = { engine: engineSession, target: bucketTarget, log: servers.log, origins: servers.origins };
      const engine = engineSession.build.engine;
      type Entry = { evidence: CaseEvidence; trace?: string };
      /** Cases run or running, by fixture × scenario, with the batch they are in. */
      const pending = new Map<string, { entry: Promise<Entry>; batch: number; batchSize: number }>();
      /** Batches whose first case a test has taken. */
      const opened = new Set<number>();
      const key = (f: CorsFixture, s: Scenario) => `${f.id}\u0000${s.id}`;
      const tracing = traceMode() === 'off' ? undefined : engineSession.tracing;
      let batches = 0;
      // The page runs the batches one after the other; each is prepared while the page runs the one
      // before it, and its evidence gathered while the page runs the one after (harness/case.ts).
      const runner = await caseRunner();
      const pipeline = new runner.CasePipeline(ctx, CASE_TIMEOUT_MS);
      // Where the previous test left off in its group.
      let streak: { fixture?: CorsFixture; next: number; length: number; size: number } = { next: -1, length: 0, size: 1 };

      function startBatch(fixture: CorsFixture, batch: readonly Scenario[], testInfo: TestInfo): void {
        const id = ++batches;
        const trace = tracing ? join(testInfo.project.outputDir, '.batch-traces', `${engine}-${testInfo.workerIndex}-${id}.zip`) : undefined;
        let traced = false;
        const run = pipeline
          .run(
            batch.map((s) => ({ fixture, scenario: s, caseId: newCaseId(fixture, s, engine) })),
            async (page) => {
              traced = trace ? await startTrace(tracing!, `${fixture.id}: ${batch.length} cases`, testInfo) : false;
              try {
                return await page();
              } finally {
                if (traced && trace) {
                  mkdirSync(dirname(trace), { recursive: true });
                  await tracing!.stop(trace).catch(() => false);
                }
              }
            },
          )
          .then((evidences) => evidences.map((evidence): Entry => ({ evidence, ...(traced && trace ? { trace } : {}) })));
        for (const [i, s] of batch.entries()) {
          const entry = run.then((entries) => entries[i]!);
          entry.catch(() => {}); // a batch nobody takes (a worker ending early) must not count as unhandled
          pending.set(key(fixture, s), { entry, batch: id, batchSize: batch.length });
        }
      }

      await use({
        async take(fixture, group, index, testInfo) {
          const scenario = group[index]!;
          // In order: the test after the previous one in its group, or the first of a group after a
          // whole group came in order (Playwright hands a worker whole groups, in order, unless the
          // run is filtered or a worker restarted).
          const inOrder = streak.fixture === fixture ? streak.next === index : index === 0 && streak.next === streak.length;
          let mine = pending.get(key(fixture, scenario));
          if (!mine) {
            // What an earlier batch ran for tests that never came is never handed to a later test.
            pending.clear();
            opened.clear();
            streak.size = inOrder && index > 0 ? runner.nextBatchSize(streak.size, group.length - index) : Math.min(2, group.length - index);
            startBatch(fixture, group.slice(index, index + streak.size), testInfo);
            mine = pending.get(key(fixture, scenario))!;
          }
          pending.delete(key(fixture, scenario));
          // The tests are coming in their group's order and this one opens a batch: queue the next
          // batch now, so the page runs it while Playwright handles this one's tests (one batch
          // ahead at most: a streak that breaks wastes no more).
          if (inOrder && !opened.has(mine.batch)) {
            let j = index + 1;
            while (j < group.length && pending.has(key(fixture, group[j]!))) j++;
            if (j < group.length) {
              streak.size = runner.nextBatchSize(streak.size, group.length - j);
              startBatch(fixture, group.slice(j, j + streak.size), testInfo);
            }
          }
          opened.add(mine.batch);
          streak = { fixture, next: index + 1, length: group.length, size: streak.size };
          // This test may wait for its whole batch (and one before it): give it their bound on top of its own.
          testInfo.setTimeout(testInfo.timeout + pageBound(2 * mine.batchSize, CASE_TIMEOUT_MS));
          return await mine.entry;
        },
      });
    },
    { scope: 'worker' },
  ],

  engineAnnotation: [
    async ({ engineSession }, use, testInfo) => {
      testInfo.annotations.push({ type: 'engine', description: describeBuild(engineSession.build) });
      await use();
    },
    // No report step of its own (box: 'self'): it only adds the annotation, on every test.
    { auto: true, box: 'self' },
  ],

  matrixCase: [
    async ({ matrixRunner, engineSession, servers }, use, testInfo) => {
      const taken: Array<{ evidence: CaseEvidence; trace?: string }> = [];
      await use(async (fixture, group, index) => {
        const t = await matrixRunner.take(fixture, group, index, testInfo);
        taken.push(t);
        return t.evidence;
      });
      await attachEvidence(
        testInfo,
        engineSession,
        servers,
        taken.map((t) => t.evidence),
      );
      // The batch's trace (CORSPROOF_TRACE): every case of the batch is in it.
      const mode = traceMode();
      for (const t of taken) {
        if (t.trace && (mode === 'on' || testInfo.status !== testInfo.expectedStatus)) {
          await testInfo.attach('trace', { path: t.trace, contentType: 'application/zip' });
        }
      }
    },
    // Its steps are the test's own (the case, the assertion); the fixture adds none (box: 'self').
    { box: 'self' },
  ],

  corsCase: async ({ engineSession, servers, bucketTarget }, use, testInfo) => {
    // Playwright traces of the engine's page, where the driver has them (not MiniBrowser).
    // CORSPROOF_TRACE: off (default: a trace chunk costs ≈ 20 ms a case in Chromium, measured),
    // retain-on-failure (what `npm start` uses), on.
    const mode = traceMode();
    const tracing = mode === 'off' ? undefined : engineSession.tracing;
    const traced = tracing ? await startTrace(tracing, testInfo.title, testInfo) : false;
    const evidences: CaseEvidence[] = [];
    let caseId: string | undefined;
    await use(async (fixture, scenario, opts = {}) => {
      caseId = newCaseId(fixture, scenario, engineSession.build.engine);
      const evidence = await (await caseRunner()).runCorsCase(
        { engine: engineSession, target: bucketTarget, log: servers.log, origins: servers.origins },
        fixture,
        scenario,
        { caseId, timeoutMs: CASE_TIMEOUT_MS, ...opts },
      );
      evidences.push(evidence);
      caseId = undefined;
      return evidence;
    });
    if (traced && tracing) {
      const keep = mode === 'on' || testInfo.status !== testInfo.expectedStatus;
      const path = keep ? testInfo.outputPath('trace.zip') : undefined;
      if ((await tracing.stop(path).catch(() => false)) && path) {
        await testInfo.attach('trace', { path, contentType: 'application/zip' });
      }
    }
    await attachEvidence(testInfo, engineSession, servers, evidences);
    if (caseId) {
      // The case failed before evidence existed; the server's record still says what arrived.
      await testInfo.attach('server-record.json', {
        body: JSON.stringify(servers.log.forCase(caseId), null, 2),
        contentType: 'application/json',
      });
    }
  },
});

async function startTrace(tracing: Tracing, title: string, testInfo: TestInfo): Promise<boolean> {
  try {
    await tracing.start(title);
    return true;
  } catch (e) {
    testInfo.annotations.push({ type: 'trace', description: `not recorded: ${(e as Error).message}` });
    return false;
  }
}

export { expect };
