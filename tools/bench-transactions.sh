#!/usr/bin/env bash
# Transactions benchmark (issue 18): the cost of transactions on one release `ternd`, in one run,
# alternating the modes so that machine noise hits them alike. Tern's Swift client (`tern bench`)
# on both sides; every producer run uses acks=all, linger 5 ms, batch 1,000,000 B, one partition.
#
#   for each repetition, each mode to its own new topic:
#     idempotent       N records, idempotent producer (the baseline)
#     txn-100          N records in transactions of 100 (begin, records, commit)
#     txn-10000        N records in transactions of 10,000
#   then read the txn-10000 topic from offset 0 twice: read_uncommitted, then read_committed
#   (the consumer keeps the aborted-transactions list and stops at the last stable offset).
#
# Prints one JSON line per run on stderr and a markdown table of medians and ratios on stdout.
#
#   tools/bench-transactions.sh                                  500,000 records, 3 repetitions
#   TERN_BENCH_RECORDS=100000 TERN_BENCH_REPEAT=1 tools/bench-transactions.sh    a quick pass
set -euo pipefail
cd "$(dirname "$0")/.."

records="${TERN_BENCH_RECORDS:-500000}"
repeat="${TERN_BENCH_REPEAT:-3}"
size="${TERN_BENCH_RECORD_BYTES:-100}"
out="$(mktemp -d /tmp/tern-bench-txn.XXXXXX)"
results="$out/results.jsonl"
: >"$results"
log() { echo "== $*" >&2; }

log "building ternd and tern (release)"
swift build -c release --product ternd >&2
swift build -c release --product tern >&2
bin="$(swift build -c release --show-bin-path)"

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
data_dir="$(mktemp -d /tmp/tern-bench-txn-data.XXXXXX)"
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

record() { # mode run json-line
    python3 -c 'import json, sys; line = json.loads(sys.argv[3]); print(json.dumps({"mode": sys.argv[1], "run": int(sys.argv[2]), "records_per_s": line["records_per_sec"], "records": line["records"]}))' "$@" | tee -a "$results" >&2
}
produce() { # topic extra-args…
    local topic="$1"
    shift
    "$bin/tern" bench produce -b "$bootstrap" -t "$topic" -n "$records" -s "$size" --acks all --linger-ms 5 \
        --batch-size 1000000 --no-latency --progress-interval 0 --json "$@" | tail -1
}

for run in $(seq 1 "$repeat"); do
    log "run $run/$repeat: produce"
    record idempotent "$run" "$(produce "idem-$run")"
    record txn-100 "$run" "$(produce "txn100-$run" --transactional-id "bench-100-$run" --transaction-records 100)"
    record txn-10000 "$run" "$(produce "txn10k-$run" --transactional-id "bench-10k-$run" --transaction-records 10000)"
    log "run $run/$repeat: consume"
    for isolation in read_uncommitted read_committed; do
        line="$("$bin/tern" bench consume -b "$bootstrap" -t "txn10k-$run" --isolation-level "$isolation" \
            --progress-interval 0 --json | tail -1)"
        record "consume-$isolation" "$run" "$line"
    done
done

python3 - "$results" "$records" "$size" "$repeat" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
records, size, repeat = sys.argv[2:5]
def rates(mode): return [r["records_per_s"] for r in rows if r["mode"] == mode]
def counts(mode): return {r["records"] for r in rows if r["mode"] == mode}
print(f"{records} records of {size} B, acks=all, one partition, {repeat} alternating runs, medians:\n")
print("| mode | records/s | ratio | per-run ratios |")
print("|---|---|---|---|")
for mode, base in (("idempotent", "idempotent"), ("txn-100", "idempotent"), ("txn-10000", "idempotent"),
                   ("consume-read_uncommitted", "consume-read_uncommitted"),
                   ("consume-read_committed", "consume-read_uncommitted")):
    ratios = ", ".join(f"{m / b:.2f}" for m, b in zip(rates(mode), rates(base)))
    print(f"| {mode} | {statistics.median(rates(mode)):,.0f} | "
          f"{statistics.median(rates(mode)) / statistics.median(rates(base)):.2f} × {base} | {ratios} |")
for mode in ("consume-read_uncommitted", "consume-read_committed"):
    if counts(mode) != {int(records)}:
        sys.exit(f"{mode} read {sorted(counts(mode))} records, not {records}")
PY
