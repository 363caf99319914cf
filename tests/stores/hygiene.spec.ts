/**
 * Store hygiene: a Ceph RGW started for a test run never outlives it. `npx playwright test` runs as
 * a child process in four ways — passing, failing, a test timeout, and interrupted with SIGINT (to
 * its process group, as Ctrl-C in a terminal) while two workers use the cluster. Meanwhile every
 * descendant is recorded by polling /proc (tests/reliability/helpers.ts; the daemons run detached,
 * in their own process groups, and stay recorded after their worker exits). After the child exits:
 * - the cluster was started once for the run (one ceph-mon, one ceph-osd, one radosgw seen, and
 *   both workers report the same recorded pids);
 * - each recorded daemon (pid and start time, as the run wrote them) was seen and is gone, and no
 *   other descendant survives;
 * - the run's store directory is gone.
 * A run killed outright (SIGKILL) cannot clean up; the next run's setup stops what it left
 * (the last test).
 */
import { test, expect, type TestInfo } from '@playwright/test';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessTreeWatcher, childEnv, collect, exclusive, killExact, killGroup, readStat, spawnNpx, type Finished } from '../reliability/helpers.js';
import type { DaemonRecord } from '../../stores/daemons.js';
import { isRunning } from '../../stores/daemons.js';
import { beginRun } from '../../stores/run.js';

test.describe.configure({ mode: 'default' });

const CONFIG = 'tests/stores/hygiene.config.ts';
const DAEMONS = ['ceph-mon', 'ceph-osd', 'radosgw'];

interface StoreRun {
  finished: Finished;
  /** Daemon records the workers reported, per worker marker. */
  reported: DaemonRecord[][];
  /** Ceph daemons the watcher saw running as daemons (`-f`, not the one-shot `--mkfs`/`--version`). */
  seenDaemons: Array<{ pid: number; comm: string }>;
  survivors: Array<{ pid: number; comm: string; cmdline: string }>;
  storesLeft: string[];
}

async function storeRun(run: string, grep: string, testInfo: TestInfo, opts: { env?: Record<string, string>; interrupt?: boolean } = {}): Promise<StoreRun> {
  return exclusive(async () => {
    const out = mkdtempSync(join(tmpdir(), `corsproof-rgw-hygiene-${run}-`));
    // Its own root for run directories, so the check sees this run's and nobody else's.
    const storesRoot = join(out, 'stores-root');
    const child = spawnNpx(
      ['playwright', 'test', '-c', CONFIG, '-g', grep, `--output=${join(out, 'results')}`],
      childEnv({ HYGIENE_MARKER_DIR: out, CORSPROOF_OUTPUT_DIR: out, CORSPROOF_STORES_ROOT: storesRoot, ...opts.env }),
    );
    const watcher = new ProcessTreeWatcher(child.pid!, 50).start();
    const finishing = collect(child, 300_000);
    const markers = () => readdirSync(out).filter((f) => f.endsWith('.ready'));
    try {
      if (opts.interrupt) {
        const deadline = Date.now() + 240_000;
        while (Date.now() < deadline && child.exitCode === null && markers().length < 2) await new Promise((r) => setTimeout(r, 100));
        expect(markers().length, 'both workers used the cluster before the interrupt').toBe(2);
        watcher.poll();
        killGroup(child, 'SIGINT');
      }
      const finished = await finishing;
      watcher.stop();
      const survivors = watcher.alive().map(({ pid, comm, cmdline }) => ({ pid, comm, cmdline }));
      const reported = markers().map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as DaemonRecord[]);
      const seenDaemons = [...watcher.seen.values()].filter((p) => DAEMONS.includes(p.comm) && / -f( |$)/.test(p.cmdline)).map(({ pid, comm }) => ({ pid, comm }));
      const storesLeft = existsSync(join(storesRoot, 'corsproof-stores')) ? readdirSync(join(storesRoot, 'corsproof-stores')) : [];
      const result = { finished, reported, seenDaemons, survivors, storesLeft };
      await testInfo.attach(`rgw-hygiene-${run}.json`, {
        body: JSON.stringify({ ...result, finished: { code: finished.code, signal: finished.signal, ms: finished.ms } }, null, 2),
        contentType: 'application/json',
      });
      await testInfo.attach(`rgw-hygiene-${run}-output.txt`, { body: `${finished.stdout}\n--- stderr ---\n${finished.stderr}`, contentType: 'text/plain' });
      console.log(
        `[rgw-hygiene] ${run}: exit ${finished.code ?? finished.signal} after ${finished.ms} ms; daemons seen ${seenDaemons.map((d) => `${d.comm}=${d.pid}`).join(' ')}; ${survivors.length ? `${survivors.length} survived` : 'nothing survived'}`,
      );
      return result;
    } finally {
      watcher.stop();
      killGroup(child, 'SIGKILL');
      for (const p of watcher.alive()) killExact(p);
      rmSync(out, { recursive: true, force: true });
    }
  });
}

