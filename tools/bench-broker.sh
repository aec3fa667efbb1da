#!/usr/bin/env bash
# Broker benchmarks (issue 4, Performance): ternd driven by tools/loadgen/tern-loadgen (librdkafka)
# over loopback. Builds ternd (release) and the load generator, then
#
#   - for {100 B, 1 KiB} x {acks=1, acks=all}: fresh data dir, start ternd, produce N records to
#     partition 0 of a new topic (auto-created, 1 partition), consume them back from offset 0, stop;
#   - ready time: exec to first accepted TCP connection on an empty data dir, repeated;
#   - resident memory (VmRSS) after a few idle seconds, and again after the produce/consume load;
#   - delivery latency at a fixed rate (100 B records, acks=1 and acks=all), below saturation, where
#     it is the broker's round trip rather than time spent queued in the producer.
#
# Every configuration is repeated TERN_BENCH_REPEAT times (default 3) and medians are reported.
# Raw JSON lines go to $TERN_BENCH_OUT (default a temp dir, printed); the markdown section goes to
# stdout (paste it into docs/benchmarks.md; tools/loadgen/bench-report.py formats it), progress to
# stderr. Needs librdkafka-dev and python3.
#
#   tools/bench-broker.sh                      everything, 3 repetitions
#   TERN_BENCH_RECORDS=200000 TERN_BENCH_REPEAT=1 tools/bench-broker.sh     a quick pass
#   TERN_BENCH_BASELINE=/path/to/older/ternd tools/bench-broker.sh
#       before/after instead: the produce/consume passes only, alternating the older binary and the
#       current one on fresh data dirs, then a table of medians and current/baseline ratios.
set -euo pipefail
cd "$(dirname "$0")/.."

records="${TERN_BENCH_RECORDS:-1000000}"
repeat="${TERN_BENCH_REPEAT:-3}"
ready_runs="${TERN_BENCH_READY_RUNS:-10}"
idle_seconds="${TERN_BENCH_IDLE_SECONDS:-3}"
linger_ms="${TERN_BENCH_LINGER_MS:-5}"
batch_bytes="${TERN_BENCH_BATCH_BYTES:-1000000}"
paced_rate="${TERN_BENCH_PACED_RATE:-50000}"
paced_records="${TERN_BENCH_PACED_RECORDS:-200000}"
bench_root="${TERN_BENCH_DIR:-/tmp}"
out="${TERN_BENCH_OUT:-$(mktemp -d "$bench_root/tern-bench-broker.XXXXXX")}"
mkdir -p "$out"
results="$out/results.jsonl"
: >"$results"

log() { echo "== $*" >&2; }

log "building ternd (release) and tern-loadgen"
swift build -c release --product ternd >&2
ternd="$(swift build -c release --show-bin-path)/ternd"
make -s -C tools/loadgen >&2
loadgen="tools/loadgen/tern-loadgen"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ternd_pid=""
data_dir=""
cleanup() {
    if [[ -n "$ternd_pid" ]] && kill -0 "$ternd_pid" 2>/dev/null; then
        kill -TERM "$ternd_pid" 2>/dev/null || true
        wait "$ternd_pid" 2>/dev/null || true
    fi
    if [[ -n "$data_dir" ]]; then rm -rf "$data_dir"; fi
}
trap cleanup EXIT

# A free admin port for binaries that have the admin listener (9644 may be taken by another broker).
http_args() { # binary
    if "$1" --help 2>/dev/null | grep -q -- --http-port; then echo "--http-port $(free_port)"; fi
}

