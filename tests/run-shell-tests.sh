#!/bin/sh
# Run every tests/integration/t_*.sh; each exits 0 (pass), 77 (skip) or
# anything else (fail). Prints "shell: N passed, N failed" last.
# RD_SHELL_JOBS tests run at once (default 2): most of a test's time is
# spent waiting on the servers it starts, and every test has its own
# directories and ports. Results are printed in name order.
here=$(cd "$(dirname "$0")" && pwd)
jobs=${RD_SHELL_JOBS:-2}
case $jobs in '' | *[!0-9]* | 0) echo "RD_SHELL_JOBS: expected a positive integer, got '$jobs'" >&2; exit 2 ;; esac
pass=0; fail=0; skip=0; failed=""
# One cache of scratch template data directories for every test (each test
# has its own run directory); removed at the end.
RESTOREDRILL_TEMPLATES=$(mktemp -d "${TMPDIR:-/tmp}/rd-templates.XXXXXX")
chmod 0711 "$RESTOREDRILL_TEMPLATES"
export RESTOREDRILL_TEMPLATES
results=$(mktemp -d "${TMPDIR:-/tmp}/rd-shell-tests.XXXXXX")
trap 'rm -rf "$RESTOREDRILL_TEMPLATES" "$results"' EXIT
# the npm packages some tests use (dynalite, ajv, s3rver) are installed once
# here, before the tests run side by side: two `npm ci` into one directory
# at once break each other (a test then skips or fails)
if command -v npm >/dev/null 2>&1 && [ -f "$here/npm/package-lock.json" ] &&
    [ ! -d "$here/npm/node_modules" ]; then
    echo "installing the tests' npm packages (npm ci --prefix tests/npm)"
    npm ci --prefix "$here/npm" --no-audit --no-fund --silent >/dev/null 2>&1 ||
        echo "npm ci --prefix tests/npm failed: the tests that need its packages will say so"
fi
for t in "$here"/integration/t_*.sh; do
    [ -e "$t" ] && printf '%s\n' "$t"
done | xargs -P "$jobs" -n 1 sh "$here/run-one-shell-test.sh" "$results"
for t in "$here"/integration/t_*.sh; do
    [ -e "$t" ] || continue
    name=$(basename "$t" .sh)
    rc=$(cat "$results/$name.rc" 2>/dev/null || echo 99)
    secs=$(cat "$results/$name.secs" 2>/dev/null || echo 0)
    case $rc in
    0) pass=$((pass + 1)); echo "ok   $name (${secs}s)" ;;
    77) skip=$((skip + 1)); echo "skip $name: $(tail -n 1 "$results/$name.log")" ;;
    *) fail=$((fail + 1)); failed="$failed $name"; echo "FAIL $name (exit $rc, ${secs}s)"; sed 's/^/    | /' "$results/$name.log" | tail -n 40 ;;
    esac
done
[ -n "$failed" ] && echo "failed:$failed"
echo "shell: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
