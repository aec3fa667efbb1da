#!/usr/bin/env bash
# Footprint (issue 8): ternd next to redis-server and nats-server -js (Debian packages) on the same
# machine in the same run.
#
#   - ready time: exec to the first accepted TCP connection (tern-loadgen ready), on an empty data
#     dir for all three, and for ternd also on a data dir holding 1,000 partitions;
#   - idle resident memory (VmRSS) a few seconds after start, for all three (ternd also with 1,000
#     partitions);
#   - ternd's resident memory under a sustained produce + consume load (paced producer, consumer
#     reading along), sampled every few seconds: start, end, maximum and the slope of a
#     least-squares line over the second half of the run, which is ~0 when memory is bounded.
#
# Raw JSON lines go to $TERN_BENCH_OUT (default a temp dir, printed); a markdown summary goes to
# stdout, progress to stderr. Installs redis-server and nats-server if missing (root, Debian).
#
#   tools/bench-footprint.sh                          60 s of load
#   tools/bench-footprint.sh --duration 600           the 10-minute memory run
#   TERN_FOOTPRINT_BASELINE=/path/to/older/ternd tools/bench-footprint.sh
#       also measures an older ternd's ready time and idle memory in the same run, for comparison
#   TERN_FOOTPRINT_TERND=/path/to/ternd               use this binary instead of building one
#   options: --duration SECONDS  --rate RECORDS_PER_S  --runs READY_RUNS  --partitions N
#            --retention-bytes N   run the load with retention.bytes=N, 16 MiB segments and retention
#                                  checked every 10 s, so the log itself stays bounded too (without
#                                  it the in-memory indexes grow with the log, ~24 B per batch)
set -euo pipefail
cd "$(dirname "$0")/.."

duration=60
rate=20000
runs=10
partitions=1000
idle_seconds=3
sample_seconds=5
retention_bytes=""
while (($#)); do
    case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --partitions) partitions="$2"; shift 2 ;;
    --retention-bytes) retention_bytes="$2"; shift 2 ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
    esac
done
bench_root="${TERN_BENCH_DIR:-/tmp}"
out="${TERN_BENCH_OUT:-$(mktemp -d "$bench_root/tern-bench-footprint.XXXXXX")}"
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"
log() { echo "== $*" >&2; }
emit() { echo "$1" >>"$results"; }

if ! command -v redis-server >/dev/null || ! command -v nats-server >/dev/null; then
    log "installing redis-server and nats-server"
    ./tools/setup.sh --bench >&2
fi
if [[ -n "${TERN_FOOTPRINT_TERND:-}" ]]; then
    ternd="$TERN_FOOTPRINT_TERND"
else
    log "building ternd (release) and tern-loadgen"
    swift build -c release --product ternd >&2
    ternd="$(swift build -c release --show-bin-path)/ternd"
fi
make -s -C tools/loadgen >&2
loadgen="tools/loadgen/tern-loadgen"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pid=""
scratch=""
cleanup() {
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    if [[ -n "$scratch" ]]; then rm -rf "$scratch"; fi
}
trap cleanup EXIT
scratch="$(mktemp -d "$bench_root/tern-footprint-data.XXXXXX")"

# The command line of each server on PORT with data in DIR (persistence as each ships by default,
# but in a scratch directory; redis without RDB snapshots so an idle start writes nothing).
server_command() { # name port dir
    case "$1" in
    ternd) echo "$ternd --data-dir $3 --port $2 --http-port $(free_port)" ;;
    ternd_base) echo "$TERN_FOOTPRINT_BASELINE --data-dir $3 --port $2" ;;
    redis) echo "redis-server --port $2 --bind 127.0.0.1 --dir $3 --save '' --appendonly no --daemonize no --logfile $out/redis.log" ;;
    nats) echo "nats-server -js -a 127.0.0.1 -p $2 -sd $3 -l $out/nats.log" ;;
    esac
}

