#!/bin/sh
# t_mariabackup_drill.sh: MariaDB physical drills end to end against a real
# source (fixtures/make-mariabackup.sh: mariadb-backup full + 2 incrementals,
# three archived binlogs, heartbeat rows, marks one second apart):
#   latest (inc2's consistency point: full + 2 incrementals), id full (a
#   clean full backup), pitr latest, pitr-random over several seeds (the
#   rows of shop.marks must be exactly those written at or before the
#   target, the recovery result checks the heartbeat), GRANT / CREATE USER
#   replayed;
#   failures: a target before the backup ended, a deleted binlog inside the
#   range (gap: archive result and target), a truncated binlog (the replay
#   fails with mariadb-binlog's message, the archive result names it), a
#   middle binlog cut before its Rotate event (the archive result), an incremental without its base,
#   a prepare that fails (damaged ib_logfile0), a corrupted page caught by
#   CHECK TABLE, a server that stops on a corrupted page at start;
#   bad settings (exit 2 naming the setting). No scratch left behind.
. "$(dirname "$0")/../../fixtures/testlib.sh"
. "$fixtures/mariabackuplib.sh"
need_bin

mb_fixture

# config FILE ARCHIVE SAMPLE [CATALOG_EXTRA]: one target "shop"
config() {
    cat >"$1" <<JSON
{ "version": 1, "name": "mb",
  "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [{"name": "shop", "engine": "mariadb",
    "catalog": {"type": "mariabackup", "base_dir": "$2/base", "binlog_dir": "$2/binlog"$4},
    "sample": $3,
    "checks": [
      {"type": "integrity"},
      {"type": "sql", "name": "marks", "query": "SELECT COUNT(*) FROM marks", "expect": ">= 0"},
      {"type": "sql", "name": "app_user",
       "query": "SELECT COUNT(*) FROM mysql.global_priv WHERE User = 'rd_app'", "expect": ">= 0"},
      {"type": "sql", "name": "app_insert",
       "query": "SELECT COUNT(*) FROM mysql.tables_priv WHERE User = 'rd_app' AND Table_name = 'marks'",
       "expect": ">= 0"}]}]}
JSON
}
copy() { rm -rf "$tmp/c-$1"; mkdir -p "$tmp/c-$1"; cp -a "$tmp/mb/base" "$tmp/mb/binlog" "$tmp/c-$1/"; echo "$tmp/c-$1"; }

# --- latest: inc2 (full + inc1 + inc2) to its consistency point
config "$tmp/c.json" "$tmp/mb" '{"strategy": "latest"}'
drill "$tmp/c.json"
expect_rc 0 "latest"
expect_eq "$(jqr '.targets[0].recovery_point.id')" "inc2" "latest: point"
expect_eq "$(check_of recovery object)" "consistency point" "latest: recovery object"
expect_eq "$(check_of recovery status)" "passed" "latest: recovery"
expect_eq "$(check_of archive status)" "passed" "latest: archive"
expect_eq "$(check_of marks actual)" "2" "latest: marks in inc2"
expect_eq "$(check_of app_user actual)" "1" "latest: CREATE USER before inc1"
expect_eq "$(jqr '[.targets[0].checks[] | select(.type == "integrity" and .status != "passed")] | length')" "0" "latest: integrity"
expect_eq "$(jqr '.targets[0].recovery_point.wal_range.first == .targets[0].recovery_point.wal_range.last')" "true" "latest: nothing replayed"
no_leftovers "latest"

# --- a clean full backup, by id
config "$tmp/c.json" "$tmp/mb" '{"strategy": "id", "id": "full"}'
drill "$tmp/c.json"
expect_rc 0 "full"
expect_eq "$(check_of marks actual)" "0" "full: marks"
expect_eq "$(check_of app_user actual)" "0" "full: no rd_app yet"

# --- pitr latest: every binlog replayed, the GRANT of the last file too
config "$tmp/c.json" "$tmp/mb" '{"strategy": "pitr", "time": "latest"}'
drill "$tmp/c.json"
expect_rc 0 "pitr latest"
expect_eq "$(check_of recovery object)" "latest" "pitr latest: recovery object"
expect_eq "$(check_of recovery status)" "passed" "pitr latest: recovery"
expect_eq "$(check_of marks actual)" "$MARKS" "pitr latest: marks"
expect_eq "$(check_of app_insert actual)" "1" "pitr latest: GRANT replayed"
expect_eq "$(jqr '.targets[0].rpo.basis')" "heartbeat" "pitr latest: RPO basis"
last=$(jqr '.targets[0].recovery_point.wal_range.last')
case "$last" in mysql-bin.000003:*) ;; *) fail "pitr latest: wal_range.last $last" ;; esac

