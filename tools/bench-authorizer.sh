#!/usr/bin/env bash
# Authorizer cost (issue 19, Performance): two release ternd side by side, one without an
# authorizer and one with the StandardAuthorizer on and TERN_BENCH_ACLS (default 1,000) ACLs on
# other topics plus the prefixed ones that let User:ANONYMOUS produce and consume "bench*" (no super
# user, allow.everyone.if.no.acl.found=false: every request is decided against the bindings).
# Then, alternating the brokers TERN_BENCH_REPEAT times, `tern bench produce` (100 B records,
# acks=1, Kafka's default batch.size 16384 and linger 0, so requests are many and small) and
# `tern bench consume`. Prints a markdown table of medians and ratios on stdout.
#
#   tools/bench-authorizer.sh
#   TERN_BENCH_RECORDS=200000 TERN_BENCH_REPEAT=1 tools/bench-authorizer.sh     quick
set -euo pipefail
cd "$(dirname "$0")/.."

records="${TERN_BENCH_RECORDS:-1000000}"
repeat="${TERN_BENCH_REPEAT:-5}"
acls="${TERN_BENCH_ACLS:-1000}"
work="$(mktemp -d /tmp/tern-bench-authorizer.XXXXXX)"
results="$work/results.jsonl"
: >"$results"
log() { echo "== $*" >&2; }

log "building ternd and tern (release)"
swift build -c release --product ternd >&2
swift build -c release --product tern >&2
bin="$(swift build -c release --show-bin-path)"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 500); do (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.01; done; return 1; }
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

authorizer=(TERN_AUTHORIZER_CLASS_NAME=org.apache.kafka.metadata.authorizer.StandardAuthorizer)
open_port="$(free_port)"
"$bin/ternd" --data-dir "$work/open" --port "$open_port" --http-port 0 >"$work/open.log" 2>&1 &
pids+=($!)
# The ACLs are made by a super user (the first start), then the broker restarts without one.
acl_port="$(free_port)"
env "${authorizer[@]}" TERN_SUPER_USERS=User:ANONYMOUS "$bin/ternd" --data-dir "$work/acl" --port "$acl_port" \
    --http-port 0 >"$work/acl-setup.log" 2>&1 &
setup_pid=$!
wait_port "$open_port"
wait_port "$acl_port"
log "creating $acls ACLs"
for operation in write read describe; do
    "$bin/tern" acl add -b "127.0.0.1:$acl_port" --principal User:ANONYMOUS --operation "$operation" \
        --topic bench --prefixed >&2
done
"$bin/tern" acl add -b "127.0.0.1:$acl_port" --principal User:ANONYMOUS --operation create \
    --cluster >&2
for i in $(seq 1 "$acls"); do
    echo "--principal User:user-$i --operation read --topic other-$i"
done | while read -r line; do
    # shellcheck disable=SC2086
    "$bin/tern" acl add -b "127.0.0.1:$acl_port" $line >/dev/null
done
kill -TERM "$setup_pid"
wait "$setup_pid" || true
env "${authorizer[@]}" "$bin/ternd" --data-dir "$work/acl" --port "$acl_port" --http-port 0 >"$work/acl.log" 2>&1 &
pids+=($!)
wait_port "$acl_port"

record() { # broker mode run json-line
    python3 -c 'import json, sys; line = json.loads(sys.argv[4]); print(json.dumps({"broker": sys.argv[1], "mode": sys.argv[2], "run": int(sys.argv[3]), "records_per_s": line["records_per_sec"], "records": line["records"]}))' "$@" | tee -a "$results" >&2
}
for run in $(seq 1 "$repeat"); do
    for broker in open acl; do
        port="$open_port"
        [[ "$broker" == acl ]] && port="$acl_port"
        line="$("$bin/tern" bench produce -b "127.0.0.1:$port" -t "bench-$run" -n "$records" -s 100 --acks 1 \
            --linger-ms 0 --batch-size 16384 --no-latency --progress-interval 0 --json | tail -1)"
        record "$broker" produce "$run" "$line"
        line="$("$bin/tern" bench consume -b "127.0.0.1:$port" -t "bench-$run" --progress-interval 0 --json | tail -1)"
        record "$broker" consume "$run" "$line"
    done
done

python3 - "$results" "$records" "$repeat" "$acls" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
records, repeat, acls = sys.argv[2:5]
print(f"{records} records of 100 B, acks=1, batch.size 16384, linger 0, {repeat} alternating runs, medians; "
      f"the authorizer with {acls} ACLs on other topics:\n")
print("| mode | no authorizer records/s | authorizer records/s | ratio | per-run ratios |")
print("|---|---|---|---|---|")
for mode in ("produce", "consume"):
    def rates(broker): return [r["records_per_s"] for r in rows if r["broker"] == broker and r["mode"] == mode]
    ratios = ", ".join(f"{a / o:.2f}" for a, o in zip(rates("acl"), rates("open")))
    print(f"| {mode} | {statistics.median(rates('open')):,.0f} | {statistics.median(rates('acl')):,.0f} | "
          f"{statistics.median(rates('acl')) / statistics.median(rates('open')):.2f} | {ratios} |")
if any(r["records"] != int(records) for r in rows):
    sys.exit("a run moved fewer records than asked")
PY
