#!/bin/sh
# t_faults.sh: faults that must end in a clear failure, a teardown and
# nothing left behind, each with its exact message:
#   - the disk filling up during a restore (a 64 MiB tmpfs as scratch.base_dir,
#     a dump that needs more): error naming the full scratch directory
#   - the scratch server killed (kill -9) while checks run: every check after
#     the kill is an error, none passed
#   - a dump that is still being written when the drill reaches it
#   - a restore tool missing from PATH (the mariadb client)
#   - a catalog directory the drill's user cannot read (run as nobody)
# (an unreachable reference: t_first_contact.sh; a killed drill: t_drill_kill.sh)
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
make_backups
sel() { echo ".targets[] | select(.name == \"$1\")"; }

# --- the disk fills up during the restore ---
if [ "$(id -u)" -eq 0 ] && mkdir -p "$tmp/small" && mount -t tmpfs -o size=64M,mode=0755 tmpfs "$tmp/small" 2>/dev/null; then
    mkdir -p "$tmp/big"
    { printf -- '--\n-- PostgreSQL database dump\n--\n\nCREATE TABLE public.big (id integer, v text);\nCOPY public.big (id, v) FROM stdin;\n'
      awk 'BEGIN { s = sprintf("%0200d", 0); for (i = 1; i <= 200000; i++) printf "%d\t%s\n", i, s }'
      printf '\\.\n\n--\n-- PostgreSQL database dump complete\n--\n\n'; } | gzip -1 >"$tmp/big/big-20260101T000000Z.sql.gz"
    cat >"$tmp/disk.json" <<EOF
{ "version": 1, "output": { "dir": "$tmp/out-disk" }, "targets": [
  { "name": "pg", "engine": "postgres", "scratch": { "base_dir": "$tmp/small" },
    "catalog": { "type": "dir", "path": "$tmp/big", "pattern": "*.sql.gz" } } ] }
EOF
    run "$RD_BIN" run "$tmp/disk.json" --no-progress
    expect_rc 1 "disk full"
    report="$tmp/out-disk/drill.json"
    expect_eq "$(jqr "$(sel pg) | .status")" error "disk full: status"
    msg=$(jqr "$(sel pg) | .checks[] | select(.type == \"restore\") | .message")
    case "$msg" in
    "psql exited with status "*" (the scratch instance's disk is full under $tmp/small/postgres-"*": give it more space, or point scratch.base_dir at a larger file system)") ;;
    *) fail "disk full: message [$msg]" ;;
    esac
    [ -z "$(ls -A "$tmp/small")" ] || fail "disk full: left in the scratch base dir: $(ls -A "$tmp/small")"
    for p in /proc/[0-9]*; do
        { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF "$tmp/small" && fail "disk full: process $(basename "$p") still runs"
    done
    umount "$tmp/small" || fail "disk full: the tmpfs is still busy"
else
    echo "skip: disk full (needs root to mount a tmpfs)"
fi

# --- the scratch server is killed while the checks run ---
pgdir="$tmp/backups/pg-custom"
cat >"$tmp/kill.json" <<EOF
{ "version": 1, "output": { "dir": "$tmp/out-kill" }, "targets": [
  { "name": "pg", "engine": "postgres",
    "catalog": { "type": "dir", "path": "$pgdir", "pattern": "shop-*.dump", "time_from": "name" },
    "checks": [ { "type": "sql", "name": "slow", "query": "SELECT 1 FROM (SELECT pg_sleep(5)) s", "expect": "= 1" },
                { "type": "rowcount" }, { "type": "schema" }, { "type": "integrity" } ] } ] }
EOF
"$RD_BIN" run "$tmp/kill.json" --no-progress >"$tmp/out.txt" 2>"$tmp/err.txt" &
drill=$!
i=0
while [ $i -lt 300 ] && ! grep -q "pg: check slow" "$tmp/err.txt"; do sleep 0.1; i=$((i + 1)); done
sleep 0.5
for p in $(server_pids); do
    case "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" in *postgres\ -D*) kill -9 "$p" ;; esac
