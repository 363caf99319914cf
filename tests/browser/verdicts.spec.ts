/**
 * The CORS matrix: every fixture configuration × every scenario, in the project's real engine.
 *
 * For each case the engine's verdict must equal the fixture's hand-written expectation (the oracle
 * agreeing with that expectation is tests/unit/oracle.spec.ts); a block must come with the engine's
 * own message for the expected reason; and the bucket server's record must show the exchanges the
 * verdict rests on — how many preflights, what the engine asked in them, whether the actual request
 * was sent. A disagreement prints expected, oracle and engine side by side with the evidence.
 */
import { test, expect } from '../config/test.js';
import { loadFixtures, loadScenarios } from '../../harness/data.js';
import { sideBySide } from '../../harness/transcript.js';
import { compareWithEngine } from '../../harness/messages.js';
import { checkFixture, checkScenarios, loadCheckPlan } from '../../harness/check-plan.js';
import { caseExpectation, expectationTitle, titleOrigins } from '../../harness/expectation.js';
import type { EngineName } from '../../engines/types.js';
import { storeFailure, storeOwnsVerdict } from '../../harness/store-case.js';

// `corsproof check` runs this same suite on the user's configuration and page origins.
const plan = loadCheckPlan();
const scenarios = plan ? checkScenarios(plan, loadScenarios()) : loadScenarios();
const fixtures = plan ? plan.origins.map((o) => ({ fixture: checkFixture(plan, o, scenarios), origin: o })) : loadFixtures().map((fixture) => ({ fixture, origin: undefined }));

for (const { fixture, origin } of fixtures) {
  test.describe(`${fixture.id}: ${fixture.description}`, () => {
    // A fixture's cases run in order in one worker, batched into page round trips (tests/config/test.ts
    // matrixCase); fixtures run in parallel across workers and shards.
    test.describe.configure({ mode: 'default' });
    for (const [index, scenario] of scenarios.entries()) {
      const titled = caseExpectation(fixture, scenario, titleOrigins(origin));

      test(expectationTitle(scenario.id, titled), async ({ matrixCase, servers, browserName }) => {
        const e = await matrixCase(fixture, scenarios, index);
        const why = sideBySide(e);
        // The harness ran the case to the end (a case that ran out of time names what it waited for).
        expect(e.harnessErrors, `the case ran\n${why}`).toEqual([]);
        // The title and the assertion come from one computation; with the run's real origins it must
        // still say the same.
        expect(e.expected, 'the expectation the title names').toEqual(titled.engines[browserName as EngineName]);
        const preflights = e.exchanges.filter((x) => x.method === 'OPTIONS');
        const actual = e.exchanges.filter((x) => x.method !== 'OPTIONS');

        if (e.store) {
          // Against a store: S3's verdict, or a store divergence its profile (fixtures/stores/) lists.
          test.info().annotations.push({ type: 'store', description: e.store.profile.message });
          expect(storeFailure(e.store), `store profile\n${why}`).toBeUndefined();
          if (storeOwnsVerdict(e.store)) return;
        }

        expect(e.observed, `verdict\n${why}`).toBe(e.expected.verdict);

        // The server's record: the preflights and actual requests the Fetch standard implies
        // (a remote endpoint keeps no record for us; its verdicts rest on the engines alone).
        if (e.serverRecord) {
          expect.soft(preflights.length, `preflight OPTIONS received\n${why}`).toBe(e.oracle.preflights);
          expect.soft(actual.length, `actual requests received\n${why}`).toBe(e.oracle.actualRequests);
        }
        if (scenario.preflight && preflights[0]) {
          const h = preflights[0].requestHeaders;
          expect.soft(h['origin'], 'the preflight carries the page origin').toBe(servers.origins.SITE_ORIGIN);
          expect.soft(h['access-control-request-method']).toBe(scenario.preflight.method);
          expect.soft(h['access-control-request-headers']).toBe(scenario.preflight.headers);
        }

        if (e.expected.verdict === 'blocked') {
          // Page JavaScript learns nothing but failure; the reason is in the engine's own words.
          expect(e.classification, `the engine printed a CORS message\n${why}`).toBeDefined();
          expect(e.classification!.reasons, `reason\n${why}`).toContain(e.expected.reason);
          if (e.serverRecord) expect(e.observedAt, `where the request was stopped\n${why}`).toBe(e.oracle.at);
          // What `corsproof explain` tells users this engine prints for the reason is what it printed.
          const said = compareWithEngine(e.engine as EngineName, e.expected.reason, e.run.messages, e.oracle.at ? { at: e.oracle.at } : {});
          expect.soft(said.ok, `explain's line for ${e.engine} / ${e.expected.reason}:\n  ${said.expectedLine}\nthe engine printed:\n  ${said.printed}`).toBe(true);
          if (e.classification!.preflight !== undefined) {
            expect(e.classification!.preflight, 'the engine says whether the preflight failed').toBe(e.oracle.at === 'preflight');
          }
          return;
        }

        // A flow may fail for a readable reason and then have a clean-up refused (oracle.secondary).
        if (!e.oracle.secondary?.length) expect(e.classification, `no CORS complaint from the engine\n${why}`).toBeUndefined();
        const step = e.run.result.steps[e.run.result.steps.length - 1]!;
        const kind = scenario.steps[scenario.steps.length - 1]!;
        if (kind.kind === 'fetch' && kind.mode === 'no-cors') {
          expect(step.type, 'a no-cors response is opaque').toBe('opaque');
          expect(step.status).toBe(0);
          expect(step.bodyLength, 'an opaque response has no readable body').toBe(0);
        } else if (kind.kind === 'fetch' || kind.kind === 'fragment') {
          expect(step.type).toBe('cors');
        }
        if (kind.kind === 'fragment') {
          expect(step.inserted, 'the fragment is in the page').toBe('Extra page from the assets bucket');
        }
        if (scenario.readHeader && e.expected.verdict === 'allowed' && e.serverRecord) {
          const sent = actual[actual.length - 1]!.responseHeaders[scenario.readHeader.toLowerCase()];
          expect(step.readableHeaders?.[scenario.readHeader.toLowerCase()], 'JavaScript read what the bucket sent').toBe(sent);
        }
      });
    }
  });
}
