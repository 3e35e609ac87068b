#!/usr/bin/env bash
# Times `tokenaudit audit` on the generated gateway log as Parquet (written
# by DuckDB: nested struct columns as read_json infers them, and a flat file
# with the usage fields unnested) and as JSON lines, against DuckDB's GROUP
# BY over each Parquet file; alternating, REPEAT times each, median wall
# time and max peak RSS. See benches/README.md.
#
#   benches/parquet_vs_duckdb.sh                 # 1 GB generated log
#   SIZE=50MB benches/parquet_vs_duckdb.sh       # a quick check
#   TOKENAUDIT_BIN=/tmp/old/tokenaudit benches/parquet_vs_duckdb.sh
#
# Targets (issue 13): the audit of a Parquet file within 2x DuckDB's GROUP
# BY over it, at least 3x faster than the same calls as JSON lines, peak
# RSS at most 150 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh

python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb

SIZE="${SIZE:-1GB}"
JSONL="$DATA/gateway-$SIZE.jsonl"
NESTED="$DATA/gateway-$SIZE.nested.parquet"
FLAT="$DATA/gateway-$SIZE.flat.parquet"
gen "$SIZE" "$JSONL"

# DuckDB writes both files once (zstd, its default row groups of 122,880
# rows): the nested one as read_json infers the lines (usage, tags and
# messages are struct and list columns), the flat one with the usage struct
# unnested, its details too (prompt_tokens_details.cached_tokens becomes
# cached_tokens).
if [ ! -s "$NESTED" ] || [ ! -s "$FLAT" ]; then
  python3 - "$JSONL" "$NESTED" "$FLAT" <<'PY'
import sys, duckdb
src, nested, flat = sys.argv[1:]
con = duckdb.connect()
read = f"read_json('{src}', format='newline_delimited', ignore_errors=true, maximum_object_size=67108864)"
con.execute(f"COPY (SELECT * FROM {read}) TO '{nested}' (FORMAT parquet, COMPRESSION zstd)")
con.execute(f"COPY (SELECT * EXCLUDE (usage), unnest(usage, recursive := true) FROM {read}) TO '{flat}' (FORMAT parquet, COMPRESSION zstd)")
PY
fi

# The audit's core table in SQL, as in audit_vs_duckdb.sh: calls, tokens
# in the canonical convention and list-price cost per feature and model.
# U is where the usage fields are: `usage.` (nested) or nothing (flat).
cat > "$DATA/duckdb_parquet_query.py" <<'PY'
import sys, duckdb
path, flat = sys.argv[1], sys.argv[2] == "flat"
u = (lambda f: f.split(".")[-1]) if flat else (lambda f: "usage." + f)
con = duckdb.connect()
con.execute("SET threads=2")
rows = con.execute(f"""
WITH calls AS (
  SELECT feature, model,
    coalesce({u('prompt_tokens')}, {u('input_tokens')} + coalesce({u('cache_read_input_tokens')},0) + coalesce({u('cache_creation_input_tokens')},0), 0) AS input,
    coalesce({u('prompt_tokens_details.cached_tokens')}, {u('cache_read_input_tokens')}, 0) AS cached,
    coalesce({u('completion_tokens')}, {u('output_tokens')}, 0) AS output
  FROM read_parquet(?)
)
SELECT feature, model, count(*) AS calls, sum(input) AS input, sum(cached) AS cached, sum(output) AS output,
  sum(CASE
    WHEN model LIKE 'gpt-4o-mini%' THEN (input-cached)*0.15 + cached*0.075 + output*0.6
    WHEN model LIKE 'gpt-4o%' THEN (input-cached)*2.5 + cached*1.25 + output*10
    WHEN model = 'gpt-4.1' THEN (input-cached)*2 + cached*0.5 + output*8
    WHEN model = 'o3-mini' THEN (input-cached)*1.1 + cached*0.55 + output*4.4
    WHEN model LIKE 'claude-sonnet-4%' THEN (input-cached)*3 + cached*0.3 + output*15
    WHEN model LIKE 'claude-3-5-haiku%' THEN (input-cached)*0.8 + cached*0.08 + output*4
    WHEN model LIKE '%claude-opus-4-1%' THEN (input-cached)*15 + cached*1.5 + output*75
    WHEN model = 'gemini-2.5-flash' THEN (input-cached)*0.3 + cached*0.03 + output*2.5
    WHEN model = 'deepseek-chat' THEN (input-cached)*0.28 + cached*0.028 + output*0.42
    WHEN model = 'mistral-large-latest' THEN (input-cached)*2 + output*6
    ELSE 0 END) / 1e6 AS cost
FROM calls GROUP BY ALL ORDER BY cost DESC
""", [path]).fetchall()
print(len(rows), "groups; top:", rows[0][:3], file=sys.stderr)
PY

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
declare -A T M
for i in $(seq "$REPEAT"); do
  for what in nested flat; do
    f="$DATA/gateway-$SIZE.$what.parquet"
    read -r t m < <(run "$TA" audit "$f" --out "$OUT" --quiet); T[ta_$what]+="$t "; M[ta_$what]+="$m "
    read -r t m < <(run python3 "$DATA/duckdb_parquet_query.py" "$f" "$what"); T[dd_$what]+="$t "; M[dd_$what]+="$m "
  done
  read -r t m < <(run "$TA" audit "$JSONL" --out "$OUT" --quiet); T[ta_jsonl]+="$t "; M[ta_jsonl]+="$m "
