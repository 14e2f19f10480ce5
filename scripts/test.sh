#!/usr/bin/env bash
# The README's test command: does all set-up itself, then runs every test tier against real parts —
# unit, integration (real Redis and PostgreSQL) and e2e (the real local control plane) — and prints one
# closing line "N passed, N failed". The last tier, "real", runs e2e/real on a cluster with a real node (kubelet,
# containerd, runc; docs/adr/0005-real-node.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SKYPORT_IMAGES=1 SKYPORT_REAL_NODE=1 bash scripts/setup.sh

out=$(mktemp -d)
status=0
failed_steps=()
step() { printf '\n[test] %s\n' "$*" >&2; }
check() { # check NAME CMD...: runs a non-test gate; a failure fails the run and is named at the end
  local name=$1; shift
  step "$name"
  "$@" || { status=1; failed_steps+=("$name"); }
}

# Every image, so no test that needs one skips for want of it (cached by content hash: seconds when nothing changed);
# with SKYPORT_REQUIRE_IMAGES=1 a test file whose image is missing fails instead (e2e/cluster/node/node.ts).
check "images" bash scripts/images.sh
export SKYPORT_REQUIRE_IMAGES=1

check "typecheck" npm run -s typecheck
check "lint" npm run -s lint
check "boundaries" npm run -s lint:deps
check "generated files are fresh" npm run -s generate -- --check

for project in unit integration e2e; do
  step "vitest project $project"
  npx vitest run --project "$project" --reporter=default --reporter=json \
    --outputFile="$out/$project.json" || status=1
done
step "real node tier (e2e/real/*.real.test.ts on a cluster with one real node)"
SKYPORT_REAL_NODE=1 npx vitest run --project real --reporter=default --reporter=json \
  --outputFile="$out/real.json" || status=1

# One closing line over all tiers, from vitest's JSON reports.
node -e '
  const fs = require("fs"); let p = 0, f = 0, s = 0; const failures = [];
  for (const t of ["unit", "integration", "e2e", "real"]) {
    const file = process.argv[1] + "/" + t + ".json";
    if (!fs.existsSync(file)) { console.error("[test] no report for " + t); f += 1; continue; }
    const r = JSON.parse(fs.readFileSync(file, "utf8"));
    console.error("[test] " + t + ": " + r.numPassedTests + " passed, " + r.numFailedTests + " failed, " + (r.numPendingTests + r.numTodoTests) + " skipped");
    p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + r.numTodoTests;
    // Name each failed test with the first line of its failure, so the last lines of a CI log say what failed.
    for (const file of r.testResults ?? []) {
      for (const a of file.assertionResults ?? []) {
        if (a.status !== "failed") continue;
        const why = String((a.failureMessages ?? [])[0] ?? "").split("\n")[0].slice(0, 300);
        failures.push("[test] FAILED " + t + ": " + require("path").relative(process.cwd(), file.name) + " > " + a.fullName + " — " + why);
      }
      if ((file.assertionResults ?? []).length === 0 && file.status === "failed") {
        failures.push("[test] FAILED " + t + ": " + require("path").relative(process.cwd(), file.name) + " — " + String(file.message ?? "").split("\n")[0].slice(0, 300));
      }
    }
  }
  for (const line of failures) console.error(line);
  console.log(p + " passed, " + f + " failed, " + s + " skipped");
' "$out"
for name in "${failed_steps[@]}"; do echo "[test] FAILED: $name (see its output above)" >&2; done
exit $status
