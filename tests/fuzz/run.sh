#!/bin/sh
# run.sh BUILD SECONDS TARGET...: run each libFuzzer target of BUILD/fuzz/
# for SECONDS, starting from its seed corpus tests/fuzz/corpus/TARGET/ (new
# inputs go to BUILD/fuzz-corpus/TARGET/, never into the repository), with
# ASan (leaks included) and UBSan; a crash, hang (-timeout 10 s), leak, out
# of memory (2 GB) or sanitizer report is saved in BUILD/fuzz-findings/TARGET/.
# Prints one line per target (executions, corpus size, findings) and exits
# 1 when any target found something, 2 on bad usage.
# FUZZ_RUNS=N (CI): instead of SECONDS, exactly N executions from a fixed
# seed (-seed=1) in a fresh work corpus: a bounded run that starts the same
# way every time (the inputs it keeps can still differ a little from run to
# run, as libFuzzer's coverage feedback does).
set -u
[ $# -ge 3 ] || { echo "usage: $0 BUILD SECONDS TARGET..." >&2; exit 2; }
build=$1
secs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
found=0
printf '%-20s %12s %8s %8s\n' target executions corpus findings
for t in "$@"; do
    bin="$build/fuzz/$t"
    [ -x "$bin" ] || { echo "$t: $bin is not built (make fuzz-build)" >&2; exit 2; }
    work="$build/fuzz-corpus/$t"
    limit="-max_total_time=$secs"
    if [ -n "${FUZZ_RUNS:-}" ]; then
        limit="-runs=$FUZZ_RUNS -seed=1"
        rm -rf "$work"
    fi
    finds="$build/fuzz-findings/$t"
    mkdir -p "$work" "$finds"
    log="$build/fuzz-findings/$t.log"
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1} \
        UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$bin" $limit -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$finds/" "$work" "$here/corpus/$t" \
        >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    corpus=$(ls "$work" | wc -l | tr -d ' ')
    n=$(find "$finds" -type f | wc -l | tr -d ' ')
    printf '%-20s %12s %8s %8s\n' "$t" "${execs:-?}" "$corpus" "$n"
    if [ "$rc" -ne 0 ] || [ "$n" -gt 0 ]; then
        found=1
        echo "  $t: exit $rc; log $log; findings in $finds" >&2
        grep -m 3 -E "ERROR: |SUMMARY: |runtime error" "$log" | sed 's/^/  | /' >&2
    fi
done
exit $found
