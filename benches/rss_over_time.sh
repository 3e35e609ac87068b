#!/usr/bin/env bash
# Samples the resident memory of one whole audit every 0.25 s, to show where
# it stops growing: the detectors' samples fill up to their caps during the
# first gigabyte or two, then memory is flat however long the input runs.
#
#   benches/rss_over_time.sh                              # 1 GB and 4 GB files
#   benches/rss_over_time.sh benches/data/gateway-1GB.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
if [ $# = 0 ]; then
  gen 1GB "$DATA/gateway-1GB.jsonl"; gen 4GB "$DATA/gateway-4GB.jsonl"
  set -- "$DATA/gateway-1GB.jsonl" "$DATA/gateway-4GB.jsonl"
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for FILE in "$@"; do
  cat "$FILE" > /dev/null
  "$TA" audit "$FILE" --out "$OUT" --quiet &
  pid=$!; samples=()
  while kill -0 "$pid" 2>/dev/null; do
    rss=$(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$rss" ] && samples+=("$rss")
    sleep 0.25
  done
  wait "$pid"
  echo "$FILE ($(du -mL "$FILE" | cut -f1) MB): RSS MB every 0.25 s: ${samples[*]}"
done
