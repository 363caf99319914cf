/**
 * The CORS matrix report: one row per fixture × scenario × engine, built from the evidence each
 * browser test attaches (evidence.json). Written on every run that ran browser cases:
 *
 * - test-results/cors-matrix.json — machine-readable rows;
 * - test-results/cors-matrix.md — a compact ✅/⛔ table per fixture, ready for a CI job summary;
 * - test-results/cors-matrix.html — the same, self-contained, with each engine's own message; also
 *   copied next to Playwright's HTML report (playwright-report/cors-matrix.html).
 *
 * Divergences between engines and disagreements with the expectation are highlighted.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { FullConfig, FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';
import { describeBuild, type EngineBuild } from '../engines/types.js';
import type { CaseEvidence } from './case.js';
import { REASON_TEXT, type ReasonId } from './reasons.js';
import { rowsByTarget, storeFileSlug, storeRowFields, storeSummaries, storeSummaryHtml, storeSummaryMarkdown, type StoreRowInfo } from './store-report.js';

export interface MatrixRow {
  fixture: string;
  scenario: string;
  engine: string;
  engineBuild: string;
  expected: string;
  expectedReason?: ReasonId;
  observed: string;
  reason?: ReasonId[];
  reasonMerged?: boolean;
  engineMessage?: string;
  preflightSent: boolean;
  preflights: number;
  actualRequests: number;
  readableHeaders: string[];
  status: 'passed' | 'failed' | 'skipped' | 'timedOut' | 'interrupted';
  test: string;
  /** Where the case's bucket was: corsproof's bucket server, or a remote endpoint. */
  target: string;
  /** Against a store: what it did, and how it differs from S3 (harness/store-report.ts). */
  store?: StoreRowInfo;
}

type Evidence = CaseEvidence & { engineBuild: EngineBuild };

export function rowFromEvidence(e: Evidence, status: MatrixRow['status'], title: string): MatrixRow {
  const last = e.run.result.steps[e.run.result.steps.length - 1];
  const preflights = e.exchanges.filter((x) => x.method === 'OPTIONS').length;
  return {
    fixture: e.fixture,
    scenario: e.scenario,
    engine: e.engine,
    engineBuild: describeBuild(e.engineBuild),
    expected: e.expected.verdict,
    ...(e.expected.verdict === 'blocked' ? { expectedReason: e.expected.reason } : {}),
    observed: e.observed,
    ...(e.classification ? { reason: e.classification.reasons, reasonMerged: e.classification.merged, engineMessage: e.classification.message } : {}),
    preflightSent: preflights > 0,
    preflights,
    actualRequests: e.exchanges.length - preflights,
    readableHeaders: Object.keys(last?.readableHeaders ?? {}).sort(),
    status,
    test: title,
    ...storeRowFields(e),
  };
}

const ICON: Record<string, string> = { allowed: '✅', blocked: '⛔', hidden: '🙈' };

function cell(r: MatrixRow): string {
  const icon = ICON[r.observed] ?? '?';
  const reason = r.observed === 'blocked' && r.reason ? ` ${r.reason.join('/')}` : '';
  const wrong = r.status !== 'passed' ? ' ❌' : '';
  return `${icon}${reason}${wrong}`;
}

function group(rows: MatrixRow[]) {
  const engines = [...new Set(rows.map((r) => r.engine))].sort();
  const fixtures = new Map<string, Map<string, Map<string, MatrixRow>>>();
  for (const r of rows) {
    const f = fixtures.get(r.fixture) ?? new Map<string, Map<string, MatrixRow>>();
    fixtures.set(r.fixture, f);
    const s = f.get(r.scenario) ?? new Map<string, MatrixRow>();
    f.set(r.scenario, s);
    s.set(r.engine, r);
  }
  return { engines, fixtures: [...fixtures].sort(([a], [b]) => a.localeCompare(b)) };
}

function diverges(byEngine: Map<string, MatrixRow>): boolean {
  return new Set([...byEngine.values()].map((r) => r.observed)).size > 1;
}

/** Same verdict, but the engines name different reasons (fixtures/engine-differences.json says why). */
function wordedDifferently(byEngine: Map<string, MatrixRow>): boolean {
  // A merged classification (WebKit's one sentence for missing and mismatched Allow-Origin) counts
  // as its first reason: it is consistent with, not different from, the others.
  return new Set([...byEngine.values()].map((r) => r.reason?.[0] ?? '')).size > 1;
}

