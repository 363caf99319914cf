/**
 * childWithArguments (engines/processes.ts): how a Firefox session finds the browser Playwright
 * started for it (by the launch's own `--profile <dir>`), to kill it instead of waiting for its
 * shutdown. Only this process's own children count.
 */
import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { childWithArguments } from '../../engines/processes.js';

function readCmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

test('finds this process’s child by its arguments in a row, and nothing else', async () => {
  const dir = `/tmp/corsproof-child-args-${process.pid}`;
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)', '--', '--profile', dir], { stdio: 'ignore' });
  try {
    await new Promise((r) => child.once('spawn', r));
    expect(childWithArguments(['--profile', dir])).toBe(child.pid);
    // The same words, not in a row, or another directory: not that child.
    expect(childWithArguments([dir, '--profile'])).toBeUndefined();
    expect(childWithArguments(['--profile', `${dir}-other`])).toBeUndefined();
    // A grandchild (started by a child, not by this process) is never chosen.
    const sh = spawn('sh', ['-c', `"${process.execPath}" -e "setTimeout(() => {}, 30000)" -- --profile ${dir}-grand & wait`], { stdio: 'ignore', detached: true });
    try {
      const running = () => readdirSync('/proc').some((p) => /^\d+$/.test(p) && readCmdline(p).includes(`${dir}-grand`) && !readCmdline(p).startsWith('sh'));
      for (let i = 0; i < 100 && !running(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(running(), 'the grandchild started').toBe(true);
      expect(childWithArguments(['--profile', `${dir}-grand`])).toBeUndefined();
    } finally {
      process.kill(-sh.pid!, 'SIGKILL');
    }
  } finally {
    child.kill('SIGKILL');
  }
});
