#!/usr/bin/env bash
# Compile cost of #[endpoint] next to plain serde derives.
#
# Generates, in a throwaway directory, a workspace with two crates holding the same 200 structs:
#   endpoints: each struct declared with #[endpoint(...)] (the macro, the Endpoint impl and the
#              private Serialize body it expands to);
#   plain:     each struct with #[derive(Serialize, Deserialize)].
# Both are built once so every dependency (serde, serde_derive, wxpay, wxpay-macros, ...) sits
# in one shared target dir; then each crate alone is cleaned (`cargo clean -p`) and rebuilt,
# alternately, ROUNDS times. Only the 200-struct crate is compiled in a measured build, so the
# ratio of the medians is the macro's cost against serde's. CPU time (user+sys of the cargo
# process tree) is the headline, being less sensitive than wall time to the neighbours on a
# shared machine; wall time is printed beside it.
#
# Then the clean build of the proc-macro crates themselves: wxpay-macros and serde_derive, each
# alone (dependencies cached, crate cleaned) and each with its dependencies into an empty target
# dir, in the same run.
#
# Usage: [CACHE=/tmp/dir] benches/compile/run.sh [ROUNDS]   (default 5; debug builds, as
# `cargo build` does)
# Nothing is written outside a mktemp directory, which is removed at the end (KEEP=1 keeps it).
set -euo pipefail

ROUNDS="${1:-5}"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d /tmp/wxpay-compile-bench.XXXXXX)"
# CACHE=/some/dir keeps the dependency cache between runs (it must not be a project target dir).
TARGET="${CACHE:-$WORK/target}"
export CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT

N=200

# A snapshot of the SDK, so that editing the work tree during a run cannot rebuild wxpay inside
# a measured build; and its lock file, so that the dependency versions are the project's.
mkdir -p "$WORK/wxpay"
tar -C "$REPO" --exclude=./target --exclude=./.git -cf - . | tar -C "$WORK/wxpay" -xf -
GEN="$WORK/gen"
mkdir -p "$GEN"
cp "$REPO/Cargo.lock" "$GEN/Cargo.lock"
SDK="$WORK/wxpay"

# --- generate -------------------------------------------------------------------------------
mkdir -p "$GEN/endpoints/src" "$GEN/plain/src"
cat >"$GEN/Cargo.toml" <<TOML
[workspace]
members = ["endpoints", "plain"]
resolver = "3"
TOML
cat >"$GEN/endpoints/Cargo.toml" <<TOML
[package]
name = "endpoints"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
wxpay = { path = "$SDK" }
serde = { version = "1", features = ["derive"] }
TOML
cat >"$GEN/plain/Cargo.toml" <<TOML
[package]
name = "plain"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
serde = { version = "1", features = ["derive"] }
# Same lock file and feature set as the endpoints crate, so both see the same serde build.
wxpay = { path = "$SDK" }
TOML

answer='/// The answer every generated endpoint decodes.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
pub struct Answer {
    pub id: String,
    pub status: Option<String>,
    pub amount: u64,
}
'
{
  echo '#![allow(dead_code)]'
  echo 'use wxpay::endpoint;'
  echo "$answer"
} >"$GEN/endpoints/src/lib.rs"
{
  echo '#![allow(dead_code)]'
  echo "$answer"
} >"$GEN/plain/src/lib.rs"

for i in $(seq 1 "$N"); do
  # A mix like the catalog's: every 4th a GET (fields go to the query), every 5th with an
  # encrypted field.
  if (( i % 4 == 0 )); then method=GET; else method=POST; fi
  encrypt=""
  plain_encrypt=""
  if (( i % 5 == 0 )); then
    encrypt=$'    #[wxpay(encrypt)]\n    pub user_name: String,\n'
    plain_encrypt=$'    pub user_name: String,\n'
  fi
  fields='    pub out_request_no: String,
    pub amount: u64,
    pub note: Option<String>,
    pub appid: String,'
  cat >>"$GEN/endpoints/src/lib.rs" <<RS
