/**
 * A case's evidence as harness/case.ts records it against a remote endpoint (no server record): a
 * credentialed GET that Firefox blocked for credentials-flag. Shared by the report tests.
 */
import type { CaseEvidence } from '../../harness/case.js';

export const FIREFOX_CREDENTIALS =
  'Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://b.s3.eu-west-1.amazonaws.com/private.txt. (Reason: expected ‘true’ in CORS header ‘Access-Control-Allow-Credentials’).';

export function remoteCase(over: Partial<CaseEvidence> = {}): CaseEvidence {
  return {
    caseId: 'store.get-credentials.firefox.1',
    fixture: 'store',
    scenario: 'get-credentials',
    engine: 'firefox',
    bucketName: 'b',
    objectUrl: 'https://b.s3.eu-west-1.amazonaws.com/private.txt',
    cors: null,
    expected: { verdict: 'blocked', reason: 'credentials-flag' },
    oracle: { verdict: 'blocked', reason: 'credentials-flag', at: 'response', why: 'the response fails the CORS check (credentials-flag)', preflights: 0, actualRequests: 1 },
    observed: 'blocked',
    classification: { reasons: ['credentials-flag'], merged: false, message: FIREFOX_CREDENTIALS, stream: 'pageerror' },
    run: {
      result: { caseId: 'c', userAgent: 'ua', steps: [{ settled: 'error', durationMs: 3, errorName: 'TypeError', errorMessage: 'NetworkError when attempting to fetch resource.' }] },
      messages: [{ stream: 'pageerror', type: 'Cross-Origin Request Blocked', text: FIREFOX_CREDENTIALS }],
    },
    harnessErrors: [],
    exchanges: [],
    serverRecord: false,
    target: 'https://b.s3.eu-west-1.amazonaws.com (remote, bucket b)',
    ...over,
  };
}
