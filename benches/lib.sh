# Shared by the benchmark scripts (sourced after `cd` to the repository):
# settings, the release build, GNU time, the generated data, timing.
REPEAT="${REPEAT:-3}"
TA="${TOKENAUDIT_BIN:-target/release/tokenaudit}"
DATA=benches/data
mkdir -p "$DATA"

# A given TOKENAUDIT_BIN is timed as it is (the tree need not build). The
# whole workspace is built: `-p` would unify features differently and
# rebuild polars.
if [ -z "${TOKENAUDIT_BIN:-}" ]; then cargo build --release -q --workspace; fi
command -v /usr/bin/time >/dev/null || { apt-get update -q && apt-get install -y -q time; }

gen() { # size file [shape]: the generated log (gateway shape by default), unless it is there
  [ -s "$2" ] && return
  cargo build --release -q --workspace
  target/release/tokenaudit-samplegen --size "$1" --out "$2" --force ${3:+--shape "$3"}
}

run() { # CMD...: prints "seconds max_rss_kb"; seconds to the millisecond
  # (GNU time's %e has hundredths: 5% of a 0.2 s run), RSS from GNU time.
  local log start end; log=$(mktemp)
  start=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$log" "$@" >/dev/null 2>/dev/null
  end=$(date +%s%N)
  echo "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 1e9 }') $(tail -1 "$log")"
  rm -f "$log"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
