#!/usr/bin/env bash
# What a newcomer waits for: a fresh clone of this tree (`../shared` beside it, as CI has it),
# then the README's two commands, each timed on its own: wall time, CPU time (user + system of
# every process) and the target directory's size after it.
#
#   benches/newcomer.sh [REV]        # default: HEAD (commit first; the clone takes committed files)
#   KEEP=1 benches/newcomer.sh       # keep the clone (its path is printed)
#
# The cargo caches (registry downloads) are the user's, as on a machine that has built any Rust
# before; nothing of this checkout's target is reused. Run it on a quiet machine: other builds
# running at the same time stretch the wall times.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rev="${1:-HEAD}"
shared="$root/../shared"
[ -d "$shared" ] || { echo "no ../shared beside the checkout" >&2; exit 1; }

work="$(mktemp -d)"
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
git clone --quiet "$root" "$work/wxpay"
git -C "$work/wxpay" checkout --quiet "$(git -C "$root" rev-parse "$rev")"
ln -s "$shared" "$work/shared"
cd "$work/wxpay"
echo "fresh tree of $(git rev-parse --short HEAD) in $work/wxpay"

export CARGO_TERM_COLOR=never
# Fetch first so the timings measure building, not downloading.
cargo fetch --quiet

measure() {
    local label="$1"; shift
    local out="$work/time.$label"
    /usr/bin/time -f "%e %U %S" -o "$out" "$@" >"$work/log.$label" 2>&1 || {
        echo "$label failed; the last lines:" >&2
        tail -20 "$work/log.$label" >&2
        exit 1
    }
    read -r wall user sys <"$out"
    local size
    size="$(du -sb target | cut -f1)"
    awk -v l="$label" -v w="$wall" -v u="$user" -v s="$sys" -v t="$size" \
        'BEGIN { printf "%-40s wall %7.1f s   cpu %7.1f s   target %5.2f GB\n", l, w, u + s, t / 1e9 }'
}

measure "cargo run --example quickstart" cargo run --example quickstart
measure "cargo test --workspace (after it)" cargo test --workspace
