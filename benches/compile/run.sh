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
# Then the catalog at scale: 1,000 endpoints shaped like the real surface (half carry a nested
# type, one in ten a nested type with encrypted fields; every answer has 12 fields and an enum)
#   catalog_endpoints: requests with #[endpoint], nested types with the SDK's derives
#                      (Serialize + Constructor, or Sensitive where fields are encrypted);
#   catalog_plain:     the same types with the derives a hand-written SDK would use (requests
#                      Serialize, answers Deserialize);
# answers are `#[derive(Deserialize)]` in both. And an application that calls 10 of the
# endpoints with `client.send`, built against that catalog and against one of only 100
# endpoints: its build must not grow with the endpoints it does not call.
#
# Usage: [CACHE=/tmp/dir] [ONLY=catalog|structs] [COUNT=instructions] [PROFILE=release]
#        benches/compile/run.sh [ROUNDS]   (default 5; debug builds, as `cargo build` does, or
#        release builds with PROFILE=release)
# COUNT=instructions counts the instructions rustc runs for each measured crate (valgrind's
# cachegrind) instead of timing it: about 15x slower, but the same on a busy machine as on a
# quiet one, and the same every round, so one round is enough and small ratios can be trusted.
# The figures are then G instructions where the report says cpu seconds.
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
# PROFILE=release: every build of the generated crates is a release build.
PROFILE_FLAGS=()
[ "${PROFILE:-dev}" = dev ] || PROFILE_FLAGS=(--profile "$PROFILE")

# A snapshot of the SDK, so that editing the work tree during a run cannot rebuild wxpay inside
# a measured build; and its lock file, so that the dependency versions are the project's.
mkdir -p "$WORK/wxpay"
tar -C "$REPO" --exclude=./target --exclude=./.git -cf - . | tar -C "$WORK/wxpay" -xf -
GEN="$WORK/gen"
mkdir -p "$GEN"
cp "$REPO/Cargo.lock" "$GEN/Cargo.lock"
SDK="$WORK/wxpay"
# The facade's package name (`wxpay-sdk`; `wxpay` before it was renamed); the library is `wxpay`.
PKG="$(sed -n 's/^name = "\(wxpay[a-z-]*\)"$/\1/p' "$SDK/Cargo.toml" | head -1)"

# --- generate -------------------------------------------------------------------------------
mkdir -p "$GEN/endpoints/src" "$GEN/plain/src"
cat >"$GEN/Cargo.toml" <<TOML
[workspace]
members = ["endpoints", "plain", "catalog_endpoints", "catalog_plain", "catalog_small", "app", "app_small"]
resolver = "3"
TOML
cat >"$GEN/endpoints/Cargo.toml" <<TOML
[package]
name = "endpoints"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
wxpay = { package = "$PKG", path = "$SDK" }
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
wxpay = { package = "$PKG", path = "$SDK" }
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

