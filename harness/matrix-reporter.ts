/**
 * The CORS matrix report: one row per fixture × scenario × engine, built from the evidence each
 * browser test attaches (evidence.json). Written on every run that ran browser cases:
 *
 * - test-results/cors-matrix.json — machine-readable rows;
 * - test-results/cors-matrix.md — a compact ✅/⛔ table per fixture, ready for a CI job summary;
 * - test-results/cors-matrix.html — self-contained, no JavaScript: an overview grid first (every
 *   fixture × scenario × engine as one coloured cell linking to its details), then the same tables
 *   as the Markdown with each engine's own message; also copied next to Playwright's HTML report
 *   (playwright-report/cors-matrix.html).
 *
 * Divergences between engines and disagreements with the expectation are highlighted.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { FullConfig, FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';
import { describeBuild, type EngineBuild } from '../engines/types.js';
import type { CaseEvidence } from './case.js';
import { REASON_TEXT, type ReasonId } from './reasons.js';
import { draftProfile, rowsByTarget, storeFileSlug, storeRowFields, storeSummaries, storeSummaryHtml, storeSummaryMarkdown, type StoreRowInfo } from './store-report.js';

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
  /** False against a remote endpoint: then preflights and actualRequests are 0 because nothing recorded them. */
  serverRecord: boolean;
  preflights: number;
  actualRequests: number;
  readableHeaders: string[];
  status: 'passed' | 'failed' | 'skipped' | 'timedOut' | 'interrupted';
  test: string;
  /** Where the case's bucket was: corsproof's bucket server, or a remote endpoint. */
  target?: string;
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
    serverRecord: e.serverRecord !== false,
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

/** The anchor of one fixture × scenario × engine cell of the detailed tables (ids are [a-z0-9-]). */
export function cellId(fixture: string, scenario: string, engine: string): string {
  const slug = (x: string) => x.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return `m-${slug(fixture)}--${slug(scenario)}--${slug(engine)}`;
}

/** What one overview cell shows: its class (colour) and the sentence a screen reader and the tooltip give. */
function overviewCell(r: MatrixRow | undefined, fixture: string, scenario: string, engine: string, divergent: boolean): { cls: string; label: string } {
  if (!r) return { cls: 'none', label: `${fixture} × ${scenario} in ${engine}: no result (the case did not run)` };
  const reason = r.observed === 'blocked' ? (r.reason ? ` (${r.reason.join(' or ')})` : ' (no CORS message)') : '';
  const test = r.status === 'passed' ? '' : `; test ${r.status === 'failed' ? 'FAILED' : r.status}, expected ${r.expected}${r.expectedReason ? ` (${r.expectedReason})` : ''}`;
  const cls = [r.status === 'passed' ? r.observed : 'failed', ...(divergent ? ['diverges'] : [])].join(' ');
  return { cls, label: `${fixture} × ${scenario} in ${engine}: ${r.observed}${reason}${test}${divergent ? '; the engines disagree on the verdict' : ''}` };
}

/**
 * The overview: one row per fixture, one column group per scenario, one cell per engine inside it,
 * coloured by the verdict (green allowed, red blocked, amber hidden), dark with a white cross where
 * the test failed, with an orange frame where the engines disagree; each cell links to its row in
 * the detailed tables below.
 */
