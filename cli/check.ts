/**
 * `corsproof check <file> --origin O [--origin O2 …]`: prove a configuration in real Chromium,
 * Firefox and WebKit. The page is served from each given origin (its host name mapped to loopback
 * inside the engines), the standard scenarios run against a bucket holding the configuration, and
 * every engine's verdict is checked against what S3 + the Fetch standard say — by the matrix
 * suite's own case runner and rules, in this process (harness/check-run.ts). With --report the same
 * cases run as the matrix suite itself (tests/browser/verdicts.spec.ts, driven by a plan file) for
 * Playwright's HTML report and traces. Either way: the cors-matrix files, then one summary line per
 * origin × engine.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config as loadDotenv } from 'dotenv';
import { chooseEngine } from '../engines/select.js';
import type { EngineName } from '../engines/types.js';
import { parseCorsConfiguration } from '../servers/s3/cors/index.js';
import { CHECK_ENV, checkFixtureId, type CheckPlan } from '../harness/check-plan.js';
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
  --report              also write Playwright's HTML report, with traces of failed cases
                        (npx playwright show-report): the cases then run as Playwright tests,
                        which takes ≈ 1.6× as long
  -h, --help            this help

With CORSPROOF_TARGET, CORSPROOF_TARGET_BUCKET and AWS credentials set (.env), the requests go to
that real endpoint's bucket instead of corsproof's bucket server.

Output: test-results/cors-matrix.{html,md,json}, each case's evidence (evidence.json: the engine's
message, its network events, the bucket's record of every exchange; transcript.txt) under
test-results/check/, and one line per origin × engine. Exit 0 when every engine did what S3 + the
standard say.

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
  const all = loadScenarios();
  const scenarioIds = all.map((s) => s.id);
  if (wantsHelp(argv)) {
    io.stdout.write(CHECK_HELP.replace('${SCENARIOS}', scenarioIds.join(', ')));
    return EXIT_OK;
  }
  try {
    const { values, positionals } = parseCommandArgs('check', argv, {
      origin: { type: 'string', multiple: true },
      scenarios: { type: 'string' },
      engines: { type: 'string' },
      report: { type: 'boolean' },
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
    // The summary reads this run's matrix, never an earlier one's.
    rmSync(join(out, 'test-results', 'cors-matrix.json'), { force: true });
    const plan: CheckPlan = { source: displayName(file), config: parsed.config, origins, ...(scenarios ? { scenarios } : {}) };
    const chosen = scenarios ?? scenarioIds;
    if (values.report) {
      const code = await playwrightRun(plan, engines, out);
      io.stdout.write(checkSummary(origins, engines, chosen, out));
      return code;
    }
    // The project's .env (CORSPROOF_TARGET and credentials, pinned ports), as the Playwright run reads it.
    loadDotenv({ quiet: true });
    io.stdout.write(`corsproof check: ${plan.source}, ${chosen.length} scenarios in ${engines.join(', ')} for ${origins.join(', ')}\n`);
    const target = process.env['CORSPROOF_TARGET']?.trim();
    if (target?.startsWith('http:') && origins.some((o) => o.startsWith('https:'))) {
      io.stdout.write(`note: ${target} is plain http: from an https page that is mixed content, which WebKit blocks even on loopback (Chromium and Firefox allow it there only).\n`);
    }
    const { runCheck } = await import('../harness/check-run.js');
    const lanes = await runCheck({
      plan,
      scenarios: chosen.map((id) => all.find((s) => s.id === id)!),
      engines: engines as EngineName[],
      outDir: out,
      progress: (line) => io.stdout.write(`${line}\n`),
    });
    for (const lane of lanes) {
      for (const f of lane.failures) {
        io.stdout.write(`\n✗ ${lane.engine} ${lane.origin} ${f.title}\n${f.problems.map((p) => `  - ${p.replace(/\n/g, '\n    ')}`).join('\n')}\n${f.sideBySide.replace(/^/gm, '    ')}\n  evidence: ${f.evidence}\n`);
      }
    }
    const errors = new Map(lanes.filter((l) => l.errors.length).map((l) => [`${l.origin} ${l.engine}`, l.errors]));
    io.stdout.write(checkSummary(origins, engines, chosen, out, { errors }));
    const ok = lanes.every((l) => !l.errors.length && !l.failures.length && l.rows.length === chosen.length);
    return ok ? EXIT_OK : EXIT_INVALID;
  } catch (e) {
    if (e instanceof UsageError) return usageExit(e, io);
    io.stderr.write(`corsproof check failed: ${(e as Error).message}\n`);
    return EXIT_INVALID;
  }
}

/** `check --report`: the matrix suite on the plan, as Playwright tests (its HTML report and traces). */
async function playwrightRun(plan: CheckPlan, engines: readonly string[], out: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'corsproof-check-'));
  const planFile = join(dir, 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan, null, 2));
  const projects = plan.origins.flatMap((o) => engines.map((e) => (plan.origins.length === 1 ? e : `${e} ${o}`)));
  try {
    return await new Promise<number>((resolve, reject) => {
      // Playwright's command line wherever npm put it (hoisted next to corsproof in a user's project).
      const cli = createRequire(import.meta.url).resolve('@playwright/test/cli');
      const child = spawn(process.execPath, [cli, 'test', '--config', CONFIG, ...projects.map((p) => `--project=${p}`)], {
        cwd: process.cwd(),
        env: { ...process.env, [CHECK_ENV]: planFile, CORSPROOF_OUTPUT_DIR: out, CORSPROOF_TRACE: process.env['CORSPROOF_TRACE'] ?? 'retain-on-failure' },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      child.once('error', reject);
      child.once('exit', (c, signal) => resolve(c ?? (signal ? 130 : 1)));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One line per origin × engine from test-results/cors-matrix.json. `errors` (the runner's own
 * lanes): why an origin × engine, or some of its cases, did not run; without them (--report)
 * Playwright's report says why.
 */
export function checkSummary(origins: string[], engines: readonly string[], scenarios: readonly string[], out: string, own?: { errors: ReadonlyMap<string, readonly string[]> }): string {
  const file = join(out, 'test-results', 'cors-matrix.json');
  if (!existsSync(file)) {
    const errors = [...(own?.errors ?? [])].map(([lane, e]) => `  ${lane}: ${e[0]!.split('\n')[0]}`);
    return ['', 'No matrix was written (the run did not get to the browser cases).', ...errors, ''].join('\n');
  }
  const rows = (JSON.parse(readFileSync(file, 'utf8')) as { rows: MatrixRow[] }).rows;
  const lines = ['', 'corsproof check — per page origin and engine:'];
  for (const origin of origins) {
    const id = checkFixtureId(origin);
    for (const engine of engines) {
      const r = rows.filter((x) => x.fixture === id && x.engine === engine);
      const errors = own?.errors.get(`${origin} ${engine}`) ?? [];
      const why = (e: readonly string[]) => e.map((x) => `      ${x.split('\n')[0]}`);
      if (!r.length) {
        lines.push(`  ${origin}  ${engine.padEnd(8)}  no results (the engine did not run${own ? '' : ': see the report'})`, ...why(errors));
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
      if (unrun.length) lines.push(`      did not run${own ? '' : ' (see the report)'}: ${unrun.join(', ')}`, ...why(errors));
      if (blocked.length) lines.push(`      blocked: ${blocked.join(', ')}`);
    }
  }
  lines.push('', own ? 'Matrix: test-results/cors-matrix.html (and .md, .json)   Each case: test-results/check/' : 'Report: npx playwright show-report   Matrix: test-results/cors-matrix.md', '');
  return lines.join('\n');
}
