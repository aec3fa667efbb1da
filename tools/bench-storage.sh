#!/usr/bin/env bash
# Storage benchmarks (issue 3) with fio's sequential write on the same disk in the same run, so
# the append throughput can be read as a ratio of what the disk does. Run as root on Debian 12
# (installs fio if missing). Directory under test: $TERN_BENCH_DIR (default /tmp).
#
#   tools/bench-storage.sh             fio baseline, then `swift package benchmark` StorageBenchmarks
set -euo pipefail
cd "$(dirname "$0")/.."

bench_dir="${TERN_BENCH_DIR:-/tmp}"
export TERN_BENCH_DIR="$bench_dir"

if ! command -v fio >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq fio >/dev/null
fi

echo "== disk: $(df -h --output=source,fstype "$bench_dir" | tail -1)"
echo "== fio: sequential write, 1 MiB blocks, 256 MiB, one fsync at the end (compare with the append benchmark)"
fio --name=tern-seqwrite --directory="$bench_dir" --rw=write --bs=1M --size=256M --ioengine=psync \
    --end_fsync=1 --numjobs=1 --unlink=1 --group_reporting | grep -E "WRITE:|write:"
echo "== fio: 1 KiB writes, fsync after each (what acks=all costs without group commit)"
fio --name=tern-fsync --directory="$bench_dir" --rw=write --bs=1k --size=4M --ioengine=psync --fsync=1 \
    --numjobs=1 --unlink=1 --group_reporting | grep -E "WRITE:|write:|fsync"

echo "== StorageBenchmarks"
cd Benchmarks
swift package benchmark --target StorageBenchmarks --format text "$@"