ready_runs() { # name label dir-maker
    for i in $(seq 1 "$runs"); do
        local port dir
        port="$(free_port)"
        dir="$($3)"
        # shellcheck disable=SC2046
        eval "$loadgen ready -P $port -L $2 -- $(server_command "$1" "$port" "$dir")" \
            2>>"$out/servers.log" >>"$results"
        if [[ "$3" == fresh_dir ]]; then rm -rf "$dir"; fi
    done
}
fresh_dir() { mktemp -d "$scratch/dir.XXXXXX"; }
partitions_dir() { echo "$scratch/partitions"; }

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
wait_port() { for _ in $(seq 1 1000); do (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.01; done; return 1; }

start_server() { # name port dir
    # exec: $! must be the server itself, not a subshell around it.
    (eval "exec $(server_command "$1" "$2" "$3")") >>"$out/servers.log" 2>&1 &
    pid=$!
    wait_port "$2" || { echo "$1 did not start; see $out/servers.log" >&2; exit 1; }
}
stop_server() {
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
}

idle_rss() { # name label dir
    local port
    port="$(free_port)"
    start_server "$1" "$port" "$3"
    sleep "$idle_seconds"
    emit "{\"mode\":\"idle_rss\",\"label\":\"$2\",\"rss_kb\":$(rss_kb "$pid")}"
    stop_server
}

log "preparing a data dir with $partitions partitions"
port="$(free_port)"
mkdir -p "$(partitions_dir)"
export TERN_NUM_PARTITIONS="$partitions"
start_server ternd "$port" "$(partitions_dir)"
unset TERN_NUM_PARTITIONS
echo warmup | kcat -P -b "127.0.0.1:$port" -t wide 2>>"$out/servers.log"
stop_server

names=(ternd redis nats)
if [[ -n "${TERN_FOOTPRINT_BASELINE:-}" ]]; then names=(ternd_base ternd redis nats); fi
for name in "${names[@]}"; do
    log "ready time and idle memory: $name, $runs starts on an empty data dir"
    ready_runs "$name" "$name" fresh_dir
    dir="$(fresh_dir)"
    idle_rss "$name" "$name" "$dir"
done
for name in "${names[@]}"; do
    [[ "$name" == ternd* ]] || continue
    log "ready time and idle memory: $name with $partitions partitions"
    ready_runs "$name" "${name}_${partitions}p" partitions_dir
    idle_rss "$name" "${name}_${partitions}p" "$(partitions_dir)"
done

log "memory under load: ${duration} s at $rate records/s (100 B, acks=1), consumer reading along"
port="$(free_port)"
dir="$(fresh_dir)"
if [[ -n "$retention_bytes" ]]; then
    export TERN_LOG_RETENTION_BYTES="$retention_bytes" TERN_LOG_SEGMENT_BYTES=16777216
    export TERN_LOG_RETENTION_CHECK_INTERVAL_MS=10000
    emit "{\"mode\":\"meta\",\"label\":\"soak\",\"retention_bytes\":$retention_bytes}"
fi
start_server ternd "$port" "$dir"
unset TERN_LOG_RETENTION_BYTES TERN_LOG_SEGMENT_BYTES TERN_LOG_RETENTION_CHECK_INTERVAL_MS
count=$((duration * rate))
"$loadgen" produce -b "127.0.0.1:$port" -t soak -n "$count" -s 100 -a 1 -r "$rate" -L soak >>"$results" \
    2>>"$out/servers.log" &
producer=$!
sleep 1
"$loadgen" consume -b "127.0.0.1:$port" -t soak -n "$count" -s 100 -T $(((duration + 120) * 1000)) -L soak \
    >>"$results" 2>>"$out/servers.log" &
consumer=$!
start_s=$(date +%s.%N)
while kill -0 "$producer" 2>/dev/null || kill -0 "$consumer" 2>/dev/null; do
    now=$(date +%s.%N)
    emit "{\"mode\":\"load_rss\",\"label\":\"soak\",\"t\":$(awk "BEGIN { print $now - $start_s }"),\"rss_kb\":$(rss_kb "$pid"),\"load1\":$(cut -d' ' -f1 /proc/loadavg)}"
    sleep "$sample_seconds"
done
wait "$producer" "$consumer"
emit "{\"mode\":\"load_rss\",\"label\":\"soak_end\",\"t\":$(awk "BEGIN { print $(date +%s.%N) - $start_s }"),\"rss_kb\":$(rss_kb "$pid")}"
stop_server

log "raw results: $results"
python3 - "$results" "$runs" "$partitions" "$duration" "$rate" <<'PY'
import json, statistics, sys
path, runs, partitions, duration, rate = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if l.strip()]
med = statistics.median
def mib(kb): return f"{kb / 1024:.1f} MiB"
def ready(label): return [r["ready_ms"] for r in rows if r["mode"] == "ready" and r["label"] == label]
def idle(label): return next(r["rss_kb"] for r in rows if r["mode"] == "idle_rss" and r["label"] == label)
print(f"Ready time (exec to first accepted connection; median and max of {runs} starts) and idle VmRSS "
      f"{3} s after start:\n")
print("| Server | Ready, empty data dir | Idle RSS |")
print("|---|---|---|")
for label, name in (("ternd_base", "ternd, baseline binary"), ("ternd", "ternd"),
                    (f"ternd_base_{partitions}p", f"ternd, baseline binary, {partitions} partitions"),
                    (f"ternd_{partitions}p", f"ternd, {partitions} partitions"),
                    ("redis", "redis-server"), ("nats", "nats-server -js")):
    r = ready(label)
    if not r:
        continue
    print(f"| {name} | {med(r):.1f} ms (max {max(r):.1f}) | {mib(idle(label))} |")
samples = [r for r in rows if r["mode"] == "load_rss"]
produce = next((r for r in rows if r["mode"] == "produce" and r["label"] == "soak"), None)
consume = next((r for r in rows if r["mode"] == "consume" and r["label"] == "soak"), None)
late = [s for s in samples if s["t"] >= samples[-1]["t"] / 2]
n = len(late)
mean_t = sum(s["t"] for s in late) / n
mean_r = sum(s["rss_kb"] for s in late) / n
var_t = sum((s["t"] - mean_t) ** 2 for s in late) or 1
slope = sum((s["t"] - mean_t) * (s["rss_kb"] - mean_r) for s in late) / var_t  # kB per second
retention = next((r["retention_bytes"] for r in rows if r["mode"] == "meta" and r["label"] == "soak"), None)
bounded = f", retention.bytes={retention:,} with 16 MiB segments" if retention else ", no retention (the log grows)"
print(f"\nternd under load for {duration} s: {int(rate):,} records/s of 100 B produced (acks=1, paced) and "
      f"consumed along{bounded}; VmRSS sampled every few seconds ({len(samples)} samples):\n")
print("| First sample | Last sample | Max | Slope over the second half |")
print("|---|---|---|---|")
print(f"| {mib(samples[0]['rss_kb'])} | {mib(samples[-1]['rss_kb'])} | {mib(max(s['rss_kb'] for s in samples))} | "
      f"{slope * 60 / 1024:+.2f} MiB/min |")
if produce and consume:
    print(f"\nProduced {produce['records']:,} records at {produce['records_per_s']:,.0f} records/s "
          f"(p99 latency {produce['latency_ms']['p99']:.1f} ms), consumed {consume['records']:,}.")
loads = [s["load1"] for s in samples if "load1" in s]
if loads:
    print(f"1-minute load average during the load: {min(loads):.2f}–{max(loads):.2f} (2 cores).")
PY
