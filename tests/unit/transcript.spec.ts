/**
 * What a case's transcript and a failed matrix test say (harness/transcript.ts) must be true where
 * the evidence is thin: a remote endpoint keeps no server record (so nothing says where the
 * request was stopped), an engine that printed no CORS line, a page that reported nothing. None
 * of it may print "undefined" — a remote run once printed "credentials-flag at the undefined".
 */
import { test, expect } from '@playwright/test';
import { remoteCase as remote } from './evidence-sample.js';
import { observedWhere, pageSaw, sideBySide, transcript } from '../../harness/transcript.js';

const PAGE = 'http://www.example.test:41451/__corsproof/harness.html';

test('a remote case: no "undefined", no claim about preflights, and where the block happened is said to be unknown', () => {
  const e = remote();
  const side = sideBySide(e);
  const t = transcript(e, PAGE);
  for (const text of [side, t]) expect(text).not.toContain('undefined');
  expect(side).toContain('engine:   blocked (credentials-flag, where unknown (no server record, and the engine\'s words do not say))');
  expect(side).toContain('server record: no server record (a remote endpoint keeps none for corsproof)');
  expect(t).not.toContain('preflight: none sent');
  expect(t).not.toContain('never sent');
  expect(t).toContain('2.–3. requests to https://b.s3.eu-west-1.amazonaws.com (remote, bucket b): no server record');
  expect(t).toContain('4. verdict: BLOCKED where unknown');
});

test('without a server record, the engine’s own words say where when they can', () => {
  const chromium = remote({
    engine: 'chromium',
    classification: {
      reasons: ['credentials-flag'],
      merged: false,
      stream: 'console',
      preflight: true,
      message: "Access to fetch at 'https://b/k' from origin 'https://a' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: The value of the 'Access-Control-Allow-Credentials' header in the response is '' which must be 'true' when the request's credentials mode is 'include'.",
    },
  });
  expect(observedWhere(chromium)).toBe("at the preflight (the engine's words say so; no server record)");
  const webkit = remote({ engine: 'webkit', classification: { reasons: ['method-not-allowed'], merged: false, stream: 'stderr', message: 'Method PUT is not allowed by Access-Control-Allow-Methods.' } });
  expect(observedWhere(webkit)).toBe("at the preflight (the engine's words say so; no server record)");
  expect(observedWhere(remote({ observedAt: 'response', serverRecord: true }))).toBe('at the response');
});

test('an engine that printed no CORS line, and a page that reported no step', () => {
  const e = remote({ classification: undefined, run: { result: { caseId: 'c', userAgent: 'ua', steps: [] }, messages: [] } });
  const t = transcript(e, PAGE);
  expect(t).not.toContain('undefined');
  expect(t).toContain('engine said: no CORS message corsproof recognises');
  expect(t).toContain('the page reported no outcome');
  expect(sideBySide(e)).toContain('engine:   blocked (no CORS message, where unknown');
  expect(pageSaw({ settled: 'response', status: 204, type: 'cors', durationMs: 1 })).toBe('page read status 204 (cors)');
  expect(pageSaw({ settled: 'harness-error', durationMs: 1, errorName: 'Error', errorMessage: '' })).toBe('the harness page failed: Error');
});
