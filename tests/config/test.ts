/**
 * The harness as Playwright fixtures — the one `test` and `expect` browser specs import.
 *
 * Worker scope: the servers (each worker its own, on its own ports, so parallel workers never share
 * state; arranged as the spec asks with `test.use({ serverMode })`) and one engine session. Test scope: `corsCase`, which runs one
 * fixture × scenario in the worker's engine and attaches the evidence; and an automatic `engine`
 * annotation naming the build that ran.
 */
import { test as base, expect } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { describeBuild, launchEngine, resolveEngine, type EngineName, type EngineSession } from '../../engines/index.js';
import { HARNESS_PATH } from '../../servers/site/index.js';
import { startServerSet, type ServerMode, type ServerSet } from '../../harness/server-set.js';
import { runCorsCase, type CaseEvidence } from '../../harness/case.js';
import type { CorsFixture, Scenario } from '../../harness/data.js';
import { transcript } from '../../harness/transcript.js';
import { localTarget, remoteOptionsFromEnv, remoteTarget, type BucketTarget } from '../../harness/target.js';

function traceMode(): 'on' | 'off' | 'retain-on-failure' {
  const v = (process.env.CORSPROOF_TRACE ?? 'off').trim();
  if (v === 'on' || v === 'off' || v === 'retain-on-failure') return v;
  throw new Error(`CORSPROOF_TRACE must be on, off or retain-on-failure, not "${v}"`);
}

export type Servers = ServerSet;

type WorkerFixtures = {
  serverMode: ServerMode;
  pageOrigin: string | undefined;
  servers: Servers;
  bucketTarget: BucketTarget;
  engineSession: EngineSession;
};
type TestFixtures = {
  engineAnnotation: void;
  corsCase: (fixture: CorsFixture, scenario: Scenario, opts?: { targetOrigin?: string }) => Promise<CaseEvidence>;
};

export const test = base.extend<TestFixtures, WorkerFixtures>({
  /** Which arrangement of servers the spec needs (harness/server-set.ts); `test.use({ serverMode })`. */
  serverMode: ['split', { scope: 'worker', option: true }],

  /**
   * Serve the harness page from this exact origin instead of http://www.example.test:PORT
   * (`corsproof check --origin`); its host name is mapped to loopback inside the engines.
   */
  pageOrigin: [undefined, { scope: 'worker', option: true }],

  servers: [
    async ({ serverMode, pageOrigin }, use, workerInfo) => {
      const set = await startServerSet(serverMode, workerInfo.parallelIndex, pageOrigin);
      try {
        await use(set);
      } finally {
        await set.close();
      }
    },
    { scope: 'worker', timeout: 30_000 },
  ],

  bucketTarget: [
    async ({ servers }, use) => {
      const remote = servers.mode === 'split' ? remoteOptionsFromEnv() : undefined;
      const target = remote ? await remoteTarget(remote) : localTarget(servers.bucket, servers.origins.BUCKET_ORIGIN);
      try {
        await use(target);
      } finally {
        await target.close();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  engineSession: [
    async ({ browserName, servers }, use) => {
      const session = await launchEngine(resolveEngine(browserName as EngineName), {
        site: servers.site,
        pageOrigin: servers.origins.SITE_ORIGIN,
        hosts: servers.hosts,
        ignoreTlsErrors: servers.tls,
      });
      try {
        await use(session);
      } finally {
        await session.close();
      }
    },
    { scope: 'worker', timeout: 90_000 },
  ],

  engineAnnotation: [
    async ({ engineSession }, use, testInfo) => {
      testInfo.annotations.push({ type: 'engine', description: describeBuild(engineSession.build) });
      await use();
    },
    { auto: true },
  ],

  corsCase: async ({ engineSession, servers, bucketTarget }, use, testInfo) => {
    // Playwright traces of the engine's page, where the driver has them (not MiniBrowser).
    // CORSPROOF_TRACE: off (default: a trace chunk costs ≈ 20 ms a case in Chromium, measured),
    // retain-on-failure (what `npm start` uses), on.
    const mode = traceMode();
    const tracing = mode === 'off' ? undefined : engineSession.tracing;
    let traced = false;
    if (tracing) {
      try {
        await tracing.start(testInfo.title);
        traced = true;
      } catch (e) {
        testInfo.annotations.push({ type: 'trace', description: `not recorded: ${(e as Error).message}` });
      }
    }
    const evidences: CaseEvidence[] = [];
    let caseId: string | undefined;
    await use(async (fixture, scenario, opts = {}) => {
      caseId = `${fixture.id}.${scenario.id}.${engineSession.build.engine}.${randomBytes(4).toString('hex')}`;
      const evidence = await runCorsCase(
        { engine: engineSession, target: bucketTarget, log: servers.log, origins: servers.origins },
        fixture,
        scenario,
        { caseId, timeoutMs: 15_000, ...opts },
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
    const pageUrl = servers.origins.SITE_ORIGIN + HARNESS_PATH;
    for (const [i, evidence] of evidences.entries()) {
      // One case per test is a matrix cell ("evidence.json", read by the matrix reporter); tests
      // that run several cases number them.
      const name = evidences.length === 1 ? 'evidence.json' : `evidence-${i + 1}-${evidence.fixture}-${evidence.scenario}.json`;
      // A file, not an inline body: keeps results.json small and the worker→runner messages light.
      const path = testInfo.outputPath(name);
      writeFileSync(path, JSON.stringify({ engineBuild: engineSession.build, pageUrl, ...evidence }, null, 2));
      await testInfo.attach(name, { path, contentType: 'application/json' });
      await testInfo.attach(name.replace(/^evidence/, 'transcript').replace(/\.json$/, '.txt'), {
        body: transcript(evidence, pageUrl),
        contentType: 'text/plain',
      });
    }
    if (caseId) {
      // The case failed before evidence existed; the server's record still says what arrived.
      await testInfo.attach('server-record.json', {
        body: JSON.stringify(servers.log.forCase(caseId), null, 2),
        contentType: 'application/json',
      });
    }
  },
});

export { expect };
