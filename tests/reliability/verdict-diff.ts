/**
 * Compares the repetitions of each test in a Playwright JSON report (a `--repeat-each=N` run) and
 * prints how many tests did not give the same status and observed verdict every time.
 *
 *   npx tsx tests/reliability/verdict-diff.ts <report.json>      # exit 1 when any test differs
 *
 * Used by scripts/repeat-matrix.sh; the comparison itself is report-json.ts (also used by
 * flakes.spec.ts).
 */
import { readFileSync } from 'node:fs';
import { verdictDifferences, type JsonReport } from './report-json.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: verdict-diff.ts <playwright JSON report>');
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8')) as JsonReport;
const { tests, repetitions, differences, groups } = verdictDifferences(report, (p) => readFileSync(p, 'utf8'));
const reps = new Set([...groups.values()].map((r) => r.length));
const failing = [...groups].filter(([, r]) => r.every((x) => x.status !== 'passed' && x.status !== 'skipped')).length;
for (const d of differences) {
  console.log(`DIFFERS ${d.key}`);
  for (const r of d.repetitions) console.log(`    repetition ${r.index}: ${r.status}${r.verdict ? `, engine said ${r.verdict}` : ''}`);
}
console.log(
  `${differences.length} verdict differences: ${tests} tests × ${[...reps].join('/')} repetitions (${repetitions} runs); ` +
    `${failing} tests failed in every repetition (consistently, not a flake)`,
);
process.exitCode = differences.length ? 1 : 0;
