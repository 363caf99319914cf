/**
 * What a matrix case must show, in one place: the matrix suite (tests/browser/verdicts.spec.ts) and
 * `corsproof check` (harness/check-run.ts) both hold every case to this list.
 *
 * The engine's verdict must equal the expectation; a block must come with the engine's own message
 * for the expected reason (and `corsproof explain`'s line for it); the bucket server's record must
 * show the exchanges the verdict rests on — how many preflights, what the engine asked in them,
 * whether the actual request was sent. Against a store, a verdict its profile owns is the store's.
 */
import { isDeepStrictEqual } from 'node:util';
import type { EngineName } from '../engines/types.js';
import type { CaseEvidence } from './case.js';
import type { Scenario } from './data.js';
import type { EngineExpectation } from './expectation.js';
import { compareWithEngine } from './messages.js';
import { storeOwnsVerdict } from './store-case.js';

/** Everything about a case that is not as it must be, in words; empty when the case is right. */
export function caseProblems(e: CaseEvidence, scenario: Scenario, pageOrigin: string, titled: EngineExpectation): string[] {
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