# --- the catalog at scale: generate --------------------------------------------------------
# Writes the 1,000-endpoint (or $2-endpoint) catalog in flavour $1 (endpoints | plain).
catalog() {
  local flavour=$1 count=$2 i skip
  # A `None` is left out rather than sent as `null` (the platform refuses some nulls): nested
  # types say so on each `Option`, as the generated catalog's do; on the requests themselves
  # `#[endpoint]` does it, so only the plain requests say it.
  local nskip=$'    #[serde(skip_serializing_if = "Option::is_none")]\n'
  if [ "$flavour" = plain ]; then skip=$nskip; else skip=""; fi
  echo '#![allow(dead_code)]'
  echo 'use serde::{Deserialize, Serialize};'
  for i in $(seq 1 "$count"); do
    # A quarter are GETs (fields in the query), on odd numbers: no nested type there.
    if (( i % 4 == 1 )); then method=GET; else method=POST; fi
    nested="" nested_field="" sensitive=""
    if (( i % 2 == 0 )); then
      if [ "$flavour" = endpoints ]; then derive='#[derive(Debug, Clone, Serialize, wxpay::Constructor)]'
      else derive='#[derive(Debug, Clone, Serialize)]'; fi
      nested="$derive
pub struct Detail$i {
    pub goods_id: String,
    pub quantity: u64,
    pub unit_price: u64,
${nskip}    pub goods_name: Option<String>,
}
"
      nested_field="${skip}    pub detail: Option<Detail$i>,"
    fi
    if (( i % 10 == 0 )); then
      if [ "$flavour" = endpoints ]; then
        derive='#[derive(Clone, Serialize, wxpay::Sensitive)]'; mark='    #[wxpay(encrypt)]'
      else derive='#[derive(Debug, Clone, Serialize)]'; mark=''; fi
      sensitive="$derive
pub struct Identity$i {
$mark
    pub name: String,
$mark
${nskip}    pub id_number: Option<String>,
    pub kind: String,
}
"
    fi
    cat <<RS
$nested$sensitive
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum State$i { Pending, Processing, Success, Closed }

#[derive(Debug, Clone, Deserialize)]
pub struct Answer$i {
    pub id: String,
    pub out_request_no: String,
    pub state: State$i,
    pub amount: u64,
    pub refund: Option<u64>,
    pub appid: String,
    pub mchid: String,
    pub create_time: String,
    pub success_time: Option<String>,
    pub attach: Option<String>,
    pub payer: Option<String>,
    pub note: Option<String>,
}

RS
    if [ "$flavour" = endpoints ]; then
      echo "#[wxpay::endpoint($method \"/v3/generated/things$i/<thing_id>/act\" -> Answer$i)]"
      if (( i % 10 != 0 )); then echo '#[derive(Debug, Clone)]'; else echo '#[derive(Clone)]'; fi
      encrypt='    #[wxpay(encrypt)]'
    else
      echo '#[derive(Debug, Clone, Serialize)]'
      encrypt=''
    fi
    echo "pub struct Operation$i {"
    echo "    pub thing_id: String,"
    echo "    pub out_request_no: String,"
    echo "    pub amount: u64,"
    echo "    pub appid: String,"
    echo "${skip}    pub description: Option<String>,"
    echo "${skip}    pub notify_url: Option<String>,"
    [ -n "$nested_field" ] && echo "$nested_field"
    if (( i % 10 == 0 )); then
      [ -n "$encrypt" ] && echo "$encrypt"
      echo "    pub identity: Identity$i,"
    fi
    echo "}"
    echo
  done
}

# An application that sends endpoints 1..=10 of catalog crate $1.
app() {
  local catalog=$1 i
  echo "use $catalog::*;"
  echo
  echo '/// Sends ten of the catalog'"'"'s endpoints.'
  echo 'pub async fn run(client: &wxpay::Client) -> Result<u64, wxpay::Error> {'
  echo '    let mut total = 0;'
  for i in $(seq 1 10); do
    if (( i % 10 == 0 )); then
      args=", identity: Identity$i { name: \"张三\".into(), id_number: None, kind: \"ID\".into() }"
    else args=""; fi
    # Built as applications build requests: every required field named.
    echo "    total += client.send(Operation$i::new(Operation${i}Required { thing_id: \"t$i\".into(), out_request_no: \"r$i\".into(), amount: $i, appid: \"wx1\".into()$args }).description(\"d\")).await?.amount;"
  done
  echo '    Ok(total)'
  echo '}'
}

crate_toml() {
  mkdir -p "$GEN/$1/src"
  cat >"$GEN/$1/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
wxpay = { package = "$PKG", path = "$SDK" }
serde = { version = "1", features = ["derive"] }
$2
TOML
}
crate_toml catalog_endpoints ""
crate_toml catalog_plain ""
crate_toml catalog_small ""
crate_toml app 'catalog_endpoints = { path = "../catalog_endpoints" }'
crate_toml app_small 'catalog_small = { path = "../catalog_small" }'
catalog endpoints 1000 >"$GEN/catalog_endpoints/src/lib.rs"
catalog plain 1000 >"$GEN/catalog_plain/src/lib.rs"
catalog endpoints 100 >"$GEN/catalog_small/src/lib.rs"
app catalog_endpoints >"$GEN/app/src/lib.rs"
app catalog_small >"$GEN/app_small/src/lib.rs"

