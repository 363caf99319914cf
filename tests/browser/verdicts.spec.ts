/**
 * The CORS matrix: every fixture configuration × every scenario, in the project's real engine.
 *
 * For each case the engine's verdict must equal the fixture's hand-written expectation (the oracle
 * agreeing with that expectation is tests/unit/oracle.spec.ts); a block must come with the engine's
 * own message for the expected reason; and the bucket server's record must show the exchanges the
 * verdict rests on — how many preflights, what the engine asked in them, whether the actual request
 * was sent. A disagreement prints expected, oracle and engine side by side with the evidence.
 */
import { isDeepStrictEqual } from 'node:util';
import { test, expect } from '../config/test.js';
import { loadFixtures, loadScenarios, type Scenario } from '../../harness/data.js';
import type { CaseEvidence } from '../../harness/case.js';
import { sideBySide } from '../../harness/transcript.js';
import { compareWithEngine } from '../../harness/messages.js';
import { checkFixture, checkScenarios, loadCheckPlan } from '../../harness/check-plan.js';
import { caseExpectation, expectationTitle, titleOrigins, type EngineExpectation } from '../../harness/expectation.js';
import type { EngineName } from '../../engines/types.js';
import { storeFailure, storeOwnsVerdict } from '../../harness/store-case.js';

// `corsproof check` runs this same suite on the user's configuration and page origins.
const plan = loadCheckPlan();
const scenarios = plan ? checkScenarios(plan, loadScenarios()) : loadScenarios();
const fixtures = plan ? plan.origins.map((o) => ({ fixture: checkFixture(plan, o, scenarios), origin: o })) : loadFixtures().map((fixture) => ({ fixture, origin: undefined }));

/** Everything about a case that is not as it must be, in words; empty when the case is right. */
function problems(e: CaseEvidence, scenario: Scenario, pageOrigin: string, titled: EngineExpectation): string[] {
  const out: string[] = [];
  const want = (what: string, actual: unknown, expected: unknown) => {
    if (!isDeepStrictEqual(actual, expected)) out.push(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  };
  // The harness ran the case to the end (a case that ran out of time names what it waited for).
  for (const h of e.harnessErrors) out.push(`the case did not run: ${h}`);
  // The title and the assertion come from one computation; with the run's real origins it must
  // still say the same.
  want('the expectation the test title names', e.expected, titled);
  if (e.store && storeOwnsVerdict(e.store)) return out;

  want('verdict', e.observed, e.expected.verdict);
  const preflights = e.exchanges.filter((x) => x.method === 'OPTIONS');
  const actual = e.exchanges.filter((x) => x.method !== 'OPTIONS');
  // The server's record: the preflights and actual requests the Fetch standard implies
  // (a remote endpoint keeps no record for us; its verdicts rest on the engines alone).
  if (e.serverRecord) {
    want('preflight OPTIONS the bucket received', preflights.length, e.oracle.preflights);
    want('actual requests the bucket received', actual.length, e.oracle.actualRequests);
  }
  if (scenario.preflight && preflights[0]) {
    const h = preflights[0].requestHeaders;
    want('the preflight’s Origin (the page origin)', h['origin'], pageOrigin);
    want('the preflight’s Access-Control-Request-Method', h['access-control-request-method'], scenario.preflight.method);
    want('the preflight’s Access-Control-Request-Headers', h['access-control-request-headers'], scenario.preflight.headers);
  }

  if (e.expected.verdict === 'blocked') {
    // Page JavaScript learns nothing but failure; the reason is in the engine's own words.
    if (!e.classification) {
      out.push('the engine printed no CORS message');
      return out;
    }
    if (!e.classification.reasons.includes(e.expected.reason)) out.push(`reason: expected ${e.expected.reason}, the engine said ${e.classification.reasons.join(' or ')}`);
    if (e.serverRecord) want('where the request was stopped', e.observedAt, e.oracle.at);
    // What `corsproof explain` tells users this engine prints for the reason is what it printed.
    const said = compareWithEngine(e.engine as EngineName, e.expected.reason, e.run.messages, e.oracle.at ? { at: e.oracle.at } : {});
    if (!said.ok) out.push(`explain's line for ${e.engine} / ${e.expected.reason}:\n  ${said.expectedLine}\nthe engine printed:\n  ${said.printed}`);
    if (e.classification.preflight !== undefined) want('whether the engine says the preflight failed', e.classification.preflight, e.oracle.at === 'preflight');
    return out;
  }

  // A flow may fail for a readable reason and then have a clean-up refused (oracle.secondary).
  if (!e.oracle.secondary?.length && e.classification) out.push(`the engine complained: ${e.classification.message}`);
  const step = e.run.result.steps[e.run.result.steps.length - 1];
  const kind = scenario.steps[scenario.steps.length - 1]!;
  if (!step) return [...out, 'the page reported no step'];
  if (kind.kind === 'fetch' && kind.mode === 'no-cors') {
    want('a no-cors response’s type (opaque)', step.type, 'opaque');
    want('a no-cors response’s status', step.status, 0);
    want('a no-cors response’s readable body length', step.bodyLength, 0);
  } else if (kind.kind === 'fetch' || kind.kind === 'fragment') {
    want('the response type', step.type, 'cors');
  }
  if (kind.kind === 'fragment') want('the fragment in the page', step.inserted, 'Extra page from the assets bucket');
  if (scenario.readHeader && e.expected.verdict === 'allowed' && e.serverRecord) {
    const name = scenario.readHeader.toLowerCase();
    want(`${scenario.readHeader} as JavaScript read it (what the bucket sent)`, step.readableHeaders?.[name], actual[actual.length - 1]?.responseHeaders[name]);
  }
  return out;
}

const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));

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
        expect(problems(e, scenario, servers.origins.SITE_ORIGIN, titled.engines[browserName as EngineName]), why).toEqual([]);
      });
    }
  });
}
