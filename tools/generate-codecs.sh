#!/usr/bin/env bash
# Regenerates the Kafka codecs in Sources/TernWire/Generated/ (and the served-API table in
# docs/protocol.md) from Kafka's message schemas in ../shared/reference/kafka-messages/.
# tools/test.sh runs it and fails when the checked-in files differ.
set -euo pipefail
cd "$(dirname "$0")/.."
schemas="${TERN_KAFKA_SCHEMAS:-../shared/reference/kafka-messages}"
swift build -c release --package-path tools/codegen -q
tools/codegen/.build/release/tern-codegen "$schemas" Sources/TernWire/Generated docs/protocol.md
