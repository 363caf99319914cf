/**
 * Store profiles (harness/store-profile.ts): the committed Ceph RGW profile loads, a broken one is
 * refused naming file, key and what is allowed, and a case is held to its profile — a known
 * divergence passes, a new, vanished or changed one fails naming the case.
 */
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadFixtures, loadScenarios } from '../../harness/data.js';
import type { CaseClass, StoreDivergence } from '../../harness/divergence.js';
import { checkAgainstProfile, loadStoreProfile, parseStoreProfile, profileEntry, STORES_DIR, type StoreProfile } from '../../harness/store-profile.js';

const known = { fixtures: loadFixtures().map((f) => f.id), scenarios: loadScenarios().map((s) => s.id) };
const FILE = join(STORES_DIR, 'ceph-rgw.json');
const committed = () => JSON.parse(readFileSync(FILE, 'utf8')) as { divergences: Array<Record<string, unknown>> } & Record<string, unknown>;
const caseOf = (fixture: string, scenario: string, engine: 'chromium' | 'firefox' | 'webkit' = 'chromium') => ({ fixture, scenario, engine, storeLabel: 'Ceph RGW 16.2.15 at http://127.0.0.1:1' });
const credentials: StoreDivergence = {
  kind: 'verdict',
  s3: 'allowed',
  store: 'blocked (credentials-flag at the response)',
  headers: ['Access-Control-Allow-Credentials'],
  causes: [],
  summary: 'store divergence: S3 → allowed, this store → blocked (credentials-flag at the response) — the store sent no Access-Control-Allow-Credentials',
};
const diverged = (d: StoreDivergence = credentials): CaseClass => ({ status: 'store-divergence', divergence: d });

test('the committed Ceph RGW profile loads: 35 cases in Chromium and WebKit, 36 in Firefox', () => {
  const p = loadStoreProfile(FILE, known);
  expect(p.name).toBe('ceph-rgw');
  const count = (engine: 'chromium' | 'firefox' | 'webkit') => known.fixtures.flatMap((f) => known.scenarios.filter((s) => profileEntry(p, f, s, engine))).length;
  expect([count('chromium'), count('firefox'), count('webkit')]).toEqual([35, 36, 35]);
});

test('should pass a known divergence and name the entry', () => {
  const p = loadStoreProfile(FILE, known);
  const r = checkAgainstProfile(p, caseOf('allow-specific-origin', 'get-credentials'), diverged());
  expect(r.status).toBe('known');
  expect(r.message).toContain('fixtures/stores/ceph-rgw.json divergences[0]');
});

test('should fail a divergence the profile does not list, naming the case and the header', () => {
  const json = committed();
  json.divergences = json.divergences.slice(1); // without the credentials entry
  const p = parseStoreProfile(FILE, json, known);
  const r = checkAgainstProfile(p, caseOf('max-age-zero', 'get-credentials', 'firefox'), diverged());
  expect(r.status).toBe('new');
  expect(r.message).toMatch(/^new store divergence, max-age-zero × get-credentials in firefox: .*\(headers: Access-Control-Allow-Credentials\)\. If the store is expected to answer so, add it to fixtures\/stores\/ceph-rgw\.json/);
});

test('should fail a listed divergence that did not happen (vanished), naming the case', () => {
  const p = loadStoreProfile(FILE, known);
  const r = checkAgainstProfile(p, caseOf('full-access', 'get-credentials', 'webkit'), { status: 'as-s3' });
  expect(r.status).toBe('vanished');
  expect(r.message).toMatch(/^full-access × get-credentials in webkit: fixtures\/stores\/ceph-rgw\.json divergences\[0\] lists it .* now answers as S3 would/);
});

test('should fail a divergence that now rests on another header (changed)', () => {
  const p = loadStoreProfile(FILE, known);
  const r = checkAgainstProfile(p, caseOf('allow-specific-origin', 'get-credentials'), diverged({ ...credentials, store: 'blocked (origin-mismatch at the response)', headers: ['Access-Control-Allow-Origin'] }));
  expect(r.status).toBe('changed');
  expect(r.message).toContain('this run: S3 → allowed, the store → blocked (origin-mismatch at the response) (headers Access-Control-Allow-Origin)');
});

