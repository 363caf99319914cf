/**
 * Process hygiene: `npx playwright test` started as a child process, in four ways — a passing run,
 * a failing run, a test timeout, and a run interrupted with SIGINT (to its process group, as Ctrl-C
 * in a terminal) after the engines started — and a Firefox `corsproof check`, whose browser is killed
 * rather than shut down. While each runs, every descendant process is recorded
 * by polling /proc every 50 ms (the ppid tree; a process stays recorded after it is re-parented,
 * as detached helpers like Xvfb and MiniBrowser are when their parent dies). After the child has
 * exited, none of them may still be running (pid and start time both match, not a zombie).
 *
 * A survivor fails the test with its command line; the test then stops it by that exact pid (never
 * by name) so later runs start clean. The engine code owns the fix.
 */
import { test, expect, type TestInfo } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, ProcessTreeWatcher, childEnv, exclusive, collect, killExact, killGroup, spawnNpx, type Finished, type SeenProcess } from './helpers.js';

test.describe.configure({ mode: 'default' });

const CONFIG = 'tests/reliability/hygiene.config.ts';

interface HygieneReport {
  run: string;
  command: string;
  exit: { code: number | null; signal: string | null; ms: number };
  polls: number;
  recorded: number;
  byName: Record<string, number>;
  survivors: Array<{ pid: number; starttime: number; state: string; comm: string; cmdline: string }>;
  survivorsAfter2s: Array<{ pid: number; comm: string; cmdline: string }>;
  zombies: Array<{ pid: number; comm: string }>;
}

/**
 * Runs `npx <args>` in its own process group while recording its process tree; `during` may act on
 * the running child (e.g. interrupt it). Returns the run's output and what outlived it.
 */
async function watchedRun(
  run: string,
  args: string[],
  testInfo: TestInfo,
  opts: { command?: string; env?: Record<string, string>; timeoutMs?: number; during?: (child: ReturnType<typeof spawnNpx>, watcher: ProcessTreeWatcher, markerDir: string) => Promise<void> } = {},
): Promise<{ finished: Finished; report: HygieneReport }> {
  // One nested browser run at a time across this suite's workers (see exclusive()).
  return opts.command ? watchedRunNow(run, args, testInfo, opts) : exclusive(() => watchedRunNow(run, args, testInfo, opts));
}

