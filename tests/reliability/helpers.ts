/**
 * Helpers for the reliability suite: child processes (a Playwright run inside a Playwright run,
 * `corsproof serve`), the process tree read from /proc, memory and listening sockets of a pid.
 * Linux only (/proc), as the machines corsproof runs its tests on.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessGroup } from '../../engines/processes.js';

const owned = new ProcessGroup();

export const ROOT = join(import.meta.dirname, '..', '..');
export const CORSPROOF_BIN = join(ROOT, 'bin', 'corsproof.mjs');

/**
 * The environment for a nested `npx playwright test` (or `corsproof serve`): without the variables
 * the outer run gives its workers (TEST_WORKER_INDEX, PLAYWRIGHT_TEST, …) or its reporters; without
 * pinned server ports, which would collide with the outer run's servers; and never against a remote
 * target or a `corsproof check` plan, whatever the environment or `.env` says — the reliability
 * suite's traffic stays on 127.0.0.1. An empty value wins over `.env` (dotenv never overrides).
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(TEST_WORKER_INDEX|TEST_PARALLEL_INDEX|PLAYWRIGHT_TEST|PW_|PLAYWRIGHT_(JSON|BLOB|HTML|JUNIT)_)/.test(k)) continue;
    if (k === 'FORCE_COLOR' || k === 'DEBUG_COLORS' || k === 'CORSPROOF_OUTPUT_DIR') continue;
    env[k] = v;
  }
  return {
    ...env,
    FORCE_COLOR: '0',
    CORSPROOF_SITE_PORT: '',
    CORSPROOF_BUCKET_PORT: '',
    CORSPROOF_TARGET: '',
    CORSPROOF_TARGET_BUCKET: '',
    CORSPROOF_CHECK: '',
    ...extra,
  };
}

/**
 * Runs `f` while holding a lock shared by every Playwright worker of this checkout, so the nested
 * `playwright test` runs (hygiene, flakes, shards) — each with its own browsers and workers — take
 * turns instead of fighting over the CPU. A lock left by a dead process is taken over.
 */
export async function exclusive<T>(f: () => Promise<T>, waitMs = 300_000): Promise<T> {
  const dir = join(tmpdir(), `corsproof-reliability-${createHash('sha1').update(ROOT).digest('hex').slice(0, 8)}.lock`);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = NaN;
      try {
        holder = Number(readFileSync(join(dir, 'pid'), 'utf8'));
      } catch {
        /* being created or removed */
      }
      if (Number.isInteger(holder) && holder > 0 && !existsSync(`/proc/${holder}`)) rmSync(dir, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`waited ${waitMs} ms for ${dir} (held by pid ${holder})`);
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await f();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Waits for `child` to exit, collecting its output; kills its process group after `timeoutMs`. */
export function collect(child: ChildProcess, timeoutMs: number): Promise<Finished> {
  const started = Date.now();
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stderr += `\n[reliability] killed after ${timeoutMs} ms\n`;
      killGroup(child, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    // On exit, not on 'close': a leaked grandchild holding the output pipe must not keep this
    // waiting (it is what the hygiene checks look for). Output still in flight gets a moment.
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const ms = Date.now() - started;
      const done = () => resolve({ code, signal, stdout, stderr, ms });
      const grace = setTimeout(done, 2_000);
      child.once('close', () => {
        clearTimeout(grace);
        done();
      });
    });
  });
}

/** Signals the process group `child` leads (it must have been spawned with `detached: true`). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* gone */
    }
  }
}

/** `npx <args>` from the repository root, in its own process group (as a terminal would run it). */
export function spawnNpx(args: string[], env: NodeJS.ProcessEnv, opts: SpawnOptions = {}): ChildProcess {
  return spawn('npx', args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...opts });
}

export async function runNpx(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Finished> {
  return collect(spawnNpx(args, env), timeoutMs);
}

// ---- /proc -------------------------------------------------------------------------------------

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  /** Clock ticks since boot: with the pid, identifies one process (pids are reused). */
  starttime: number;
}

export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  //  cutime cstime priority nice threads itrealvalue starttime …"; comm may hold spaces and parens.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0]!,
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    starttime: Number(rest[19]),
  };
}

export function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number);
}

export interface SeenProcess {
  pid: number;
  starttime: number;
  ppid: number;
  cmdline: string;
  comm: string;
}

/**
 * Records every descendant of `rootPid` by polling /proc every `intervalMs`. A process is kept once
 * seen, even after it is re-parented (a detached helper whose parent died goes to init); pid and
 * start time together identify it, so a reused pid is never mistaken for it.
 */
export class ProcessTreeWatcher {
  readonly seen = new Map<string, SeenProcess>();
  private timer: NodeJS.Timeout | undefined;
  polls = 0;

  constructor(private readonly rootPid: number, private readonly intervalMs = 50) {}

