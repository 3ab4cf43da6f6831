#!/usr/bin/env bash
# Runs the test suite, or the test files matching PATTERN, N times in a row, and prints a table of
# every failure by test: how often each failed, and in which runs. Any failure, even once, is a bug.
#
#   npm run soak -- N [PATTERN]
#   CI=true SOAK_HOG=1 npm run soak -- 10     # a second process keeps one core busy meanwhile
#
# Through npm, so jest runs on the project's Node.js 24 (node_modules/.bin first on PATH).
#
# Each run's jest report and output stay in test-output/soak/ (run-K.json, run-K.log).
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:?usage: bash scripts/soak-tests.sh N [PATTERN]}"
pattern="${2:-}"
case "$runs" in '' | *[!0-9]*) echo "soak: N must be a positive number, got '$runs'" >&2; exit 2 ;; esac
out="test-output/soak"
rm -rf "$out"
mkdir -p "$out"

hog=""
if [ "${SOAK_HOG:-0}" = 1 ]; then
  node -e 'for (;;) {}' &
  hog=$!
  echo "soak: a CPU hog (pid $hog) keeps one core busy"
fi
cleanup() { [ -n "$hog" ] && kill "$hog" 2> /dev/null || true; }
trap cleanup EXIT

bash scripts/ensure-node.sh
bash scripts/ensure-tools.sh
# Synthesize once for every run (jest's global setup would do it again each time).
first=1
for k in $(seq 1 "$runs"); do
  started=$(date +%s)
  skip=$([ "$first" = 1 ] && echo 0 || echo 1)
  first=0
  set +e
  # shellcheck disable=SC2086
  CUECAST_TEST_SKIP_SYNTH=$skip npx jest $pattern --json --outputFile="$out/run-$k.json" > "$out/run-$k.log" 2>&1
  code=$?
  set -e
  echo "soak: run $k of $runs: exit $code in $(($(date +%s) - started)) s"
done

node - "$out" "$runs" << 'JS'
const fs = require('node:fs');
const path = require('node:path');
const [dir, runs] = process.argv.slice(2);
const failures = new Map();
const rows = [];
for (let k = 1; k <= Number(runs); k++) {
  const file = path.join(dir, `run-${k}.json`);
  if (!fs.existsSync(file)) {
    rows.push(`| ${k} | no report (jest crashed: see run-${k}.log) | | |`);
    failures.set('(jest crashed)', [...(failures.get('(jest crashed)') ?? []), k]);
    continue;
  }
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  const seconds = Math.round((Date.now() - report.startTime) / 1000);
  rows.push(`| ${k} | ${report.numPassedTests} | ${report.numFailedTests} | ${report.numFailedTestSuites} |`);
  for (const suite of report.testResults) {
    const name = path.relative(process.cwd(), suite.name);
    const failed = suite.assertionResults.filter((t) => t.status === 'failed');
    if (suite.status === 'failed' && failed.length === 0) failed.push({ fullName: `(suite failed: ${suite.message.split('\n').find(Boolean) ?? ''})` });
    for (const t of failed) {
      const key = `${name} › ${t.fullName}`;
      failures.set(key, [...(failures.get(key) ?? []), k]);
    }
  }
}
console.log('\n| run | passed | failed | failed files |\n|---|---|---|---|');
console.log(rows.join('\n'));
console.log(`\nfailures by test over ${runs} runs:`);
if (failures.size === 0) console.log('  none');
else {
  console.log('| test | failed | in runs |\n|---|---|---|');
  for (const [key, ks] of [...failures].sort((a, b) => b[1].length - a[1].length))
    console.log(`| ${key} | ${ks.length} | ${ks.join(', ')} |`);
}
process.exitCode = failures.size === 0 ? 0 : 1;
JS
