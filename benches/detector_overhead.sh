#!/usr/bin/env bash
# What the waste detectors add to the audit: times `tokenaudit audit` with
# and without findings (`--no-findings`: attribution only) on the same
# generated gateway file, alternating, REPEAT times each, and prints the
# medians, the overhead and both peak RSS figures. See benches/README.md.
#
#   benches/detector_overhead.sh             # 1 GB file
#   BENCH_4GB=1 benches/detector_overhead.sh # also the 4 GB file (RSS flat?)
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
OUT=$(mktemp -d)
bench() { # file
  local a_t=() a_m=() f_t=() f_m=()
  for _ in $(seq "$REPEAT"); do
    read -r t m < <(run "$TA" audit "$1" --out "$OUT" --quiet --no-findings); a_t+=("$t"); a_m+=("$m")
    read -r t m < <(run "$TA" audit "$1" --out "$OUT" --quiet); f_t+=("$t"); f_m+=("$m")
  done
  local A_T F_T A_M F_M
  A_T=$(printf '%s\n' "${a_t[@]}" | median); F_T=$(printf '%s\n' "${f_t[@]}" | median)
  A_M=$(printf '%s\n' "${a_m[@]}" | sort -n | tail -1); F_M=$(printf '%s\n' "${f_m[@]}" | sort -n | tail -1)
  echo
  echo "file: $1 ($(du -mL "$1" | cut -f1) MB), $REPEAT runs each, alternating; median wall time, max peak RSS"
  printf '%-36s %10s %14s\n' "" "seconds" "peak RSS MB"
  printf '%-36s %10s %14s\n' "audit --no-findings (attribution)" "$A_T" "$((A_M / 1024))"
  printf '%-36s %10s %14s\n' "audit (attribution + detectors)" "$F_T" "$((F_M / 1024))"
  awk -v a="$A_T" -v f="$F_T" 'BEGIN { printf "detectors add %.0f%% to the audit time\n", (f / a - 1) * 100 }'
}
gen 1GB "$DATA/gateway-1GB.jsonl"
bench "$DATA/gateway-1GB.jsonl"
if [ "${BENCH_4GB:-0}" = 1 ]; then
  gen 4GB "$DATA/gateway-4GB.jsonl"
  bench "$DATA/gateway-4GB.jsonl"
fi
rm -rf "$OUT"
