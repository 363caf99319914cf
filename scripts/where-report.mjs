#!/usr/bin/env node
// Ends `npm start` with where the evidence is (the counts and engine builds are printed just above
// by harness/engines-reporter.ts).
console.log('HTML report with traces and per-case evidence: playwright-report/index.html — open it with: npx playwright show-report');
console.log('Machine-readable results: test-results/results.json');
