#!/usr/bin/env bash
# Installs the build and test dependencies, checks that the golden fixtures still match what
# kafka-python generates, builds and runs the whole test suite. This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/setup.sh --test

.venv/bin/python tools/golden/gen_wire_golden.py
git diff --exit-code -- Tests/TernWireTests/Golden || {
    echo "golden fixtures differ from kafka-python's output: regenerate and review them" >&2
    exit 1
}

swift build --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test --skip-build "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain summary line from Swift Testing's (XCTest reports 0 tests: every test uses Swift Testing).
summary=$(grep -E 'Test run with [0-9]+ tests?' "$log" | tail -1)
total=$(sed -nE 's/.*Test run with ([0-9]+) tests?.*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.* ([0-9]+) issues?.*/\1/p' <<<"$summary")
if [[ -n "$total" ]]; then
    if [[ $status -eq 0 ]]; then echo "$total passed, 0 failed"; else echo "tests: ${failed:-some} issues, see above"; fi
fi
exit "$status"
