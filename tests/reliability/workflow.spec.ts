/**
 * .github/workflows/corsproof.yml, checked offline with GitHub's own workflow parser
 * (`@actions/workflow-parser`, from github.com/actions/languageservices — the parser behind the
 * Actions VS Code extension, carrying GitHub's workflow schema, expression and cron checks), then
 * the facts users of the workflow rely on.
 */
import { test, expect } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import { parse as parseYaml } from 'yaml';
import { ROOT } from './helpers.js';

const FILE = join(ROOT, '.github', 'workflows', 'corsproof.yml');
const ENGINES = ['chromium', 'firefox', 'webkit'];

/**
 * Every error GitHub's parser reports for each document (schema, then job graph, cron, expressions),
 * through validate-workflow.ts in a tsx child process (see there why).
 */
function workflowErrors(contents: string[]): string[][] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'validate-workflow.ts'), '--stdin-json'], {
    cwd: ROOT,
    input: JSON.stringify(contents),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`validate-workflow.ts failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as string[][];
}

type Context = { [k: string]: string | Context };

function toData(v: string | Context): data.ExpressionData {
  if (typeof v === 'string') return new data.StringData(v);
  return new data.Dictionary(...Object.entries(v).map(([key, value]) => ({ key, value: toData(value) })));
}

/** Evaluates a `${{ … }}` expression as GitHub would, with the given contexts (inputs, needs, …). */
function evaluateWith(expression: string, contexts: Context): unknown {
  const m = /^\$\{\{(.*)\}\}$/s.exec(expression.trim());
  if (!m) throw new Error(`not an expression: ${expression}`);
  const lexed = new Lexer(m[1]!).lex();
  const expr = new Parser(lexed.tokens, Object.keys(contexts), []).parse();
  return JSON.parse(JSON.stringify(new Evaluator(expr, toData(contexts) as data.Dictionary).evaluate(), data.replacer));
}
const evaluate = (expression: string, inputs: Record<string, string>) => evaluateWith(expression, { inputs });

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; if?: string };
type Job = {
  needs?: string | string[];
  outputs?: Record<string, string>;
  if?: string;
  steps: Step[];
  strategy?: { matrix: Record<string, unknown>; 'max-parallel'?: string | number };
  container?: { image: string } | string;
  env?: Record<string, string>;
};
type Workflow = { on: Record<string, any>; env?: Record<string, string>; jobs: Record<string, Job> };

const content = readFileSync(FILE, 'utf8');
const wf = parseYaml(content) as Workflow;
const runs = (job: Job) => job.steps.map((s) => s.run ?? '').join('\n');

test('is a valid workflow by GitHub\'s own parser, which does reject broken ones', () => {
  // The validator is not vacuous: each of these one-line breakages is reported.
  const breakages: Array<[string, string]> = [
    ['runs-on: ubuntu-latest', 'runs-onn: ubuntu-latest'],
    ["cron: '17 3 * * *'", "cron: '17 25 * * *'"],
    ['needs: [once, browsers]', 'needs: [once, browser]'],
    ['type: choice', 'type: choise'],
    ['fromJSON((inputs.engine', 'fromJSN((inputs.engine'],
  ];
  const broken = breakages.map(([from, to]) => content.replace(from, to));
  breakages.forEach(([from], i) => expect(broken[i], `${String(from)} is in the workflow`).not.toBe(content));
  const [errors, ...brokenErrors] = workflowErrors([content, ...broken]);
  expect(errors).toEqual([]);
  breakages.forEach(([from], i) => expect(brokenErrors[i], `breaking ${String(from)}`).not.toEqual([]));
});

test('runs on push, pull_request, a nightly schedule and by hand with engine and config inputs', () => {
  expect(Object.keys(wf.on).sort()).toEqual(['pull_request', 'push', 'schedule', 'workflow_dispatch']);
  const cron = (wf.on['schedule'] as Array<{ cron: string }>)[0]!.cron;
  expect(cron.split(' ').slice(2), 'once a day').toEqual(['*', '*', '*']);
  const inputs = wf.on['workflow_dispatch'].inputs;
  expect(inputs.engine.type).toBe('choice');
  expect(inputs.engine.options).toEqual(['all', ...ENGINES]);
  expect(inputs.engine.default).toBe('all');
  expect(inputs.config.required).toBe(false);
  // The configuration path reaches every job as CORSPROOF_CONFIG.
  expect(wf.env?.['CORSPROOF_CONFIG']).toBe('${{ inputs.config }}');
});

test('shards every engine in two and uploads blob reports', () => {
  const job = wf.jobs['browsers']!;
  const matrix = job.strategy!.matrix;
  const engineExpr = matrix['engine'] as string;
  // Scheduled, push and pull_request runs have no inputs: every engine.
  expect(evaluate(engineExpr, {})).toEqual(ENGINES);
  expect(evaluate(engineExpr, { engine: '' })).toEqual(ENGINES);
  expect(evaluate(engineExpr, { engine: 'all' })).toEqual(ENGINES);
  for (const e of ENGINES) expect(evaluate(engineExpr, { engine: e })).toEqual([e]);
  expect(matrix['shard']).toEqual([1, 2]);
  expect(matrix['shard-total']).toEqual([2]);
  const steps = runs(job);
  expect(steps).toContain('npm ci');
  expect(steps).toContain('npx playwright install --with-deps ${{ matrix.engine }}');
  expect(steps).toContain(
    'npx playwright test --project=${{ matrix.engine }} --shard=${{ matrix.shard }}/${{ matrix.shard-total }} --reporter=blob',
  );
  const upload = job.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
  expect(upload?.with?.['path']).toBe('blob-report/');
  expect(upload?.with?.['name']).toBe('blob-report-${{ matrix.engine }}-${{ matrix.shard }}');
  // Shards of different engines must not overwrite each other's blob when merged into one folder.
  const run = job.steps.find((s) => s.run?.includes('--reporter=blob'));
  expect(run?.env?.['PLAYWRIGHT_BLOB_OUTPUT_NAME']).toBe('report-${{ matrix.engine }}-${{ matrix.shard }}.zip');
});

test('with a remote target configured, runs the shards one at a time and gives only them the secrets', () => {
  const plan = wf.jobs['plan']!;
  expect(plan.steps.map((st) => st.run ?? '').join('\n')).toContain("remote=${{ secrets.CORSPROOF_TARGET != '' }}");
  const browsers = wf.jobs['browsers']!;
  expect([browsers.needs ?? []].flat()).toContain('plan');
  const maxParallel = String(browsers.strategy!['max-parallel']);
  expect(evaluateWith(maxParallel, { needs: { plan: { outputs: { remote: 'true' } } } })).toBe(1);
  expect(evaluateWith(maxParallel, { needs: { plan: { outputs: { remote: 'false' } } } })).toBe(6);
  const secrets = ['CORSPROOF_TARGET', 'CORSPROOF_TARGET_BUCKET', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'];
  for (const name of secrets) expect(browsers.env?.[name], name).toBe(`\${{ secrets.${name} }}`);
  for (const [id, job] of Object.entries(wf.jobs)) {
    if (id === 'browsers' || id === 'plan') continue;
    expect(JSON.stringify(job), `${id} sees no secret`).not.toContain('secrets.');
  }
  expect(JSON.stringify(wf.env ?? {})).not.toContain('secrets.');
});

test('runs unit, server, e2e and reliability once, not per shard', () => {
  const once = wf.jobs['once']!;
  expect(once.strategy).toBeUndefined();
  expect(runs(once)).toContain('--project=unit --project=server --project=e2e --project=reliability --project=package --reporter=blob');
  expect(runs(wf.jobs['browsers']!)).not.toMatch(/--project=(unit|server|e2e|reliability|package)/);
});

test('merges every blob report after the shards into one HTML report and the job summary', () => {
  const merge = wf.jobs['merge']!;
  const needs = [merge.needs ?? []].flat();
  expect(needs).toEqual(expect.arrayContaining(['browsers', 'once']));
  expect(merge.if, 'merges even when a shard failed').toBe('${{ !cancelled() }}');
  const download = merge.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'));
  expect(download?.with).toMatchObject({ path: 'all-blob-reports', pattern: 'blob-report-*', 'merge-multiple': true });
  const steps = runs(merge);
  expect(steps).toContain('npx playwright merge-reports --reporter=html,json ./all-blob-reports');
  expect(steps).toMatch(/if \[ -f test-results\/cors-matrix\.md \]; then\s+cat test-results\/cors-matrix\.md >> "\$GITHUB_STEP_SUMMARY"/);
  const upload = merge.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
  expect(String(upload?.with?.['path'])).toContain('playwright-report/');
  // Blob uploads happen even when tests failed, so a failing shard still reaches the report.
  for (const id of ['once', 'browsers']) {
    const up = wf.jobs[id]!.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(up?.if, `${id} uploads its blob whatever happened`).toBe('${{ !cancelled() }}');
  }
});

test('runs the README test command on the system-browser path in debian:12', () => {
  const job = wf.jobs['system-browsers']!;
  const image = typeof job.container === 'string' ? job.container : job.container?.image;
  expect(image).toBe('debian:12');
  expect(job.env?.['CORSPROOF_BROWSERS']).toBe('system');
  expect(job.steps.some((s) => s.uses?.startsWith('actions/setup-node@') && String(s.with?.['node-version']) === '20')).toBe(true);
  expect(job.steps.map((s) => s.run?.trim())).toContain('npm test');
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  expect(readme).toContain('npm test ');
});