test('should pass an unexplained verdict only where the profile lists it as a known behaviour', () => {
  const p = loadStoreProfile(FILE, known);
  const unexplained = (observed: string): CaseClass => ({ status: 'unexplained', observed, message: `the engine's verdict, ${observed}, is neither …` });
  const known1 = checkAgainstProfile(p, caseOf('full-access', 'sdk-multipart-upload', 'webkit'), unexplained('allowed'));
  expect(known1.status).toBe('known');
  expect(known1.message).toMatch(/^known store behaviour \(fixtures\/stores\/ceph-rgw\.json divergences\[\d+\]\): the store completes the SDK's multipart upload/);
  // Another outcome than the one listed is not the known behaviour: the matrix's own assertions decide.
  expect(checkAgainstProfile(p, caseOf('full-access', 'sdk-multipart-upload', 'webkit'), unexplained('blocked (missing-allow-origin)')).status).toBe('as-s3');
  expect(checkAgainstProfile(p, caseOf('full-access', 'fetch-get', 'webkit'), unexplained('blocked (missing-allow-origin)')).status).toBe('as-s3');
  // Listed as a behaviour, but the engine did as S3 would: vanished.
  expect(checkAgainstProfile(p, caseOf('amplify-storage', 'sdk-multipart-upload'), { status: 'as-s3' }).status).toBe('vanished');
});

test('should only report divergences of a store without a profile', () => {
  expect(checkAgainstProfile(undefined, caseOf('allow-specific-origin', 'get-credentials'), diverged()).status).toBe('unprofiled');
  expect(checkAgainstProfile(undefined, caseOf('allow-specific-origin', 'fetch-get'), { status: 'as-s3' }).status).toBe('as-s3');
});

test('should refuse a profile with an unknown key, naming file, key and what is allowed', () => {
  const json = committed();
  (json.divergences[0] as Record<string, unknown>)['engine'] = 'chromium';
  expect(() => parseStoreProfile(FILE, json, known)).toThrow(/ceph-rgw\.json: divergences\[0\]: Unrecognized key: "engine" \(allowed here: kind, fixtures, scenarios, engines, s3, store, headers, difference, reason, evidence\)/);
});

test('should refuse an engine, fixture or scenario that does not exist', () => {
  const json = committed();
  (json.divergences[0] as Record<string, unknown>)['engines'] = ['chrome'];
  expect(() => parseStoreProfile(FILE, json, known)).toThrow(/divergences\[0\]\.engines\[0\]: Invalid option: expected one of "chromium"\|"firefox"\|"webkit"/);
  const typo = committed();
  (typo.divergences[1] as Record<string, unknown>)['scenarios'] = ['get-custom-headers'];
  expect(() => parseStoreProfile(FILE, typo, known)).toThrow(/divergences\[1\]\.scenarios: "get-custom-headers" is not a scenario \(allowed: delete, fetch-get/);
});

test('should refuse a case listed twice', () => {
  const json = committed();
  json.divergences.push({ ...json.divergences[0]!, fixtures: ['full-access'] });
  expect(() => parseStoreProfile(FILE, json, known)).toThrow(new RegExp(`divergences\\[${json.divergences.length - 1}\\]: full-access × get-credentials in chromium is already listed by divergences\\[0\\]`));
});

test('should name a missing profile file', () => {
  expect(() => loadStoreProfile(join(STORES_DIR, 'no-such-store.json'), known)).toThrow(/no-such-store\.json: no such file/);
});

test('every entry of the committed profile says why and how it was measured', () => {
  const p: StoreProfile = loadStoreProfile(FILE, known);
  for (const d of p.divergences) {
    expect(d.reason.length).toBeGreaterThan(40);
    // A header difference was seen in the replay; a behaviour in what the engines themselves saw.
    expect(d.evidence).toMatch(d.kind === 'behaviour' ? /network events/ : /Replay of/);
    expect(d.headers.length > 0, `${d.fixtures.join(',')} × ${d.scenarios.join(',')}: a header names a header difference`).toBe(d.kind === 'headers');
  }
});
