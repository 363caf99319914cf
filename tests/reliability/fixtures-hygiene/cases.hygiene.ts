/**
 * Runs for the process-hygiene checks (see ../hygiene.spec.ts), selected with -g. Each first runs a
 * real case (allow-specific-origin × fetch-get) so the engine, its helpers and the servers are all
 * up, then ends the way the check needs: a failure, a test timeout, or waiting to be interrupted.
 * HYGIENE_MARKER_DIR: where "engine up" markers are written (one file per engine).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '../../config/test.js';
import { loadFixtures, loadScenarios } from '../../../harness/data.js';

const fixture = loadFixtures().find((f) => f.id === 'allow-specific-origin')!;
const scenario = loadScenarios().find((s) => s.id === 'fetch-get')!;

function markReady(engine: string): void {
  const dir = process.env['HYGIENE_MARKER_DIR'];
  if (dir) writeFileSync(join(dir, `${engine}.ready`), String(process.pid));
}

test('hygiene-fail: a real case, then a deliberate failure', async ({ corsCase }) => {
  const e = await corsCase(fixture, scenario);
  expect(e.observed, 'a deliberately wrong expectation').toBe('blocked');
});

test('hygiene-timeout: a real case, then a hang past the test timeout', async ({ corsCase, engineSession }) => {
  test.setTimeout(Number(process.env['HYGIENE_TEST_TIMEOUT_MS'] ?? 8_000));
  await corsCase(fixture, scenario);
  markReady(engineSession.build.engine);
  await new Promise(() => {});
});

test('hygiene-interrupt: a real case, then waits to be interrupted', async ({ corsCase, engineSession }) => {
  await corsCase(fixture, scenario);
  markReady(engineSession.build.engine);
  await new Promise((resolve) => setTimeout(resolve, 50_000));
});
