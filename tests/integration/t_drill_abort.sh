#!/bin/sh
# t_drill_abort.sh: SIGTERM in the middle of a restore (the dump comes
# through a decrypt filter that stalls after its first 64 KiB): the drill
# stops its children, tears the scratch instance down, writes the JSON
# report with status aborted and exits 3; no scratch dir, server or filter
# process is left. Then --keep-scratch: the instance stays up, the way to
# connect is printed without the password (which is in a 0600 file), and
# the restored data is there.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
make_backups postgres
plain=$(ls "$tmp"/backups/pg-plain/*.sql)
marker="sleep 29.75"
cat >"$tmp/drill.json" <<JSON
{ "version": 1, "name": "abort", "seed": 1,
  "output": {"dir": "$tmp/out", "json": "drill.json", "junit": "junit.xml"},
  "targets": [
    {"name": "slow", "engine": "postgres",
     "catalog": {"type": "dir", "path": "$(dirname "$plain")", "pattern": "*.sql", "time_from": "name"},
     "restore": {"decrypt": ["sh", "-c", "head -c 65536; $marker; cat"]},
     "checks": [{"type": "rowcount", "min_rows": {"*": 1}}]},
    {"name": "timeout", "engine": "postgres",
     "catalog": {"type": "dir", "path": "$(dirname "$plain")", "pattern": "*.sql", "time_from": "name"},
     "restore": {"decrypt": ["sh", "-c", "head -c 65536; $marker; cat"], "timeout": "2s"}},
    {"name": "after", "engine": "postgres",
     "catalog": {"type": "dir", "path": "$(dirname "$plain")", "pattern": "*.sql", "time_from": "name"}}
  ] }
JSON

"$RD_BIN" run "$tmp/drill.json" --no-progress >"$tmp/out.txt" 2>"$tmp/err.txt" &
pid=$!
i=0
until grep -q "slow: restoring" "$tmp/err.txt" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -gt 600 ] || ! kill -0 $pid 2>/dev/null; then
        fail "the restore never started"; cat "$tmp/err.txt"; break
    fi
    sleep 0.1
done
sleep 0.5
kill -TERM $pid
wait $pid
rc=$?
expect_rc 3 "run after SIGTERM"
[ -f "$report" ] || fail "no JSON report written"
expect_eq "$(jqr '.drill.status')" aborted "drill status"
expect_eq "$(jqr '.targets[] | select(.name == "slow") | .status')" aborted "slow target status"
for t in timeout after; do
    expect_eq "$(jqr ".targets[] | select(.name == \"$t\") | .status")" aborted "$t not started"
done
expect_eq "$(jqr '.targets[] | select(.name == "after") | .error')" \
    "the drill was aborted before this target started" "target not started: error"
expect_eq "$(jqr '.targets[] | select(.name == "slow") | .phases[] | select(.name == "restore") | .status')" \
    aborted "restore phase"
expect_has "$tmp/out/junit.xml" "<testsuites" "junit written"
no_leftovers "after the abort"
for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF "$marker" && fail "decrypt filter left: $(basename "$p")"
done

# a restore that outlives restore.timeout fails with the timeout named, and
# the stalled filter is stopped
run "$RD_BIN" run "$tmp/drill.json" --no-progress --target timeout
expect_rc 1 "restore timeout run"
expect_eq "$(jqr '.targets[0].checks[] | select(.type == "restore") | .message')" \
    "psql timed out after 2.0s" "restore timeout message"
expect_eq "$(jqr '.targets[0].status')" failed "restore timeout target"
no_leftovers "after the timeout"
for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF "$marker" && fail "decrypt filter left after the timeout"
done

# --keep-scratch
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --no-progress --target after --keep-scratch
expect_rc 0 "keep-scratch run"
line=$(grep "after: scratch instance kept; connect with: psql -h " "$tmp/err.txt")
[ -n "$line" ] || fail "keep-scratch: no connect line"
sock=$(echo "$line" | sed -n 's/.* psql -h \([^ ]*\) -p \([0-9]*\) -U \([^ ]*\) \([^;]*\);.*/\1/p')
port=$(echo "$line" | sed -n 's/.* -p \([0-9]*\) .*/\1/p')
user=$(echo "$line" | sed -n 's/.* -U \([^ ]*\) .*/\1/p')
db=$(echo "$line" | sed -n 's/.* -U [^ ]* \([^;]*\);.*/\1/p')
pwfile=$(echo "$line" | sed -n 's/.*the password is in \([^ ]*\) (mode 0600).*/\1/p')
[ -f "$pwfile" ] || fail "keep-scratch: no password file ($line)"
expect_eq "$(stat -c %a "$pwfile")" 600 "password file mode"
grep -qF "$(cat "$pwfile")" "$tmp/err.txt" && fail "keep-scratch: the password was printed"
expect_eq "$(PGPASSWORD=$(cat "$pwfile") psql -X -A -t -h "$sock" -p "$port" -U "$user" -d "$db" \
    -c 'SELECT count(*) FROM orders')" 1200 "kept instance has the data"
# stop it (it is ours): the server's data dir is in the run dir
datadir=$(dirname "$pwfile")/data
[ -d "$datadir" ] && runuser -u postgres -- "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl" \
    -D "$datadir" -m immediate -w stop >/dev/null 2>&1
finish