done
med() { printf '%s\n' ${T[$1]} | median; }
peak() { printf '%s\n' ${M[$1]} | sort -n | tail -1 | awk '{printf "%d", $1 / 1024}'; }

# The audits must agree on what they read: the same calls and cost from
# both Parquet files as from the lines. (The flat file holds Anthropic's
# cache-write split as top-level `ephemeral_*_input_tokens` columns.)
"$TA" audit "$NESTED" --out "$OUT/nested" --quiet --format json
"$TA" audit "$JSONL" --out "$OUT/jsonl" --quiet --format json
"$TA" audit "$FLAT" --out "$OUT/flat" --quiet --format json
totals() { python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["audit"]["totals"]; print(t["calls"], t["cost"])' "$1/audit.json"; }
echo
echo "totals (calls, cost): jsonl $(totals "$OUT/jsonl"); nested parquet $(totals "$OUT/nested"); flat parquet $(totals "$OUT/flat")"
for what in nested flat; do
  [ "$(totals "$OUT/$what")" = "$(totals "$OUT/jsonl")" ] || echo "WARNING: the $what Parquet audit differs from the JSON lines audit"
done

mb() { du -mL "$1" | cut -f1; }
echo "files: $JSONL ($(mb "$JSONL") MB), nested $(mb "$NESTED") MB, flat $(mb "$FLAT") MB; $REPEAT runs each, alternating; median wall time, max peak RSS; tokenaudit: $TA"
printf '%-40s %10s %14s\n' "" "seconds" "peak RSS MB"
printf '%-40s %10s %14s\n' "tokenaudit audit, nested Parquet" "$(med ta_nested)" "$(peak ta_nested)"
printf '%-40s %10s %14s\n' "duckdb GROUP BY, nested Parquet" "$(med dd_nested)" "$(peak dd_nested)"
printf '%-40s %10s %14s\n' "tokenaudit audit, flat Parquet" "$(med ta_flat)" "$(peak ta_flat)"
printf '%-40s %10s %14s\n' "duckdb GROUP BY, flat Parquet" "$(med dd_flat)" "$(peak dd_flat)"
printf '%-40s %10s %14s\n' "tokenaudit audit, JSON lines" "$(med ta_jsonl)" "$(peak ta_jsonl)"
for what in nested flat; do
  awk -v a="$(med ta_$what)" -v d="$(med dd_$what)" -v j="$(med ta_jsonl)" -v w="$what" 'BEGIN {
    printf "%s: audit / duckdb %.2fx (target <= 2), JSON lines / Parquet audit %.2fx (target >= 3)\n", w, a / d, j / a }'
done
