/**
 * `corsproof check <file> --origin O [--origin O2 …]`: prove a configuration in real Chromium,
 * Firefox and WebKit. It is the matrix suite itself (tests/browser/verdicts.spec.ts), driven by a
 * plan file instead of the fixtures: the page is served from each given origin (its host name
 * mapped to loopback inside the engines), the standard scenarios run against a bucket holding the
 * configuration, and every engine's verdict is checked against what S3 + the Fetch standard say.
 * Writes the same HTML report and cors-matrix files, then one summary line per origin × engine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseEngine } from '../engines/select.js';
import type { EngineName } from '../engines/types.js';
import { parseCorsConfiguration } from '../servers/s3/cors/index.js';
import { CHECK_ENV, type CheckPlan } from '../harness/check-plan.js';
import { loadScenarios } from '../harness/data.js';
import { pageOriginListen } from '../harness/arrangements.js';
import type { MatrixRow } from '../harness/matrix-reporter.js';
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE, UsageError, usageExit, displayName, onePositional, parseCommandArgs, readDocument, wantsHelp, type Io } from './args.js';

/** Where playwright.config and the matrix spec are: the clone, or dist/ of the installed package. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONFIG = join(ROOT, readdirSync(ROOT).find((f) => /^playwright\.config\.(ts|js)$/.test(f)) ?? 'playwright.config.ts');
/** scripts/provision.mjs (the clone's, or the copy in the installed package's dist/). */
const PROVISION = fileURLToPath(new URL('../scripts/provision.mjs', import.meta.url));
const ENGINES = ['chromium', 'firefox', 'webkit'] as const;

export const CHECK_HELP = `Usage: corsproof check <file> --origin <origin> [--origin <origin> ...] [options]

Proves an S3 bucket CORS configuration in real Chromium, Firefox and WebKit: serves a page from
each origin you name (the host name resolves to this machine inside the test browsers only), runs
the standard request scenarios against a bucket with your configuration, and checks that every
engine blocks or allows each request as S3 and the Fetch standard say it must. <file> is console
JSON, CLI JSON or PutBucketCors XML ("-" reads stdin).

Options:
  --origin <origin>     a page origin, as browsers write it (scheme://host[:port]); repeatable.
                        The browsers see exactly that origin (80/443 by default); corsproof
                        routes it to a free local port, so no root is needed.
  --scenarios a,b,...   only these scenarios (default: all: ${'${SCENARIOS}'})
  --engines a,b,...     only these engines (default: chromium,firefox,webkit)
  -h, --help            this help

With CORSPROOF_TARGET, CORSPROOF_TARGET_BUCKET and AWS credentials set (.env), the requests go to
that real endpoint's bucket instead of corsproof's bucket server.

Output: the Playwright HTML report (npx playwright show-report), test-results/cors-matrix.{json,md,html},
and one line per origin × engine. Exit 0 when every engine did what S3 + the standard say.

Example (the S3 CORS note's configuration and its website origin):
  corsproof check cors.json --origin http://my-bucket-html.s3-website-eu-west-1.amazonaws.com
`;

function list(value: string | undefined, known: readonly string[], what: string): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = items.filter((i) => !known.includes(i));
  if (unknown.length) throw new UsageError(`Unknown ${what} ${unknown.join(', ')}; known: ${known.join(', ')}.`);
  return items;
}

