#!/usr/bin/env bash
# Consumer-group scale benchmark (issue 5, "Scale"); figures go to docs/benchmarks.md.
#
#   tools/bench-groups.sh      (BENCH_GROUPS, PARTITIONS, INTERVAL_MS, DURATION_S, REPLAY_RECORDS, SWEEP_GROUPS … override)
#
# 1. Builds ternd and Benchmarks' GroupCommitLoad (release, only those products).
# 2. Starts ternd on a free loopback port with a temporary data directory.
# 3. Short sweep (SWEEP_GROUPS, SWEEP_SECONDS each) to show latency below and at saturation.
# 4. The scale run: BENCH_GROUPS groups × PARTITIONS partitions, a commit per group every INTERVAL_MS,
#    for DURATION_S, sampling ternd's CPU (utime+stime from /proc/PID/stat) around it.
# 5. Stops ternd with SIGTERM and restarts it on the same data: replay of everything the sweep and
#    the scale run committed, timed exec → "replayed group coordinator state" log line →
#    "listening" → first accepted connection.
# 6. A fresh ternd and data directory filled with exactly REPLAY_RECORDS offset records (closed
#    loop, FILL_WINDOW commits in flight per connection, as fast as acks come back), then the same
#    restart timing, once with a warm page cache and once with the data directory's pages dropped
#    (fadvise DONTNEED).
# Before all that, a baseline of the disk: 1 KiB appends each followed by fsync, in the data
# directory's file system.
#
# TERND_BIN runs another ternd build (e.g. a candidate fix) with the same load; SKIP_BUILD=1 skips
# the builds.
#
# Everything stays on 127.0.0.1; only the ternd this script started is signalled (by PID).
set -euo pipefail
cd "$(dirname "$0")/.."

GROUPS_N="${BENCH_GROUPS:-1000}"
PARTITIONS="${PARTITIONS:-10}"
INTERVAL_MS="${INTERVAL_MS:-100}"
DURATION_S="${DURATION_S:-60}"
CONNECTIONS="${CONNECTIONS:-8}"
REPLAY_RECORDS="${REPLAY_RECORDS:-1000000}"
SWEEP_GROUPS="${SWEEP_GROUPS-100 150 200 300}"
SWEEP_SECONDS="${SWEEP_SECONDS:-10}"
FILL_WINDOW="${FILL_WINDOW:-32}"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "== build (release): ternd, GroupCommitLoad"
    swift build -c release --product ternd 2>&1 | tail -1
    (cd Benchmarks && swift build -c release --product GroupCommitLoad 2>&1 | tail -1)
fi
ternd_bin="${TERND_BIN:-$PWD/.build/release/ternd}"
load_bin="$PWD/Benchmarks/.build/release/GroupCommitLoad"

work="$(mktemp -d /tmp/tern-bench-groups.XXXXXX)"
data="$work/data"
mkdir -p "$data"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
clk_tck="$(getconf CLK_TCK)"
ternd_pid=""
echo "== work directory $work, port $port"

cleanup() {
    if [[ -n "$ternd_pid" ]] && kill -0 "$ternd_pid" 2>/dev/null; then
        kill -TERM "$ternd_pid" 2>/dev/null || true
        wait "$ternd_pid" 2>/dev/null || true
    fi
    rm -rf "$data"
}
trap cleanup EXIT

now_ns() { date +%s%N; }

