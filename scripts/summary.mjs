#!/usr/bin/env node
// Prints the run's totals as one plain line, "N passed, N failed, N skipped", for CI logs.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/results.json';
if (!existsSync(file)) {
  console.log('0 passed, 1 failed (no results file: the test run did not complete)');
  process.exit(0);
}
const { stats } = JSON.parse(readFileSync(file, 'utf8'));
console.log(`${stats.expected + stats.flaky} passed, ${stats.unexpected} failed, ${stats.skipped} skipped`);
