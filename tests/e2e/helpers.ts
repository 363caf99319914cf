/** Running corsproof's own commands as child processes, the way a user does. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ProcessGroup } from '../../engines/processes.js';

const owned = new ProcessGroup();

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion in `cwd` (killed with SIGINT after `timeoutMs`), capturing its output. */
export function runCommand(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, cwd = ROOT): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** Starts `corsproof serve` and resolves with its bucket URL once it printed it. */
export function startServe(env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; bucket: string; stop(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    // In a process group of the worker's: killed at worker exit even if a timed-out test never stops it.
    const child = owned.spawn(process.execPath, [join(ROOT, 'bin/corsproof.mjs'), 'serve'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`corsproof serve printed no bucket line within 20 s: ${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^bucket (http:\/\/\S+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          child,
          bucket: m[1]!,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`corsproof serve exited (${code}) before printing its bucket line: ${out}`)));
  });
}

interface JsonSuite {
  suites?: JsonSuite[];
  specs?: Array<{ title: string; tests: Array<{ projectName: string; status: string; annotations: Array<{ type: string; description?: string }> }> }>;
}

/** Per project: tests run and how they ended, from a Playwright JSON report. */
export function tally(report: { suites: JsonSuite[] }): Record<string, { expected: number; other: number; engines: string[] }> {
  const out: Record<string, { expected: number; other: number; engines: string[] }> = {};
  const walk = (s: JsonSuite) => {
    for (const x of s.suites ?? []) walk(x);
    for (const spec of s.specs ?? []) {
      for (const t of spec.tests) {
        const p = (out[t.projectName] ??= { expected: 0, other: 0, engines: [] });
        if (t.status === 'expected') p.expected++;
        else p.other++;
        for (const a of t.annotations) if (a.type === 'engine' && a.description && !p.engines.includes(a.description)) p.engines.push(a.description);
      }
    }
  };
  for (const s of report.suites) walk(s);
  return out;
}