  start(): this {
    this.poll();
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.poll();
  }

  poll(): void {
    this.polls++;
    const stats = allPids()
      .map(readStat)
      .filter((s): s is ProcStat => s !== undefined);
    const byPid = new Map(stats.map((s) => [s.pid, s]));
    // Seen processes still alive as themselves (a reused pid is someone else, not tracked).
    const tracked = new Set<number>([this.rootPid]);
    for (const p of this.seen.values()) if (byPid.get(p.pid)?.starttime === p.starttime) tracked.add(p.pid);
    // Fixed point: children of anything tracked (new processes may be grandchildren of new ones).
    for (let grew = true; grew; ) {
      grew = false;
      for (const s of stats) {
        if (tracked.has(s.ppid) && !tracked.has(s.pid)) {
          tracked.add(s.pid);
          grew = true;
        }
      }
    }
    for (const s of stats) {
      if (!tracked.has(s.pid) || s.pid === this.rootPid) continue;
      const id = `${s.pid}@${s.starttime}`;
      const known = this.seen.get(id);
      if (known) {
        // node's spawn shows the parent's command line until exec: keep the latest one.
        const c = readCmdline(s.pid);
        if (c) known.cmdline = c;
        known.comm = s.comm;
        continue;
      }
      this.seen.set(id, { pid: s.pid, starttime: s.starttime, ppid: s.ppid, cmdline: readCmdline(s.pid), comm: s.comm });
    }
  }

  /** Recorded processes still running now (same pid and start time, not a zombie). */
  alive(): Array<SeenProcess & { state: string }> {
    const out: Array<SeenProcess & { state: string }> = [];
    for (const p of this.seen.values()) {
      const s = readStat(p.pid);
      if (!s || s.starttime !== p.starttime) continue;
      if (s.state === 'Z' || s.state === 'X') continue;
      out.push({ ...p, state: s.state });
    }
    return out;
  }

  /** Recorded processes that are zombies now (exited, not yet reaped by their parent). */
  zombies(): SeenProcess[] {
    return [...this.seen.values()].filter((p) => {
      const s = readStat(p.pid);
      return s !== undefined && s.starttime === p.starttime && s.state === 'Z';
    });
  }
}

/** SIGKILL to `pid` only if it is still the same process (pid and start time). */
export function killExact(p: { pid: number; starttime: number }): void {
  const s = readStat(p.pid);
  if (!s || s.starttime !== p.starttime) return;
  try {
    process.kill(p.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** Resident set size in KiB, from /proc/<pid>/status VmRSS. */
export function vmRssKb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export interface Listener {
  address: string;
  port: number;
  family: 4 | 6;
}

function hexToIPv4(hex: string): string {
  // /proc/net/tcp prints the address as one 32-bit number in host (little-endian) byte order.
  const b = Buffer.from(hex, 'hex');
  return [b[3], b[2], b[1], b[0]].join('.');
}

function hexToIPv6(hex: string): string {
  // Four 32-bit words, each in host byte order.
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) {
    const w = Buffer.from(hex.slice(i, i + 8), 'hex').reverse();
    words.push(w.toString('hex'));
  }
  const groups = words.join('').match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, ''));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** TCP sockets in LISTEN state owned by `pid` (from its fds and /proc/net/tcp{,6}). */
export function listeningSockets(pid: number): Listener[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  const out: Listener[] = [];
  for (const [file, family] of [['/proc/net/tcp', 4], ['/proc/net/tcp6', 6]] as const) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9]!)) continue;
      const [addrHex, portHex] = f[1]!.split(':') as [string, string];
      out.push({ address: family === 4 ? hexToIPv4(addrHex) : hexToIPv6(addrHex), port: parseInt(portHex, 16), family });
    }
  }
  return out;
}

/** Starts `corsproof serve` with `args`; resolves once it printed its bucket and site lines. */
export async function startServe(
  args: string[],
  env: NodeJS.ProcessEnv = childEnv(),
): Promise<{ child: ChildProcess; bucketPort: number; sitePort: number; bucketUrl: string; output: () => string; exited: Promise<number | null> }> {
  // In a process group of the worker's: killed at worker exit even if a timed-out test never stops it.
  const child = owned.spawn(process.execPath, [CORSPROOF_BIN, 'serve', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let out = '';
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`corsproof serve printed nothing usable within 20 s: ${out}`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/^site /m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`corsproof serve exited (${code}): ${out}`));
    });
  });
  const bucketUrl = /^bucket (\S+)/m.exec(out)![1]!;
  const sitePort = Number(/^site http:\/\/\S+:(\d+)/m.exec(out)![1]);
  return { child, bucketPort: Number(new URL(bucketUrl).port), sitePort, bucketUrl, output: () => out, exited };
}

/** SIGINT and wait, SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}
