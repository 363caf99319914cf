/**
 * The propagation sentinel (harness/target.ts): every configuration corsproof applies to a remote
 * store carries one extra rule, last, for a run-unique origin under `.invalid`. It must change no
 * case's verdict — S3 + the Fetch standard (the oracle) give the same answer for every fixture ×
 * scenario with and without it, and no request of a case is answered by it.
 */
import { test, expect } from '@playwright/test';
import { decideActual, decidePreflight } from '../../servers/s3/cors/index.js';
import { fillPlaceholders, loadFixtures, loadScenarios } from '../../harness/data.js';
import { makeOrigins } from '../../harness/origins.js';
import { predict } from '../../harness/oracle.js';
import { SENTINEL_RULE_ID, sentinelOrigin, withSentinel } from '../../harness/target.js';

const origins = makeOrigins(41234, 9000);
const fixtures = loadFixtures();
const scenarios = loadScenarios();
const sentinel = sentinelOrigin('run-abc123', '7');

test('the sentinel origin is a reserved .invalid name, unique to the run and the application', () => {
  expect(sentinel).toBe('http://run-abc123-7.sentinel.corsproof.invalid');
  expect(sentinelOrigin('run-abc123', '8')).not.toBe(sentinel);
  expect(new URL(sentinelOrigin('RUN_X'.repeat(20), 'f'.repeat(40))).hostname.split('.')[0]!.length).toBeLessThanOrEqual(63);
});

test('the sentinel rule comes last and allows only its own origin', () => {
  const cors = { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] };
  const applied = withSentinel(cors, sentinel);
  expect(applied.CORSRules.slice(0, -1)).toEqual(cors.CORSRules);
  expect(applied.CORSRules.at(-1)).toMatchObject({ ID: SENTINEL_RULE_ID, AllowedOrigins: [sentinel] });
});

for (const fixture of fixtures.filter((f) => f.cors !== null)) {
  test(`the sentinel changes no verdict of ${fixture.id}, and answers none of its requests`, () => {
    const cors = { CORSRules: fillPlaceholders(fixture.cors!, origins) };
    const applied = withSentinel(cors, sentinel);
    for (const scenario of scenarios) {
      expect(predict(applied, scenario, origins.SITE_ORIGIN), `${fixture.id} × ${scenario.id}`).toEqual(predict(cors, scenario, origins.SITE_ORIGIN));
      for (const method of ['GET', 'HEAD', 'PUT', 'POST', 'DELETE']) {
        const p = decidePreflight({ method: 'OPTIONS', origin: origins.SITE_ORIGIN, accessControlRequestMethod: method, accessControlRequestHeaders: 'x-corsproof-demo', bucketExists: true, config: applied, key: 'k' });
        if (p.kind === 'allowed') expect(p.rule.id, `${fixture.id}: a ${method} preflight from the page is never the sentinel's`).not.toBe(SENTINEL_RULE_ID);
        const a = decideActual({ method, origin: origins.SITE_ORIGIN, bucketExists: true, config: applied, key: 'k' });
        expect(a.rule ? applied.CORSRules[a.rule.index]!.ID : undefined, `${fixture.id}: a ${method} from the page`).not.toBe(SENTINEL_RULE_ID);
      }
    }
  });
}