cd "$GEN"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "$(rustc --version)"
echo "generated: $GEN ($N structs per crate)"

# --- measure --------------------------------------------------------------------------------
# With COUNT=instructions every build of the generated crates goes through ./count-rustc (so
# their fingerprints do not change between the pre-build and the measured builds); it counts
# only while WXPAY_BENCH_COUNT names an output file, which `measure` sets.
# CPU and KIND: how the reports name the first figure.
if [ "${COUNT:-}" = instructions ]; then
  command -v valgrind >/dev/null || { echo "COUNT=instructions needs valgrind" >&2; exit 1; }
  export RUSTC_WORKSPACE_WRAPPER="$REPO/benches/compile/count-rustc"
  CPU='instr %6.2fG' KIND=instructions
else
  CPU='cpu %6.2fs' KIND=cpu
fi

# Runs a command; prints "cpu_seconds wall_seconds" (with COUNT=instructions,
# "g_instructions wall_seconds").
measure() {
  rm -f "$WORK/count.out"
  if [ "${COUNT:-}" = instructions ]; then export WXPAY_BENCH_COUNT="$WORK/count.out"; fi
  /usr/bin/time -f '%U %S %e %x' -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/build.log" || {
    echo "build failed: $*" >&2
    cat "$WORK/build.log" >&2
    exit 1
  }
  unset WXPAY_BENCH_COUNT
  if [ "${COUNT:-}" = instructions ]; then
    local wall
    wall=$(awk 'END { print $3 }' "$WORK/time.txt")
    awk -v w="$wall" '/^summary:/ { printf "%.3f %.3f\n", $2 / 1e9, w }' "$WORK/count.out"
  else
    awk 'END { printf "%.3f %.3f\n", $1 + $2, $3 }' "$WORK/time.txt"
  fi
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# `rounds N crate...`: N rounds of a clean build of each crate alone, alternating; leaves the
# medians in cpu_median[crate] and wall_median[crate].
declare -A cpu_median wall_median
rounds() {
  local n=$1 round crate c w
  shift
  declare -A cpu wall
  for crate in "$@"; do cpu[$crate]=""; wall[$crate]=""; done
  for round in $(seq 1 "$n"); do
    for crate in "$@"; do
      cargo clean --quiet --offline "${PROFILE_FLAGS[@]}" --target-dir "$TARGET" -p "$crate"
      measure cargo build --offline "${PROFILE_FLAGS[@]}" --target-dir "$TARGET" -p "$crate" >"$WORK/m.txt"
      read -r c w <"$WORK/m.txt"
      cpu[$crate]+="$c"$'\n'
      wall[$crate]+="$w"$'\n'
      echo "round $round: $crate $KIND $c wall ${w}s"
    done
  done
  for crate in "$@"; do
    cpu_median[$crate]=$(printf '%s' "${cpu[$crate]}" | median)
    wall_median[$crate]=$(printf '%s' "${wall[$crate]}" | median)
  done
}

echo "pre-building the shared dependency cache..."
cargo build --quiet --offline "${PROFILE_FLAGS[@]}" --target-dir "$TARGET" -p endpoints -p plain 2>/dev/null \
  || cargo build --quiet "${PROFILE_FLAGS[@]}" --target-dir "$TARGET" -p endpoints -p plain

if [ "${ONLY:-}" != catalog ]; then

