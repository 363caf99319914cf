/**
 * A Playwright reporter that ends every run with the engine builds that ran, per project, and the
 * per-project counts — so a CI log says which Chromium/Firefox/WebKit produced the verdicts, and a
 * project that never started is visible rather than silently absent.
 */
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';

type Tally = { passed: number; failed: number; skipped: number; engines: Set<string> };

export default class EnginesReporter implements Reporter {
  private readonly projects = new Map<string, Tally>();

  onTestEnd(test: TestCase, result: TestResult): void {
    const project = test.parent.project()?.name ?? '?';
    const t = this.projects.get(project) ?? { passed: 0, failed: 0, skipped: 0, engines: new Set<string>() };
    this.projects.set(project, t);
    if (result.status === 'skipped') t.skipped++;
    else if (result.status === test.expectedStatus) t.passed++;
    else t.failed++;
    for (const a of [...test.annotations, ...result.annotations]) {
      if (a.type === 'engine' && a.description) t.engines.add(a.description);
    }
  }

  onEnd(_result: FullResult): void {
    if (this.projects.size === 0) return;
    const lines = ['', 'corsproof — projects and the engine builds that ran:'];
    for (const [name, t] of [...this.projects].sort()) {
      const engines = t.engines.size ? [...t.engines].join('; ') : 'no browser';
      lines.push(`  ${name.padEnd(9)} ${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped — ${engines}`);
    }
    console.log(lines.join('\n'));
  }

  printsToStdio(): boolean {
    return false;
  }
}
