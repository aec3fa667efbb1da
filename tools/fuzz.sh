#!/usr/bin/env bash
# Runs a libFuzzer target over Tern's decoders (docs/reliability.md, "Fuzzing").
#
#   tools/fuzz.sh TARGET SECONDS   one target: frame request batch legacy decompress offsets segment
#   tools/fuzz.sh all SECONDS      every target, one after another, SECONDS each
#
# Builds tools/fuzz (release, -sanitize=fuzzer,address) into .build-fuzz-pkg if needed, then runs
# the target on a working corpus outside git (.build-fuzz-corpus/TARGET, seeded from the committed
# tools/fuzz/corpus/TARGET) with leak detection, a per-input timeout and a memory limit. Exits
# non-zero on a crash, leak, timeout or out-of-memory and prints the reproducer's path; rerun one
# with `TERN_FUZZ_TARGET=TARGET .build-fuzz-pkg/release/TernFuzz REPRODUCER`.
# Environment: FUZZ_TIMEOUT (s per input, default 10), FUZZ_RSS_MB (default 2048), FUZZ_ARGS (extra
# libFuzzer flags), FUZZ_NICE (niceness, default 0).
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(frame request batch legacy decompress offsets segment)
if [[ $# -ne 2 || ! "$2" =~ ^[0-9]+$ ]]; then
    echo "usage: $0 TARGET|all SECONDS (targets: ${targets[*]})" >&2
    exit 2
fi
if [[ "$1" == all ]]; then
    failed=()
    for target in "${targets[@]}"; do "$0" "$target" "$2" || failed+=("$target"); done
    if ((${#failed[@]})); then
        echo "fuzz: failed targets: ${failed[*]}" >&2
        exit 1
    fi
    exit 0
fi
target=$1
seconds=$2
if [[ ! " ${targets[*]} " == *" $target "* ]]; then
    echo "unknown target $target (targets: ${targets[*]})" >&2
    exit 2
fi

scratch=.build-fuzz-pkg
binary=$scratch/release/TernFuzz
# swift build is incremental: a no-op when nothing changed.
swift build -c release --package-path tools/fuzz --scratch-path "$scratch" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld >&2

work=.build-fuzz-corpus/$target
artifacts=.build-fuzz-artifacts/$target
mkdir -p "$work" "$artifacts"
if [[ -d tools/fuzz/corpus/$target ]]; then
    cp -n tools/fuzz/corpus/"$target"/* "$work"/ 2>/dev/null || true
fi
if [[ "$target" == segment ]]; then
    TERN_FUZZ_WRITE_SEEDS="$work" "$binary" >&2
fi

log=.build-fuzz-artifacts/$target.log
export TERN_FUZZ_TARGET=$target
# detect_leaks: libFuzzer's own leak check after inputs that allocated more than they freed.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
started=$SECONDS
set +e
# shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
nice -n "${FUZZ_NICE:-0}" "$binary" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" \
    -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -detect_leaks=1 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-} "$work" 2>&1 | tee "$log" >&2
status=${PIPESTATUS[0]}
set -e
elapsed=$((SECONDS - started))
stats=$(grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$log" | tr '\n' ' ')
coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
if [[ $status -ne 0 ]]; then
    echo "fuzz $target: FAILED (exit $status) after ${elapsed}s of ${seconds}s; $coverage $stats" >&2
    grep -E 'Test unit written to|artifact' "$log" | sed 's/^/  /' >&2 || true
    exit 1
fi
echo "fuzz $target: clean, ${elapsed}s (budget ${seconds}s), $coverage $stats"
