/**
 * Child processes the harness starts (Xvfb, MiniBrowser), tracked by pid so they are stopped by the
 * ids we recorded, never by name.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

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
      if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) continue;
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
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
