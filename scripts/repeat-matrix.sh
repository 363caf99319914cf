#!/usr/bin/env bash
# repeat-matrix.sh — runs the FULL cross-browser CORS matrix (tests/browser/verdicts.spec.ts: every
# fixture × scenario in chromium, firefox and webkit) several times over and prints the number of verdict
# differences: tests whose repetitions did not all give the same status and observed verdict.
# The goal is 0. It takes a while (the matrix × 5; roughly 5 × the time of `npm start`).
#
#   scripts/repeat-matrix.sh                  # 5 repetitions (--repeat-each=5)
#   REPEAT=10 scripts/repeat-matrix.sh        # more
#   scripts/repeat-matrix.sh --project=webkit # extra arguments go to `playwright test`
#
# Output: one DIFFERS line per unstable test (with each repetition's status and verdict), then
# "N verdict differences: …". Exit status: 0 when N is 0, 1 otherwise. The JSON report is kept at
# test-results/repeat-matrix/report.json (per-test evidence under test-results/repeat-matrix/artifacts).
# A quick version of the same check runs in `npm test`: tests/reliability/flakes.spec.ts.
set -uo pipefail
cd "$(dirname "$0")/.."
REPEAT="${REPEAT:-5}"
out=test-results/repeat-matrix
mkdir -p "$out"
projects=(--project=chromium --project=firefox --project=webkit)
for a in "$@"; do [[ "$a" == --project=* ]] && projects=(); done
# CORSPROOF_OUTPUT_DIR keeps the config's default outputs (results.json, the report) out of the
# project's own test-results/ and playwright-report/.
CORSPROOF_OUTPUT_DIR="$out" PLAYWRIGHT_JSON_OUTPUT_FILE="$out/report.json" npx playwright test "${projects[@]}" \
  --repeat-each="$REPEAT" --reporter=dot,json --output="$out/artifacts" "$@" tests/browser/verdicts.spec.ts
status=$?
if [ ! -f "$out/report.json" ]; then
  echo "repeat-matrix: no JSON report was written (playwright exited $status)" >&2
  exit 2
fi
npx tsx tests/reliability/verdict-diff.ts "$out/report.json"