function expectCleanStoreRun(r: StoreRun): void {
  expect(r.reported.length, 'both workers ran and reported the cluster').toBe(2);
  const [a, b] = r.reported as [DaemonRecord[], DaemonRecord[]];
  expect(b, 'both workers used the same cluster: it started once for the run').toEqual(a);
  expect(r.seenDaemons.map((d) => d.comm).sort(), 'one monitor, one OSD, one radosgw for the whole run').toEqual([...DAEMONS].sort());
  for (const d of a) {
    expect(r.seenDaemons.map((s) => s.pid), `recorded ${d.name} (pid ${d.pid}) is one the watcher saw`).toContain(d.pid);
    expect(isRunning(d), `recorded ${d.name} (pid ${d.pid}) is no longer running`).toBe(false);
  }
  expect(r.survivors, `processes still running after the run returned:\n${r.survivors.map((p) => `  pid ${p.pid} [${p.comm}] ${p.cmdline}`).join('\n')}`).toEqual([]);
  expect(r.storesLeft, 'the run removed its store directory').toEqual([]);
}

test('a passing run stops its Ceph RGW', async ({}, testInfo) => {
  test.setTimeout(360_000);
  const r = await storeRun('pass', 'rgw-pass', testInfo);
  expect(r.finished.code, r.finished.stdout + r.finished.stderr).toBe(0);
  expect(r.finished.stdout).toMatch(/2 passed/);
  expectCleanStoreRun(r);
});

test('a failing run stops its Ceph RGW', async ({}, testInfo) => {
  test.setTimeout(360_000);
  const r = await storeRun('fail', 'rgw-fail', testInfo);
  expect(r.finished.code, r.finished.stdout + r.finished.stderr).toBe(1);
  expect(r.finished.stdout).toMatch(/2 failed/);
  expectCleanStoreRun(r);
});

test('a test timeout stops its Ceph RGW', async ({}, testInfo) => {
  test.setTimeout(360_000);
  const r = await storeRun('timeout', 'rgw-timeout', testInfo, { env: { HYGIENE_TEST_TIMEOUT_MS: '5000' } });
  expect(r.finished.code, r.finished.stdout + r.finished.stderr).toBe(1);
  expect(r.finished.stdout).toMatch(/Test timeout of 5000ms exceeded/);
  expectCleanStoreRun(r);
});

test('a run interrupted with SIGINT while workers use the cluster stops its Ceph RGW', async ({}, testInfo) => {
  test.setTimeout(360_000);
  const r = await storeRun('interrupt', 'rgw-interrupt', testInfo, { interrupt: true });
  expect(r.finished.signal ?? r.finished.code, r.finished.stdout + r.finished.stderr).not.toBe(0);
  expect(r.finished.stdout + r.finished.stderr).toMatch(/interrupted/i);
  expectCleanStoreRun(r);
});

