#!/bin/sh
# tests/run-one-shell-test.sh RESULTS TEST: run one shell test (for
# run-shell-tests.sh), its output, exit status and seconds into
# RESULTS/NAME.log, .rc and .secs.
name=$(basename "$2" .sh)
start=$(date +%s)
sh "$2" >"$1/$name.log" 2>&1
echo $? >"$1/$name.rc"
secs=$(($(date +%s) - start))
echo "$secs" >"$1/$name.secs"
echo "  finished $name ($(cat "$1/$name.rc"), ${secs}s)"
