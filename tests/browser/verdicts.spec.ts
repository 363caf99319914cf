/**
 * Every fixture CORS configuration × every scenario, in the project's real engine: the engine's
 * verdict must be the one the fixture expects, a block must come with the engine's own message for
 * the expected reason, and the bucket server's record must show the exchange the verdict rests on
 * (preflight or not, and what the engine asked in it).
 */
import { test, expect } from '../config/test.js';
import { loadFixtures, loadScenarios } from '../../harness/data.js';

const fixtures = loadFixtures();
const scenarios = loadScenarios();

for (const fixture of fixtures) {
  test.describe(`${fixture.id}: ${fixture.description}`, () => {
    for (const scenario of scenarios) {
      const expected = fixture.expect[scenario.id];
      if (!expected) throw new Error(`fixtures/cors/${fixture.id}.json has no expectation for scenario "${scenario.id}"`);
      const title =
        expected.verdict === 'allowed' ? `${scenario.id} should be allowed` : `${scenario.id} should be blocked at the ${expected.at}`;

      test(title, async ({ corsCase, servers }) => {
        const e = await corsCase(fixture, scenario);
        const expected = e.expected;
        const preflights = e.exchanges.filter((x) => x.method === 'OPTIONS');
        const actual = e.exchanges.filter((x) => x.method !== 'OPTIONS');
        const step = e.run.result.steps[0]!;

        // What the server saw: the preflight exactly when the Fetch standard requires one.
        if (scenario.preflight) {
          expect.soft(preflights, 'the engine sent exactly one preflight OPTIONS').toHaveLength(1);
          const p = preflights[0]?.requestHeaders ?? {};
          expect.soft(p['origin'], 'preflight Origin is the page origin').toBe(servers.origins.SITE_ORIGIN);
          expect.soft(p['access-control-request-method']).toBe(scenario.preflight.method);
          if (scenario.preflight.headers !== undefined) {
            expect.soft(p['access-control-request-headers']).toBe(scenario.preflight.headers);
          }
        } else {
          expect.soft(preflights, 'a simple request is not preflighted').toHaveLength(0);
        }

        expect(e.observed, `verdict (expected ${expected.verdict})`).toBe(expected.verdict);

        if (expected.verdict === 'allowed') {
          expect(step.settled).toBe('response');
          expect(step.type).toBe('cors');
          expect(actual, 'the actual request reached the bucket').toHaveLength(1);
          if (scenario.steps[0]?.method === undefined || scenario.steps[0].method === 'GET') {
            expect(step.bodyPreview, 'the page read the object').toBe(scenario.object.body);
          }
          expect(e.classification, 'no CORS complaint from the engine').toBeUndefined();
          return;
        }

        // Blocked: JavaScript only ever sees a TypeError; the reason is in the engine's own words.
        expect(step.settled).toBe('error');
        expect(step.errorName).toBe('TypeError');
        expect(e.classification, `the engine printed a CORS message; it printed: ${JSON.stringify(e.run.messages)}`).toBeDefined();
        expect(e.classification!.reasons).toContain(expected.reason);
        if (e.classification!.preflight !== undefined) {
          expect(e.classification!.preflight, 'the engine says whether the preflight failed').toBe(expected.at === 'preflight');
        }
        if (expected.at === 'preflight') {
          expect(preflights[0]?.status, 'S3 refused the preflight').toBe(403);
          expect(actual, 'the browser never sent the actual request').toHaveLength(0);
        } else {
          expect(actual, 'the actual request reached the bucket').toHaveLength(1);
          expect(actual[0]!.requestHeaders['origin'], 'the actual request carried the page origin').toBe(servers.origins.SITE_ORIGIN);
          expect(actual[0]!.responseHeaders['access-control-allow-origin']).toBeUndefined();
        }
      });
    }
  });
}
