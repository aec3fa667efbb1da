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
swift test --skip-build "$@"