test("a run that was killed outright has its daemons stopped by the next run's setup", async () => {
  // A stand-in for a SIGKILLed run: a run directory whose owner has exited, with one recorded
  // daemon still running (a detached `sleep`, recorded by pid and start time like Ceph's).
  const root = mkdtempSync(join(tmpdir(), 'corsproof-sweep-'));
  const previousRoot = process.env['CORSPROOF_STORES_ROOT'];
  process.env['CORSPROOF_STORES_ROOT'] = root;
  const daemon = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  daemon.unref();
  const owner = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => owner.once('exit', r));
  try {
    const stale = join(root, 'corsproof-stores', 'run-killed');
    mkdirSync(join(stale, 'ceph-rgw'), { recursive: true });
    writeFileSync(join(stale, 'owner.json'), JSON.stringify({ pid: owner.pid, starttime: 1 }));
    const record: DaemonRecord = { name: 'mon.a', pid: daemon.pid!, starttime: readStat(daemon.pid!)!.starttime, command: 'sleep 60' };
    writeFileSync(join(stale, 'ceph-rgw', 'daemons.json'), JSON.stringify([record]));
    expect(isRunning(record)).toBe(true);

    const end = await beginRun();
    expect(isRunning(record), 'the stale run’s daemon was stopped').toBe(false);
    expect(existsSync(stale), 'the stale run directory is gone').toBe(false);
    await end();
    expect(readdirSync(join(root, 'corsproof-stores')), 'this run removed its own directory too').toEqual([]);
  } finally {
    try {
      process.kill(daemon.pid!, 'SIGKILL');
    } catch {
      /* stopped by the sweep */
    }
    if (previousRoot === undefined) delete process.env['CORSPROOF_STORES_ROOT'];
    else process.env['CORSPROOF_STORES_ROOT'] = previousRoot;
    rmSync(root, { recursive: true, force: true });
  }
});

test('npm run rgw serves a bucket until Ctrl-C, then stops every daemon it started', async ({}, testInfo) => {
  test.setTimeout(180_000);
  await exclusive(async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'stores/rgw-cli.ts', '--bucket', 'try-me'], { cwd: join(import.meta.dirname, '..', '..'), env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const watcher = new ProcessTreeWatcher(child.pid!, 50).start();
    const finishing = collect(child, 150_000);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const deadline = Date.now() + 120_000;
      while (!/Ctrl-C stops the cluster/.test(out) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(out, 'the command printed where its bucket is').toMatch(/^bucket http:\/\/127\.0\.0\.1:\d+\/try-me$/m);
      const endpoint = /^ {2}CORSPROOF_TARGET=(\S+)$/m.exec(out)![1]!;
      const pids = [...out.matchAll(/(mon\.a|osd\.0|rgw)=(\d+)/g)].map((m) => Number(m[2]));
      expect(pids, 'three daemons, named with their pids').toHaveLength(3);
      const listed = await fetch(`${endpoint}/try-me`);
      expect(listed.status, 'the bucket exists (anonymous listing is refused, not NoSuchBucket)').toBe(403);
      await listed.arrayBuffer();
      watcher.poll();
      killGroup(child, 'SIGINT');
      const finished = await finishing;
      watcher.stop();
      await testInfo.attach('rgw-cli-output.txt', { body: `${out}\n--- stderr ---\n${finished.stderr}`, contentType: 'text/plain' });
      expect(finished.code, finished.stderr).toBe(0);
      expect(out).toMatch(/Ceph RGW stopped\./);
      for (const pid of pids) expect(readStat(pid) === undefined || readStat(pid)!.state === "Z", `daemon ${pid} is gone`).toBe(true);
      expect(watcher.alive().map((p) => `${p.pid} ${p.cmdline}`), 'nothing the command started survives it').toEqual([]);
    } finally {
      watcher.stop();
      killGroup(child, 'SIGKILL');
      for (const p of watcher.alive()) killExact(p);
    }
  });
});
