#!/usr/bin/env bash
# Times `tokenaudit audit` against DuckDB's read_json running the equivalent
# cost-by-feature-and-model query on the same generated gateway file, side by
# side in one run (alternating, REPEAT times each, median reported), with the
# peak RSS of each process. See benches/README.md.
#
#   benches/audit_vs_duckdb.sh               # 1 GB file
#   BENCH_4GB=1 benches/audit_vs_duckdb.sh   # also audit a 4 GB file (RSS check)
#   TOKENAUDIT_BIN=/tmp/old/tokenaudit benches/audit_vs_duckdb.sh  # time another build
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh

python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb

gen 1GB "$DATA/gateway-1GB.jsonl"
[ "${BENCH_4GB:-0}" = 1 ] && gen 4GB "$DATA/gateway-4GB.jsonl"

# The equivalent of the audit's core table: calls, tokens in the canonical
# convention (Anthropic-shaped lines add cache reads and writes to input) and
# list-price cost per feature and model, for the models in the file.
cat > "$DATA/duckdb_query.py" <<'PY'
import sys, duckdb
con = duckdb.connect()
con.execute("SET threads=2")
rows = con.execute("""
WITH calls AS (
  SELECT feature, model,
    coalesce(usage.prompt_tokens, usage.input_tokens + coalesce(usage.cache_read_input_tokens,0) + coalesce(usage.cache_creation_input_tokens,0), 0) AS input,
    coalesce(usage.prompt_tokens_details.cached_tokens, usage.cache_read_input_tokens, 0) AS cached,
    coalesce(usage.completion_tokens, usage.output_tokens, 0) AS output
  FROM read_json(?, format='newline_delimited', ignore_errors=true, maximum_object_size=67108864)
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
""", [sys.argv[1]]).fetchall()
print(len(rows), "groups; top:", rows[0][:3], file=sys.stderr)
PY


FILE="$DATA/gateway-1GB.jsonl"
OUT=$(mktemp -d)
ta_t=(); ta_m=(); dd_t=(); dd_m=()
for i in $(seq "$REPEAT"); do
  read -r t m < <(run "$TA" audit "$FILE" --out "$OUT" --quiet); ta_t+=("$t"); ta_m+=("$m")
  read -r t m < <(run python3 "$DATA/duckdb_query.py" "$FILE"); dd_t+=("$t"); dd_m+=("$m")
done
TA_T=$(printf '%s\n' "${ta_t[@]}" | median); TA_M=$(printf '%s\n' "${ta_m[@]}" | sort -n | tail -1)
DD_T=$(printf '%s\n' "${dd_t[@]}" | median); DD_M=$(printf '%s\n' "${dd_m[@]}" | sort -n | tail -1)
SIZE=$(du -mL "$FILE" | cut -f1)
echo
echo "file: $FILE (${SIZE} MB), $REPEAT runs each, alternating; median wall time, max peak RSS; tokenaudit: $TA"
printf '%-34s %10s %14s\n' "" "seconds" "peak RSS MB"
printf '%-34s %10s %14s\n' "tokenaudit audit (whole audit)" "$TA_T" "$((TA_M / 1024))"
printf '%-34s %10s %14s\n' "duckdb read_json query (2 threads)" "$DD_T" "$((DD_M / 1024))"
awk -v a="$TA_T" -v d="$DD_T" 'BEGIN { printf "ratio duckdb/tokenaudit: %.2fx (above 1 means tokenaudit is faster)\n", d / a }'

if [ "${BENCH_4GB:-0}" = 1 ]; then
  read -r t m < <(run "$TA" audit "$DATA/gateway-4GB.jsonl" --out "$OUT" --quiet)
  printf '%-34s %10s %14s\n' "tokenaudit audit, 4 GB file" "$t" "$((m / 1024))"
fi
rm -rf "$OUT"
