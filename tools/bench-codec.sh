#!/usr/bin/env bash
# Produce/Fetch codec timings, this tree against a baseline commit, in one run (issue 12's
# "the generated codec must not slow the data path"). Builds tools/codec-bench (release) once
# against each tree, then runs them alternately TERN_BENCH_REPEAT times (default 5) and prints the
# median ns/op of each and the ratio baseline/current (above 1: the current tree is faster).
#
#   tools/bench-codec.sh [BASELINE_REF]      (default: 87e6d1e, the last hand-written codec)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
baseline_ref="${1:-87e6d1e}"
repeat="${TERN_BENCH_REPEAT:-5}"
work="$(mktemp -d /tmp/tern-codec-bench.XXXXXX)"
# A path dependency's package identity is its folder's name, so both trees are reached as .../Tern.
mkdir -p "$work/baseline" "$work/current"
git worktree add -q --detach "$work/baseline/Tern" "$baseline_ref"
ln -s "$root" "$work/current/Tern"
trap 'git -C "$root" worktree remove --force "$work/baseline/Tern"; rm -rf "$work"' EXIT
# The baseline tree predates this tool: give it the same benchmark sources.
cp -r tools/codec-bench "$work/bench-baseline"
cp -r tools/codec-bench "$work/bench-current"
rm -rf "$work"/bench-*/.build
TERN_ROOT="$work/baseline/Tern" swift build -c release -q --package-path "$work/bench-baseline"
TERN_ROOT="$work/current/Tern" swift build -c release -q --package-path "$work/bench-current"
for i in $(seq "$repeat"); do
    "$work/bench-baseline/.build/release/codec-bench" | sed 's/^/baseline /' >>"$work/results"
    "$work/bench-current/.build/release/codec-bench" | sed 's/^/current /' >>"$work/results"
done
python3 - "$work/results" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    tree, name, ns, size = line.split()
    rows.setdefault(name, {}).setdefault(tree, []).append(int(ns))
print("| operation | baseline ns/op | current ns/op | baseline/current |")
print("|---|---|---|---|")
for name, trees in rows.items():
    b, c = statistics.median(trees["baseline"]), statistics.median(trees["current"])
    print(f"| {name} | {b:,.0f} | {c:,.0f} | {b / c:.2f} |")
PY
