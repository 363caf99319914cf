/**
 * harness/messages.ts (the line `corsproof explain` says each engine prints) against what real
 * engines printed: tests/unit/engine-messages/matrix.json (blocked cases of the browser matrix, as
 * their evidence.json recorded them) and crafted.json (the reasons S3 never produces, recorded by
 * scripts/capture-engine-messages.ts). Every recorded case must match explain's line for its
 * engine and reason, parameters aside, with explain's follow-up lines printed too; and a line for
 * another reason, or in other words, must not.
 */
import { readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import type { EngineMessage, EngineName } from '../../engines/types.js';
import { explainRequest } from '../../cli/explain.js';
import { fillPlaceholders, loadFixtures, loadScenarios } from '../../harness/data.js';
import { makeOrigins } from '../../harness/origins.js';
import { compareWithEngine, engineMessage } from '../../harness/messages.js';
import { REASON_TEXT, classify, type ReasonId } from '../../harness/reasons.js';

interface Recorded {
  engine: EngineName;
  build: string;
  case: string;
  reason: ReasonId;
  at: 'preflight' | 'response';
  messages: EngineMessage[];
}

const load = (name: string): Recorded[] =>
  (JSON.parse(readFileSync(new URL(`./engine-messages/${name}`, import.meta.url), 'utf8')) as { cases: Recorded[] }).cases;
const recorded = [...load('matrix.json'), ...load('crafted.json')];

test('the recordings cover every reason in every engine', () => {
  const seen = new Set(recorded.map((r) => `${r.engine} ${r.reason}`));
  const missing = (['chromium', 'firefox', 'webkit'] as const).flatMap((e) => (Object.keys(REASON_TEXT) as ReasonId[]).filter((r) => !seen.has(`${e} ${r}`)).map((r) => `${e} ${r}`));
  expect(missing).toEqual([]);
});

for (const r of recorded) {
  test(`${r.engine} ${r.reason} at the ${r.at} (${r.case}, ${r.build}): explain's line is what the engine printed`, () => {
    const c = compareWithEngine(r.engine, r.reason, r.messages, { at: r.at });
    expect(c.ok, `explain: ${c.expectedLine}\nengine:  ${c.printed}`).toBe(true);
    expect(c.followUps.filter((f) => !f.found).map((f) => f.expected), `follow-ups the engine did not print; it printed:\n${r.messages.map((m) => m.text).join('\n')}`).toEqual([]);
    // Without `at`, either form is accepted, and the matching one is found.
    expect(compareWithEngine(r.engine, r.reason, r.messages).ok).toBe(true);
  });
}

test('a recorded line does not match explain’s line for any other reason (except WebKit’s one sentence for two)', () => {
  for (const r of recorded) {
    for (const other of Object.keys(REASON_TEXT) as ReasonId[]) {
      if (other === r.reason) continue;
      const merged = r.engine === 'webkit' && [r.reason, other].every((x) => x === 'missing-allow-origin' || x === 'origin-mismatch');
      expect(compareWithEngine(r.engine, other, r.messages, { at: r.at }).ok, `${r.engine} ${r.case} as ${other}`).toBe(merged);
    }
  }
});

test('what varies between requests and releases is ignored: URL, origin, status, and text around the line', () => {
  const chromium = recorded.find((r) => r.engine === 'chromium' && r.reason === 'missing-allow-origin' && r.at === 'response')!;
  const text = chromium.messages[0]!.text
    .replace(/'http:\/\/s3[^']*'/, "'https://bucket.s3.eu-west-1.amazonaws.com/a%20b.png'")
    .replace(/'http:\/\/www[^']*'/, "'https://app.example.com'");
  const older = `${text} If an opaque response serves your needs, set the request's mode to 'no-cors' to fetch the resource with CORS disabled.`;
  expect(compareWithEngine('chromium', 'missing-allow-origin', [{ stream: 'console', type: 'error', text: older }], { at: 'response' }).ok).toBe(true);

  const firefox = recorded.find((r) => r.engine === 'firefox' && r.reason === 'missing-allow-origin' && r.at === 'response')!.messages[0]!;
  const noStatus = firefox.text.replace(/ Status code: \d+\.$/, '');
  expect(noStatus).not.toBe(firefox.text);
  expect(compareWithEngine('firefox', 'missing-allow-origin', [{ ...firefox, text: noStatus }]).ok, 'Firefox before CORSMissingAllowOrigin2').toBe(true);
  expect(compareWithEngine('firefox', 'missing-allow-origin', [{ ...firefox, text: firefox.text.replace(/Status code: \d+/, 'Status code: 502') }]).ok).toBe(true);
});

test('a changed wording, a wrong place or nothing printed fails, and says what each side has', () => {
  const preflight = recorded.find((r) => r.engine === 'chromium' && r.reason === 'missing-allow-origin' && r.at === 'preflight')!;
  // Chromium's preflight prefix is part of the line.
  const atResponse = compareWithEngine('chromium', 'missing-allow-origin', preflight.messages, { at: 'response' });
  expect(atResponse.ok).toBe(false);
  expect(atResponse.expectedLine).toBe(
    "Access to <kind> at '<url>' from origin '<origin>' has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present on the requested resource.",
  );
  expect(atResponse.printed).toBe(preflight.messages[0]!.text);

  const reworded = preflight.messages.map((m) => ({ ...m, text: m.text.replace('is present on', 'was found on') }));
  expect(compareWithEngine('chromium', 'missing-allow-origin', reworded, { at: 'preflight' }).ok).toBe(false);

  const none = compareWithEngine('webkit', 'preflight-status', []);
  expect(none).toMatchObject({ ok: false, printed: '(nothing)' });
  expect(none.expectedLine).toBe('Preflight response is not successful. Status code: <status>');
});

test('explain’s filled-in line for a recorded case compares as that case (the holes stand for what explain fills in)', () => {
  for (const r of recorded.filter((x) => x.reason !== 'header-not-allowed' && x.reason !== 'origin-mismatch')) {
    const line = engineMessage(r.engine, r.reason, { url: 'http://s3.example.test:1/k', origin: 'http://www.example.test:2', method: 'PUT', at: r.at, status: 403 });
    expect(compareWithEngine(r.engine, r.reason, [{ stream: 'console', type: 'error', text: line.message }], { at: r.at }).ok, line.message).toBe(true);
  }
});

test('explain fills in the status code the engines printed for the matrix’s blocked fetches (S3’s answer: 403 preflight, 405 POST, 200 GET)', () => {
  const origins = makeOrigins(41234, 9000);
  const checked: string[] = [];
  for (const r of load('matrix.json')) {
    const [fixtureId, scenarioId] = r.case.split(' × ');
    const fixture = loadFixtures().find((f) => f.id === fixtureId)!;
    const scenario = loadScenarios().find((s) => s.id === scenarioId)!;
    const step = scenario.steps[0]!;
    if (scenario.steps.length !== 1 || step.kind !== 'fetch' || fixture.cors === null) continue;
    const line = r.messages.find((m) => compareWithEngine(r.engine, r.reason, [m], { at: r.at }).ok)!.text;
    const printed = /Status code: (\d+)/.exec(line)?.[1];
    if (printed === undefined) continue;
    const x = explainRequest(
      { CORSRules: fillPlaceholders(fixture.cors, origins) },
      {
        origin: origins.SITE_ORIGIN,
        method: step.method ?? 'GET',
        headers: step.headers ?? {},
        credentials: step.credentials === 'include',
        key: scenario.object.key,
        url: `${origins.BUCKET_ORIGIN}/bucket/${scenario.object.key}`,
      },
    );
    expect(x.engines[r.engine].message, r.case).toContain(`Status code: ${printed}`);
    checked.push(`${r.engine} ${scenarioId} ${printed}`);
  }
  expect(checked).toEqual(expect.arrayContaining(['firefox post-text 405', 'webkit post-text 405', 'firefox put-json 403', 'webkit put-json 403']));
});

test('the classifier reads every recorded line as its reason, and Chromium lines as preflight or not where they were', () => {
  const wrong: string[] = [];
  for (const r of recorded) {
    const c = classify(r.engine, r.messages);
    if (!c?.reasons.includes(r.reason)) wrong.push(`${r.engine} ${r.case}: classified ${c?.reasons.join('|') ?? 'nothing'}, recorded ${r.reason}`);
    else if (c.preflight !== undefined && c.preflight !== (r.at === 'preflight')) wrong.push(`${r.engine} ${r.case}: preflight ${c.preflight}, recorded at the ${r.at}`);
  }
  expect(wrong).toEqual([]);
});
