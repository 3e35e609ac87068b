#!/usr/bin/env bash
# The store's speed figures (issue 14), side by side in one run:
#   1. ingest of the 1 GB log (31 daily files) into an empty store, against a
#      plain audit of the same files (ingest should cost within 1.2x);
#   2. a re-run with nothing new on that 30-day store (under a second);
#   3. a nightly ingest of one more day (in proportion to the new bytes);
#   4. the month's audit from the store (the night's, with the nights before
#      cached by their audits; the same again; a night that writes the
#      month's merged state again; the first ever, no cache),
#      against re-reading the raw log and DuckDB's single GROUP BY over the
#      store's Parquet.
# Alternating runs, REPEAT each, medians and peak RSS. See benches/README.md.
#
#   benches/store.sh
#   REPEAT=5 benches/store.sh
#   SHAPE=gateway-alt-nested benches/store.sh   # another generated shape
#
# SHAPE is one of samplegen's shapes (gateway, gateway-alt-shuffled,
# gateway-alt-nested, gateway-alt-flat, gateway-alt-envelope): the 1 GB
# log of that shape, split into one file per day by its own time field.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh

python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb

SHAPE="${SHAPE:-gateway}"
SRC="$DATA/$SHAPE-1GB.jsonl"
gen 1GB "$SRC" "$([ "$SHAPE" = gateway ] || echo "$SHAPE")"
DAYS="$DATA/days-1GB"; [ "$SHAPE" = gateway ] || DAYS="$DATA/days-$SHAPE-1GB"
if [ ! -d "$DAYS" ]; then
  # One file per day, as a nightly export would be: the day of the line's
  # time, an RFC 3339 string (timestamp, created_at) or epoch milliseconds
  # (ts, created), whichever the shape writes.
  mkdir -p "$DAYS.tmp"
  python3 - "$SRC" "$DAYS.tmp" <<'PY'
import re, sys, datetime
text = re.compile(rb'"(?:timestamp|created_at)":"(\d{4}-\d\d-\d\d)')
millis = re.compile(rb'"(?:ts|created)":(\d{13})')
out = {}
with open(sys.argv[1], "rb") as f:
    for line in f:
        m = text.search(line)
        if m:
            day = m.group(1).decode()
        else:
            m = millis.search(line)
            day = datetime.datetime.fromtimestamp(int(m.group(1)) / 1000, datetime.timezone.utc).strftime("%Y-%m-%d") if m else "none"
        if day not in out:
            out[day] = open(f"{sys.argv[2]}/{day}.jsonl", "wb")
        out[day].write(line)
PY
  mv "$DAYS.tmp" "$DAYS"