# --- pitr-random over several seeds: exactly the marks at or before the target
for seed in 1 2 3 4 5; do
    drill_cfg="$tmp/c.json"
    config "$drill_cfg" "$tmp/mb" '{"strategy": "pitr-random"}'
    drill "$drill_cfg" "$seed"
    expect_rc 0 "pitr-random seed $seed"
    target=$(jqr '.targets[0].sampling.pitr_target')
    tms=$(ms_of "$target")
    expect_eq "$(check_of recovery status)" "passed" "pitr-random seed $seed ($target): recovery"
    expect_eq "$(check_of marks actual)" "$(marks_at "$tms")" "pitr-random seed $seed ($target): marks"
    reached=$(ms_of "$(jqr '.targets[0].recovery_point.reached_time')")
    [ "$reached" -le "$tms" ] || fail "pitr-random seed $seed: reached $reached after target $tms"
done
no_leftovers "pitr-random"

# --- a target before the first backup ended: a finding (exit 1), not a setting
before=$(date -u -d "@$((FULL_END - 5))" +%Y-%m-%dT%H:%M:%SZ)
config "$tmp/c.json" "$tmp/mb" "{\"strategy\": \"pitr\", \"time\": \"$before\"}"
drill "$tmp/c.json"
expect_rc 1 "before the backup"
expect_has "$report" "before the end of the oldest usable base backup" "before the backup: reason"

# --- a deleted binlog inside the range: a gap
g=$(copy gap)
rm "$g/binlog/mysql-bin.000002"
at=$(date -u -d "@${MARK_5%.*}" +%Y-%m-%dT%H:%M:%SZ)
config "$tmp/c.json" "$g" "{\"strategy\": \"pitr\", \"time\": \"$at\"}"
drill "$tmp/c.json"
expect_rc 1 "gap"
expect_eq "$(check_of archive status)" "failed" "gap: archive result"
expect_has "$report" "mysql-bin.000002 missing" "gap: archive names the file"
expect_has "$report" "past a gap" "gap: target reason"
run "$RD_BIN" list "$tmp/c.json"
expect_rc 0 "gap: list"
expect_has "$tmp/out.txt" "mysql-bin.000002" "gap: list names the gap"
no_leftovers "gap"

# --- a truncated binlog: the replay fails with mariadb-binlog's own message
tr=$(copy trunc)
truncate -s -100 "$tr/binlog/mysql-bin.000002"
config "$tmp/c.json" "$tr" '{"strategy": "pitr", "time": "latest"}'
drill "$tmp/c.json"
expect_rc 1 "truncated"
expect_eq "$(check_of recovery status)" "failed" "truncated: recovery"
case "$(check_of recovery message)" in
"mariadb-binlog failed (exit 1): ERROR: "*) ;;
*) fail "truncated: message [$(check_of recovery message)]" ;;
esac
# the archive result sees it too, before anything is replayed
expect_eq "$(check_of archive status)" "failed" "truncated: archive result"
case "$(check_of archive message)" in
"1 gap in the archive after mysql-bin.000001: mysql-bin.000002 is truncated at byte "*" of "*": the event there needs "*" bytes ("*" to "*" cannot be recovered)") ;;
*) fail "truncated: archive message [$(check_of archive message)]" ;;
esac
no_leftovers "truncated"

# --- a middle binlog cut exactly before its Rotate event (at an event
# boundary: the header walk finds no torn event, but the server had closed
# the file, so its Rotate must be there): the archive result names it
cs=$(copy cutshort)
rot=$(mariadb-binlog --no-defaults --base64-output=never "$cs/binlog/mysql-bin.000002" 2>/dev/null |
    awk '/Rotate to/ {print p} /^# at / {p=$3}' | tail -n 1)
