#!/usr/bin/env bash
# Installs what building Tern needs on Debian 12 (run as root). The Swift 6.3 toolchain itself is
# expected on PATH. Pass --test to also install what the test suite needs: kcat and librdkafka
# (real Kafka clients the tests drive), Go 1.19 with Debian's sarama and kafka-go sources (built in
# GOPATH mode by Tests/IntegrationTests/GoClientTests.swift) and a Python venv with kafka-python
# and confluent-kafka.
# Pass --bench for what tools/bench-footprint.sh compares ternd with: redis-server, nats-server.
set -euo pipefail
cd "$(dirname "$0")/.."

build_packages=(libzstd-dev liblz4-dev libsnappy-dev zlib1g-dev pkg-config)
test_packages=(
    kcat librdkafka-dev python3-venv
    golang-go golang-github-shopify-sarama-dev golang-github-segmentio-kafka-go-dev
)
bench_packages=(kcat librdkafka-dev redis-server nats-server)

packages=("${build_packages[@]}")
with_test=false
for option in "$@"; do
    case "$option" in
    --test) packages+=("${test_packages[@]}"); with_test=true ;;
    --bench) packages+=("${bench_packages[@]}") ;;
    *) echo "unknown option $option (--test, --bench)" >&2; exit 2 ;;
    esac
done

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ "$with_test" == true ]]; then
    # Pinned: golden fixtures in Tests/ were generated with these versions.
    [[ -x .venv/bin/python ]] || python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check kafka-python==3.0.12 confluent-kafka==2.16.1 aiokafka==0.14.0 \
        opentelemetry-api==1.45.1 opentelemetry-sdk==1.45.1 opentelemetry-instrumentation-kafka-python==0.66b1
fi
