#!/usr/bin/env bash
# Decides how the audit attributes cost (issue 2: "polars (lazy), or
# rayon-parallel partial aggregates merged at the end where that is
# measurably faster; the benchmark decides"). One binary
# (benches/polars_attribution, its own workspace so polars' `lazy` feature
# stays out of the product) reads and prices the file with tokenaudit's
# pipeline and then either keeps the audit's per-worker partial sums or
# builds a DataFrame row per call and groups it with polars' lazy API (by
# the attribution key, by user, by session). Alternating, REPEAT times each;
# median wall time, max peak RSS; both must give the same groups and the
# same cost to the pico-dollar. See benches/README.md.
#
#   benches/attribution_vs_polars.sh                # 1 GB file
#   BENCH_4GB=1 benches/attribution_vs_polars.sh    # and the 4 GB file (memory)
#
# The first run builds polars with `lazy` (about 20 minutes on 2 cores);
# POLARS_BENCH_TARGET sets where (default target/polars-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh

BENCH_TARGET="${POLARS_BENCH_TARGET:-$PWD/target/polars-bench}"
(cd benches/polars_attribution && CARGO_TARGET_DIR="$BENCH_TARGET" cargo build --release -q)
BIN="$BENCH_TARGET/release/polars-attribution-bench"

gen 1GB "$DATA/gateway-1GB.jsonl"
FILES=("$DATA/gateway-1GB.jsonl")
if [ "${BENCH_4GB:-0}" = 1 ]; then
  gen 4GB "$DATA/gateway-4GB.jsonl"
  FILES+=("$DATA/gateway-4GB.jsonl")
fi

for FILE in "${FILES[@]}"; do
  cat "$FILE" > /dev/null # the page cache: both read it warm
  a=$("$BIN" partial "$FILE"); b=$("$BIN" polars "$FILE" 2>/dev/null)
  if [ "$a" != "$b" ]; then
    echo "the two ways disagree on $FILE: partial sums '$a', polars '$b'" >&2
    exit 1
  fi
  pt=(); pm=(); lt=(); lm=()
  for i in $(seq "$REPEAT"); do
    read -r t m < <(run "$BIN" partial "$FILE"); pt+=("$t"); pm+=("$m")
    read -r t m < <(run "$BIN" polars "$FILE"); lt+=("$t"); lm+=("$m")
  done
  PT=$(printf '%s\n' "${pt[@]}" | median); PM=$(printf '%s\n' "${pm[@]}" | sort -n | tail -1)
  LT=$(printf '%s\n' "${lt[@]}" | median); LM=$(printf '%s\n' "${lm[@]}" | sort -n | tail -1)
  echo
  echo "file: $FILE ($(du -mL "$FILE" | cut -f1) MB); both: $a"
  echo "$REPEAT runs each, alternating; median wall time, max peak RSS"
  printf '%-44s %10s %14s\n' "" "seconds" "peak RSS MB"
  printf '%-44s %10s %14s\n' "partial sums per worker, merged (the audit)" "$PT" "$((PM / 1024))"
  printf '%-44s %10s %14s\n' "a row per call, polars lazy group_by" "$LT" "$((LM / 1024))"
  awk -v a="$PT" -v b="$LT" 'BEGIN { printf "ratio polars/partial: %.2fx (above 1 means the partial sums are faster)\n", b / a }'
done
