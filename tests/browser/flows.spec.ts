/**
 * The flow descriptions (fixtures/flows/<id>.json) against what the real client sent.
 *
 * The oracle, `corsproof explain --flow` and the matrix's expectations all rest on those
 * descriptions: which requests a flow makes, which headers each carries, what it reads back. Here
 * each flow runs in the engine's page — the bundled @aws-sdk/client-s3 and lib-storage, or the
 * presigned uploads — under a configuration that lets everything through (fixtures/cors/sdk-flows),
 * and the bucket server's record of every exchange must match the description: the same requests in
 * the same order, each with exactly the described request headers (and values, where the
 * description gives one), the described query parameters, the preflight the Fetch rules imply, and
 * an answer carrying every header the client reads. An SDK upgrade that adds a header fails here
 * before it silently changes what the oracle predicts.
 */
import { test, expect } from '../config/test.js';
import { loadFixtures, loadScenarios } from '../../harness/data.js';
import { bundleKey } from '../../servers/site/sdk/build.js';
import { flowById, flowCorsRequest, requestName, type FlowRequest } from '../../harness/flows.js';
import { CASE_PARAM, type Exchange } from '../../servers/exchange-log.js';

const fixture = loadFixtures().find((f) => f.id === 'sdk-flows')!;
const scenarios = loadScenarios().filter((s) => s.steps[0]?.kind === 'flow');

/** Headers the browser adds to every request (or to some): not the client's doing. */
const BROWSER_HEADERS = /^(host|connection|origin|referer|user-agent|accept|accept-encoding|accept-language|content-length|pragma|cache-control|priority|dnt|te|upgrade-insecure-requests|sec-fetch-.*|sec-ch-.*)$/;

/** A described value: literal, or with <placeholders> that stand for anything. */
function matches(described: string, actual: string): boolean {
  const re = new RegExp(`^${described.split(/<[^>]*>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.+')}$`);
  return re.test(actual);
}

function query(x: Exchange): URLSearchParams {
  return new URL(x.url, 'http://bucket').searchParams;
}

/** Which described request an exchange is (UploadParts told apart by partNumber). */
function describedFor(requests: readonly FlowRequest[], x: Exchange): FlowRequest | undefined {
  const q = query(x);
  return requests.find(
    (r) =>
      r.method === x.method &&
      Object.keys(r.query).every((k) => q.has(k) && matches(r.query[k]!, q.get(k)!)) &&
      [...q.keys()].every((k) => k === CASE_PARAM || k in r.query),
  );
}

test.describe('flow descriptions match what the bundled client sends', () => {
  for (const scenario of scenarios) {
    const step = scenario.steps[0]!;
    if (step.kind !== 'flow') continue;
    const flow = flowById(step.flow);

    test(`${flow.id}: requests, headers, preflights and answers as fixtures/flows/${flow.id}.json describes`, async ({ corsCase }) => {
      const e = await corsCase(fixture, scenario);
      const outcome = e.run.result.steps[0]!;
      const record = e.exchanges.map((x) => `${x.method} ${x.url} → ${x.status}`).join('\n');
      expect(outcome.settled, `the flow ran to the end under ${fixture.id}\n${JSON.stringify(outcome, null, 2).slice(0, 2000)}\n${record}`).toBe('response');

      const main = flow.requests.filter((r) => !r.onFailureAfter);
      const actual = e.exchanges.filter((x) => x.method !== 'OPTIONS');
      expect(actual.map((x) => x.method), `the requests the client made\n${record}`).toEqual(main.map((r) => r.method));

      const seen = new Set<string>();
      for (const x of actual) {
        const r = describedFor(main, x);
        expect(r, `${x.method} ${x.url} is one of the described requests\n${record}`).toBeDefined();
        const name = requestName(r!);
        expect(seen.has(name), `${name} is made once`).toBe(false);
        seen.add(name);
        const path = new URL(x.url, 'http://bucket').pathname.split('/').filter(Boolean);
        expect(path.length > 1 ? 'object' : 'bucket', `${name} addresses the ${r!.resource}`).toBe(r!.resource);

        // Request headers: exactly the described ones (beyond what the browser adds), values as described.
        const sent = Object.keys(x.requestHeaders).filter((h) => !BROWSER_HEADERS.test(h)).sort();
        expect(sent, `${name}: the request headers the client sends`).toEqual(Object.keys(r!.headers).sort());
        for (const [h, v] of Object.entries(r!.headers)) {
          expect.soft(matches(v, x.requestHeaders[h] ?? ''), `${name}: ${h} is "${x.requestHeaders[h]}", described as "${v}"`).toBe(true);
        }
        // The preflight the Fetch rules imply for it: same URL, the described method and unsafe headers.
        const cors = flowCorsRequest(r!);
        const preflight = e.exchanges.find((p) => p.method === 'OPTIONS' && p.url === x.url);
        if (r!.method === 'GET' || r!.method === 'POST' || r!.method === 'HEAD' ? cors.unsafe.length > 0 : true) {
          expect(preflight, `${name} was preflighted`).toBeDefined();
          expect.soft(preflight!.requestHeaders['access-control-request-method']).toBe(r!.method);
          expect.soft(preflight!.requestHeaders['access-control-request-headers'] ?? '', `${name}: Access-Control-Request-Headers`).toBe(cors.unsafe.join(','));
        } else {
          expect(preflight, `${name} needs no preflight`).toBeUndefined();
        }
        // What the client reads is in S3's answer (and exposed by this configuration).
        expect.soft(x.status, `${name}: S3's status`).toBe(r!.status);
        for (const read of r!.reads) expect.soft(x.responseHeaders[read.header], `${name}: S3 sends ${read.header}`).toBeDefined();
      }

      // The SDK in the page is the project's own pinned one.
      const ua = actual.map((x) => x.requestHeaders['x-amz-user-agent']).find(Boolean);
      if (flow.pattern === 'sdk-credentials') expect(ua, 'x-amz-user-agent names the bundled SDK').toContain(`aws-sdk-js/${bundleKey().sdkVersion} `);
    });
  }
});
