#!/bin/sh
# Run every tests/integration/t_*.sh; each exits 0 (pass), 77 (skip) or
# anything else (fail). Prints "shell: N passed, N failed" last.
here=$(cd "$(dirname "$0")" && pwd)
pass=0; fail=0; skip=0; failed=""
# One cache of scratch template data directories for every test (each test
# has its own run directory); removed at the end.
RESTOREDRILL_TEMPLATES=$(mktemp -d "${TMPDIR:-/tmp}/rd-templates.XXXXXX")
chmod 0711 "$RESTOREDRILL_TEMPLATES"
export RESTOREDRILL_TEMPLATES
trap 'rm -rf "$RESTOREDRILL_TEMPLATES"' EXIT
for t in "$here"/integration/t_*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t" .sh)
    log=$(mktemp)
    start=$(date +%s)
    sh "$t" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    case $rc in
    0) pass=$((pass + 1)); echo "ok   $name (${secs}s)" ;;
    77) skip=$((skip + 1)); echo "skip $name: $(tail -n 1 "$log")" ;;
    *) fail=$((fail + 1)); failed="$failed $name"; echo "FAIL $name (exit $rc, ${secs}s)"; sed 's/^/    | /' "$log" | tail -n 40 ;;
    esac
    rm -f "$log"
done
[ -n "$failed" ] && echo "failed:$failed"
echo "shell: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
