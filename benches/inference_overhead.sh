#!/usr/bin/env bash
# What issue 12's inferences (turns, sessions, prefix sizes, the prompt-cache
# replay, the TTL sweep, rule coverage) cost a whole audit: a build from
# before them against this tree's, alternating runs on the same files,
# median wall time and peak RSS.
#
#   BEFORE=/path/to/old/tokenaudit benches/inference_overhead.sh [FILE...]
#
# Build BEFORE from the commit before the inferences (9ddcdbd):
#   git worktree add /tmp/old 9ddcdbd && (cd /tmp/old && cargo build --release)
# Without FILE: the 1 GB gateway log and the 1 GB gateway-alt-shuffled log
# (prompt text in `messages`: the user-message counts and system-prompt
# sizes are read from it).
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
: "${BEFORE:?set BEFORE to a tokenaudit built before the inferences}"
if [ $# = 0 ]; then
  gen 1GB "$DATA/gateway-1GB.jsonl"
  gen 1GB "$DATA/gateway-alt-shuffled-1GB.jsonl" gateway-alt-shuffled
  set -- "$DATA/gateway-1GB.jsonl" "$DATA/gateway-alt-shuffled-1GB.jsonl"
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
printf '%-44s %10s %8s %10s %8s %8s\n' file "before s" "RSS MB" "after s" "RSS MB" after/before
for FILE in "$@"; do
  cat "$FILE" > /dev/null
  bt=(); bm=(); at=(); am=()
  for i in $(seq "$REPEAT"); do
    read -r t m < <(run "$BEFORE" audit "$FILE" --out "$OUT/b" --quiet); bt+=("$t"); bm+=("$m")
    read -r t m < <(run "$TA" audit "$FILE" --out "$OUT/a" --quiet); at+=("$t"); am+=("$m")
  done
  b=$(printf '%s\n' "${bt[@]}" | median); a=$(printf '%s\n' "${at[@]}" | median)
  printf '%-44s %10s %8s %10s %8s %8s\n' "$(basename "$FILE")" "$b" \
    "$(( $(printf '%s\n' "${bm[@]}" | sort -n | tail -1) / 1024 ))" "$a" \
    "$(( $(printf '%s\n' "${am[@]}" | sort -n | tail -1) / 1024 ))" \
    "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", a / b }')"
done