async function watchedRunNow(
  run: string,
  args: string[],
  testInfo: TestInfo,
  opts: Parameters<typeof watchedRun>[3] = {},
): Promise<{ finished: Finished; report: HygieneReport }> {
  const out = mkdtempSync(join(tmpdir(), `corsproof-hygiene-${run}-`));
  const fullArgs = opts.command ? args : [...args, `--output=${join(out, 'results')}`];
  const child = opts.command
    ? spawn(opts.command, fullArgs, { cwd: ROOT, env: childEnv({ HYGIENE_MARKER_DIR: out, CORSPROOF_OUTPUT_DIR: out, ...opts.env }), stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawnNpx(fullArgs, childEnv({ HYGIENE_MARKER_DIR: out, CORSPROOF_OUTPUT_DIR: out, ...opts.env }));
  const watcher = new ProcessTreeWatcher(child.pid!, 50).start();
  const finishing = collect(child, opts.timeoutMs ?? 120_000);
  try {
    if (opts.during) await opts.during(child, watcher, out);
    const finished = await finishing;
    watcher.stop();
    // What is still running the moment the command has returned — a user's next prompt.
    const survivors = watcher.alive();
    await new Promise((r) => setTimeout(r, 2_000));
    const survivorsAfter2s = watcher.alive();
    const byName: Record<string, number> = {};
    for (const p of watcher.seen.values()) byName[p.comm] = (byName[p.comm] ?? 0) + 1;
    const report: HygieneReport = {
      run,
      command: `${opts.command ?? 'npx'} ${fullArgs.join(' ')}`,
      exit: { code: finished.code, signal: finished.signal, ms: finished.ms },
      polls: watcher.polls,
      recorded: watcher.seen.size,
      byName,
      survivors: survivors.map(({ pid, starttime, state, comm, cmdline }) => ({ pid, starttime, state, comm, cmdline })),
      survivorsAfter2s: survivorsAfter2s.map(({ pid, comm, cmdline }) => ({ pid, comm, cmdline })),
      zombies: watcher.zombies().map(({ pid, comm }) => ({ pid, comm })),
    };
    await testInfo.attach(`hygiene-${run}.json`, { body: JSON.stringify(report, null, 2), contentType: 'application/json' });
    await testInfo.attach(`hygiene-${run}-output.txt`, { body: `${finished.stdout}\n--- stderr ---\n${finished.stderr}`, contentType: 'text/plain' });
    const line = survivors.length
      ? `${survivors.length} survived: ${survivors.map((p) => `pid ${p.pid} [${p.comm}] ${p.cmdline}`).join(' | ')}`
      : 'nothing survived';
    console.log(`[hygiene] ${run}: exit ${finished.code ?? finished.signal} after ${finished.ms} ms; ${watcher.seen.size} descendants recorded (${Object.entries(byName).map(([k, v]) => `${k}×${v}`).join(', ')}); ${line}`);
    return { finished, report };
  } finally {
    watcher.stop();
    killGroup(child, 'SIGKILL');
    // Survivors are stopped by their exact pid and start time after they were reported.
    for (const p of watcher.alive()) killExact(p);
    rmSync(out, { recursive: true, force: true });
  }
}

function expectNoSurvivors(report: HygieneReport): void {
  expect(report.recorded, 'the watcher saw the run\'s processes').toBeGreaterThan(3);
  const describe = (ps: Array<Pick<SeenProcess, 'pid' | 'comm' | 'cmdline'>>) => ps.map((p) => `  pid ${p.pid} [${p.comm}] ${p.cmdline}`).join('\n');
  expect(report.survivors, `processes still running after "${report.command}" returned:\n${describe(report.survivors)}`).toEqual([]);
}

test('the watcher itself catches a detached grandchild that outlives its parent', async ({}, testInfo) => {
  // A process that starts a detached `sleep` (own session, like Xvfb and MiniBrowser) and exits.
  const script = "require('node:child_process').spawn('sleep', ['30'], { detached: true, stdio: 'ignore' }).unref(); setTimeout(() => {}, 300);";
  const { finished, report } = await watchedRun('self-check', ['-e', script], testInfo, { command: process.execPath });
  expect(finished.code).toBe(0);
  expect(report.survivors.map((p) => p.cmdline)).toEqual(['sleep 30']);
});

const ENGINES_UP = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.ready')).length;

test('a passing run leaves no process behind', async ({}, testInfo) => {
  test.setTimeout(360_000);
  const { finished, report } = await watchedRun(
    'pass',
    ['playwright', 'test', '--project=chromium', '--project=webkit', '-g', 'allow-specific-origin: .* fetch-get should', '--reporter=list', '--workers=2'],
    testInfo,
  );
  expect(finished.code, finished.stdout + finished.stderr).toBe(0);
  expect(finished.stdout).toMatch(/2 passed/);
  expectNoSurvivors(report);
});

test('a failing run leaves no process behind', async ({}, testInfo) => {
  test.setTimeout(360_000);
  const { finished, report } = await watchedRun('fail', ['playwright', 'test', '-c', CONFIG, '-g', 'hygiene-fail', '--workers=2'], testInfo);
  expect(finished.code, finished.stdout + finished.stderr).toBe(1);
  expect(finished.stdout).toMatch(/2 failed/);
  expectNoSurvivors(report);
});

test('a test timeout leaves no process behind', async ({}, testInfo) => {
  test.setTimeout(360_000);
  const { finished, report } = await watchedRun('timeout', ['playwright', 'test', '-c', CONFIG, '-g', 'hygiene-timeout', '--workers=2'], testInfo, {
    env: { HYGIENE_TEST_TIMEOUT_MS: '5000' },
  });
  expect(finished.code, finished.stdout + finished.stderr).toBe(1);
  expect(finished.stdout).toMatch(/Test timeout of 5000ms exceeded/);
  expectNoSurvivors(report);
});

test('a run interrupted with SIGINT after the engines started leaves no process behind', async ({}, testInfo) => {
  test.setTimeout(360_000);
  const { finished, report } = await watchedRun('interrupt', ['playwright', 'test', '-c', CONFIG, '-g', 'hygiene-interrupt', '--workers=2'], testInfo, {
    during: async (child, watcher, markerDir) => {
      // Both engines have run a case (their markers are written) before Ctrl-C.
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline && child.exitCode === null && ENGINES_UP(markerDir) < 2) await new Promise((r) => setTimeout(r, 100));
      expect(ENGINES_UP(markerDir), 'both engines ran a case before the interrupt').toBe(2);
      watcher.poll();
      killGroup(child, 'SIGINT');
    },
  });
  expect(finished.signal ?? finished.code, finished.stdout + finished.stderr).not.toBe(0);
  expect(finished.stdout + finished.stderr).toMatch(/interrupted/i);
  expectNoSurvivors(report);
});

test('a Firefox check leaves no process and no Firefox profile behind', async ({}, testInfo) => {
  test.setTimeout(180_000);
  // Each launch's Firefox profile is a directory of its own under the temporary directory, and the
  // session kills Firefox's process group instead of waiting for its shutdown (engines/playwright.ts).
  const tmp = mkdtempSync(join(tmpdir(), 'corsproof-hygiene-tmp-'));
  const cors = join(tmp, 'cors.json');
  writeFileSync(cors, JSON.stringify({ CORSRules: [{ AllowedOrigins: ['https://app.example.com'], AllowedMethods: ['GET'] }] }));
  try {
    const { finished, report } = await exclusive(() =>
      watchedRun('check-firefox', [join(ROOT, 'bin', 'corsproof.mjs'), 'check', cors, '--origin', 'https://app.example.com', '--engines', 'firefox'], testInfo, {
        command: process.execPath,
        env: { TMPDIR: tmp },
      }),
    );
    expect(finished.stdout + finished.stderr).toMatch(/firefox\s+https:\/\/app\.example\.com: 25 cases/);
    expect(report.byName['firefox-esr'] ?? report.byName['firefox'] ?? 0, 'the watcher saw Firefox run').toBeGreaterThan(0);
    expectNoSurvivors(report);
    expect(readdirSync(tmp).filter((f) => f.startsWith('corsproof-firefox-') || f.startsWith('playwright'))).toEqual([]);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
