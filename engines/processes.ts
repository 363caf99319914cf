/**
 * Child processes the harness starts (Xvfb, MiniBrowser), tracked by pid so they are stopped by the
 * ids we recorded, never by name.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Every group started in this process and not yet stopped. */
const live = new Set<ProcessGroup>();
let exitHook = false;

/**
 * Last resort when the harness process ends without closing its engines (an uncaught error, or a
 * worker told to exit): SIGKILL every group it started. Detached groups would otherwise outlive it.
 */
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const g of live) g.killNow();
  });
}

export class ProcessGroup {
  private readonly children: ChildProcess[] = [];

  spawn(command: string, args: string[], options: SpawnOptions): ChildProcess {
    // Own process group, so a browser's helper processes (web/network processes) stop with it.
    const child = spawn(command, args, { ...options, detached: true });
    child.on('error', () => {}); // surfaced by the caller's own 'error' listener
    this.children.push(child);
    live.add(this);
    installExitHook();
    return child;
  }

  /** Synchronous SIGKILL of every group still running (for process exit). */
  killNow(): void {
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null) killGroup(c.pid);
    }
  }

  pids(): number[] {
    return this.children.map((c) => c.pid).filter((p): p is number => typeof p === 'number');
  }

  /** SIGTERM to each group, SIGKILL after a grace period; resolves when all have exited. */
  async stopAll(graceMs = 3_000): Promise<void> {
    const running = this.children.filter((c) => c.pid !== undefined && c.exitCode === null && c.signalCode === null);
    await Promise.all(
      running.reverse().map(
        (c) =>
          new Promise<void>((resolve) => {
            const kill = (sig: NodeJS.Signals) => {
              try {
                process.kill(-c.pid!, sig);
              } catch {
                try {
                  c.kill(sig);
                } catch {
                  /* already gone */
                }
              }
            };
            const timer = setTimeout(() => kill('SIGKILL'), graceMs);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            kill('SIGTERM');
          }),
      ),
    );
    live.delete(this);
  }
}

/** SIGKILL to the process group led by `pid` (a detached child: a browser and its helpers). */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

export function execFileText(
  file: string,
  args: string[],
  timeoutMs: number,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8', env }, (err, stdout, stderr) => {
      if (err) {
        const how = err.killed ? `no answer within ${timeoutMs} ms` : err.signal ? `killed by ${err.signal}` : `exit code ${String(err.code)}`;
        reject(new Error(`${file} ${args.join(' ')} failed (${how}): ${err.message.trim()}${stdout ? `; it printed: ${stdout.trim().slice(0, 300)}` : ''}`));
      } else resolve(`${stdout}${stderr}`);
    });
  });
}

/**
 * The pid of this process's own child started with `args` in a row on its command line (for
 * Firefox, `--profile <the launch's own directory>`), or undefined when there is none or the system
 * has no /proc. For a browser Playwright started: Playwright does not tell its pid.
 */
export function childWithArguments(args: readonly string[]): number | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces: state, ppid, …
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const i = argv.indexOf(args[0]!);
      if (i >= 0 && args.every((a, j) => argv[i + j] === a)) return Number(pid);
    } catch {
      /* gone meanwhile */
    }
  }
  return undefined;
}
