#!/usr/bin/env bash
# Log cleaner benchmark (issue 17): the disk's sequential write and read bandwidth with dd, then a
# cleaning pass over TERN_BENCH_CLEANER_MB (default 256) MiB of a compacted partition on the same
# disk, and appends to another partition with and without that pass running
# (Tests/TernStorageTests/CleanerBenchmarkTests.swift). Directory under test: $TERN_BENCH_DIR
# (default /tmp). Then the group coordinator's replay of 1 M offset commits over 1,000 keys before
# and after compacting them (Tests/TernBrokerTests/OffsetsReplayBenchmarkTests.swift).
#
#   tools/bench-cleaner.sh            release build (tests built with -enable-testing)
#   tools/bench-cleaner.sh debug      the debug test bundle as it is
set -euo pipefail
cd "$(dirname "$0")/.."

bench_dir="${TERN_BENCH_DIR:-/tmp}"
export TERN_BENCH_DIR="$bench_dir"
configuration="${1:-release}"
if [[ "$configuration" == release ]]; then
    swift build -c release --build-tests -Xswiftc -enable-testing >/dev/null
fi
bundle=".build/$configuration/TernPackageTests.xctest"

echo "== disk: $(df -h --output=source,fstype "$bench_dir" | tail -1)"
file="$bench_dir/tern-bench-dd-$$"
trap 'rm -f "$file"' EXIT
echo "== dd: sequential write, 1 MiB blocks, 1 GiB, fdatasync at the end"
dd if=/dev/zero of="$file" bs=1M count=1024 conv=fdatasync 2>&1 | tail -1
echo "== dd: sequential read, 1 MiB blocks, O_DIRECT (the device, not the page cache)"
dd if="$file" of=/dev/null bs=1M iflag=direct 2>&1 | tail -1
echo "== dd: sequential read, 1 MiB blocks, page cache"
dd if="$file" of=/dev/null bs=1M 2>&1 | tail -1
rm -f "$file"

echo "== cleaner ($configuration)"
TERN_BENCH_CLEANER=1 "$bundle" --testing-library swift-testing --filter CleanerBenchmarkTests 2>&1 |
    grep -E "^cleaner:|passed|failed"
cap="${TERN_BENCH_CLEANER_IO_MAX_MB:-200}"
echo "== cleaner capped at $cap MiB/s (log.cleaner.io.max.bytes.per.second) ($configuration)"
TERN_BENCH_CLEANER=1 TERN_BENCH_CLEANER_IO_MAX_MB="$cap" "$bundle" --testing-library swift-testing \
    --filter CleanerBenchmarkTests 2>&1 | grep -E "^cleaner:|passed|failed"

echo "== __consumer_offsets replay before and after compaction ($configuration)"
TERN_BENCH_REPLAY=1 "$bundle" --testing-library swift-testing --filter OffsetsReplayBenchmarkTests 2>&1 |
    grep -E "^replay:|passed|failed"