# utime+stime of ternd, in clock ticks (fields 14 and 15; the comm field is skipped at its ')').
cpu_ticks() { sed 's/.*) //' "/proc/$ternd_pid/stat" | awk '{ print $12 + $13 }'; }
# Nanoseconds ternd's threads spent runnable but waiting for a CPU (schedstat's second field):
# how much other processes on the machine (the load tool, other builds) delayed it.
runqueue_wait_ns() { cat /proc/"$ternd_pid"/task/*/schedstat 2>/dev/null | awk '{ sum += $2 } END { printf "%.0f", sum }'; }

# Starts ternd and records, in ms since exec: replay line, listening line, first accepted connection.
start_ternd() {
    local log="$1"
    local t0 t_replay="" t_listen="" t_accept=""
    t0="$(now_ns)"
    "$ternd_bin" --data-dir "$data" --port "$port" --http-port 0 2>"$log" &
    ternd_pid=$!
    while [[ -z "$t_accept" ]]; do
        if ! kill -0 "$ternd_pid" 2>/dev/null; then
            cat "$log"
            echo "ternd exited during startup" >&2
            exit 1
        fi
        if [[ -z "$t_replay" ]] && grep -q "replayed group coordinator state" "$log"; then t_replay="$(now_ns)"; fi
        if [[ -z "$t_listen" ]] && grep -q "listening" "$log"; then
            t_listen="$(now_ns)"
            startup_cpu_ms=$(($(cpu_ticks) * 1000 / clk_tck))
        fi
        if [[ -n "$t_listen" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then t_accept="$(now_ns)"; fi
        [[ -n "$t_accept" ]] || sleep 0.002
    done
    startup_replay_ms=$(((t_replay - t0) / 1000000))
    startup_listen_ms=$(((t_listen - t0) / 1000000))
    startup_accept_ms=$(((t_accept - t0) / 1000000))
    startup_records="$(grep -o 'records=[0-9]*' "$log" | head -1 | cut -d= -f2)"
}

stop_ternd() {
    local t0
    t0="$(now_ns)"
    kill -TERM "$ternd_pid"
    wait "$ternd_pid" || true
    stop_ms=$((($(now_ns) - t0) / 1000000))
    ternd_pid=""
}

total_records=0
# Runs GroupCommitLoad with ternd's CPU sampled around it; sets result and cores.
run_load() {
    local out="$1"
    shift
    local ticks0 ticks1 t0 t1 wait0 wait1
    ticks0="$(cpu_ticks)"
    wait0="$(runqueue_wait_ns)"
    t0="$(now_ns)"
    "$load_bin" "$@" --port "$port" --partitions "$PARTITIONS" --connections "$CONNECTIONS" | tee "$out"
    t1="$(now_ns)"
    ticks1="$(cpu_ticks)"
    wait1="$(runqueue_wait_ns)"
    result="$(grep '^RESULT' "$out")"
    cores="$(awk -v dt=$((ticks1 - ticks0)) -v hz="$clk_tck" -v ns=$((t1 - t0)) \
        'BEGIN { printf "%.2f", dt / hz / (ns / 1e9) }')"
    local records
    records="$(sed 's/.*ok_records=\([0-9]*\).*/\1/' <<<"$result")"
    total_records=$((total_records + records))
    runqueue_ms=$(((wait1 - wait0) / 1000000))
    echo "   ternd CPU: $cores cores (utime+stime $(((ticks1 - ticks0) * 1000 / clk_tck)) ms over $(((t1 - t0) / 1000000)) ms wall; threads waited $runqueue_ms ms for a CPU; load average $(cut -d' ' -f1-3 /proc/loadavg))"
    echo "   __consumer_offsets records so far: $total_records"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

echo "== machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
summary=()
summary+=("disk: $(python3 - "$work" <<'EOF'
import os, sys, tempfile, time
fd, path = tempfile.mkstemp(dir=sys.argv[1])
latencies = []
for _ in range(2000):
    start = time.perf_counter_ns()
    os.write(fd, b"x" * 1024)
    os.fsync(fd)
    latencies.append(time.perf_counter_ns() - start)
os.close(fd)
os.unlink(path)
latencies.sort()
def ms(p): return latencies[min(len(latencies) - 1, int(p * len(latencies)))] / 1e6
print(f"1 KiB append + fsync, 2000 times: p50 {ms(0.5):.3f} p99 {ms(0.99):.3f} ms, {len(latencies) / (sum(latencies) / 1e9):.0f}/s serial")
EOF
)")
echo "== ${summary[-1]}"

start_ternd "$work/ternd-1.log"
echo "== ternd pid $ternd_pid up in $startup_accept_ms ms, $startup_cpu_ms ms CPU (empty data directory)"

for groups in $SWEEP_GROUPS; do
    echo "== sweep: $groups groups × $PARTITIONS partitions every $INTERVAL_MS ms for $SWEEP_SECONDS s"
    run_load "$work/sweep-$groups.txt" load --groups "$groups" --interval-ms "$INTERVAL_MS" \
        --duration-s "$SWEEP_SECONDS" --group-prefix "sweep-$groups-"
    summary+=("sweep $groups groups: target $(field target_per_s "$result")/s achieved $(field achieved_per_s "$result")/s, p50 $(field p50_ms "$result") p99 $(field p99_ms "$result") p99.9 $(field p999_ms "$result") max $(field max_ms "$result") ms, ternd $cores cores, run-queue wait $runqueue_ms ms")
done

echo "== scale run: $GROUPS_N groups × $PARTITIONS partitions every $INTERVAL_MS ms for $DURATION_S s"
run_load "$work/scale.txt" load --groups "$GROUPS_N" --interval-ms "$INTERVAL_MS" --duration-s "$DURATION_S"
summary+=("scale $GROUPS_N groups: target $(field target_per_s "$result")/s achieved $(field achieved_per_s "$result")/s, skipped $(field skipped "$result"), failed $(field failed "$result"), p50 $(field p50_ms "$result") p99 $(field p99_ms "$result") p99.9 $(field p999_ms "$result") max $(field max_ms "$result") ms, ternd $cores cores, run-queue wait $runqueue_ms ms, client $(field client_cpu_s "$result") s CPU")

offsets_bytes="$(du -sb "$data/__consumer_offsets-0" | cut -f1)"
stop_ternd
echo "== stopped (SIGTERM) in $stop_ms ms"
start_ternd "$work/ternd-2.log"
summary+=("replay of the runs above, warm page cache: records=$startup_records ($offsets_bytes bytes), exec → replayed $startup_replay_ms ms, → listening $startup_listen_ms ms, → accepting $startup_accept_ms ms, ternd CPU at listening $startup_cpu_ms ms")
echo "== ${summary[-1]}"
stop_ternd
rm -rf "$data"
mkdir -p "$data"
total_records=0

start_ternd "$work/ternd-3.log"
echo "== fill a fresh data directory with $REPLAY_RECORDS offset records (window $FILL_WINDOW per connection)"
run_load "$work/fill.txt" fill --groups "$GROUPS_N" --records "$REPLAY_RECORDS" --window "$FILL_WINDOW"
summary+=("fill (closed loop, $((FILL_WINDOW * CONNECTIONS)) in flight): $(field achieved_per_s "$result") commits/s, p50 $(field p50_ms "$result") p99 $(field p99_ms "$result") ms, ternd $cores cores, run-queue wait $runqueue_ms ms")
offsets_bytes="$(du -sb "$data/__consumer_offsets-0" | cut -f1)"
stop_ternd

start_ternd "$work/ternd-4.log"
summary+=("replay, warm page cache: records=$startup_records ($offsets_bytes bytes), exec → replayed $startup_replay_ms ms, → listening $startup_listen_ms ms, → accepting $startup_accept_ms ms, ternd CPU at listening $startup_cpu_ms ms")
echo "== ${summary[-1]}"
stop_ternd

python3 - "$data" <<'EOF'
import os, sys
for root, _, files in os.walk(sys.argv[1]):
    for name in files:
        fd = os.open(os.path.join(root, name), os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
EOF
start_ternd "$work/ternd-5.log"
summary+=("replay, pages dropped (fadvise DONTNEED): records=$startup_records, exec → replayed $startup_replay_ms ms, → listening $startup_listen_ms ms, → accepting $startup_accept_ms ms, ternd CPU at listening $startup_cpu_ms ms")
echo "== ${summary[-1]}"
stop_ternd

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
echo "(outputs kept in $work)"
