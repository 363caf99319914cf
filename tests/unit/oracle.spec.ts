/**
 * The oracle (S3 engine + Fetch standard, harness/oracle.ts) must agree with every hand-written
 * expectation in fixtures/cors/*.json. Two independent derivations of the same verdict: when they
 * disagree, one of them is wrong and the browser results cannot be trusted until it is found.
 */
import { test, expect } from '@playwright/test';
import { fillPlaceholders, fixtureExpectation, fixtureExpectationIn, loadFixtures, loadScenarios } from '../../harness/data.js';
import { ENGINE_NAMES } from '../../engines/types.js';
import { makeOrigins } from '../../harness/origins.js';
import { evaluate, predict, requestOf, unsafeRequestHeaders } from '../../harness/oracle.js';

const origins = makeOrigins(41234, 9000);
const fixtures = loadFixtures();
const scenarios = loadScenarios();

test('the matrix is at least 15 fixtures × 12 scenarios', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(15);
  expect(scenarios.length).toBeGreaterThanOrEqual(12);
});

const text = (e: { verdict: string; reason?: string }) => (e.verdict === 'blocked' ? `blocked/${e.reason}` : e.verdict);

for (const fixture of fixtures) {
  test(`oracle agrees with fixtures/cors/${fixture.id}.json for every scenario`, () => {
    const cors = fixture.cors === null ? undefined : { CORSRules: fillPlaceholders(fixture.cors, origins) };
    const disagreements: string[] = [];
    for (const scenario of scenarios) {
      const hand = fixtureExpectation(fixture, scenario.id);
      const p = predict(cors, scenario, origins.SITE_ORIGIN);
      if (text(hand) !== text(p)) disagreements.push(`${scenario.id}: expected ${text(hand)}, oracle ${text(p)} (${p.why})`);
      // Per engine: the fixture's expectation with engine-differences.json's per-engine verdicts,
      // against the oracle with the engines' measured behaviours.
      for (const engine of ENGINE_NAMES) {
        const handIn = fixtureExpectationIn(fixture, scenario.id, engine);
        const pIn = predict(cors, scenario, origins.SITE_ORIGIN, undefined, engine);
        if (text(handIn) !== text(pIn)) disagreements.push(`${scenario.id} in ${engine}: expected ${text(handIn)}, oracle ${text(pIn)} (${pIn.why})`);
      }
    }
    expect(disagreements).toEqual([]);
  });
}

test.describe('oracle rules', () => {
  const allowSpecific = { CORSRules: [{ AllowedOrigins: [origins.SITE_ORIGIN], AllowedMethods: ['GET'], AllowedHeaders: ['*'] }] };
  const scenario = (id: string) => scenarios.find((s) => s.id === id)!;

  test('should treat only the Fetch-safelisted request headers as safe', () => {
    expect(unsafeRequestHeaders({ 'Content-Type': 'text/plain;charset=UTF-8', Accept: 'application/json' })).toEqual([]);
    expect(unsafeRequestHeaders({ 'content-type': 'application/json', 'X-B': '1', 'x-a': '2' })).toEqual(['content-type', 'x-a', 'x-b']);
    expect(unsafeRequestHeaders({ accept: 'a'.repeat(129) })).toEqual(['accept']);
  });

  test('should expect one preflight when it may be cached and two when Max-Age is 0', () => {
    expect(predict(allowSpecific, scenario('preflight-cache'), origins.SITE_ORIGIN)).toMatchObject({ verdict: 'allowed', preflights: 1, actualRequests: 2 });
    const zero = { CORSRules: [{ ...allowSpecific.CORSRules[0]!, MaxAgeSeconds: 0 }] };
    expect(predict(zero, scenario('preflight-cache'), origins.SITE_ORIGIN)).toMatchObject({ verdict: 'allowed', preflights: 2, actualRequests: 2 });
  });

  test('should count the preflight of every step when S3 refuses them all (the page runs every step)', () => {
    expect(predict(undefined, scenario('preflight-cache'), origins.SITE_ORIGIN)).toMatchObject({
      verdict: 'blocked', at: 'preflight', preflights: 2, actualRequests: 0,
    });
  });

  test('should stop at the preflight, before any actual request, when S3 refuses it', () => {
    expect(predict(allowSpecific, scenario('put-custom-header'), origins.SITE_ORIGIN)).toMatchObject({
      verdict: 'blocked', reason: 'missing-allow-origin', at: 'preflight', preflights: 1, actualRequests: 0,
    });
  });

  test('should never block a plain <img> or a no-cors fetch', () => {
    for (const id of ['img-plain', 'no-cors-fetch']) {
      expect(predict(undefined, scenario(id), origins.SITE_ORIGIN)).toMatchObject({ verdict: 'allowed', preflights: 0, actualRequests: 1 });
    }
  });

  test('evaluate: one request — the preflight sent, the header refused, nothing cached, the actual request not sent', () => {
    const headersGet = { CORSRules: [{ AllowedOrigins: [origins.SITE_ORIGIN], AllowedMethods: ['GET'], AllowedHeaders: ['x-a'] }] };
    const e = evaluate(headersGet, requestOf({ kind: 'fetch', method: 'get', headers: { 'X-B': '1', 'x-a': '1' } }), origins.SITE_ORIGIN, { key: 'k' });
    expect(e.preflight).toMatchObject({ needed: true, because: { headers: ['x-a', 'x-b'] }, cached: false });
    expect(e.preflight.sent!.facts).toMatchObject({ method: 'OPTIONS', accessControlRequestMethod: 'GET', accessControlRequestHeaders: 'x-a,x-b' });
    // S3 refuses the whole preflight (x-b matches no AllowedHeaders): the block is S3's refusal, not the header.
    expect(e.block).toMatchObject({ reason: 'missing-allow-origin', at: 'preflight', headers: [] });
    expect(e.actual.sent).toBe(false);
    expect(e.cache).toBeUndefined();

    // With AllowedHeaders * S3 echoes both; a credentialed request may not rely on Fetch's own "*".
    const star = { CORSRules: [{ AllowedOrigins: [origins.SITE_ORIGIN], AllowedMethods: ['GET'], AllowedHeaders: ['*'] }] };
    const ok = evaluate(star, requestOf({ kind: 'fetch', headers: { 'x-b': '1' } }), origins.SITE_ORIGIN, { key: 'k' });
    expect(ok.block).toBeUndefined();
    expect(ok.cache).toEqual({ credentials: false, methods: ['GET'], headers: ['x-b'] });
    const again = evaluate(star, requestOf({ kind: 'fetch', headers: { 'x-b': '2' } }), origins.SITE_ORIGIN, { key: 'k', cache: [ok.cache!] });
    expect(again.preflight).toMatchObject({ needed: true, cached: true });
    expect(again.preflight.sent).toBeUndefined();
  });
});
