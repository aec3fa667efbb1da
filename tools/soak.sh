#!/usr/bin/env bash
# Soak run (issue 14): SoakTests with the issue's size instead of CI's: 1,000 concurrent connections
# against a release `ternd` for 10 minutes — 40% producing (10 × 100 B records, acks=1, every
# 100 ms, each request timed), 40% long-polling consumers, 20% clients that pipeline 64 fetches of
# 1 MiB and never read their socket. Prints produce latency percentiles, the broker's peak RSS, its
# descriptors before and after, and how many never-reading clients `socket.write.timeout.ms`
# closed; the test fails on any error seen by a healthy client, a descriptor leak, a never-reading
# client left connected, or RSS above its bound. The load generator is the debug test process.
#
#   tools/soak.sh [CONNECTIONS [SECONDS]]     default 1000 and 600
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product ternd >&2
swift build --build-tests >&2
# Enough descriptors for the clients and the broker's side of each connection.
ulimit -n "$(ulimit -Hn)"
TERN_TERND="$(swift build -c release --show-bin-path)/ternd" \
    TERN_SOAK_CONNECTIONS="${1:-1000}" TERN_SOAK_SECONDS="${2:-600}" TERN_SOAK_WRITE_TIMEOUT_MS=5000 \
    "$(swift build --show-bin-path)/TernPackageTests.xctest" --testing-library swift-testing \
    --filter SoakTests 2>&1 | grep -E "SoakTests|✘|✔ Test"
