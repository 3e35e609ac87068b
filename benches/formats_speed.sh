#!/usr/bin/env bash
# Issue 5's speed figures: is a format-specific reader as fast as the gateway
# reader per byte, and what do format detection and a [mapping] cost? Converts
# the first ~200 MB of the generated gateway file into other built-in formats
# (benches/convert_formats.py, call for call), checks that each audits to the
# gateway slice's total cost, then times `audit --no-findings` on each format
# alternating with the gateway slice (REPEAT times each, medians), and the
# gateway slice detected / forced with --input-format / through a [mapping].
# See benches/README.md.
#
#   benches/formats_speed.sh                 # 200 MB slice, 3 runs each
#   REPEAT=1 SLICE_MB=50 benches/formats_speed.sh
#   TOKENAUDIT_BIN=/tmp/old/tokenaudit benches/formats_speed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh
MB="${SLICE_MB:-200}"
gen 1GB "$DATA/gateway-1GB.jsonl"

FORMATS=(openai-batch anthropic-batch langfuse helicone otlp-json bedrock kong)
GW="$DATA/gateway-${MB}MB.jsonl"
MAP="$DATA/mapping-gateway.toml"
fresh=1
for f in "$GW" "$DATA/batchref-${MB}MB.jsonl" "$MAP" "$DATA/formats-notes-${MB}MB.txt" \
  $(for n in "${FORMATS[@]}"; do echo "$DATA/$n-${MB}MB.jsonl"; done); do
  { [ -s "$f" ] && [ "$f" -nt benches/convert_formats.py ] && [ "$f" -nt "$DATA/gateway-1GB.jsonl" ]; } || fresh=0
done
if [ "$fresh" = 0 ]; then
  echo "converting the first ${MB} MB of $DATA/gateway-1GB.jsonl (once; takes a minute or two)..." >&2
  python3 benches/convert_formats.py "$DATA/gateway-1GB.jsonl" "$DATA" "$MB"
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
audit() { "$TA" audit "$@" --out "$OUT" --format json --quiet --no-findings; }
# totals of the last audit: "cost lines records rejected"
totals() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); a=d["audit"]
print(a["totals"]["cost"], a["input"]["lines"], a["input"]["records"], a["input"]["rejected"])' "$OUT/audit.json"
}

# 1. Same calls, same cost? The batch files are priced at batch rates and hold
# no failed calls (a batch request that failed did not run and is not billed)
# and no logged cost, so they are compared with batchref (the slice's ok calls
# in gateway form, "batch": true, no logged cost).
echo
echo "cost check (audit.totals.cost; slice: $GW, $(du -mL "$GW" | cut -f1) MB)"
audit "$GW" >/dev/null; read -r GW_COST GW_LINES _ _ < <(totals)
audit "$DATA/batchref-${MB}MB.jsonl" >/dev/null; read -r REF_COST _ _ _ < <(totals)
audit "$GW" --config "$MAP" >/dev/null; read -r MAP_COST _ _ _ < <(totals)
printf '%-16s %14s %14s %12s  %s\n' format cost reference difference "lines/records/rejected"
printf '%-16s %14s %14s %12s  %s\n' gateway "$GW_COST" - - "$GW_LINES"
mismatch=0
check() { # name cost ref counts
  local d; d=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.8f", a - b }')
  printf '%-16s %14s %14s %12s  %s\n' "$1" "$2" "$3" "$d" "$4"
  awk -v d="$d" 'BEGIN { exit !(d < -0.000001 || d > 0.000001) }' && mismatch=1 || true
}
check "gateway+mapping" "$MAP_COST" "$GW_COST" "$GW_LINES"
declare -A LINES
for n in "${FORMATS[@]}"; do
  audit "$DATA/$n-${MB}MB.jsonl" >/dev/null; read -r c l r j < <(totals)
  LINES[$n]=$l
  case "$n" in
    # Bedrock's model ids are priced at Bedrock's rates: its calls, not its
    # cost, are compared.
    bedrock)
      printf '%-16s %14s %14s %12s  %s\n' "$n" "$c" "(Bedrock rates)" - "$l/$r/$j"
      [ "$l" = "$GW_LINES" ] || mismatch=1
      continue ;;
    *-batch) ref=$REF_COST ;;
    *) ref=$GW_COST ;;
  esac
  check "$n" "$c" "$ref" "$l/$r/$j"
done
if [ "$mismatch" = 1 ]; then
  echo "costs differ; what the formats cannot express in this slice ($DATA/formats-notes-${MB}MB.txt):"
  sed 's/^/  /' "$DATA/formats-notes-${MB}MB.txt"
  echo "  (langfuse, helicone, otlp-json: no 1h cache-write field, so 1h writes are priced at the 5m rate;"
  echo "   openai-batch: OpenAI usage has no cache-write field, so writes are priced as plain input)"
