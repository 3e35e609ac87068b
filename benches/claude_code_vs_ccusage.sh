#!/usr/bin/env bash
# Times `tokenaudit audit` on Claude Code session logs against ccusage's
# `claude daily` report over the same folder: alternating, REPEAT times each,
# median wall time and max peak RSS; then checks both count the same
# tokens per day. See benches/README.md.
#
#   benches/claude_code_vs_ccusage.sh                  # 1,000 sessions x 100 messages (~250 MB)
#   SESSIONS=3000 benches/claude_code_vs_ccusage.sh    # ~744 MB
#   SESSIONS=50 REPEAT=1 benches/claude_code_vs_ccusage.sh   # a quick check
#
# Target (issue 13): the audit in at most 0.5x ccusage's time, with a lower
# peak RSS. The audit is the whole job (pricing, every table, the
# detectors, the reports), ccusage's daily report a per-day sum.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/lib.sh

command -v ccusage >/dev/null || npm i -g ccusage@20.0.24
SESSIONS="${SESSIONS:-1000}"
MESSAGES="${MESSAGES:-100}"
LOGS="$DATA/claude-code-$SESSIONS"
# benches/claude_code_logs.py writes them as Claude Code does (an assistant
# message on 1-3 streamed lines with the same message and request ids,
# which both tools must count once).
[ -d "$LOGS/projects" ] || python3 benches/claude_code_logs.py "$LOGS" "$SESSIONS" "$MESSAGES"

OUT=$(mktemp -d)
HOME_DIR=$(mktemp -d)
trap 'rm -rf "$OUT" "$HOME_DIR"' EXIT
CCUSAGE=(env CLAUDE_CONFIG_DIR="$LOGS" HOME="$HOME_DIR" TZ=UTC NO_COLOR=1 ccusage claude daily --json --offline -z UTC)
AUDIT=("$TA" audit "$LOGS/projects" --input-format claude-code --out "$OUT" --quiet --format json)

declare -A T M
for i in $(seq "$REPEAT"); do
  read -r t m < <(run "${AUDIT[@]}"); T[ta]+="$t "; M[ta]+="$m "
  read -r t m < <(run "${CCUSAGE[@]}"); T[cc]+="$t "; M[cc]+="$m "
done
med() { printf '%s\n' ${T[$1]} | median; }
peak() { printf '%s\n' ${M[$1]} | sort -n | tail -1 | awk '{printf "%d", $1 / 1024}'; }

# Both must count the same tokens per day (uncached input, output, cache
# writes, cache reads), or the timing compares different work.
"${CCUSAGE[@]}" > "$OUT/ccusage.json"
python3 - "$OUT/audit.json" "$OUT/ccusage.json" <<'PY'
import json, sys
ours = {d["day"]: (d["input_tokens"] - d["cached_read_tokens"] - d["cache_write_tokens"], d["output_tokens"], d["cache_write_tokens"], d["cached_read_tokens"])
        for d in json.load(open(sys.argv[1]))["audit"]["daily"]}
theirs = {d["date"]: (d["inputTokens"], d["outputTokens"], d["cacheCreationTokens"], d["cacheReadTokens"])
          for d in json.load(open(sys.argv[2]))["daily"]}
print(f"per-day tokens: {len(ours)} days, {'the same as ccusage' if ours == theirs else 'DIFFERENT from ccusage'}")
PY

echo "logs: $LOGS ($(du -sm "$LOGS" | cut -f1) MB, $SESSIONS sessions x $MESSAGES messages); $REPEAT runs each, alternating; median wall time, max peak RSS; tokenaudit: $TA; ccusage $(ccusage --version 2>/dev/null | tail -1)"
printf '%-36s %10s %14s\n' "" "seconds" "peak RSS MB"
printf '%-36s %10s %14s\n' "tokenaudit audit (whole job)" "$(med ta)" "$(peak ta)"
printf '%-36s %10s %14s\n' "ccusage claude daily --json" "$(med cc)" "$(peak cc)"
awk -v a="$(med ta)" -v c="$(med cc)" 'BEGIN { printf "audit / ccusage: %.2fx time (target <= 0.5)\n", a / c }'
