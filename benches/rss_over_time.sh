#!/usr/bin/env bash
# Samples the resident memory of one whole audit, and of one store ingest,
# every 0.25 s, to show where it stops growing: the detectors' samples fill up to their caps during the
# first gigabyte or two, then memory is flat however long the input runs.
#
#   benches/rss_over_time.sh                              # 1 GB and 4 GB files
#   benches/rss_over_time.sh benches/data/gateway-1GB.jsonl
#   gen 10GB: target/release/tokenaudit-samplegen --size 10GB --out benches/data/gateway-10GB.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
if [ $# = 0 ]; then
  gen 1GB "$DATA/gateway-1GB.jsonl"; gen 4GB "$DATA/gateway-4GB.jsonl"
  set -- "$DATA/gateway-1GB.jsonl" "$DATA/gateway-4GB.jsonl"
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
sample() { # LABEL CMD...: peak RSS and RSS every second of one run
  local label=$1; shift
  "$@" >/dev/null &
  local pid=$! samples=() peak=0 i=0 rss
  while kill -0 "$pid" 2>/dev/null; do
    rss=$(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$pid/status" 2>/dev/null || true)
    if [ -n "$rss" ]; then
      [ "$rss" -gt "$peak" ] && peak=$rss
      [ $((i % 4)) = 0 ] && samples+=("$rss")
      i=$((i + 1))
    fi
    sleep 0.25
  done
  wait "$pid"
  echo "$label: peak ${peak} MB; RSS MB every 1 s: ${samples[*]}"
}
for FILE in "$@"; do
  cat "$FILE" > /dev/null
  size="$(du -mL "$FILE" | cut -f1) MB"
  sample "audit $FILE ($size)" "$TA" audit "$FILE" --out "$OUT/report" --quiet
  rm -rf "$OUT/store"
  sample "ingest $FILE ($size) into an empty store" "$TA" ingest "$FILE" --store "$OUT/store" --quiet
  rm -rf "$OUT/store"
done
