/**
 * Who owns a store's daemons: the test run.
 *
 * Playwright's global setup (stores/global-setup.ts) opens a run directory under
 * `$TMPDIR/corsproof-stores/` and names it in CORSPROOF_STORES_RUN, which the workers inherit. The
 * first worker that needs a store starts it there (under a lock; the others reuse it), and the
 * run's teardown stops every daemon recorded there — Playwright runs that teardown after a pass, a
 * failure, a test or global timeout, and after Ctrl-C/SIGINT. So a store starts at most once per
 * run, only when a project needs it, and nothing outlives the run. Last resorts: the runner's
 * `exit` (and SIGTERM/SIGHUP) kill the recorded daemons synchronously, and a run killed outright
 * (SIGKILL) has its daemons stopped by the next run's setup, which sweeps run directories whose
 * owner is gone.
 *
 * Outside a Playwright run (a script, the bench), or when asked to (`own`: `npm run rgw`, whose
 * cluster must not belong to a test run it was started from), the caller owns the store: `useRgw`
 * then returns a `release` that stops it.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRunning, killDaemonsNow, procStat, readRecords, stopDaemons, type DaemonRecord } from './daemons.js';
import { daemonsFile, runningRgw, startRgw, stopRgw, type RgwCluster } from './ceph-rgw.js';

export const RUN_ENV = 'CORSPROOF_STORES_RUN';
export const storesRoot = () => join(process.env['CORSPROOF_STORES_ROOT'] ?? tmpdir(), 'corsproof-stores');

interface Owner {
  pid: number;
  starttime: number;
}

/** Every daemon recorded under a run directory (one sub-directory per store). */
export function recordedDaemons(runDir: string): DaemonRecord[] {
  if (!existsSync(runDir)) return [];
  return readdirSync(runDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readRecords(daemonsFile(join(runDir, d.name))));
}

async function endRun(runDir: string): Promise<string[]> {
  const stopped = await stopDaemons(recordedDaemons(runDir));
  rmSync(runDir, { recursive: true, force: true });
  return stopped;
}

/** Stops the daemons of runs whose owning process is gone (a run that was SIGKILLed). */
export async function sweepStaleRuns(root = storesRoot()): Promise<string[]> {
  if (!existsSync(root)) return [];
  const swept: string[] = [];
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    let owner: Owner | undefined;
    try {
      owner = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as Owner;
    } catch {
      owner = undefined;
    }
    // A directory without an owner file is being created right now by another run; leave it.
    if (!owner || isRunning(owner)) continue;
    swept.push(...(await endRun(dir)));
  }
  return swept;
}

/**
 * Opens this process's run directory (global setup). Returns the teardown that stops every store
 * started in it.
 */
export async function beginRun(log: (line: string) => void = () => {}): Promise<() => Promise<void>> {
  const root = storesRoot();
  mkdirSync(root, { recursive: true });
  const swept = await sweepStaleRuns(root);
  if (swept.length) log(`[stores] stopped daemons left by an earlier run that was killed: ${swept.join(', ')}`);
  const dir = mkdtempSync(join(root, 'run-'));
  writeFileSync(join(dir, 'owner.json'), JSON.stringify({ pid: process.pid, starttime: procStat(process.pid)?.starttime ?? -1 } satisfies Owner));
  process.env[RUN_ENV] = dir;

  const killNow = () => killDaemonsNow(recordedDaemons(dir));
  const onSignal = (sig: NodeJS.Signals) => {
    killNow();
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onHup);
    process.kill(process.pid, sig); // then die of it as before
  };
  const onTerm = () => onSignal('SIGTERM');
  const onHup = () => onSignal('SIGHUP');
  process.on('exit', killNow);
  process.on('SIGTERM', onTerm);
  process.on('SIGHUP', onHup);
  return async () => {
    try {
      const stopped = await endRun(dir);
      if (stopped.length) log(`[stores] stopped ${stopped.join(', ')}`);
    } finally {
      process.off('exit', killNow);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
      if (process.env[RUN_ENV] === dir) delete process.env[RUN_ENV];
    }
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A directory lock shared by the run's workers; a lock whose holder died is taken over. */
async function locked<T>(lockDir: string, f: () => Promise<T>, waitMs = 240_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'owner.json'), JSON.stringify({ pid: process.pid, starttime: procStat(process.pid)?.starttime ?? -1 }));
      break;
    } catch {
      let holder: Owner | undefined;
      try {
        holder = JSON.parse(readFileSync(join(lockDir, 'owner.json'), 'utf8')) as Owner;
      } catch {
        /* being written */
      }
      if (holder && !isRunning(holder)) rmSync(lockDir, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`waited ${waitMs} ms for ${lockDir} (held by pid ${holder?.pid})`);
      else await sleep(200);
    }
  }
  try {
    return await f();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

export interface StoreLease<T> {
  store: T;
  /** Stops the store when this process owns it (outside a run); a no-op inside a run. */
  release(): Promise<void>;
}

/**
 * The run's Ceph RGW, started on first use. Every worker of the run gets the same cluster; a start
 * that failed is not retried by the other workers (they fail with the same message at once).
 */
export async function useRgw(log: (line: string) => void = () => {}, opts: { own?: boolean } = {}): Promise<StoreLease<RgwCluster>> {
  const run = opts.own ? undefined : process.env[RUN_ENV];
  if (run && existsSync(run)) {
    const dir = join(run, 'ceph-rgw');
    const failed = join(run, 'ceph-rgw.failed');
    const store = await locked(join(run, 'ceph-rgw.lock'), async () => {
      const up = runningRgw(dir);
      if (up) return up;
      if (existsSync(failed)) throw new Error(readFileSync(failed, 'utf8'));
      if (existsSync(dir)) await stopRgw(dir); // a cluster of this run that lost a daemon
      try {
        return await startRgw(dir, { log });
      } catch (e) {
        writeFileSync(failed, (e as Error).message);
        throw e;
      }
    });
    return { store, release: async () => {} };
  }
  // No run owns it: this process does, until release() or exit.
  mkdirSync(storesRoot(), { recursive: true });
  const own = mkdtempSync(join(storesRoot(), 'own-'));
  writeFileSync(join(own, 'owner.json'), JSON.stringify({ pid: process.pid, starttime: procStat(process.pid)?.starttime ?? -1 }));
  const dir = join(own, 'ceph-rgw');
  const killNow = () => killDaemonsNow(readRecords(daemonsFile(dir)));
  process.on('exit', killNow);
  try {
    const store = await startRgw(dir, { log });
    return {
      store,
      release: async () => {
        process.off('exit', killNow);
        await stopRgw(dir);
        rmSync(own, { recursive: true, force: true });
      },
    };
  } catch (e) {
    process.off('exit', killNow);
    rmSync(own, { recursive: true, force: true });
    throw e;
  }
}