export function matrixMarkdown(rows: MatrixRow[]): string {
  const { engines, fixtures } = group(rows);
  const builds = [...new Set(rows.map((r) => `${r.engine}: ${r.engineBuild}`))].sort();
  const failed = rows.filter((r) => r.status !== 'passed').length;
  const out = [
    '# corsproof CORS matrix',
    '',
    `${rows.length} cases, ${failed} not as expected. ✅ allowed · ⛔ blocked (reason in the engine's words) · 🙈 response readable, header hidden · ❌ differs from the expectation · ⚠️ engines disagree on the verdict · ≠ engines name different reasons (see fixtures/engine-differences.json)`,
    '',
    ...builds.map((b) => `- ${b}`),
  ];
  for (const [fixture, scenarios] of fixtures) {
    out.push('', `## ${fixture}`, '', `| scenario | expected | ${engines.join(' | ')} |`, `|---|---|${engines.map(() => '---').join('|')}|`);
    for (const [scenario, byEngine] of [...scenarios].sort(([a], [b]) => a.localeCompare(b))) {
      const any = [...byEngine.values()][0]!;
      const expected = `${ICON[any.expected] ?? any.expected}${any.expectedReason ? ` ${any.expectedReason}` : ''}`;
      const flag = diverges(byEngine) ? ' ⚠️' : wordedDifferently(byEngine) ? ' ≠' : '';
      out.push(`| ${scenario}${flag} | ${expected} | ${engines.map((e) => (byEngine.get(e) ? cell(byEngine.get(e)!) : '—')).join(' | ')} |`);
    }
  }
  return out.join('\n') + '\n';
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function matrixHtml(rows: MatrixRow[]): string {
  const { engines, fixtures } = group(rows);
  const builds = [...new Set(rows.map((r) => `${r.engine}: ${r.engineBuild}`))].sort();
  const failed = rows.filter((r) => r.status !== 'passed').length;
  const sections = fixtures.map(([fixture, scenarios]) => {
    const body = [...scenarios]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([scenario, byEngine]) => {
        const any = [...byEngine.values()][0]!;
        const tds = engines
          .map((e) => {
            const r = byEngine.get(e);
            if (!r) return '<td>—</td>';
            const title = [r.engineMessage, `preflights ${r.preflights}, actual requests ${r.actualRequests}`, r.readableHeaders.length ? `readable: ${r.readableHeaders.join(', ')}` : '']
              .filter(Boolean)
              .join('\n');
            const reason = r.reason ? `<div class="reason">${esc(r.reason.map((x) => REASON_TEXT[x]).join(' / '))}</div>` : '';
            const msg = r.engineMessage ? `<div class="msg">${esc(r.engineMessage)}</div>` : '';
            return `<td class="${r.observed}${r.status !== 'passed' ? ' wrong' : ''}" title="${esc(title)}">${ICON[r.observed] ?? '?'} ${esc(r.observed)}${reason}${msg}</td>`;
          })
          .join('');
        const expected = `${ICON[any.expected] ?? ''} ${esc(any.expected)}${any.expectedReason ? ` (${esc(any.expectedReason)})` : ''}`;
        const flag = diverges(byEngine) ? ' ⚠️' : wordedDifferently(byEngine) ? ' ≠' : '';
        return `<tr class="${diverges(byEngine) ? 'diverges' : wordedDifferently(byEngine) ? 'worded' : ''}"><th>${esc(scenario)}${flag}</th><td>${expected}</td>${tds}</tr>`;
      })
      .join('\n');
    return `<section><h2 id="${esc(fixture)}">${esc(fixture)}</h2><table><thead><tr><th>scenario</th><th>expected</th>${engines
      .map((e) => `<th>${esc(e)}</th>`)
      .join('')}</tr></thead><tbody>${body}</tbody></table></section>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>corsproof CORS matrix</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em}th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
td.allowed{background:#e8f7e8}td.blocked{background:#fdecea}td.hidden{background:#fff6dd}td.wrong{outline:3px solid #d00}
tr.diverges th{background:#ffe9a8}tr.worded th{background:#eef}.reason{font-size:12px;color:#555}.msg{font:11px/1.3 ui-monospace,monospace;color:#666;max-width:40em;word-break:break-word}
nav a{margin-right:.8em}
</style></head><body>
<h1>corsproof CORS matrix</h1>
<p>${rows.length} cases, ${failed} not as expected. ✅ allowed · ⛔ blocked · 🙈 readable response, header hidden · red outline: differs from the expectation · ⚠️ engines disagree on the verdict · ≠ engines name different reasons.</p>
<ul>${builds.map((b) => `<li>${esc(b)}</li>`).join('')}</ul>
<nav>${fixtures.map(([f]) => `<a href="#${esc(f)}">${esc(f)}</a>`).join('')}</nav>
${sections.join('\n')}
</body></html>
`;
}

export default class MatrixReporter implements Reporter {
  private rows: MatrixRow[] = [];
  private outDir: string;
  private reportDir = 'playwright-report';

  constructor(options: { outputDir?: string } = {}) {
    this.outDir = options.outputDir ?? 'test-results';
  }

  onBegin(config: FullConfig): void {
    const html = config.reporter.find(([name]) => name === 'html');
    const folder = (html?.[1] as { outputFolder?: string } | undefined)?.outputFolder;
    if (folder) this.reportDir = folder;
    this.outDir = resolve(config.rootDir, this.outDir);
    this.reportDir = resolve(config.rootDir, this.reportDir);
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const a = result.attachments.find((x) => x.name === 'evidence.json');
    if (!a) return;
    try {
      const e = JSON.parse(a.body ? a.body.toString('utf8') : readFileSync(a.path!, 'utf8')) as Evidence;
      const status = result.status === test.expectedStatus ? 'passed' : result.status === 'passed' ? 'failed' : result.status;
      // A retried case keeps only its last attempt.
      this.rows = this.rows.filter((r) => !(r.fixture === e.fixture && r.scenario === e.scenario && r.engine === e.engine && r.test === test.title && r.target === e.target));
      this.rows.push(rowFromEvidence(e, status, test.title));
    } catch {
      /* not a matrix case */
    }
  }

  onEnd(_result: FullResult): void {
    if (this.rows.length === 0) return;
    mkdirSync(this.outDir, { recursive: true });
    const rows = [...this.rows].sort((a, b) => `${a.fixture}|${a.scenario}|${a.engine}`.localeCompare(`${b.fixture}|${b.scenario}|${b.engine}`));
    // One matrix per target (corsproof's server first); each store also gets its summary of
    // divergences from S3, and its own cors-matrix-<store>.{md,html} when it is not the only target.
    const targets = rowsByTarget(rows);
    const stores = storeSummaries(rows);
    writeFileSync(
      join(this.outDir, 'cors-matrix.json'),
      JSON.stringify({ generatedAt: new Date().toISOString(), targets: targets.map((t) => ({ target: t.target, ...(t.store ? { store: t.store.name ?? t.store.label, endpoint: t.store.endpoint } : {}), cases: t.rows.length })), stores, rows }, null, 2),
    );
    const [primary, ...others] = targets;
    const titled = (md: string, target: string) => md.replace(/^# corsproof CORS matrix\n/, `# corsproof CORS matrix — ${target}\n`);
    const withTarget = (html: string, target: string, extra: string) =>
      html.replace(/<\/h1>/, `</h1>\n<p class="target">Target: ${target.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</p>`).replace(/<\/body>/, `${extra}\n</body>`);
    const links = Object.fromEntries(others.filter((t) => t.store).map((t) => [t.store!.label, `cors-matrix-${storeFileSlug(t.store!.label)}.html`]));
    writeFileSync(join(this.outDir, 'cors-matrix.md'), [titled(matrixMarkdown(primary!.rows), primary!.target), storeSummaryMarkdown(stores), ...others.map((t) => titled(matrixMarkdown(t.rows), t.target).replace(/^#/gm, '##'))].join('\n'));
    const html = join(this.outDir, 'cors-matrix.html');
    writeFileSync(html, withTarget(matrixHtml(primary!.rows), primary!.target, storeSummaryHtml(stores, links)));
    const copies = [html];
    for (const t of others) {
      if (!t.store) continue;
      const slug = storeFileSlug(t.store.label);
      writeFileSync(join(this.outDir, `cors-matrix-${slug}.md`), [titled(matrixMarkdown(t.rows), t.target), storeSummaryMarkdown(stores.filter((s) => s.store === t.store!.label))].join('\n'));
      const f = join(this.outDir, `cors-matrix-${slug}.html`);
      writeFileSync(f, withTarget(matrixHtml(t.rows), t.target, storeSummaryHtml(stores.filter((s) => s.store === t.store!.label))));
      copies.push(f);
    }
    if (existsSync(this.reportDir)) {
      mkdirSync(dirname(join(this.reportDir, 'x')), { recursive: true });
      for (const f of copies) copyFileSync(f, join(this.reportDir, f.replace(/^.*\//, '')));
    }
    console.log(`CORS matrix: ${rows.length} cases → ${join(this.outDir, 'cors-matrix')}.{json,md,html}`);
  }

  printsToStdio(): boolean {
    return false;
  }
}