rounds "$ROUNDS" plain endpoints
ec=${cpu_median[endpoints]} pc=${cpu_median[plain]}
ew=${wall_median[endpoints]} pw=${wall_median[plain]}
echo
echo "200 structs, median of $ROUNDS clean builds of the crate alone (dependencies cached):"
printf "  #[endpoint]                        ${CPU}  wall %6.2fs\n" "$ec" "$ew"
printf "  #[derive(Serialize, Deserialize)]  ${CPU}  wall %6.2fs\n" "$pc" "$pw"
awk -v kind="$KIND" -v e="$ec" -v p="$pc" -v ew="$ew" -v pw="$pw" \
  'BEGIN { printf "  ratio endpoint / serde: %.2fx (" kind "), %.2fx (wall)\n", e / p, ew / pw }'

# --- the proc-macro crates themselves -------------------------------------------------------
# (timed only: they are not the generated workspace's crates, which are what the wrapper counts)
if [ "${COUNT:-}" != instructions ]; then
echo
echo "proc-macro crates, debug build:"
for crate in wxpay-macros serde_derive; do
  cargo clean --quiet --offline "${PROFILE_FLAGS[@]}" --target-dir "$TARGET" -p "$crate"
  measure cargo build --offline "${PROFILE_FLAGS[@]}" --target-dir "$TARGET" -p "$crate" >"$WORK/m.txt"
  read -r c w <"$WORK/m.txt"
  printf "  %-13s alone (deps cached):        ${CPU}  wall %6.2fs\n" "$crate" "$c" "$w"
done
for crate in wxpay-macros serde_derive; do
  measure cargo build --offline "${PROFILE_FLAGS[@]}" --target-dir "$WORK/empty-$crate" -p "$crate" >"$WORK/m.txt"
  read -r c w <"$WORK/m.txt"
  printf "  %-13s with deps, empty target:    ${CPU}  wall %6.2fs\n" "$crate" "$c" "$w"
done
echo "  (dependencies: $(cargo tree --offline -p wxpay-macros -e normal --prefix none 2>/dev/null | sed 's/ (\*)//; s/ (proc-macro).*//' | sort -u | tr '\n' ' '))"
echo "  (dependencies: $(cargo tree --offline -p serde_derive -e normal --prefix none 2>/dev/null | sed 's/ (\*)//; s/ (proc-macro).*//' | sort -u | tr '\n' ' '))"
fi
fi

# --- the catalog at scale -------------------------------------------------------------------
[ "${ONLY:-}" = structs ] && exit 0

echo
echo "catalog at scale: building the catalogs once..."
cargo build --quiet --offline "${PROFILE_FLAGS[@]}" --target-dir "$TARGET" -p app -p app_small -p catalog_plain

CROUNDS="${CATALOG_ROUNDS:-1}"
# An app is measured alone: its catalog stays built (`cargo clean -p` cleans one package).
rounds "$CROUNDS" catalog_plain catalog_endpoints app_small app
declare -A mc mw
for crate in catalog_plain catalog_endpoints app_small app; do
  mc[$crate]=${cpu_median[$crate]} mw[$crate]=${wall_median[$crate]}
done
echo
echo "1,000 endpoints, median of $CROUNDS clean builds of the crate alone (dependencies cached):"
printf "  #[endpoint] catalog                  ${CPU}  wall %6.2fs\n" "${mc[catalog_endpoints]}" "${mw[catalog_endpoints]}"
printf "  plain derives (Serialize/Deserialize) ${CPU}  wall %6.2fs\n" "${mc[catalog_plain]}" "${mw[catalog_plain]}"
awk -v kind="$KIND" -v e="${mc[catalog_endpoints]}" -v p="${mc[catalog_plain]}" \
  'BEGIN { printf "  ratio endpoint / plain: %.2fx (" kind ")\n", e / p }'
echo "an application sending 10 endpoints, built alone:"
printf "  against 1,000 endpoints  ${CPU}  wall %6.2fs\n" "${mc[app]}" "${mw[app]}"
printf "  against   100 endpoints  ${CPU}  wall %6.2fs\n" "${mc[app_small]}" "${mw[app_small]}"
awk -v kind="$KIND" -v a="${mc[app]}" -v s="${mc[app_small]}" \
  'BEGIN { printf "  ratio 1,000 / 100: %.2fx (" kind ")\n", a / s }'