export function matrixOverviewHtml(rows: MatrixRow[]): string {
  const { engines, fixtures } = group(rows);
  const scenarios = [...new Set(rows.map((r) => r.scenario))].sort();
  const letter = (e: string) => e.slice(0, 1).toUpperCase();
  const head =
    `<tr><th scope="col" rowspan="2" class="corner">fixture \\ scenario</th>${scenarios
      .map((s) => `<th scope="colgroup" colspan="${engines.length}" class="scn"><span>${esc(s)}</span></th>`)
      .join('')}</tr>` +
    `<tr>${scenarios.map(() => engines.map((e) => `<th scope="col" class="eng" title="${esc(e)}"><abbr title="${esc(e)}">${esc(letter(e))}</abbr></th>`).join('')).join('')}</tr>`;
  const body = fixtures
    .map(([fixture, byScenario]) => {
      const cells = scenarios
        .map((scenario) => {
          const byEngine = byScenario.get(scenario) ?? new Map<string, MatrixRow>();
          const divergent = diverges(byEngine);
          return engines
            .map((engine, i) => {
              const { cls, label } = overviewCell(byEngine.get(engine), fixture, scenario, engine, divergent);
              const edge = i === 0 ? ' first' : i === engines.length - 1 ? ' last' : '';
              const inner = byEngine.get(engine) ? `<a href="#${cellId(fixture, scenario, engine)}" title="${esc(label)}" aria-label="${esc(label)}"></a>` : `<span title="${esc(label)}" aria-label="${esc(label)}"></span>`;
              return `<td class="${cls}${edge}">${inner}</td>`;
            })
            .join('');
        })
        .join('');
      return `<tr><th scope="row"><a href="#${esc(fixture)}">${esc(fixture)}</a></th>${cells}</tr>`;
    })
    .join('\n');
  const counts = engines
    .map((e) => {
      const mine = rows.filter((r) => r.engine === e);
      const n = (f: (r: MatrixRow) => boolean) => mine.filter(f).length;
      const failed = n((r) => r.status !== 'passed');
      return `<li><b>${esc(e)}</b>: ${n((r) => r.observed === 'allowed')} allowed, ${n((r) => r.observed === 'blocked')} blocked, ${n((r) => r.observed === 'hidden')} hidden${failed ? `, <b class="bad">${failed} failed</b>` : ', no failed test'}</li>`;
    })
    .join('');
  const divergences = [...fixtures].reduce((n, [, byScenario]) => n + [...byScenario.values()].filter(diverges).length, 0);
  return `<section class="overview" aria-labelledby="overview">
<h2 id="overview">Overview</h2>
<ul class="counts">${counts}<li>${divergences ? `<b class="bad">${divergences} fixture × scenario pairs where the engines disagree</b>` : 'the engines agree on every verdict'}</li></ul>
<ul class="legend" aria-label="legend">
<li><span class="key allowed"></span> allowed</li><li><span class="key blocked"></span> blocked</li><li><span class="key hidden"></span> hidden (readable, header not exposed)</li><li><span class="key failed"></span> test failed (not as expected)</li><li><span class="key diverges"></span> engines disagree</li><li><span class="key none"></span> no result</li>
<li>${engines.map((e) => `<b>${esc(letter(e))}</b> ${esc(e)}`).join(' · ')} — each cell links to its details</li>
</ul>
<table class="grid"><caption>Every case: fixtures (rows) × scenarios (columns), one cell per engine</caption><thead>${head}</thead><tbody>${body}</tbody></table>
</section>`;
}

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
            const record = r.serverRecord ? `preflights ${r.preflights}, actual requests ${r.actualRequests}` : 'no server record (remote endpoint)';
            const title = [r.engineMessage, record, r.readableHeaders.length ? `readable: ${r.readableHeaders.join(', ')}` : ''].filter(Boolean).join('\n');
            const reason = r.reason ? `<div class="reason">${esc(r.reason.map((x) => REASON_TEXT[x]).join(' / '))}</div>` : '';
            const msg = r.engineMessage ? `<div class="msg">${esc(r.engineMessage)}</div>` : '';
            const wrong = r.status !== 'passed' ? ` <b class="bad">test ${esc(r.status)}</b>` : '';
            return `<td id="${cellId(fixture, scenario, e)}" class="${r.observed}${r.status !== 'passed' ? ' wrong' : ''}" title="${esc(title)}">${esc(r.observed)}${wrong}${reason}${msg}</td>`;
          })
          .join('');
        const expected = `${esc(any.expected)}${any.expectedReason ? ` (${esc(any.expectedReason)})` : ''}`;
        const flag = diverges(byEngine) ? ' ⚠' : wordedDifferently(byEngine) ? ' ≠' : '';
        return `<tr class="${diverges(byEngine) ? 'diverges' : wordedDifferently(byEngine) ? 'worded' : ''}"><th scope="row">${esc(scenario)}${flag}</th><td>${expected}</td>${tds}</tr>`;
      })
      .join('\n');
    return `<section><h2 id="${esc(fixture)}">${esc(fixture)} <a class="up" href="#overview">↑ overview</a></h2><table class="detail"><thead><tr><th scope="col">scenario</th><th scope="col">expected</th>${engines
      .map((e) => `<th scope="col">${esc(e)}</th>`)
      .join('')}</tr></thead><tbody>${body}</tbody></table></section>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>corsproof CORS matrix</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h2 .up{font-size:12px;font-weight:normal;margin-left:.8em}
table.detail{border-collapse:collapse;margin-bottom:1.5em}.detail th,.detail td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
.detail td.allowed{background:#e8f7e8}.detail td.blocked{background:#fdecea}.detail td.hidden{background:#fff6dd}.detail td.wrong{outline:3px solid #d00}
.detail td{scroll-margin-top:35vh}.detail td:target{outline:3px solid #1a56db;outline-offset:-3px;box-shadow:0 0 0 4px #c7d7fb}
.wrongkey{outline:3px solid #d00;padding:0 .3em;white-space:nowrap}
.detail tr.diverges th{background:#ffe9a8}.detail tr.worded th{background:#eef}.reason{font-size:12px;color:#555}.msg{font:11px/1.3 ui-monospace,monospace;color:#666;max-width:40em;word-break:break-word}
.bad{color:#b00020}
nav a{margin-right:.8em}
.overview ul{list-style:none;padding:0;margin:.3em 0;display:flex;flex-wrap:wrap;gap:.3em 1.4em}
.key{display:inline-block;width:12px;height:12px;vertical-align:-1px;border:1px solid #0003}
/* Told apart by lightness too (light green, dark red, amber), not by hue alone. */
.allowed{background:#4cb86a}.blocked{background:#a8231f}.hidden{background:#f2b632}.none{background:#e6e6e6}
.failed{background:linear-gradient(45deg,transparent 42%,#fff 42% 58%,transparent 58%),linear-gradient(-45deg,transparent 42%,#fff 42% 58%,transparent 58%),#222}
.key.diverges{background:#fff;border:2px solid #ff7a00}
table.grid{border-collapse:separate;border-spacing:0;margin:.8em 0 2em}
.grid th{font-weight:normal;font-size:12px;padding:0}
.grid th[scope=row]{text-align:right;padding:0 .6em 0 0;white-space:nowrap}
.grid th[scope=row] a{color:#222;text-decoration:none}.grid th[scope=row] a:hover{text-decoration:underline}
.grid th.scn{vertical-align:bottom;height:9.5em;border-left:2px solid #fff}
.grid th.scn span{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;display:inline-block;padding:.3em 0}
.grid th.eng{font-size:9px;color:#666;width:14px;text-align:center}.grid th.eng abbr{text-decoration:none}
.grid td{width:14px;height:16px;padding:0;border:1px solid #fff}
.grid td.first{border-left:3px solid #fff}
.grid td.diverges{border-top:2px solid #ff7a00;border-bottom:2px solid #ff7a00}.grid td.diverges.first{border-left:3px solid #ff7a00}.grid td.diverges.last{border-right:2px solid #ff7a00}
.grid td a,.grid td span{display:block;width:100%;height:100%}
.grid td a:hover{outline:2px solid #000;outline-offset:-1px}.grid td a:focus-visible{outline:3px solid #1a56db;outline-offset:1px}
.grid tbody tr:hover th[scope=row]{font-weight:bold}
</style></head><body>
<h1>corsproof CORS matrix</h1>
<p>${rows.length} cases, ${failed} not as expected, in:</p>
<ul>${builds.map((b) => `<li>${esc(b)}</li>`).join('')}</ul>
${matrixOverviewHtml(rows)}
<h2>Details</h2>
<p>Per fixture, each scenario's expectation and what each engine did, with the reason in the engine's own words. Green allowed · red blocked · amber readable response, header hidden · <span class="wrongkey">red frame</span>: not as expected · ⚠ the engines disagree on the verdict · ≠ the engines name different reasons (fixtures/engine-differences.json says why).</p>
<nav>${fixtures.map(([f]) => `<a href="#${esc(f)}">${esc(f)}</a>`).join('')}</nav>
${sections.join('\n')}
</body></html>
`;
}