done
wait $drill
rc=$?
expect_rc 1 "server killed"
report="$tmp/out-kill/drill.json"
expect_eq "$(jqr "$(sel pg) | .status")" error "server killed: status"
expect_eq "$(jqr "[$(sel pg) | .checks[] | select(.type != \"restore\") | select(.status == \"passed\")] | length")" 0 \
    "server killed: no check passed after the kill"
expect_eq "$(jqr "[$(sel pg) | .checks[] | select(.type == \"sql\") | .status] | join(\",\")")" error "server killed: the running check"
n=$(jqr "[$(sel pg) | .checks[] | select(.type == \"rowcount\" or .type == \"schema\" or .type == \"integrity\")] | length")
[ "$n" -ge 3 ] || fail "server killed: the later checks recorded $n results"
expect_eq "$(jqr "[$(sel pg) | .checks[] | select(.type == \"rowcount\" or .type == \"schema\" or .type == \"integrity\") | .status] | unique | join(\",\")")" \
    error "server killed: the later checks are errors"
no_leftovers "server killed"

# --- a dump that is still being written ---
mkdir -p "$tmp/writing"
cp "$pgdir"/shop-*.dump "$tmp/writing/" 2>/dev/null
wname=shop-$(date -u -d '-1 minute' +%Y%m%dT%H%M%SZ).dump # the newest point
sh -c 'head -c 4096 "$1"; exec sleep 30' sh "$(ls "$pgdir"/shop-*.dump | head -n 1)" >"$tmp/writing/$wname" &
writer=$!
sleep 0.3
cat >"$tmp/writing.json" <<EOF
{ "version": 1, "output": { "dir": "$tmp/out-writing" }, "targets": [
  { "name": "pg", "engine": "postgres",
    "catalog": { "type": "dir", "path": "$tmp/writing", "pattern": "shop-*.dump", "time_from": "name" } } ] }
EOF
run "$RD_BIN" run "$tmp/writing.json" --no-progress
expect_rc 1 "still being written"
report="$tmp/out-writing/drill.json"
expect_eq "$(jqr "$(sel pg) | .error")" \
    "fetch: $wname is still being written (sleep, pid $writer, has it open for writing): run the drill once the backup has finished" \
    "still being written: message"
expect_eq "$(jqr "$(sel pg) | .status")" error "still being written: status"
kill "$writer" 2>/dev/null
no_leftovers "still being written"

# --- a restore tool missing from PATH ---
mkdir -p "$tmp/path"
for f in /usr/bin/* /bin/*; do
    case "$(basename "$f")" in mariadb | mysql) ;; *) [ -e "$tmp/path/$(basename "$f")" ] || ln -s "$f" "$tmp/path/" ;; esac
done
cat >"$tmp/tool.json" <<EOF
{ "version": 1, "output": { "dir": "$tmp/out-tool" }, "targets": [
  { "name": "my", "engine": "mariadb",
    "catalog": { "type": "dir", "path": "$tmp/backups/mariadb-sql", "pattern": "shop-*.sql", "time_from": "name" } } ] }
EOF
PATH="$tmp/path" run "$RD_BIN" run "$tmp/tool.json" --no-progress
expect_rc 1 "tool missing"
report="$tmp/out-tool/drill.json"
expect_eq "$(jqr "$(sel my) | .status")" error "tool missing: status"
expect_eq "$(jqr "$(sel my) | .checks[] | select(.type == \"restore\") | .message")" \
    "the restore tool mariadb was not found (searched PATH, /usr/lib/postgresql/*/bin, /usr/sbin, /usr/local/bin): install the MariaDB client (apt-get install mariadb-client)" \
    "tool missing: message"
no_leftovers "tool missing"

# --- a catalog directory the drill's user cannot read ---
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
    mkdir -p "$tmp/locked" "$tmp/nobody" && chmod 0700 "$tmp/locked" && chmod 0777 "$tmp/nobody"
    cat >"$tmp/nobody/locked.json" <<EOF
{ "version": 1, "output": { "dir": "$tmp/nobody/out" }, "targets": [
  { "name": "pg", "engine": "postgres", "catalog": { "type": "dir", "path": "$tmp/locked" } } ] }
EOF
    chmod 0644 "$tmp/nobody/locked.json"
    runuser -u nobody -- env RESTOREDRILL_RUNDIR="$tmp/nobody/run" "$RD_BIN" run "$tmp/nobody/locked.json" --no-progress \
        >"$tmp/out.txt" 2>"$tmp/err.txt"
    rc=$?
    expect_rc 1 "unreadable catalog"
    report="$tmp/nobody/out/drill.json"
    expect_eq "$(jqr "$(sel pg) | .error")" \
        "sample: catalog.path: cannot read directory $tmp/locked: permission denied (give the user running restoredrill read and search access)" \
        "unreadable catalog: message"
    runuser -u nobody -- "$RD_BIN" validate "$tmp/nobody/locked.json" >"$tmp/out.txt" 2>"$tmp/err.txt"
    rc=$?
    expect_rc 2 "validate, unreadable catalog"
    expect_eq "$(head -n 1 "$tmp/err.txt")" \
        "restoredrill: $tmp/nobody/locked.json: targets[0].catalog.path: cannot read directory $tmp/locked: permission denied (give the user running restoredrill read and search access)" \
        "validate, unreadable catalog: message"
else
    echo "skip: unreadable catalog (needs root to run as nobody)"
fi
finish
