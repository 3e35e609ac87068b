#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), one at a time, from
# its committed corpus (fuzz/corpus/TARGET, which grows with what it finds),
# and prints each target's executions and rate. A crash stops that target
# and leaves its input in fuzz/artifacts/TARGET/ (replay it with
# `cargo +nightly fuzz run -s none TARGET artifacts/TARGET/crash-…` in
# fuzz/), and the script exits 1 after running the rest. Needs the nightly
# toolchain; installs cargo-fuzz if missing. Not run by CI (.ci/run).
#
#   benches/fuzz.sh 600                # every target, 10 minutes each
#   TARGETS="lines mapping" benches/fuzz.sh 60
#
# An input running longer than FUZZ_TIMEOUT seconds (default 300) counts
# as a hang: generous, since on a shared machine a process can be paused
# (SIGSTOP while benchmarks are timed) and libFuzzer counts wall time.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-60}"
# No sanitizer: the code under test has no `unsafe` (the workspace denies
# it; the one allowance is the binary's allocator setting, which no target
# links), and without ASan's instrumentation each target runs about twice
# as many inputs a second.
# Debug assertions (and overflow checks) stay on.
sanitizer="${SANITIZER:-none}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
targets="${TARGETS:-$(cargo +nightly fuzz list)}"
build_log=$(cargo +nightly fuzz build -s "$sanitizer" 2>&1) || { echo "$build_log"; exit 2; }

mkdir -p logs
status=0
printf '%-10s %14s %10s %8s  %s\n' target executions exec/s corpus result
for t in $targets; do
    mkdir -p "corpus/$t"
    log="logs/$t.log"
    # -rss_limit_mb: a reader that buffers a whole file is a finding too.
    cargo +nightly fuzz run -s "$sanitizer" "$t" "corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 \
        -timeout="${FUZZ_TIMEOUT:-300}" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    corpus=$(ls "corpus/$t" | wc -l)
    result=ok
    if [ "$rc" -ne 0 ]; then
        result="FAILED (see fuzz/$log, fuzz/artifacts/$t/)"
        status=1
    fi
    printf '%-10s %14s %10s %8s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$corpus" "$result"
done
exit "$status"
