/**
 * Long-running daemons corsproof starts for a store (Ceph's monitor, OSD and radosgw), recorded by
 * pid *and* start time in a JSON file next to their data, so they are stopped by exactly the
 * processes that were started — never by name, and never a later process that reused a pid.
 *
 * The daemons run in the foreground of their own process group (`detached`): a Ctrl-C in the
 * terminal reaches the test runner, which then stops them in order through the recorded file, and
 * a worker that exits mid-run (Playwright restarts workers after a failure) does not take the
 * store down with it. What owns them is the run (stores/run.ts), not the process that spawned them.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface DaemonRecord {
  name: string;
  pid: number;
  /** Clock ticks since boot (/proc/<pid>/stat field 22): with the pid, identifies one process. */
  starttime: number;
  command: string;
}

/** /proc/<pid>/stat's state and start time; undefined when no such process. */
export function procStat(pid: number): { state: string; starttime: number; ppid: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid …": comm may contain spaces and parentheses.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0]!, ppid: Number(rest[1]), starttime: Number(rest[19]) };
}

/** Is this exact process (pid and start time) still running (not a zombie)? */
export function isRunning(d: Pick<DaemonRecord, 'pid' | 'starttime'>): boolean {
  const s = procStat(d.pid);
  return s !== undefined && s.starttime === d.starttime && s.state !== 'Z' && s.state !== 'X';
}

/**
 * Starts `command args` in the foreground of its own process group; stdout/stderr go to `logFile`.
 * Returns its record once the process exists.
 */
export function spawnDaemon(name: string, command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): DaemonRecord {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env });
    child.on('error', () => {}); // an exec failure shows as "exited" in the caller's wait loop
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${command}: no pid`);
    const s = procStat(child.pid);
    return { name, pid: child.pid, starttime: s?.starttime ?? -1, command: [command, ...args].join(' ') };
  } finally {
    closeSync(fd);
  }
}

/** Appends a record to the JSON list in `file` (written atomically). */
export function recordDaemon(file: string, d: DaemonRecord): void {
  const list = readRecords(file);
  list.push(d);
  writeFileSync(`${file}.tmp`, JSON.stringify(list, null, 2));
  renameSync(`${file}.tmp`, file);
}

export function readRecords(file: string): DaemonRecord[] {
  if (!existsSync(file)) return [];
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DaemonRecord[];
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stops the recorded daemons, last started first: SIGTERM to the exact process, SIGKILL after
 * `graceMs`. Returns the names of those that were still running.
 */
export async function stopDaemons(records: readonly DaemonRecord[], graceMs = 5_000): Promise<string[]> {
  const stopped: string[] = [];
  for (const d of [...records].reverse()) {
    if (!isRunning(d)) continue;
    stopped.push(`${d.name} (pid ${d.pid})`);
    signal(d, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isRunning(d) && Date.now() < deadline) await sleep(50);
    if (isRunning(d)) {
      signal(d, 'SIGKILL');
      const hard = Date.now() + 2_000;
      while (isRunning(d) && Date.now() < hard) await sleep(20);
    }
  }
  return stopped;
}

/** Synchronous SIGKILL of the recorded daemons still running (for `process.on('exit')`). */
export function killDaemonsNow(records: readonly DaemonRecord[]): void {
  for (const d of records) if (isRunning(d)) signal(d, 'SIGKILL');
}

function signal(d: DaemonRecord, sig: NodeJS.Signals): void {
  // Re-check identity right before signalling: a pid is only ever signalled as the process we started.
  if (!isRunning(d)) return;
  try {
    process.kill(d.pid, sig);
  } catch {
    /* exited meanwhile */
  }
}