fi
# The new night is the last whole day (the generated month ends with a few
# calls on its last day).
LAST=$(find "$DAYS" -name '20*.jsonl' -size +1M -printf '%f\n' | sort | tail -1)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/logs"
for f in "$DAYS"/*.jsonl; do [ "$(basename "$f")" = "$LAST" ] || ln -s "$(realpath "$f")" "$WORK/logs/"; done

med() { printf '%s\n' "$@" | median; }
peak() { printf '%s\n' "$@" | sort -n | tail -1; }
row() { printf '%-52s %9s %12s\n' "$1" "$2" "$(( $3 / 1024 ))"; }

# 1. Ingest into an empty store vs a plain audit of the same 30 files.
it=(); im=(); at=(); am=()
for i in $(seq "$REPEAT"); do
  rm -rf "$WORK/store"
  read -r t m < <(run "$TA" ingest "$WORK/logs" --store "$WORK/store" --quiet); it+=("$t"); im+=("$m")
  read -r t m < <(run "$TA" audit "$WORK/logs" --out "$WORK/out" --quiet); at+=("$t"); am+=("$m")
done
# 2. Nothing new.
nt=(); nm=()
for i in $(seq "$REPEAT"); do
  read -r t m < <(run "$TA" ingest "$WORK/logs" --store "$WORK/store" --quiet); nt+=("$t"); nm+=("$m")
done
# 3. One more day (the store is copied back each time so the day is new).
# The 30 days were audited the night before: their audit cache is there.
"$TA" audit --store "$WORK/store" --out "$WORK/out" --quiet 2>/dev/null
cp -a "$WORK/store" "$WORK/store-30"
BYTES=$(du -sbL "$WORK/logs" | cut -f1); DAY=$(du -bL "$DAYS/$LAST" | cut -f1)
ln -s "$(realpath "$DAYS/$LAST")" "$WORK/logs/"
dt=(); dm=()
for i in $(seq "$REPEAT"); do
  rm -rf "$WORK/store"; cp -a "$WORK/store-30" "$WORK/store"; sync
  read -r t m < <(run "$TA" ingest "$WORK/logs" --store "$WORK/store" --quiet); dt+=("$t"); dm+=("$m")
done
# 4. The month from the store, from the raw log, and DuckDB over the store.
cat > "$WORK/duck.py" <<'PY'
import sys, duckdb
con = duckdb.connect()
con.execute("SET threads=2")
rows = con.execute("""
SELECT feature, model, count(*), sum(input_tokens), sum(cached_read_tokens), sum(output_tokens), sum(cost_usd)
FROM read_parquet(?, hive_partitioning = true) GROUP BY ALL
""", [sys.argv[1] + "/calls/**/*.parquet"]).fetchall()
print(len(rows), "groups", file=sys.stderr)
PY
# The month's audit three ways: the night's (the days before cached by
# the night before's audit, the new night's computed), the same audit
# again (one merged state), and the first ever (every day computed).
cp -a "$WORK/store" "$WORK/store-31"
NIGHT_BEFORE=$(date -u -d "${LAST%.jsonl} - 1 day" +%Y-%m-%d)
st=(); sm=(); wt=(); wm=(); xt=(); xm=(); ct=(); cm=(); rt=(); rm_=(); qt=(); qm=()
for i in $(seq "$REPEAT"); do
  # The copy is written back before the clock starts: a night's store has
  # long been on disk, and the copy's writeback is no part of its audit.
  rm -rf "$WORK/store"; cp -a "$WORK/store-31" "$WORK/store"; sync
  read -r t m < <(run "$TA" audit --store "$WORK/store" --out "$WORK/out" --quiet); st+=("$t"); sm+=("$m")
  read -r t m < <(run "$TA" audit --store "$WORK/store" --out "$WORK/out" --quiet); wt+=("$t"); wm+=("$m")
  # The night that writes the month's merged state again (every other
  # night: once more than one day is outside the last merge): the last
  # merge made before the night before, that night's day (and the month's
  # last day, a few calls after the new night) from their own files, the
  # new night's computed.
  rm -rf "$WORK/store"; cp -a "$WORK/store-31" "$WORK/store"; rm -rf "$WORK/store/_cache/merged"
  "$TA" audit --store "$WORK/store" --until "$NIGHT_BEFORE" --out "$WORK/out-before" --quiet 2>/dev/null
  sync
  read -r t m < <(run "$TA" audit --store "$WORK/store" --out "$WORK/out" --quiet); xt+=("$t"); xm+=("$m")
  rm -rf "$WORK/store/_cache"
  read -r t m < <(run "$TA" audit --store "$WORK/store" --out "$WORK/out" --quiet); ct+=("$t"); cm+=("$m")
  read -r t m < <(run "$TA" audit "$WORK/logs" --out "$WORK/out" --quiet); rt+=("$t"); rm_+=("$m")
  read -r t m < <(run python3 "$WORK/duck.py" "$WORK/store"); qt+=("$t"); qm+=("$m")
done

STORE=$(du -sb "$WORK/store/calls" | cut -f1); PARTS=$(find "$WORK/store/calls" -name '*.parquet' | wc -l)
echo
echo "1 GB $SHAPE log as daily files ($((BYTES / 1000000)) MB in the first 30 files, $((DAY / 1000000)) MB in the new night's, $LAST); store $((STORE / 1000000)) MB in $PARTS parts; $REPEAT runs each; tokenaudit: $TA"
printf '%-52s %9s %12s\n' "" "seconds" "peak RSS MB"
row "ingest 30 days into an empty store" "$(med "${it[@]}")" "$(peak "${im[@]}")"
row "audit of the same 30 files (whole audit)" "$(med "${at[@]}")" "$(peak "${am[@]}")"
row "ingest again, nothing new" "$(med "${nt[@]}")" "$(peak "${nm[@]}")"
row "ingest one more night into the 30-file store" "$(med "${dt[@]}")" "$(peak "${dm[@]}")"
row "audit of the month from the store, the night's" "$(med "${st[@]}")" "$(peak "${sm[@]}")"
row "  the same audit again" "$(med "${wt[@]}")" "$(peak "${wm[@]}")"
row "  a night that writes the merged month (every other)" "$(med "${xt[@]}")" "$(peak "${xm[@]}")"
row "  the first ever (no audit cache)" "$(med "${ct[@]}")" "$(peak "${cm[@]}")"
row "audit of the month from the raw files" "$(med "${rt[@]}")" "$(peak "${rm_[@]}")"
row "duckdb GROUP BY over the store's Parquet" "$(med "${qt[@]}")" "$(peak "${qm[@]}")"
awk -v i="$(med "${it[@]}")" -v d="$(med "${dt[@]}")" -v b="$BYTES" -v n="$DAY" -v a="$(med "${at[@]}")" -v s="$(med "${st[@]}")" -v r="$(med "${rt[@]}")" -v q="$(med "${qt[@]}")" \
  -v w="$(med "${wt[@]}")" -v c="$(med "${ct[@]}")" -v x="$(med "${xt[@]}")" \
  'BEGIN { printf "ingest / audit: %.2fx; store audit / raw audit: %.2f the night'"'"'s, %.2f again, %.2f rewriting the month, %.2f the two nights on average, %.2f the first; store audit / duckdb: %.2fx the night'"'"'s, %.2fx the first; one night: %.0f%% of the first ingest'"'"'s time for %.0f%% of its bytes\n", i / a, s / r, w / r, x / r, (s + x) / 2 / r, c / r, s / q, c / q, 100 * d / i, 100 * n / b }'
