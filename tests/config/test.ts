/**
 * The harness as Playwright fixtures — the one `test` and `expect` browser specs import.
 *
 * Worker scope: the site and bucket servers (each worker its own, on its own ports, so parallel
 * workers never share state) and one engine session. Test scope: `corsCase`, which runs one
 * fixture × scenario in the worker's engine and attaches the evidence; and an automatic `engine`
 * annotation naming the build that ran.
 */
import { test as base, expect } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { describeBuild, launchEngine, resolveEngine, type EngineName, type EngineSession } from '../../engines/index.js';
import { HARNESS_PATH, startSiteServer, type SiteServer } from '../../servers/site/index.js';
import { startBucketServer, type BucketServer } from '../../servers/bucket/index.js';
import { ExchangeLog } from '../../servers/exchange-log.js';
import { runCorsCase, type CaseEvidence } from '../../harness/case.js';
import type { CorsFixture, Scenario } from '../../harness/data.js';
import { makeOrigins, TEST_HOSTS, type Origins } from '../../harness/origins.js';
import { transcript } from '../../harness/transcript.js';
import { serverPort } from '../../harness/ports.js';

function traceMode(): 'on' | 'off' | 'retain-on-failure' {
  const v = (process.env.CORSPROOF_TRACE ?? 'off').trim();
  if (v === 'on' || v === 'off' || v === 'retain-on-failure') return v;
  throw new Error(`CORSPROOF_TRACE must be on, off or retain-on-failure, not "${v}"`);
}

export interface Servers {
  log: ExchangeLog;
  site: SiteServer;
  bucket: BucketServer;
  origins: Origins;
}

type WorkerFixtures = { servers: Servers; engineSession: EngineSession };
type TestFixtures = {
  engineAnnotation: void;
  corsCase: (fixture: CorsFixture, scenario: Scenario) => Promise<CaseEvidence>;
};

export const test = base.extend<TestFixtures, WorkerFixtures>({
  servers: [
    async ({}, use, workerInfo) => {
      const log = new ExchangeLog();
      const host = '127.0.0.1';
      const site = await startSiteServer({ host, port: await serverPort('site', workerInfo.parallelIndex), log });
      const bucket = await startBucketServer({
        host,
        port: await serverPort('bucket', workerInfo.parallelIndex),
        log,
        // The browser cases read and write objects anonymously, as pages do against a public
        // bucket; configuration changes still need a signature (servers/bucket).
        anonymousAccess: 'open',
      });
      await use({ log, site, bucket, origins: makeOrigins(site.port, bucket.port) });
      await bucket.close();
      await site.close();
    },
    { scope: 'worker', timeout: 30_000 },
  ],

  engineSession: [
    async ({ browserName, servers }, use) => {
      const session = await launchEngine(resolveEngine(browserName as EngineName), {
        site: servers.site,
        pageOrigin: servers.origins.SITE_ORIGIN,
        hosts: TEST_HOSTS,
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

  corsCase: async ({ engineSession, servers }, use, testInfo) => {
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
    let evidence: CaseEvidence | undefined;
    let caseId: string | undefined;
    await use(async (fixture, scenario) => {
      caseId = `${fixture.id}.${scenario.id}.${engineSession.build.engine}.${randomBytes(4).toString('hex')}`;
      evidence = await runCorsCase(
        { engine: engineSession, bucket: servers.bucket, log: servers.log, origins: servers.origins },
        fixture,
        scenario,
        { caseId, timeoutMs: 15_000 },
      );
      return evidence;
    });
    if (traced && tracing) {
      const keep = mode === 'on' || testInfo.status !== testInfo.expectedStatus;
      const path = keep ? testInfo.outputPath('trace.zip') : undefined;
      if ((await tracing.stop(path).catch(() => false)) && path) {
        await testInfo.attach('trace', { path, contentType: 'application/zip' });
      }
    }
    if (evidence) {
      const pageUrl = servers.origins.SITE_ORIGIN + HARNESS_PATH;
      // A file, not an inline body: keeps results.json small and the worker→runner messages light.
      const path = testInfo.outputPath('evidence.json');
      writeFileSync(path, JSON.stringify({ engineBuild: engineSession.build, pageUrl, ...evidence }, null, 2));
      await testInfo.attach('evidence.json', { path, contentType: 'application/json' });
      await testInfo.attach('transcript.txt', { body: transcript(evidence, pageUrl), contentType: 'text/plain' });
    } else if (caseId) {
      // The case failed before evidence existed; the server's record still says what arrived.
      await testInfo.attach('server-record.json', {
        body: JSON.stringify(servers.log.forCase(caseId), null, 2),
        contentType: 'application/json',
      });
    }
  },
});

export { expect };