[ -n "$rot" ] || fail "cut short: no Rotate event found in mysql-bin.000002"
truncate -s "$rot" "$cs/binlog/mysql-bin.000002"
config "$tmp/c.json" "$cs" '{"strategy": "latest"}'
drill "$tmp/c.json"
expect_rc 1 "cut short"
expect_eq "$(check_of archive status)" "failed" "cut short: archive result"
case "$(check_of archive message)" in
"1 gap in the archive after mysql-bin.000001: mysql-bin.000002 is cut short: it ends without the Rotate or Stop event the server wrote when it closed it ("*) ;;
*) fail "cut short: archive message [$(check_of archive message)]" ;;
esac
run "$RD_BIN" list "$tmp/c.json"
expect_has "$tmp/out.txt" "GAP: mysql-bin.000002 is cut short" "cut short: list"
no_leftovers "cut short"

# --- an incremental without its base: listed as broken, never restored
nb=$(copy nobase)
rm -rf "$nb/base/full"
config "$tmp/c.json" "$nb" '{"strategy": "id", "id": "inc2"}'
drill "$tmp/c.json"
expect_rc 1 "no base"
expect_has "$report" "recovery point inc2 is broken: incremental from LSN" "no base: reason"

# --- a prepare that fails: damaged redo log of the full backup
rl=$(copy redo)
dd if=/dev/zero of="$rl/base/full/ib_logfile0" bs=4096 seek=3 count=1 conv=notrunc 2>/dev/null
config "$tmp/c.json" "$rl" '{"strategy": "latest"}'
drill "$tmp/c.json"
expect_rc 1 "damaged redo"
case "$(check_of restore message)" in
"mariadb-backup --prepare of full failed (exit 1): "*"[ERROR] InnoDB: "*) ;;
*) fail "damaged redo: message [$(check_of restore message)]" ;;
esac
no_leftovers "damaged redo"

# --- a corrupted page of a table: CHECK TABLE catches it
cp_=$(copy page)
dd if=/dev/urandom of="$cp_/base/full/shop/orders.ibd" bs=1 seek=$((16384 * 3 + 200)) count=3000 \
    conv=notrunc 2>/dev/null
config "$tmp/c.json" "$cp_" '{"strategy": "id", "id": "full"}'
drill "$tmp/c.json"
expect_rc 1 "corrupted page"
expect_eq "$(jqr '.targets[0].checks[] | select(.type == "integrity" and .object == "orders") | .status')" \
    "failed" "corrupted page: integrity orders"

# --- a server that stops on a corrupted page while starting: its line, no hang
sp=$(copy sysdict)
dd if=/dev/urandom of="$sp/base/full/ibdata1" bs=1 seek=$((16384 * 7 + 100)) count=2000 \
    conv=notrunc 2>/dev/null
config "$tmp/c.json" "$sp" '{"strategy": "id", "id": "full"}'
drill "$tmp/c.json"
expect_rc 1 "server stops"
case "$(check_of recovery message)" in
"the mariadb server stopped during recovery: "*"[ERROR] InnoDB: "*"page 7"*) ;;
*) fail "server stops: message [$(check_of recovery message)]" ;;
esac
no_leftovers "server stops"

# --- settings: exit 2 naming the setting, before anything starts
config "$tmp/c.json" "$tmp/none" '{"strategy": "latest"}'
drill "$tmp/c.json"
expect_rc 2 "missing base_dir"
expect_has "$tmp/err.txt" "targets[0].catalog.base_dir: cannot read $tmp/none/base" "missing base_dir: message"
mkdir -p "$tmp/empty/base" "$tmp/empty/binlog"
config "$tmp/c.json" "$tmp/empty" '{"strategy": "latest"}'
drill "$tmp/c.json"
expect_rc 2 "no binlogs"
expect_has "$tmp/err.txt" "targets[0].catalog.binlog_dir: $tmp/empty/binlog holds no binary logs" "no binlogs: message"
config "$tmp/c.json" "$tmp/mb" '{"strategy": "pitr", "time": "yesterday"}'
drill "$tmp/c.json"
expect_rc 2 "malformed time"
expect_has "$tmp/err.txt" "targets[0].sample.time: expected an RFC 3339 time" "malformed time: message"
config "$tmp/c.json" "$tmp/mb" '{"strategy": "latest"}' ', "timezone": "Mars/Olympus"'
drill "$tmp/c.json"
expect_rc 2 "bad zone"
expect_has "$tmp/err.txt" "targets[0].catalog.timezone: unknown time zone \"Mars/Olympus\"" "bad zone: message"
[ -d "$tmp/out" ] && fail "settings: reports written although nothing ran"
no_leftovers "end"
finish
