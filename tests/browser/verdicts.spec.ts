/**
 * The CORS matrix: every fixture configuration × every scenario, in the project's real engine.
 *
 * For each case the engine's verdict must equal the fixture's hand-written expectation (the oracle
 * agreeing with that expectation is tests/unit/oracle.spec.ts); a block must come with the engine's
 * own message for the expected reason; and the bucket server's record must show the exchanges the
 * verdict rests on — how many preflights, what the engine asked in them, whether the actual request
 * was sent (harness/case-problems.ts, which `corsproof check` holds its cases to as well). A
 * disagreement prints expected, oracle and engine side by side with the evidence.
 */
import { test, expect } from '../config/test.js';
import { loadFixtures, loadScenarios } from '../../harness/data.js';
import { sideBySide } from '../../harness/transcript.js';
import { caseProblems } from '../../harness/case-problems.js';
import { checkFixture, checkScenarios, loadCheckPlan } from '../../harness/check-plan.js';
import { caseExpectation, expectationTitle, titleOrigins } from '../../harness/expectation.js';
import type { EngineName } from '../../engines/types.js';
import { storeFailure } from '../../harness/store-case.js';

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
        if (e.store) {
          // Against a store: S3's verdict, or a store divergence its profile (fixtures/stores/) lists.
          test.info().annotations.push({ type: 'store', description: e.store.profile.message });
          expect(storeFailure(e.store), `store profile\n${why}`).toBeUndefined();
        }
        // Every check below is collected, then asserted at once: one failure lists every way the
        // case went wrong, next to the evidence (and a passing case costs one assertion, not twenty).
        expect(caseProblems(e, scenario, servers.origins.SITE_ORIGIN, titled.engines[browserName as EngineName]), why).toEqual([]);
      });
    }
  });
}
