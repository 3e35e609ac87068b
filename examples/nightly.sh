#!/usr/bin/env bash
# The nightly job: ingest what is new into the store, audit the month to
# date, review last month on the 1st, and turn what changed in the findings
# into GitHub issues. Run it from cron once a night, e.g.
#
#   LOGS=/exports/llm STORE=/data/tokenaudit REPORTS=/srv/reports examples/nightly.sh
#
# Settings (environment):
#   LOGS        the exported call logs (file, directory or glob)       required
#   STORE       the store folder (created on the first night)          required
#   REPORTS     where reports go                          default: reports
#   TODAY       the night's date, YYYY-MM-DD (UTC)        default: today
#   CONFIG      a tokenaudit.toml (budgets, mapping, rule options)  optional
#   TOKENAUDIT  the binary                                default: tokenaudit
#   GH_REPO     owner/name: file the new findings as issues with `gh`; else
#               they are only written to $REPORTS/tickets-$TODAY.jsonl
#   RETRY       set (to 1) when re-running a night whose issues were not all
#               filed (`gh` failed): the findings are marked as that night's
#               were, not against it (`findings --again`)
set -euo pipefail
: "${LOGS:?set LOGS to the exported logs}" "${STORE:?set STORE to the store folder}"
REPORTS=${REPORTS:-reports}
TODAY=${TODAY:-$(date -u +%F)}
TA=${TOKENAUDIT:-tokenaudit}
# glibc otherwise keeps ~30 MB of freed memory past a large free: with a
# fixed trim threshold a 10 GB audit peaks at ~120 MB instead of ~150 MB
# (benches/README.md, session 6).
export GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.trim_threshold=131072}
config=()
[ -n "${CONFIG:-}" ] && config=(--config "$CONFIG")
again=()
[ -n "${RETRY:-}" ] && again=(--again)

# 1. Only what is new: files already ingested as they are are not even opened.
"$TA" ingest "$LOGS" --store "$STORE" "${config[@]}" --quiet

# 2. The month to date (the day before today is the last whole day).
yesterday=$(date -u -d "$TODAY -1 day" +%F)
month=${yesterday:0:7}
"$TA" audit --store "$STORE" "${config[@]}" --since "$month-01" --until "$yesterday" \
    --out "$REPORTS/$month" --quiet

# 3. On the 1st: the review of the month that just ended, against the one before.
if [ "${TODAY:8:2}" = 01 ]; then
    "$TA" review --month "$month" --store "$STORE" "${config[@]}" \
        --out "$REPORTS/review-$month" --quiet
fi

# 4. Findings over the last 30 days, marked against last night's (the store
#    keeps the ledger): only what is new, worse or resolved becomes a ticket.
since=$(date -u -d "$TODAY -30 days" +%F)
tickets="$REPORTS/tickets-$TODAY.jsonl"
"$TA" findings --store "$STORE" "${config[@]}" --since "$since" --until "$yesterday" \
    --changed-only --format github --out "$tickets" --force --quiet "${again[@]}"
if [ -n "${GH_REPO:-}" ] && [ -s "$tickets" ]; then
    # One issue per finding, found again by its fingerprint (in its body):
    # a new finding opens one, or reopens the one this recipe closed when
    # it was resolved; a worse one comments on it (its title's figures
    # change night after night); a resolved one closes it. An issue a
    # person closed stays closed: a comment says what changed.
    python3 - "$tickets" "$GH_REPO" <<'PY'
import json, subprocess, sys
path, repo = sys.argv[1], sys.argv[2]
CLOSED = "Resolved: tokenaudit no longer finds this."
REOPENED = "Found again by tokenaudit."
def gh(*args):
    r = subprocess.run(["gh", *args, "--repo", repo], capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"gh issue {args[1]} failed: {r.stderr.strip()}")
    return r.stdout
def issue_of(fingerprint, state):
    # The issue this recipe opened for the finding: its body holds the
    # fingerprint's marker (an issue a person wrote that names the
    # fingerprint, or another finding's whose text holds it, is not it).
    marker = f"<!-- tokenaudit-fingerprint: {fingerprint} -->"
    # (Searched by the fingerprint itself, which the body's visible text
    # holds: GitHub Enterprise Server's search leaves HTML comments out.)
    found = json.loads(gh("issue", "list", "--state", state, "--limit", "100",
                          "--search", f"{fingerprint} in:body",
                          "--json", "number,body") or "[]")
    return next((str(i["number"]) for i in found if marker in i["body"]), None)
def closed_by_us(number):
    # Whether this recipe's own comment is the last of its comments there.
    comments = json.loads(gh("issue", "view", number, "--json", "comments"))["comments"]
    ours = [c["body"] for c in comments if c["body"].startswith((CLOSED, REOPENED))]
    return bool(ours) and ours[-1].startswith(CLOSED)
for line in open(path):
    t = json.loads(line)
    labels = t.get("labels", [])
    number = issue_of(t["fingerprint"], "open")
    if "resolved" in labels:
        if number:
            gh("issue", "close", number, "--comment", CLOSED + "\n\n" + t["body"])
        continue
    if number:
        gh("issue", "comment", number, "--body", t["body"])
        continue
    closed = issue_of(t["fingerprint"], "closed")
    if closed and "new" in labels and closed_by_us(closed):
        gh("issue", "reopen", closed, "--comment", REOPENED + "\n\n" + t["body"])
    elif closed:
        gh("issue", "comment", closed, "--body", t["body"])
    else:
        cmd = ["issue", "create", "--title", t["title"], "--body", t["body"]]
        for label in labels:
            cmd += ["--label", label]
        gh(*cmd)
PY
fi
echo "nightly $TODAY: reports in $REPORTS, tickets in $tickets"
