#!/bin/sh
# t_drill_kill.sh: the harness is killed with SIGKILL in the middle of a drill
# (a PostgreSQL and a MariaDB target restoring through stalled decrypt
# filters, in parallel), so it can clean nothing up itself; `gc --dry-run`
# lists the two orphaned scratch instances and removes nothing; `gc` stops
# their servers and removes their directories, printing one line each; a
# second `gc` finds nothing; no directory or server process is left.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
make_backups
marker="sleep 29.5"
kill_filters() {
    for p in /proc/[0-9]*; do
        { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF "$marker" && kill -9 "$(basename "$p")" 2>/dev/null
    done
}
pg=$(ls "$tmp"/backups/pg-plain/*.sql)
my=$(ls "$tmp"/backups/mariadb-sql/*.sql | sort | tail -n 1)
cat >"$tmp/drill.json" <<JSON
{ "version": 1, "name": "killed", "parallel": 2,
  "output": {"dir": "$tmp/out"},
  "targets": [
    {"name": "pg", "engine": "postgres",
     "catalog": {"type": "dir", "path": "$(dirname "$pg")", "pattern": "*.sql", "time_from": "name"},
     "restore": {"decrypt": ["sh", "-c", "head -c 16384; $marker; cat"]}},
    {"name": "my", "engine": "mariadb",
     "catalog": {"type": "dir", "path": "$(dirname "$my")", "pattern": "$(basename "$my")", "time_from": "name"},
     "restore": {"decrypt": ["sh", "-c", "head -c 16384; $marker; cat"]}}
  ] }
JSON
"$RD_BIN" run "$tmp/drill.json" --no-progress >"$tmp/out.txt" 2>"$tmp/err.txt" &
pid=$!
i=0
until grep -q "pg: restoring" "$tmp/err.txt" && grep -q "my: restoring" "$tmp/err.txt"; do
    i=$((i + 1))
    if [ $i -gt 600 ] || ! kill -0 $pid 2>/dev/null; then
        fail "the restores never started"; cat "$tmp/err.txt"; kill_filters; finish
    fi
    sleep 0.1
done
sleep 0.3
kill -KILL $pid
wait $pid 2>/dev/null
expect_eq "$(ls "$RESTOREDRILL_RUNDIR" | grep -vc '^templates$')" 2 "scratch dirs orphaned by SIGKILL"
[ -n "$(server_pids)" ] || fail "no orphaned server process to clean up (the test proves nothing)"

run "$RD_BIN" gc "$tmp/drill.json" --dry-run
expect_rc 0 "gc --dry-run"
expect_eq "$(grep -c . "$tmp/out.txt")" 2 "gc --dry-run lines"
expect_eq "$(ls "$RESTOREDRILL_RUNDIR" | grep -vc '^templates$')" 2 "dry run removes nothing"

run "$RD_BIN" gc "$tmp/drill.json"
expect_rc 0 "gc"
expect_eq "$(grep -c . "$tmp/out.txt")" 2 "gc removal lines"
grep -q "postgres" "$tmp/out.txt" || fail "gc did not name the postgres instance: $(cat "$tmp/out.txt")"
grep -q "mariadb" "$tmp/out.txt" || fail "gc did not name the mariadb instance: $(cat "$tmp/out.txt")"
no_leftovers "after gc"
run "$RD_BIN" gc "$tmp/drill.json"
expect_rc 0 "second gc"
expect_eq "$(grep -c . "$tmp/out.txt")" 0 "second gc removes nothing"
kill_filters
finish
