/**
 * The `corsproof` binary end to end (node bin/corsproof.mjs as a child process): exit statuses,
 * where output goes, and never a stack trace. Plus the dispatcher in-process.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test, expect } from '@playwright/test';
import { main } from '../../cli/main.js';
import { NOTE_ORIGIN, memoryIo, sample } from './cli-samples/memory-io.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function corsproof(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['bin/corsproof.mjs', ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const NO_TRACE = /\n\s+at .+:\d+:\d+|Error:|node:internal/;

test.describe('node bin/corsproof.mjs', () => {
  test('lint: exit 1 on a document S3 refuses, the report on stdout; exit 0 on the note’s configuration from stdin', () => {
    const bad = corsproof(['lint', sample('bad-method.json')]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain('InvalidRequest: Found unsupported HTTP method in CORS config. Unsupported method is PATCH');
    expect(bad.err).toBe('');
    const good = corsproof(['lint', '--format', 'json', '-'], '[{"AllowedHeaders":["*"],"AllowedMethods":["GET"],"AllowedOrigins":["*"],"ExposeHeaders":[]}]');
    expect(good.code).toBe(0);
    expect(JSON.parse(good.out)).toEqual({ valid: true, shape: 'console-json', errors: [], warnings: [] });
  });

  test('explain: the note’s hands-on configuration, GET from the website origin, allowed by all three', () => {
    const r = corsproof(['explain', sample('note-hands-on.json'), '--origin', NOTE_ORIGIN, '--method', 'GET', '--format', 'json']);
    expect(r.code).toBe(0);
    const x = JSON.parse(r.out) as { rule: unknown; engines: Record<string, { verdict: string }> };
    expect(x.rule).toEqual({ index: 0 });
    expect(Object.values(x.engines).map((e) => e.verdict)).toEqual(['allowed', 'allowed', 'allowed']);
  });

  test('usage errors and unreadable files: one sentence on stderr, exit 2, no stack trace', () => {
    const cases: Array<[string[], RegExp]> = [
      [['lint', '--bogus', 'x.json'], /^Unknown option --bogus for corsproof lint/],
      [['lint', 'missing.json'], /^Cannot read missing\.json: no such file\.$/],
      [['explain', sample('note-hands-on.json'), '--origin', `${NOTE_ORIGIN}/`, '--method', 'GET'], /did you mean/],
      [['frobnicate'], /^Unknown command "frobnicate"/],
      [['check', sample('note-hands-on.json')], /^corsproof check needs at least one --origin/],
      [['check', sample('note-hands-on.json'), '--origin', `${NOTE_ORIGIN}/`], /is not how a browser writes it; a browser sends Origin: /],
      [['check', sample('note-hands-on.json'), '--origin', NOTE_ORIGIN, '--scenarios', 'teleport'], /^Unknown scenario teleport; known: /],
    ];
    for (const [args, message] of cases) {
      const r = corsproof(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim()).toMatch(message);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.err).not.toMatch(NO_TRACE);
      expect(r.out).toBe('');
    }
  });
});

test.describe('dispatcher', () => {
  test('corsproof --help lists lint, explain, check and serve, with the note’s example', async () => {
    const io = memoryIo();
    expect(await main(['--help'], io)).toBe(0);
    const out = io.out();
    for (const c of ['lint', 'explain', 'check', 'serve']) expect(out).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(out).toContain(`corsproof explain cors.json --origin ${NOTE_ORIGIN} --method GET`);
    expect(out).toContain(`corsproof check cors.json --origin ${NOTE_ORIGIN}`);
  });

  test('no command: the usage on stderr, exit 2', async () => {
    const io = memoryIo();
    expect(await main([], io)).toBe(2);
    expect(io.err()).toContain('Usage: corsproof <command>');
    expect(io.out()).toBe('');
  });

  test('every command answers --help with exit 0', async () => {
    for (const c of ['lint', 'explain', 'check']) {
      const io = memoryIo();
      expect(await main([c, '--help'], io), c).toBe(0);
      expect(io.out(), c).toContain(`Usage: corsproof ${c}`);
    }
  });
});
