#!/usr/bin/env bash
# The audit's time and memory as the number of distinct features grows
# (`[attribution] feature = "user"` on a log with many users makes every
# user a feature): 20k, 40k and 80k features, one call each, REPEAT runs
# each, median seconds and max peak RSS, and the time per feature. Time
# should grow in proportion (a rule that scanned every cell per feature made
# 80k take 51 s at stop 32). See benches/README.md.
#
#   benches/many_keys.sh
#   SIZES="10000 100000" benches/many_keys.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh

SIZES="${SIZES:-20000 40000 80000}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
printf '[attribution]\nfeature = "user"\n' > "$WORK/user.toml"
printf '%-10s %9s %12s %14s\n' features seconds "peak RSS MB" "µs per feature"
for n in $SIZES; do
  python3 - "$n" "$WORK/u$n.jsonl" <<'PY'
import sys
n = int(sys.argv[1])
with open(sys.argv[2], "w") as f:
    for k in range(n):
        f.write('{"timestamp":"2026-10-%02dT10:00:00Z","model":"gpt-4o-mini","usage":{"prompt_tokens":%d,"completion_tokens":10},"user":"u%d","request_id":"q%d"}\n' % (1 + k % 28, 1000 + k % 997, k, k))
PY
  t=(); m=()
  for i in $(seq "$REPEAT"); do
    read -r s k < <(run "$TA" audit "$WORK/u$n.jsonl" --config "$WORK/user.toml" --out "$WORK/out" --quiet)
    t+=("$s"); m+=("$k")
  done
  s=$(printf '%s\n' "${t[@]}" | median); k=$(printf '%s\n' "${m[@]}" | sort -n | tail -1)
  printf '%-10s %9s %12s %14s\n' "$n" "$s" "$((k / 1024))" "$(awk -v s="$s" -v n="$n" 'BEGIN { printf "%.1f", s * 1e6 / n }')"
done