fi

# 2. Per-format speed, each run paired with a gateway-slice run.
declare -A T G M
GM=""
for _ in $(seq "$REPEAT"); do
  for n in "${FORMATS[@]}"; do
    read -r t m < <(run "$TA" audit "$GW" --out "$OUT" --format json --quiet --no-findings)
    G[$n]+="$t "; GM+="$m "
    read -r t m < <(run "$TA" audit "$DATA/$n-${MB}MB.jsonl" --out "$OUT" --format json --quiet --no-findings)
    T[$n]+="$t "; M[$n]+="$m "
  done
done
echo
echo "per-format speed: audit FILE --format json --quiet --no-findings; $REPEAT runs each, each paired"
echo "with a run on the gateway slice; median wall time (peak RSS: largest); tokenaudit: $TA"
printf '%-16s %8s %9s %8s %8s %10s %8s %9s %9s\n' format "file MB" calls seconds "MB/s" "calls/s" "RSS MB" "x gw/MB" "x gw/call"
GW_BYTES=$(stat -L -c %s "$GW")
row() { # name bytes calls seconds gw_seconds rss_kb
  awk -v n="$1" -v b="$2" -v c="$3" -v t="$4" -v g="$5" -v m="$6" -v gb="$GW_BYTES" -v gc="$GW_LINES" 'BEGIN {
    if (t <= 0) t = 0.005; if (g <= 0) g = 0.005
    mbs = b / 1e6 / t; gmbs = gb / 1e6 / g; cs = c / t; gcs = gc / g
    printf "%-16s %8.0f %9d %8.3f %8.0f %10.0f %8d %9.2f %9.2f\n", n, b / 1e6, c, t, mbs, cs, m / 1024, mbs / gmbs, cs / gcs }'
}
ALL_G=""
for n in "${FORMATS[@]}"; do ALL_G+="${G[$n]}"; done
GMED=$(echo "$ALL_G" | tr ' ' '\n' | grep . | median)
row gateway "$GW_BYTES" "$GW_LINES" "$GMED" "$GMED" "$(echo "$GM" | tr ' ' '\n' | grep . | sort -n | tail -1)"
for n in "${FORMATS[@]}"; do
  t=$(echo "${T[$n]}" | tr ' ' '\n' | grep . | median)
  g=$(echo "${G[$n]}" | tr ' ' '\n' | grep . | median)
  m=$(echo "${M[$n]}" | tr ' ' '\n' | grep . | sort -n | tail -1)
  row "$n" "$(stat -L -c %s "$DATA/$n-${MB}MB.jsonl")" "${LINES[$n]}" "$t" "$g" "$m"
done
echo "(x gw: the format's MB/s or calls/s over its paired gateway runs'; above 1 is faster than the gateway reader)"

# 3. Detection and mapping: the slice detected, forced, and through [mapping],
# first as attribution only (--no-findings, the reading alone weighs most),
# then as the whole audit (the default run: detectors and every report).
detect_and_map() { # label, extra audit args...
  local label=$1; shift
  local a=() b=() c=() t
  for _ in $(seq "$REPEAT"); do
    read -r t _ < <(run "$TA" audit "$GW" --out "$OUT" --quiet "$@"); a+=("$t")
    read -r t _ < <(run "$TA" audit "$GW" --input-format gateway --out "$OUT" --quiet "$@"); b+=("$t")
    read -r t _ < <(run "$TA" audit "$GW" --config "$MAP" --out "$OUT" --quiet "$@"); c+=("$t")
  done
  local A B C
  A=$(printf '%s\n' "${a[@]}" | median); B=$(printf '%s\n' "${b[@]}" | median); C=$(printf '%s\n' "${c[@]}" | median)
  echo
  echo "detection and mapping on the gateway slice, $label ($REPEAT runs each, alternating, median seconds)"
  printf '%-44s %8s\n' "(a) detected" "$A"
  printf '%-44s %8s\n' "(b) --input-format gateway (no detection)" "$B"
  printf '%-44s %8s\n' "(c) --config $MAP" "$C"
  awk -v a="$A" -v b="$B" -v c="$C" 'BEGIN {
    printf "detection: %.1f%% of the audit time ((a-b)/a); mapping: %.1f%% ((c-b)/b); issue 5 asks for under 10%%\n",
      (a - b) / a * 100, (c - b) / b * 100 }'
}
detect_and_map "attribution only (--no-findings --format json)" --no-findings --format json
detect_and_map "whole audit (default formats and detectors)"
