#!/usr/bin/env bash
# Client benchmarks (issue 6, Performance): Tern's Swift client (`tern bench`) against the
# librdkafka load generator (tools/loadgen/tern-loadgen) on the same release `ternd`, in one run,
# alternating the two so that machine noise hits both alike.
#
#   for each repetition: produce N records of S bytes (acks=1, linger 5 ms, batch 1,000,000 B, one
#   partition, no key) with tern-loadgen, then with `tern bench produce`, each to its own new topic;
#   then consume each topic from offset 0 with both clients (assign mode, no group).
#
# Prints one JSON line per run on stderr's progress and a markdown table of medians and ratios
# (tern / librdkafka) on stdout. Needs librdkafka-dev and python3.
#
#   tools/bench-client.sh                                   1 M records, 5 repetitions
#   TERN_BENCH_RECORDS=200000 TERN_BENCH_REPEAT=1 tools/bench-client.sh    a quick pass
set -euo pipefail
cd "$(dirname "$0")/.."

records="${TERN_BENCH_RECORDS:-1000000}"
repeat="${TERN_BENCH_REPEAT:-5}"
size="${TERN_BENCH_RECORD_BYTES:-100}"
acks="${TERN_BENCH_ACKS:-1}"
out="$(mktemp -d /tmp/tern-bench-client.XXXXXX)"
results="$out/results.jsonl"
: >"$results"
log() { echo "== $*" >&2; }

log "building ternd and tern (release) and tern-loadgen"
swift build -c release --product ternd >&2
swift build -c release --product tern >&2
bin="$(swift build -c release --show-bin-path)"
make -s -C tools/loadgen >&2
loadgen="tools/loadgen/tern-loadgen"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
data_dir="$(mktemp -d /tmp/tern-bench-client-data.XXXXXX)"
"$bin/ternd" --data-dir "$data_dir" --port "$port" --http-port 0 >"$out/ternd.log" 2>&1 &
ternd_pid=$!
cleanup() {
    kill -TERM "$ternd_pid" 2>/dev/null || true
    wait "$ternd_pid" 2>/dev/null || true
    rm -rf "$data_dir"
}
trap cleanup EXIT
for _ in $(seq 1 500); do
    if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.01
done
bootstrap="127.0.0.1:$port"

record() { # client mode run json-line
    python3 -c 'import json, sys; line = json.loads(sys.argv[4]); rate = line.get("records_per_s", line.get("records_per_sec")); print(json.dumps({"client": sys.argv[1], "mode": sys.argv[2], "run": int(sys.argv[3]), "records_per_s": rate}))' "$@" | tee -a "$results" >&2
}

for run in $(seq 1 "$repeat"); do
    log "run $run/$repeat: produce"
    line="$("$loadgen" produce -b "$bootstrap" -t "lg-$run" -n "$records" -s "$size" -a "$acks" -l 5 -B 1000000 2>/dev/null | tail -1)"
    record librdkafka produce "$run" "$line"
    line="$("$bin/tern" bench produce -b "$bootstrap" -t "tern-$run" -n "$records" -s "$size" --acks "$acks" --linger-ms 5 --batch-size 1000000 --json | tail -1)"
    record tern produce "$run" "$line"
    log "run $run/$repeat: consume"
    line="$("$loadgen" consume -b "$bootstrap" -t "lg-$run" -n "$records" 2>/dev/null | tail -1)"
    record librdkafka consume "$run" "$line"
    line="$("$bin/tern" bench consume -b "$bootstrap" -t "tern-$run" -n "$records" --json | tail -1)"
    record tern consume "$run" "$line"
done

python3 - "$results" "$records" "$size" "$acks" "$repeat" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
records, size, acks, repeat = sys.argv[2:6]
print(f"{records} records of {size} B, acks={acks}, one partition, {repeat} alternating runs, medians:\n")
print("| mode | librdkafka records/s | Tern client records/s | ratio (Tern / librdkafka) | per-run ratios |")
print("|---|---|---|---|---|")
for mode in ("produce", "consume"):
    lib = [r["records_per_s"] for r in rows if r["mode"] == mode and r["client"] == "librdkafka"]
    tern = [r["records_per_s"] for r in rows if r["mode"] == mode and r["client"] == "tern"]
    ratios = ", ".join(f"{t / l:.2f}" for t, l in zip(tern, lib))
    print(f"| {mode} | {statistics.median(lib):,.0f} | {statistics.median(tern):,.0f} | "
          f"{statistics.median(tern) / statistics.median(lib):.2f} | {ratios} |")
PY