/**
 * Writes cors-matrix.{json,md,html} (and a store's own files and draft profile) into `outDir`, and
 * copies the HTML files into `reportDir` when given (next to Playwright's HTML report). Returns the
 * files' common path without extension. Used by the reporter and by `corsproof check`.
 */
export function writeMatrixFiles(unsorted: readonly MatrixRow[], outDir: string, reportDir?: string): string {
  mkdirSync(outDir, { recursive: true });
  const rows = [...unsorted].sort((a, b) => `${a.fixture}|${a.scenario}|${a.engine}`.localeCompare(`${b.fixture}|${b.scenario}|${b.engine}`));
  // One matrix per target (corsproof's server first); each store also gets its summary of
  // divergences from S3, and its own cors-matrix-<store>.{md,html} when it is not the only target.
  const targets = rowsByTarget(rows);
  const stores = storeSummaries(rows);
  writeFileSync(
    join(outDir, 'cors-matrix.json'),
    JSON.stringify({ generatedAt: new Date().toISOString(), targets: targets.map((t) => ({ target: t.target, ...(t.store ? { store: t.store.name ?? t.store.label, endpoint: t.store.endpoint } : {}), cases: t.rows.length })), stores, rows }, null, 2),
  );
  // A draft profile per store (its divergences as profile entries), for a person to check and commit.
  for (const t of targets) if (t.store) writeFileSync(join(outDir, `store-profile-${storeFileSlug(t.store.label)}.json`), JSON.stringify(draftProfile(t.rows, t.store.label), null, 2) + '\n');
  const [primary, ...others] = targets;
  const titled = (md: string, target: string) => md.replace(/^# corsproof CORS matrix\n/, `# corsproof CORS matrix — ${target}\n`);
  const withTarget = (html: string, target: string, extra: string) =>
    html.replace(/<\/h1>/, `</h1>\n<p class="target">Target: ${target.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</p>`).replace(/<\/body>/, `${extra}\n</body>`);
  const links = Object.fromEntries(others.filter((t) => t.store).map((t) => [t.store!.label, `cors-matrix-${storeFileSlug(t.store!.label)}.html`]));
  writeFileSync(join(outDir, 'cors-matrix.md'), [titled(matrixMarkdown(primary!.rows), primary!.target), storeSummaryMarkdown(stores), ...others.map((t) => titled(matrixMarkdown(t.rows), t.target).replace(/^#/gm, '##'))].join('\n'));
  const html = join(outDir, 'cors-matrix.html');
  writeFileSync(html, withTarget(matrixHtml(primary!.rows), primary!.target, storeSummaryHtml(stores, links)));
  const copies = [html];
  for (const t of others) {
    if (!t.store) continue;
    const slug = storeFileSlug(t.store.label);
    writeFileSync(join(outDir, `cors-matrix-${slug}.md`), [titled(matrixMarkdown(t.rows), t.target), storeSummaryMarkdown(stores.filter((s) => s.store === t.store!.label))].join('\n'));
    const f = join(outDir, `cors-matrix-${slug}.html`);
    writeFileSync(f, withTarget(matrixHtml(t.rows), t.target, storeSummaryHtml(stores.filter((s) => s.store === t.store!.label))));
    copies.push(f);
  }
  if (reportDir) {
    mkdirSync(reportDir, { recursive: true });
    for (const f of copies) copyFileSync(f, join(reportDir, f.replace(/^.*\//, '')));
  }
  return join(outDir, 'cors-matrix');
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
    const written = writeMatrixFiles(this.rows, this.outDir, existsSync(this.reportDir) ? this.reportDir : undefined);
    console.log(`CORS matrix: ${this.rows.length} cases → ${written}.{json,md,html}`);
  }

  printsToStdio(): boolean {
    return false;
  }
}