export async function check(argv: string[], io: Io): Promise<number> {
  const scenarioIds = loadScenarios().map((s) => s.id);
  if (wantsHelp(argv)) {
    io.stdout.write(CHECK_HELP.replace('${SCENARIOS}', scenarioIds.join(', ')));
    return EXIT_OK;
  }
  try {
    const { values, positionals } = parseCommandArgs('check', argv, {
      origin: { type: 'string', multiple: true },
      scenarios: { type: 'string' },
      engines: { type: 'string' },
    });
    const file = onePositional('check', positionals, 'a CORS configuration file');
    const origins = values.origin ?? [];
    if (origins.length === 0) throw new UsageError('corsproof check needs at least one --origin, the origin your pages are served from (see corsproof check --help).');
    for (const o of origins) {
      try {
        pageOriginListen(o);
      } catch (e) {
        throw new UsageError(`${(e as Error).message}.`);
      }
    }
    const scenarios = list(values.scenarios, scenarioIds, 'scenario');
    const engines = list(values.engines, ENGINES, 'engine') ?? [...ENGINES];

    const parsed = parseCorsConfiguration(await readDocument(file, io));
    if (!parsed.ok) {
      io.stderr.write(`${displayName(file)}: S3 would refuse this configuration (${parsed.error.code}: ${parsed.error.message}); run corsproof lint ${displayName(file)} for details.\n`);
      return EXIT_INVALID;
    }

    // Engines missing? Provision them as `npm start` does (Playwright's builds, else Debian's as root,
    // else a message); an engine still missing then fails its tests with what to install.
    // A system build found on disk settles it without loading Playwright (≈ 0.7 s of the CLI's start);
    // only an engine without one asks Playwright whether its own build is installed.
    const onDisk = { bundledPath: () => undefined, exists: existsSync };
    const missing = engines.filter((e) => !chooseEngine(e as EngineName, process.env, onDisk).ok);
    const { realProbe } = missing.length ? await import('../engines/index.js') : { realProbe: undefined };
    if (missing.some((e) => !chooseEngine(e as EngineName, process.env, realProbe!).ok)) {
      spawnSync(process.execPath, [PROVISION], { stdio: ['ignore', 'inherit', 'inherit'] });
    }
    // Results go under the directory corsproof runs in (the user's project), never into the package.
    const out = resolve(process.env['CORSPROOF_OUTPUT_DIR'] ?? process.cwd());
    const dir = mkdtempSync(join(tmpdir(), 'corsproof-check-'));
    const planFile = join(dir, 'plan.json');
    const plan: CheckPlan = { source: displayName(file), config: parsed.config, origins, ...(scenarios ? { scenarios } : {}) };
    writeFileSync(planFile, JSON.stringify(plan, null, 2));
    const projects = origins.flatMap((o) => engines.map((e) => (origins.length === 1 ? e : `${e} ${o}`)));
    const code = await new Promise<number>((resolve, reject) => {
      // Playwright's command line wherever npm put it (hoisted next to corsproof in a user's project).
      const cli = createRequire(import.meta.url).resolve('@playwright/test/cli');
      const child = spawn(process.execPath, [cli, 'test', '--config', CONFIG, ...projects.map((p) => `--project=${p}`)], {
        cwd: process.cwd(),
        env: { ...process.env, [CHECK_ENV]: planFile, CORSPROOF_OUTPUT_DIR: out },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.once('error', reject);
      child.once('exit', (c, signal) => resolve(c ?? (signal ? 130 : 1)));
    });
    rmSync(dir, { recursive: true, force: true });
    io.stdout.write(checkSummary(origins, engines, scenarios ?? scenarioIds, out));
    return code;
  } catch (e) {
    if (e instanceof UsageError) return usageExit(e, io);
    io.stderr.write(`corsproof check failed: ${(e as Error).message}\n`);
    return EXIT_INVALID;
  }
}

/** One line per origin × engine from test-results/cors-matrix.json. */
export function checkSummary(origins: string[], engines: readonly string[], scenarios: readonly string[], out: string): string {
  const file = join(out, 'test-results', 'cors-matrix.json');
  if (!existsSync(file)) return '\nNo matrix was written (the run did not get to the browser cases).\n';
  const rows = (JSON.parse(readFileSync(file, 'utf8')) as { rows: MatrixRow[] }).rows;
  const lines = ['', 'corsproof check — per page origin and engine:'];
  for (const origin of origins) {
    const id = `check-${new URL(origin).host.replace(/[^a-z0-9]+/gi, '-')}`;
    for (const engine of engines) {
      const r = rows.filter((x) => x.fixture === id && x.engine === engine);
      if (!r.length) {
        lines.push(`  ${origin}  ${engine.padEnd(8)}  no results (the engine did not run: see the report)`);
        continue;
      }
      const count = (v: string) => r.filter((x) => x.observed === v).length;
      const wrong = r.filter((x) => x.status !== 'passed');
      // A case whose test failed before the engine ran it (e.g. the engine did not start) has no row.
      const unrun = scenarios.filter((id) => !r.some((x) => x.scenario === id));
      const blocked = r.filter((x) => x.observed === 'blocked').map((x) => x.scenario);
      lines.push(
        `  ${origin}  ${engine.padEnd(8)}  ${count('allowed')} allowed, ${count('blocked')} blocked, ${count('hidden')} header hidden` +
          `${wrong.length ? `  — ${wrong.length} NOT as S3 + the standard predict: ${wrong.map((x) => x.scenario).join(', ')}` : unrun.length ? '' : '  — all as predicted'}`,
      );
      if (unrun.length) lines.push(`      did not run (see the report): ${unrun.join(', ')}`);
      if (blocked.length) lines.push(`      blocked: ${blocked.join(', ')}`);
    }
  }
  lines.push('', 'Report: npx playwright show-report   Matrix: test-results/cors-matrix.md', '');
  return lines.join('\n');
}
