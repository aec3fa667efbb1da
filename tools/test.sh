#!/usr/bin/env bash
# Installs the build and test dependencies, checks that the golden fixtures still match what
# kafka-python generates, builds and runs the whole test suite. This is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

./tools/setup.sh --test

# Wire codec fixtures: kafka-python's encodings of every served API at every version it shares with
# Tern (Golden/), and the all-fields samples with their schema sizes (Samples/, regenerated only where
# Kafka's JSON schemas are present). Generated files must match what is checked in.
.venv/bin/python tools/golden/gen_wire_golden.py
.venv/bin/python tools/golden/gen_wire_samples.py
git diff --exit-code -- Tests/TernWireTests/Golden Tests/TernWireTests/Samples || {
    echo "wire fixtures differ from kafka-python's output or the schemas: regenerate and review them" >&2
    exit 1
}

# The generated codecs (Sources/TernWire/Generated) and docs/protocol.md's served-API table must be
# what the generator makes of Kafka's schemas.
if [[ -d "${TERN_KAFKA_SCHEMAS:-../shared/reference/kafka-messages}" ]]; then
    ./tools/generate-codecs.sh
    git diff --exit-code -- Sources/TernWire/Generated docs/protocol.md || {
        echo "generated codecs differ from tools/codegen's output: run tools/generate-codecs.sh and review" >&2
        exit 1
    }
    if [[ -n "$(git status --porcelain -- Sources/TernWire/Generated)" ]]; then
        echo "tools/codegen made files that are not checked in:" >&2
        git status --porcelain -- Sources/TernWire/Generated >&2
        exit 1
    fi
else
    echo "note: Kafka's schemas are not at ../shared/reference/kafka-messages; generated codecs not re-checked" >&2
fi

# Every import declared in Package.swift (SwiftPM alone lets a target import what it reaches
# through another target), so the layering in docs/architecture.md holds.
python3 tools/check-imports.py

swift build --build-tests
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
swift test --skip-build "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# Every fuzz target for a short budget (docs/reliability.md, "Fuzzing"), so a decoder change that
# crashes on a seed or a near mutation shows here; FUZZ_CI_SECONDS=0 skips them.
fuzz_seconds=${FUZZ_CI_SECONDS:-20}
if [[ $status -eq 0 && $fuzz_seconds -gt 0 ]]; then
    ./tools/fuzz.sh all "$fuzz_seconds" || status=1
fi
# One plain summary line from Swift Testing's (XCTest reports 0 tests: every test uses Swift Testing).
summary=$(grep -E 'Test run with [0-9]+ tests?' "$log" | tail -1)
total=$(sed -nE 's/.*Test run with ([0-9]+) tests?.*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.* ([0-9]+) issues?.*/\1/p' <<<"$summary")
if [[ -n "$total" ]]; then
    if [[ $status -eq 0 ]]; then echo "$total passed, 0 failed"; else echo "tests: ${failed:-some} issues, see above"; fi
fi
exit "$status"
