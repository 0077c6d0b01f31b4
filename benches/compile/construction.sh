#!/usr/bin/env bash
# What each way of building a request costs the compiler, measured on the same N request types
# (6 required fields, 5 of them strings, and 3 optional ones), each built once by a function of
# the crate, as an application builds the requests it sends:
#   literal:    `#[derive(wxpay::Constructor)]`, the SDK's mechanism:
#               `Order1::new(Order1Required { appid: "wx".into(), .. }).attach("a")`;
#   positional: the constructor the SDK generated before, written out:
#               `Order1::new("wx", "1", .., 1).attach("a")` (`impl Into<String>` parameters);
#   bon_builder: the `bon` crate's typestate builder, `#[derive(bon::Builder)]`:
#               `Order1::builder().appid("wx")..total(1).attach("a").build()`.
# Each crate alone is cleaned and rebuilt (dependencies cached), debug and release. With
# COUNT=instructions the figure is rustc's instructions (valgrind's cachegrind, through
# ./count-rustc), the same on a busy machine; otherwise CPU seconds.
#
# Usage: [N=300] [CACHE=dir] [COUNT=instructions] benches/compile/construction.sh
set -euo pipefail

N="${N:-300}"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
WORK="$(mktemp -d /tmp/wxpay-construction-bench.XXXXXX)"
TARGET="${CACHE:-$WORK/target}"
export CARGO_INCREMENTAL=0 CARGO_TERM_COLOR=never
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT

# A snapshot of the SDK, so that editing the tree during a run rebuilds nothing measured.
mkdir -p "$WORK/wxpay" "$WORK/gen"
tar -C "$REPO" --exclude=./target --exclude=./.git -cf - . | tar -C "$WORK/wxpay" -xf -
cp "$REPO/Cargo.lock" "$WORK/gen/Cargo.lock"
GEN="$WORK/gen"
cat >"$GEN/Cargo.toml" <<TOML
[workspace]
members = ["literal", "positional", "bon_builder"]
resolver = "3"
TOML

crate() {
  mkdir -p "$GEN/$1/src"
  cat >"$GEN/$1/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
wxpay = { package = "$(sed -n 's/^name = "\(wxpay[a-z-]*\)"$/\1/p' "$WORK/wxpay/Cargo.toml" | head -1)", path = "$WORK/wxpay" }
serde = { version = "1", features = ["derive"] }
bon = "3"
TOML
  echo '#![allow(dead_code)]' >"$GEN/$1/src/lib.rs"
}
for flavour in literal positional bon_builder; do crate "$flavour"; done

fields='    pub appid: String,
    pub mchid: String,
    pub description: String,
    pub out_trade_no: String,
    pub notify_url: String,
    pub total: u64,
    pub attach: Option<String>,
    pub goods_tag: Option<String>,
    pub time_expire: Option<String>,'
for i in $(seq 1 "$N"); do
  cat >>"$GEN/literal/src/lib.rs" <<RS
#[derive(Clone, serde::Serialize, wxpay::Constructor)]
#[non_exhaustive]
pub struct Order$i {
$fields
}

pub fn build$i() -> Order$i {
    Order$i::new(Order${i}Required {
        appid: "wx".into(),
        mchid: "1".into(),
        description: "d".into(),
        out_trade_no: "o".into(),
        notify_url: "n".into(),
        total: $i,
    })
    .attach("a")
}

RS
  setters=""
  for option in attach goods_tag time_expire; do
    setters+="
    #[inline]
    #[must_use]
    pub fn $option(mut self, $option: impl Into<String>) -> Self {
        self.$option = Some($option.into());
        self
    }"
  done
  cat >>"$GEN/positional/src/lib.rs" <<RS
#[derive(Clone, serde::Serialize)]
#[non_exhaustive]
pub struct Order$i {
$fields
}

impl Order$i {
    #[inline]
    #[must_use]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        appid: impl Into<String>,
        mchid: impl Into<String>,
        description: impl Into<String>,
        out_trade_no: impl Into<String>,
        notify_url: impl Into<String>,
        total: u64,
    ) -> Self {
        Order$i {
            appid: appid.into(),
            mchid: mchid.into(),
            description: description.into(),
            out_trade_no: out_trade_no.into(),
            notify_url: notify_url.into(),
            total,
            attach: None,
            goods_tag: None,
            time_expire: None,
        }
    }$setters
}

pub fn build$i() -> Order$i {
    Order$i::new("wx", "1", "d", "o", "n", $i).attach("a")
}

RS
  cat >>"$GEN/bon_builder/src/lib.rs" <<RS
#[derive(Clone, serde::Serialize, bon::Builder)]
#[builder(on(String, into))]
#[non_exhaustive]
pub struct Order$i {
$fields
}

pub fn build$i() -> Order$i {
    Order$i::builder()
        .appid("wx")
        .mchid("1")
        .description("d")
        .out_trade_no("o")
        .notify_url("n")
        .total($i)
        .attach("a")
        .build()
}

RS
done

cd "$GEN"
if [ "${COUNT:-}" = instructions ]; then
  command -v valgrind >/dev/null || { echo "COUNT=instructions needs valgrind" >&2; exit 1; }
  export RUSTC_WORKSPACE_WRAPPER="$REPO/benches/compile/count-rustc"
  UNIT="G instr"
else
  UNIT="CPU s"
fi

# One clean build of crate $1 alone, profile $2: G instructions or CPU seconds.
measure() {
  # A clean without the profile leaves the release build in place.
  cargo clean --quiet --target-dir "$TARGET" --profile "$2" -p "$1"
  if [ "${COUNT:-}" = instructions ]; then
    rm -f "$WORK/count.out"
    WXPAY_BENCH_COUNT="$WORK/count.out" cargo build --quiet --target-dir "$TARGET" \
      --profile "$2" -p "$1" >/dev/null
    awk '/^summary:/ { printf "%.2f\n", $2 / 1e9 }' "$WORK/count.out"
  else
    /usr/bin/time -f '%U %S' -o "$WORK/time.txt" cargo build --quiet --target-dir "$TARGET" \
      --profile "$2" -p "$1" >/dev/null
    awk '{ printf "%.2f\n", $1 + $2 }' "$WORK/time.txt"
  fi
}

printf '%s request types, each built once; %s of the crate alone\n' "$N" "$UNIT"
printf '%-8s %-11s %10s %8s\n' profile mechanism "$UNIT" "/literal"
for profile in dev release; do
  cargo build --quiet --target-dir "$TARGET" --profile "$profile" -p literal -p positional -p bon_builder
  declare -A figure=()
  for flavour in literal positional bon_builder; do figure[$flavour]=$(measure "$flavour" "$profile"); done
  for flavour in literal positional bon_builder; do
    printf '%-8s %-11s %10s %8s\n' "$profile" "$flavour" "${figure[$flavour]}" \
      "$(awk -v a="${figure[$flavour]}" -v b="${figure[literal]}" 'BEGIN {printf "%.2f", a / b}')"
  done
done