start_ternd() { # port [binary]
    local binary="${2:-$ternd}"
    data_dir="$(mktemp -d "$bench_root/perf-data-$$.XXXXXX")"
    # shellcheck disable=SC2046
    "$binary" --data-dir "$data_dir" --port "$1" $(http_args "$binary") >>"$out/ternd.log" 2>&1 &
    ternd_pid=$!
    for _ in $(seq 1 500); do
        if (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.01
    done
    echo "ternd did not start; see $out/ternd.log" >&2
    exit 1
}

running() { # not exited (an exited child stays a zombie until `wait`)
    local state
    state="$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)"
    [[ -n "$state" && "$state" != Z ]]
}

stop_ternd() { # SIGTERM (again every second: one sent right after start can be lost), SIGKILL after 30 s
    for _ in $(seq 1 30); do
        kill -TERM "$ternd_pid" 2>/dev/null || break
        for _ in $(seq 1 10); do
            running "$ternd_pid" || break 2
            sleep 0.1
        done
    done
    if running "$ternd_pid"; then kill -KILL "$ternd_pid"; fi
    wait "$ternd_pid" || true
    ternd_pid=""
    rm -rf "$data_dir"
    data_dir=""
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$ternd_pid/status"; }
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$ternd_pid/status"; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$ternd_pid/stat"; }

emit() { echo "$1" >>"$results"; }
emit "{\"mode\":\"meta\",\"label\":\"\",\"commit\":\"$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- tools Sources || echo +changes)\"}"
load1() { cut -d' ' -f1 /proc/loadavg; }

if [[ -n "${TERN_BENCH_BASELINE:-}" ]]; then
    for pass in $(seq 1 "$repeat"); do
        for size in 100 1024; do
            for acks in 1 -1; do
                for which in baseline current; do
                    binary="$ternd"
                    if [[ "$which" == baseline ]]; then binary="$TERN_BENCH_BASELINE"; fi
                    label="${which}_s${size}_a${acks}"
                    log "compare pass $pass/$repeat: $which, $records x $size B, acks=$acks"
                    port="$(free_port)"
                    start_ternd "$port" "$binary"
                    cpu0="$(cpu_s)"
                    "$loadgen" produce -b "127.0.0.1:$port" -t "bench" -n "$records" -s "$size" -a "$acks" \
                        -l "$linger_ms" -B "$batch_bytes" -L "$label" >>"$results"
                    cpu1="$(cpu_s)"
                    "$loadgen" consume -b "127.0.0.1:$port" -t "bench" -n "$records" -s "$size" -L "$label" \
                        >>"$results"
                    cpu2="$(cpu_s)"
                    emit "{\"mode\":\"broker_cpu\",\"label\":\"$label\",\"load1\":$(load1),\"produce_cpu_s\":$(awk "BEGIN { print $cpu1 - $cpu0 }"),\"consume_cpu_s\":$(awk "BEGIN { print $cpu2 - $cpu1 }")}"
                    stop_ternd
                done
            done
        done
    done
    log "raw results: $results"
    python3 - "$results" "$records" "$repeat" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
records = int(sys.argv[2])
print(f"Before/after, {records:,} records per run, median of {sys.argv[3]} alternating runs each; "
      "ternd CPU is what the broker process used (/proc/PID/stat) per record:\n")
print("| Records | acks | Produce records/s, baseline → current | ratio | ternd CPU µs/record produced | ratio "
      "| Consume records/s | ratio | ternd CPU µs/record consumed | ratio |")
print("|---|---|---|---|---|---|---|---|---|---|")
for size in (100, 1024):
    for acks in (1, -1):
        def med(mode, which, key="records_per_s"):
            return statistics.median(r[key] for r in rows
                                     if r["mode"] == mode and r["label"] == f"{which}_s{size}_a{acks}")
        pb, pc, cb, cc = med("produce", "baseline"), med("produce", "current"), med("consume", "baseline"), med("consume", "current")
        ub, uc = (med("broker_cpu", w, "produce_cpu_s") * 1e6 / records for w in ("baseline", "current"))
        vb, vc = (med("broker_cpu", w, "consume_cpu_s") * 1e6 / records for w in ("baseline", "current"))
        print(f"| {size} B | {'all' if acks == -1 else acks} | {pb:,.0f} → {pc:,.0f} | {pc / pb:.2f} "
              f"| {ub:.2f} → {uc:.2f} | {uc / ub:.2f} | {cb:,.0f} → {cc:,.0f} | {cc / cb:.2f} "
              f"| {vb:.2f} → {vc:.2f} | {vc / vb:.2f} |")
loads = [r["load1"] for r in rows if r["mode"] == "broker_cpu"]
print(f"\n1-minute load average during the runs: {min(loads):.2f}–{max(loads):.2f} (2 cores).")
PY
    exit 0
fi

log "process start baseline: ternd --help, $ready_runs runs"
for _ in $(seq 1 "$ready_runs"); do
    python3 -c 'import subprocess, sys, time
t = time.monotonic(); subprocess.run([sys.argv[1], "--help"], stdout=subprocess.DEVNULL, check=True)
print("{\"mode\":\"help\",\"label\":\"\",\"exit_ms\":%.3f}" % ((time.monotonic() - t) * 1000))' "$ternd" >>"$results"
done

log "ready time: $ready_runs starts on an empty data dir"
for i in $(seq 1 "$ready_runs"); do
    port="$(free_port)"
    dir="$(mktemp -d "$bench_root/perf-data-$$.XXXXXX")"
    # shellcheck disable=SC2046
    "$loadgen" ready -P "$port" -L "run$i" -- "$ternd" --data-dir "$dir" --port "$port" $(http_args "$ternd") \
        2>>"$out/ternd.log" >>"$results"
    rm -rf "$dir"
done

for pass in $(seq 1 "$repeat"); do
    for size in 100 1024; do
        for acks in 1 -1; do
            label="s${size}_a${acks}"
            log "pass $pass/$repeat: $records x $size B, acks=$acks"
            port="$(free_port)"
            start_ternd "$port"
            sleep "$idle_seconds"
            emit "{\"mode\":\"rss\",\"label\":\"$label\",\"phase\":\"idle\",\"rss_kb\":$(rss_kb)}"
            cpu0="$(cpu_s)"
            "$loadgen" produce -b "127.0.0.1:$port" -t "bench" -n "$records" -s "$size" -a "$acks" \
                -l "$linger_ms" -B "$batch_bytes" -L "$label" >>"$results"
            cpu1="$(cpu_s)"
            "$loadgen" consume -b "127.0.0.1:$port" -t "bench" -n "$records" -s "$size" -L "$label" >>"$results"
            cpu2="$(cpu_s)"
            emit "{\"mode\":\"broker_cpu\",\"label\":\"$label\",\"pass\":$pass,\"load1\":$(load1),\"produce_cpu_s\":$(awk "BEGIN { print $cpu1 - $cpu0 }"),\"consume_cpu_s\":$(awk "BEGIN { print $cpu2 - $cpu1 }")}"
            sleep "$idle_seconds"
            emit "{\"mode\":\"rss\",\"label\":\"$label\",\"phase\":\"after_load\",\"rss_kb\":$(rss_kb),\"hwm_kb\":$(hwm_kb)}"
            stop_ternd
        done
    done
    log "pass $pass/$repeat: latency at $paced_rate records/s, $paced_records x 100 B, acks=1 and acks=all"
    port="$(free_port)"
    start_ternd "$port"
    for acks in 1 -1; do
        "$loadgen" produce -b "127.0.0.1:$port" -t "paced$acks" -n "$paced_records" -s 100 -a "$acks" \
            -l "$linger_ms" -B "$batch_bytes" -r "$paced_rate" -L "paced_a${acks}" >>"$results"
    done
    stop_ternd
done

log "raw results: $results"
python3 tools/loadgen/bench-report.py "$results" "$records" "$repeat" "$idle_seconds" "$linger_ms" "$batch_bytes" \
    "$paced_rate" "$paced_records"
