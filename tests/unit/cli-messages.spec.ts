/**
 * harness/messages.ts (what explain says each engine prints) against harness/reasons.ts (how the
 * harness reads what an engine printed): every template, per engine, per reason, at the preflight
 * and at the response, must be classified as that same reason — so the two cannot drift apart.
 */
import { test, expect } from '@playwright/test';
import { ENGINE_NAMES } from '../../engines/types.js';
import { engineMessage, type MessageContext } from '../../harness/messages.js';
import { REASON_TEXT, classify, type ReasonId } from '../../harness/reasons.js';

const REASONS = Object.keys(REASON_TEXT) as ReasonId[];

const context = (at: MessageContext['at']): MessageContext => ({
  url: 'https://my-bucket-assets.s3.eu-west-1.amazonaws.com/extra-page.html',
  origin: 'http://my-bucket-html.s3-website-eu-west-1.amazonaws.com',
  method: 'PUT',
  at,
  status: at === 'preflight' ? 403 : 200,
  header: 'x-custom',
  allowOrigin: 'http://other.example',
  allowCredentials: '',
});

for (const engine of ENGINE_NAMES) {
  for (const reason of REASONS) {
    for (const at of ['preflight', 'response'] as const) {
      test(`${engine} ${reason} at the ${at}: the template is classified as ${reason}`, () => {
        const { message, followUps } = engineMessage(engine, reason, context(at));
        const c = classify(engine, [{ stream: 'console', type: 'error', text: message }]);
        expect(c, message).toBeDefined();
        expect(c!.reasons).toContain(reason);
        if (engine === 'chromium') {
          // Chromium's wording says whether the preflight failed (method/header refusals end "in preflight response").
          const preflightOnly = reason === 'method-not-allowed' || reason === 'header-not-allowed';
          expect(c!.preflight).toBe(at === 'preflight' || preflightOnly);
        }
        // The follow-up lines never carry a reason of their own, so they cannot outvote the message.
        for (const f of followUps) expect(classify(engine, [{ stream: 'console', type: 'error', text: f }]), f).toBeUndefined();
        // Classified first even when the follow-ups come first in the stream.
        expect(classify(engine, [...followUps, message].map((text) => ({ stream: 'console' as const, type: 'error', text })))!.reasons).toContain(reason);
      });
    }
  }
}

test('the templates carry the engines’ exact measured texts for S3’s refused preflight', () => {
  const c = context('preflight');
  expect(engineMessage('chromium', 'missing-allow-origin', c).message).toBe(
    "Access to fetch at 'https://my-bucket-assets.s3.eu-west-1.amazonaws.com/extra-page.html' from origin 'http://my-bucket-html.s3-website-eu-west-1.amazonaws.com' has been blocked by CORS policy: Response to preflight request doesn't pass access control check: No 'Access-Control-Allow-Origin' header is present on the requested resource.",
  );
  expect(engineMessage('firefox', 'missing-allow-origin', c).message).toBe(
    'Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at https://my-bucket-assets.s3.eu-west-1.amazonaws.com/extra-page.html. (Reason: CORS header ‘Access-Control-Allow-Origin’ missing). Status code: 403.',
  );
  expect(engineMessage('webkit', 'preflight-status', c).message).toBe('Preflight response is not successful. Status code: 403');
  expect(engineMessage('webkit', 'origin-mismatch', context('response')).message).toBe(
    'Origin http://my-bucket-html.s3-website-eu-west-1.amazonaws.com is not allowed by Access-Control-Allow-Origin. Status code: 200',
  );
  expect(engineMessage('webkit', 'wildcard-with-credentials', c).message).toBe('Cannot use wildcard in Access-Control-Allow-Origin when credentials flag is true.');
});

test('the seed note’s own Firefox line is what the template prints for a GET without CORS headers', () => {
  const m = engineMessage('firefox', 'missing-allow-origin', { ...context('response'), url: 'http://my-bucket-assets...' }).message;
  expect(m).toContain("Cross-Origin Request Blocked: The Same Origin Policy disallows reading the remote resource at http://my-bucket-assets...");
  expect(m).toContain('(Reason: CORS header ‘Access-Control-Allow-Origin’ missing)');
});
