#!/usr/bin/env bash
# Security benchmarks (issue 19, Performance): one release ternd with a PLAINTEXT, an SSL, a
# SASL_PLAINTEXT and a SASL_SSL listener (certificates made here with openssl), then
#
#   - produce and consume throughput of 1 KiB records with `tern bench` on each of PLAINTEXT, SSL
#     and SASL_SSL (SCRAM-SHA-512), alternating the protocols, TERN_BENCH_REPEAT times (medians);
#   - logins: TERN_BENCH_LOGINS sequential `kcat -L` runs per mechanism (PLAINTEXT, PLAIN and both
#     SCRAMs over SASL_PLAINTEXT), the wall time per run and the broker's CPU time per login
#     (from /proc/PID/stat), so SCRAM's PBKDF2 cost on the broker is measured alone.
#
# Prints a markdown section for docs/benchmarks.md on stdout, progress on stderr. Needs kcat and
# openssl (Debian: kcat, openssl).
#
#   tools/bench-security.sh
#   TERN_BENCH_RECORDS=100000 TERN_BENCH_REPEAT=1 TERN_BENCH_LOGINS=50 tools/bench-security.sh   quick
set -euo pipefail
cd "$(dirname "$0")/.."

records="${TERN_BENCH_RECORDS:-300000}"
repeat="${TERN_BENCH_REPEAT:-3}"
logins="${TERN_BENCH_LOGINS:-200}"
work="$(mktemp -d /tmp/tern-bench-security.XXXXXX)"
log() { echo "== $*" >&2; }

log "building ternd and tern (release)"
swift build -c release --product ternd >&2
swift build -c release --product tern >&2
bin="$(swift build -c release --show-bin-path)"

log "certificates in $work"
(
    cd "$work"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=bench-ca 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
        -extfile server.ext 2>/dev/null
    cat server.key server.crt >server-keystore.pem
)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
plain=$(free_port); ssl=$(free_port); sasl=$(free_port); sasl_ssl=$(free_port)
TERN_LISTENERS="PLAINTEXT://127.0.0.1:$plain,SSL://127.0.0.1:$ssl,SASL_PLAINTEXT://127.0.0.1:$sasl,SASL_SSL://127.0.0.1:$sasl_ssl" \
    TERN_SSL_KEYSTORE_LOCATION="$work/server-keystore.pem" TERN_SASL_BOOTSTRAP_USERS="bench:bench-secret" \
    "$bin/ternd" --data-dir "$work/data" --http-port 0 >"$work/ternd.log" 2>&1 &
ternd_pid=$!
trap 'kill "$ternd_pid" 2>/dev/null || true; wait "$ternd_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q "listening" "$work/ternd.log" && break
    sleep 0.1
done

scram=(-X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username=bench -X sasl.password=bench-secret)
options() {
    case "$1" in
    plaintext) echo "-b 127.0.0.1:$plain" ;;
    ssl) echo "-b 127.0.0.1:$ssl -X security.protocol=SSL -X ssl.ca.location=$work/ca.pem" ;;
    sasl_ssl) echo "-b 127.0.0.1:$sasl_ssl -X security.protocol=SASL_SSL -X ssl.ca.location=$work/ca.pem ${scram[*]}" ;;
    esac
}
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

declare -A produce consume
for run in $(seq "$repeat"); do
    for protocol in plaintext ssl sasl_ssl; do
        topic="bench-$protocol-$run"
        # shellcheck disable=SC2046
        p=$("$bin/tern" bench produce $(options "$protocol") -t "$topic" -n "$records" -s 1024 --acks 1 --progress-interval 0 2>/dev/null | field mb_per_sec)
        # shellcheck disable=SC2046
        c=$("$bin/tern" bench consume $(options "$protocol") -t "$topic" -n "$records" --progress-interval 0 2>/dev/null | field mb_per_sec)
        log "run $run $protocol: produce $p MB/s, consume $c MB/s"
        produce[$protocol]+="$p "
        consume[$protocol]+="$c "
    done
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$ternd_pid/stat"; }
hz=$(getconf CLK_TCK)
declare -A login_ms login_cpu
for mechanism in none PLAIN SCRAM-SHA-256 SCRAM-SHA-512; do
    if [[ $mechanism == none ]]; then
        args=(-b "127.0.0.1:$plain")
    else
        args=(-b "127.0.0.1:$sasl" -X security.protocol=SASL_PLAINTEXT -X "sasl.mechanisms=$mechanism"
            -X sasl.username=bench -X sasl.password=bench-secret)
    fi
    before=$(cpu_ticks)
    start=$(date +%s%N)
    for _ in $(seq "$logins"); do kcat "${args[@]}" -L -t none -m 5 >/dev/null 2>&1; done
    end=$(date +%s%N)
    after=$(cpu_ticks)
    login_ms[$mechanism]=$(awk -v a="$start" -v b="$end" -v n="$logins" 'BEGIN {printf "%.2f", (b - a) / 1e6 / n}')
    login_cpu[$mechanism]=$(awk -v a="$before" -v b="$after" -v n="$logins" -v hz="$hz" 'BEGIN {printf "%.2f", (b - a) * 1000 / hz / n}')
    log "$mechanism: ${login_ms[$mechanism]} ms per kcat -L, broker CPU ${login_cpu[$mechanism]} ms per login"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
pm=$(echo "${produce[plaintext]}" | tr ' ' '\n' | grep . | median)
cm=$(echo "${consume[plaintext]}" | tr ' ' '\n' | grep . | median)
echo "| listener | produce MB/s | × plaintext | consume MB/s | × plaintext |"
echo "|---|---|---|---|---|"
for protocol in plaintext ssl sasl_ssl; do
    p=$(echo "${produce[$protocol]}" | tr ' ' '\n' | grep . | median)
    c=$(echo "${consume[$protocol]}" | tr ' ' '\n' | grep . | median)
    echo "| $protocol | $p | $(ratio "$p" "$pm") | $c | $(ratio "$c" "$cm") |"
done
echo
echo "| login | wall ms per \`kcat -L\` | broker CPU ms per login | logins/s per broker core |"
echo "|---|---|---|---|"
for mechanism in none PLAIN SCRAM-SHA-256 SCRAM-SHA-512; do
    cpu=${login_cpu[$mechanism]}
    echo "| $mechanism | ${login_ms[$mechanism]} | $cpu | $(awk -v c="$cpu" 'BEGIN {printf (c > 0 ? "%.0f" : "—"), (c > 0 ? 1000 / c : 0)}') |"
done
