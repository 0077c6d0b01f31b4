#!/usr/bin/env bash
# Compile cost of the generated catalog, per feature group, in one run.
#
# The dependencies are built once; then the `wxpay` crate alone is rebuilt (its lib, debug, as
# `cargo build` does) with the default features, with each product group on top of them, and
# with `full`, ROUNDS times each, alternating. CPU time (user+sys of the cargo process tree) is
# the headline; the median is printed with the ratio to the default build. With BEFORE=<rev>,
# the default build of that revision (checked out into a temporary worktree sharing the
# dependency cache) is measured in the same rounds, so "the default costs no more than before"
# is one ratio of one run.
#
# Usage: [BEFORE=<rev>] [CONFIGS=…] [CACHE=dir] benches/compile/catalog.sh [ROUNDS]   (default 3; one round takes
# about as long as building each configuration once)
set -euo pipefail

ROUNDS="${1:-3}"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d /tmp/wxpay-catalog-bench.XXXXXX)"
# CACHE=/some/dir keeps the dependency cache between runs (not a project target dir).
export CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never CARGO_TARGET_DIR="${CACHE:-$WORK/target}"
cleanup() {
    [ -n "${BEFORE:-}" ] && git -C "$REPO" worktree remove --force "$WORK/before" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

groups=$(sed -n 's/^full = \[\(.*\)\]/\1/p' "$REPO/Cargo.toml" | tr -d '",')
# CONFIGS="default full" measures only those.
configs="${CONFIGS:-default $groups full}"

flags_for() { [ "$1" = default ] || echo "--features $1"; }

# user+sys seconds of one build of the wxpay crate alone, in directory $1 with features $2.
measure() {
    (
        cd "$1"
        cargo clean --quiet -p wxpay
        TIMEFORMAT='%U %S'
        # shellcheck disable=SC2046
        { time cargo build --quiet -p wxpay --lib $(flags_for "$2") >/dev/null; } 2>&1 | tail -1
    ) | awk '{printf "%.2f\n", $1 + $2}'
}

if [ -n "${BEFORE:-}" ]; then
    git -C "$REPO" worktree add --quiet --detach "$WORK/before" "$BEFORE"
fi

# The groups are features of the wxpay crate alone: one unmeasured build fetches and compiles
# every dependency of every configuration.
(cd "$REPO" && cargo build --quiet -p wxpay --lib)
[ -z "${BEFORE:-}" ] || (cd "$WORK/before" && cargo build --quiet -p wxpay --lib)

declare -A results
for round in $(seq "$ROUNDS"); do
    for config in $configs; do
        results[$config]+="$(measure "$REPO" "$config") "
    done
    if [ -n "${BEFORE:-}" ]; then
        results[before]+="$(measure "$WORK/before" default) "
    fi
    echo "round $round done" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(echo "${results[default]}" | median)
printf '%-16s %10s %8s\n' config "CPU s" ratio
for config in ${BEFORE:+before} $configs; do
    m=$(echo "${results[$config]}" | median)
    printf '%-16s %10s %8s\n' "$config" "$m" "$(awk -v a="$m" -v b="$base" 'BEGIN {printf "%.2f", a / b}')"
done
echo "lines generated: $(cat "$REPO"/src/apis/*/mod.rs "$REPO"/src/apis/*/*/mod.rs \
    "$REPO"/src/apis/*/*/*/mod.rs "$REPO"/src/apis/mod.rs "$REPO"/src/apis/operations/table.rs \
    2>/dev/null | wc -l)"
