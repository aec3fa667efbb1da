#!/usr/bin/env bash
# Power-loss run (issue 14): PowerLossTests with many more cycles than CI's. Each cycle produces with
# Tern's client (idempotent acks=all, acks=1, offset commits) or with librdkafka through
# confluent-kafka, pulls the plug of an in-process broker on the in-memory file system at a random
# moment (every byte and directory entry not fsynced is gone), restarts it and checks every
# partition: each acks=all record acknowledged is there byte for byte, acks=1 losses are suffixes,
# nothing unsent appears, and committed offsets are at least the last confirmed commit.
#
#   tools/power-loss.sh [TERN_CYCLES [LIBRDKAFKA_CYCLES]]     default 500 and 50
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests >&2
TERN_POWER_LOSS_CYCLES="${1:-500}" TERN_POWER_LOSS_PYTHON_CYCLES="${2:-50}" \
    swift test --skip-build --filter PowerLossTests 2>&1 | grep -E "PowerLossTests|✘|✔ Test"
