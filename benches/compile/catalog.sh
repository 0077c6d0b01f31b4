#!/usr/bin/env bash
# Compile cost of the generated catalog, per feature group, in one run.
#
# The dependencies are built once; then the `wxpay` crate alone is rebuilt (its lib, debug, as
# `cargo build` does) with the default features, with each product group on top of them, and
# with `full`, ROUNDS times each, alternating. CPU time (user+sys of the cargo process tree) is
# the headline; the median is printed with the ratio to the default build. With BEFORE=<rev>,
# the default build of that revision (checked out into a temporary worktree with a target dir
# of its own, since its `wxpay-macros` and runtime must not be taken for this tree's) is
# measured in the same rounds, so "the default costs no more than before"
# is one ratio of one run: every configuration measured here is measured there too.
# PROFILE=release measures release builds (`cargo build --release`) instead of debug ones.
#
# With COUNT=instructions the figure is the instructions rustc runs for the crate (valgrind's
# cachegrind, through ./count-rustc) instead of CPU seconds: the same on a busy machine and
# every round, so ROUNDS=1 will do.
#
# Usage: [BEFORE=<rev>] [CONFIGS=…] [CACHE=dir] [COUNT=instructions] [PROFILE=release]
#        benches/compile/catalog.sh
#        [ROUNDS]   (default 3; one round takes about as long as building each configuration once)
set -euo pipefail

ROUNDS="${1:-3}"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
# The facade's package in the current directory's tree: `wxpay-sdk`, or `wxpay` before the rename.
facade_pkg() { sed -n 's/^name = "\(wxpay[a-z-]*\)"$/\1/p' Cargo.toml | head -1; }
WORK="$(mktemp -d /tmp/wxpay-catalog-bench.XXXXXX)"
# CACHE=/some/dir keeps the dependency cache between runs (not a project target dir).
export CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never CARGO_TARGET_DIR="${CACHE:-$WORK/target}"
cleanup() {
    [ -n "${BEFORE:-}" ] && git -C "$REPO" worktree remove --force "$WORK/before" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ "${COUNT:-}" = instructions ]; then
    command -v valgrind >/dev/null || { echo "COUNT=instructions needs valgrind" >&2; exit 1; }
    export RUSTC_WORKSPACE_WRAPPER="$REPO/benches/compile/count-rustc"
    UNIT="G instr"
else
    UNIT="CPU s"
fi

groups=$(sed -n 's/^full = \[\(.*\)\]/\1/p' "$REPO/Cargo.toml" | tr -d '",')
# CONFIGS="default full" measures only those.
configs="${CONFIGS:-default $groups full}"

flags_for() {
    [ "${PROFILE:-dev}" = dev ] || echo "--profile $PROFILE"
    [ "$1" = default ] || echo "--features $1"
}

# user+sys seconds (or G instructions) of one build of the wxpay crate alone, in directory $1
# with features $2 (target dir $3, else this tree's).
measure() {
    (
        cd "$1"
        export CARGO_TARGET_DIR="${3:-$CARGO_TARGET_DIR}"
        # shellcheck disable=SC2046
        cargo clean --quiet -p "$(facade_pkg)" $(flags_for default)
        if [ "${COUNT:-}" = instructions ]; then
            rm -f "$WORK/count.out"
            # shellcheck disable=SC2046
            WXPAY_BENCH_COUNT="$WORK/count.out" cargo build --quiet -p "$(facade_pkg)" --lib $(flags_for "$2") >/dev/null
            awk '/^summary:/ { printf "%.2f\n", $2 / 1e9 }' "$WORK/count.out"
        else
            TIMEFORMAT='%U %S'
            # shellcheck disable=SC2046
            { time cargo build --quiet -p "$(facade_pkg)" --lib $(flags_for "$2") >/dev/null; } 2>&1 | tail -1 \
                | awk '{printf "%.2f\n", $1 + $2}'
        fi
    )
}

if [ -n "${BEFORE:-}" ]; then
    git -C "$REPO" worktree add --quiet --detach "$WORK/before" "$BEFORE"
fi

# The groups are features of the wxpay crate alone: one unmeasured build fetches and compiles
# every dependency of every configuration.
# shellcheck disable=SC2046
(cd "$REPO" && cargo build --quiet -p "$(facade_pkg)" --lib $(flags_for default))
BEFORE_TARGET="$CARGO_TARGET_DIR-before"
# shellcheck disable=SC2046
[ -z "${BEFORE:-}" ] || (cd "$WORK/before" && CARGO_TARGET_DIR="$BEFORE_TARGET" cargo build --quiet -p "$(facade_pkg)" --lib $(flags_for default))

declare -A results
for round in $(seq "$ROUNDS"); do
    for config in $configs; do
        results[$config]+="$(measure "$REPO" "$config") "
        if [ -n "${BEFORE:-}" ]; then
            results[before:$config]+="$(measure "$WORK/before" "$config" "$BEFORE_TARGET") "
        fi
    done
    echo "round $round done" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
base=$(echo "${results[default]}" | median)
echo "profile: ${PROFILE:-dev}"
if [ -n "${BEFORE:-}" ]; then
    printf '%-16s %10s %8s %10s %8s\n' config "$UNIT" ratio before "now/before"
else
    printf '%-16s %10s %8s\n' config "$UNIT" ratio
fi
for config in $configs; do
    m=$(echo "${results[$config]}" | median)
    if [ -n "${BEFORE:-}" ]; then
        b=$(echo "${results[before:$config]}" | median)
        printf '%-16s %10s %8s %10s %8s\n' "$config" "$m" "$(ratio "$m" "$base")" "$b" "$(ratio "$m" "$b")"
    else
        printf '%-16s %10s %8s\n' "$config" "$m" "$(ratio "$m" "$base")"
    fi
done
echo "lines generated: $(cat "$REPO"/src/apis/*/mod.rs "$REPO"/src/apis/*/*/mod.rs \
    "$REPO"/src/apis/*/*/*/mod.rs "$REPO"/src/apis/mod.rs "$REPO"/src/apis/operations/table.rs \
    2>/dev/null | wc -l)"
