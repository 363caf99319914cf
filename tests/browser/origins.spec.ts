/**
 * The note's origin table, in real engines: an origin is scheme + host + port.
 *
 * The page and the bucket share one origin here (http://www.example.test:P, which also speaks HTTPS
 * on the same port, plus a second listener on another port), so each request differs from the
 * page's origin in exactly one component — or in none. Same origin needs no CORS at all; each
 * single difference makes the request cross-origin: blocked without a CORS rule, allowed with the
 * rule that names the page's origin.
 */
import { test, expect } from '../config/test.js';
import { loadScenarios, type CorsFixture } from '../../harness/data.js';

test.use({ serverMode: 'one-origin' });

const scenarios = Object.fromEntries(loadScenarios().map((s) => [s.id, s]));
const noRule: CorsFixture = {
  id: 'origin-table-no-rule',
  description: 'no CORS configuration',
  cors: null,
  expect: { '*': { verdict: 'blocked', reason: 'missing-allow-origin' } },
};
const rightRule: CorsFixture = {
  id: 'origin-table-page-origin',
  description: 'GET and PUT from the page origin, any header',
  cors: [{ AllowedOrigins: ['{{SITE_ORIGIN}}'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'] }],
  expect: { '*': { verdict: 'allowed' } },
};

const rows = [
  { row: 'different host (other.example.test)', target: 'OTHER_HOST' },
  { row: 'different scheme (https)', target: 'OTHER_SCHEME' },
  { row: 'different port', target: 'OTHER_PORT' },
] as const;

test.describe('origin table', () => {
  test('same origin, different path: no CORS involved, even for a PUT with a custom header and no CORS configuration', async ({ corsCase, servers }) => {
    for (const id of ['fetch-get', 'put-custom-header'] as const) {
      const sameOrigin: CorsFixture = { ...noRule, id: `origin-table-same-origin`, expect: { '*': { verdict: 'allowed' } } };
      const e = await corsCase(sameOrigin, scenarios[id]!, { targetOrigin: servers.named['SAME_ORIGIN']! });
      expect(new URL(e.objectUrl).origin, 'the request goes to the page’s own origin').toBe(servers.origins.SITE_ORIGIN);
      expect(e.observed, `${id} is allowed`).toBe('allowed');
      expect(e.run.result.steps[0]!.type, 'a same-origin response').toBe('basic');
      expect(e.exchanges.filter((x) => x.method === 'OPTIONS'), 'no preflight').toHaveLength(0);
      expect(e.classification, 'no CORS message').toBeUndefined();
    }
  });

  for (const { row, target } of rows) {
    test(`${row}: cross-origin — blocked without a CORS rule, allowed with the page origin in AllowedOrigins`, async ({ corsCase, servers }) => {
      const targetOrigin = servers.named[target]!;
      const page = new URL(servers.origins.SITE_ORIGIN);
      const other = new URL(targetOrigin);
      const differs = (['protocol', 'hostname', 'port'] as const).filter((k) => page[k] !== other[k]);
      expect(differs, `${targetOrigin} differs from ${page.origin} in exactly one component`).toHaveLength(1);

      const blocked = await corsCase(noRule, scenarios['fetch-get']!, { targetOrigin });
      expect(blocked.observed).toBe('blocked');
      expect(blocked.classification?.reasons, `engine said: ${blocked.classification?.message}`).toContain('missing-allow-origin');
      const seen = blocked.exchanges.find((x) => x.method === 'GET');
      expect(seen?.requestHeaders['origin'], 'the browser sent the page origin').toBe(page.origin);
      expect(seen?.responseHeaders['access-control-allow-origin']).toBeUndefined();

      const allowed = await corsCase(rightRule, scenarios['fetch-get']!, { targetOrigin });
      expect(allowed.observed, allowed.classification?.message).toBe('allowed');
      expect(allowed.run.result.steps[0]!.type).toBe('cors');
      expect(allowed.exchanges.find((x) => x.method === 'GET')?.responseHeaders['access-control-allow-origin']).toBe(page.origin);

      const put = await corsCase(rightRule, scenarios['put-custom-header']!, { targetOrigin });
      expect(put.observed, put.classification?.message).toBe('allowed');
      expect(put.exchanges.map((x) => `${x.method} ${x.status}`), 'preflight, then the PUT').toEqual(['OPTIONS 200', 'PUT 200']);
    });
  }
});
