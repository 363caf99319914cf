#!/usr/bin/env node
// Ends `npm start` with where the evidence is and a one-line count per project.
import { existsSync, readFileSync } from 'node:fs';

const results = 'test-results/results.json';
if (existsSync(results)) {
  const json = JSON.parse(readFileSync(results, 'utf8'));
  const per = {};
  const walk = (suite) => {
    for (const s of suite.suites ?? []) walk(s);
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        const p = (per[t.projectName] ??= { passed: 0, failed: 0, skipped: 0, engine: '' });
        const status = t.status === 'expected' || t.status === 'flaky' ? 'passed' : t.status === 'skipped' ? 'skipped' : 'failed';
        p[status]++;
        const a = (t.annotations ?? []).find((x) => x.type === 'engine');
        if (a) p.engine = a.description;
      }
    }
  };
  for (const s of json.suites ?? []) walk(s);
  for (const [name, p] of Object.entries(per)) {
    console.log(`${name.padEnd(9)} ${p.passed} passed, ${p.failed} failed, ${p.skipped} skipped${p.engine ? `  — ${p.engine}` : ''}`);
  }
}
console.log('HTML report: playwright-report/index.html  (open it with: npx playwright show-report)');
console.log(`Machine-readable results: ${results}; per-case evidence (evidence.json, transcript.txt, trace.zip) is attached to each test in the report.`);