/// Endpoint $i.
#[endpoint($method "/v3/generated/things$i/<thing_id>/act" -> Answer)]
pub struct Operation$i {
    pub thing_id: String,
$fields
$encrypt}

RS
  cat >>"$GEN/plain/src/lib.rs" <<RS
/// Endpoint $i.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Operation$i {
    pub thing_id: String,
$fields
$plain_encrypt}

RS
done

cd "$GEN"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "$(rustc --version)"
echo "generated: $GEN ($N structs per crate)"

# --- measure --------------------------------------------------------------------------------
# Runs a command; prints "cpu_seconds wall_seconds".
measure() {
  /usr/bin/time -f '%U %S %e %x' -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/build.log" || {
    echo "build failed: $*" >&2
    cat "$WORK/build.log" >&2
    exit 1
  }
  awk 'END { printf "%.3f %.3f\n", $1 + $2, $3 }' "$WORK/time.txt"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "pre-building the shared dependency cache..."
cargo build --quiet --offline --target-dir "$TARGET" -p endpoints -p plain 2>/dev/null \
  || cargo build --quiet --target-dir "$TARGET" -p endpoints -p plain

declare -A cpu wall
for crate in endpoints plain; do cpu[$crate]=""; wall[$crate]=""; done
for round in $(seq 1 "$ROUNDS"); do
  for crate in plain endpoints; do
    cargo clean --quiet --offline --target-dir "$TARGET" -p "$crate"
    measure cargo build --offline --target-dir "$TARGET" -p "$crate" >"$WORK/m.txt"
    read -r c w <"$WORK/m.txt"
    cpu[$crate]+="$c"$'\n'
    wall[$crate]+="$w"$'\n'
    echo "round $round: $crate cpu ${c}s wall ${w}s"
  done
done
ec=$(printf '%s' "${cpu[endpoints]}" | median); pc=$(printf '%s' "${cpu[plain]}" | median)
ew=$(printf '%s' "${wall[endpoints]}" | median); pw=$(printf '%s' "${wall[plain]}" | median)
echo
echo "200 structs, median of $ROUNDS clean builds of the crate alone (dependencies cached):"
printf '  #[endpoint]                        cpu %6.2fs  wall %6.2fs\n' "$ec" "$ew"
printf '  #[derive(Serialize, Deserialize)]  cpu %6.2fs  wall %6.2fs\n' "$pc" "$pw"
awk -v e="$ec" -v p="$pc" -v ew="$ew" -v pw="$pw" \
  'BEGIN { printf "  ratio endpoint / serde: %.2fx (cpu), %.2fx (wall)\n", e / p, ew / pw }'

# --- the proc-macro crates themselves -------------------------------------------------------
echo
echo "proc-macro crates, debug build:"
for crate in wxpay-macros serde_derive; do
  cargo clean --quiet --offline --target-dir "$TARGET" -p "$crate"
  measure cargo build --offline --target-dir "$TARGET" -p "$crate" >"$WORK/m.txt"
  read -r c w <"$WORK/m.txt"
  printf '  %-13s alone (deps cached):        cpu %6.2fs  wall %6.2fs\n' "$crate" "$c" "$w"
done
for crate in wxpay-macros serde_derive; do
  measure cargo build --offline --target-dir "$WORK/empty-$crate" -p "$crate" >"$WORK/m.txt"
  read -r c w <"$WORK/m.txt"
  printf '  %-13s with deps, empty target:    cpu %6.2fs  wall %6.2fs\n' "$crate" "$c" "$w"
done
echo "  (dependencies: $(cargo tree --offline -p wxpay-macros -e normal --prefix none 2>/dev/null | sed 's/ (\*)//; s/ (proc-macro).*//' | sort -u | tr '\n' ' '))"
echo "  (dependencies: $(cargo tree --offline -p serde_derive -e normal --prefix none 2>/dev/null | sed 's/ (\*)//; s/ (proc-macro).*//' | sort -u | tr '\n' ' '))"
