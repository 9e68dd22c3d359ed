#!/bin/sh
# t_faults.sh: faults that must end in a clear failure, a teardown and
# nothing left behind, each with its exact message:
#   - the disk filling up during a restore (a 128 MiB tmpfs as scratch.base_dir,
#     a dump that needs more): error naming the full scratch directory
#   - the scratch server killed (kill -9) while checks run: every check after
#     the kill is an error, none passed
#   - a dump that is still being written when the drill reaches it
#   - a restore tool missing from PATH (the mariadb client)
#   - a catalog directory the drill's user cannot read (run as nobody)
#   - the TCP port of the scratch server taken by another process (a shim,
#     helpers/taken_port.c): another port is tried; taken every time, the
#     drill fails naming the port
# (an unreachable reference: t_first_contact.sh; a killed drill: t_drill_kill.sh)
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
make_backups
sel() { echo ".targets[] | select(.name == \"$1\")"; }

# --- the disk fills up during the restore ---
if [ "$(id -u)" -eq 0 ] && mkdir -p "$tmp/small" && mount -t tmpfs -o size=128M,mode=0755 tmpfs "$tmp/small" 2>/dev/null; then
    mkdir -p "$tmp/big"
    { printf -- '--\n-- PostgreSQL database dump\n--\n\nCREATE TABLE public.big (id integer, v text);\nCOPY public.big (id, v) FROM stdin;\n'
      awk 'BEGIN { s = sprintf("%0200d", 0); for (i = 1; i <= 300000; i++) printf "%d\t%s\n", i, s }'
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
    # (templates/ is the ephemeral scratch's cache of initialised clusters, kept on purpose)
    [ -z "$(ls -A "$tmp/small" | grep -vx templates)" ] || fail "disk full: left in the scratch base dir: $(ls -A "$tmp/small")"
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

# --- a TCP port taken by another process ---
# a shim makes the scratch's port probe answer with a port this test holds
# open: the server cannot bind it, restoredrill says so and tries another;
# taken on every attempt, the drill fails saying which port
if command -v cc >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1 &&
    cc -shared -fPIC -o "$tmp/taken_port.so" "$(dirname "$0")/helpers/taken_port.c" -ldl 2>"$tmp/cc.log"; then
    python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1]); sys.stdout.flush(); time.sleep(120)' >"$tmp/port.txt" &
    holder=$!
    i=0
    while [ $i -lt 50 ] && [ ! -s "$tmp/port.txt" ]; do sleep 0.1; i=$((i + 1)); done
    taken=$(cat "$tmp/port.txt")
    cat >"$tmp/port.json" <<EOF
{ "version": 1, "output": { "dir": "$tmp/out-port" }, "targets": [
  { "name": "pg", "engine": "postgres", "scratch": { "tcp": true },
    "catalog": { "type": "dir", "path": "$pgdir", "pattern": "shop-*.dump", "time_from": "name" },
    "checks": [ { "type": "rowcount" } ] } ] }
EOF
    # under `make sanitize` the shim is preloaded before ASan's runtime
    asan="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
    ASAN_OPTIONS=$asan LD_PRELOAD="$tmp/taken_port.so" RD_TAKEN_PORT=$taken RD_TAKEN_TIMES=1 run "$RD_BIN" run "$tmp/port.json" --no-progress
    expect_rc 0 "port taken once"
    expect_has "$tmp/err.txt" "warning: postgresql scratch server: port $taken on 127.0.0.1 was taken by another process; trying another port" \
        "port taken once: the warning"
    report="$tmp/out-port/drill.json"
    expect_eq "$(jqr "$(sel pg) | .status")" passed "port taken once: status"
    no_leftovers "port taken once"
    ASAN_OPTIONS=$asan LD_PRELOAD="$tmp/taken_port.so" RD_TAKEN_PORT=$taken RD_TAKEN_TIMES=99 run "$RD_BIN" run "$tmp/port.json" --no-progress
    expect_rc 1 "port always taken"
    case "$(jqr "$(sel pg) | .error")" in
    "provision: postgresql server refused to start: port $taken in use: "*) ;;
    *) fail "port always taken: error [$(jqr "$(sel pg) | .error")]" ;;
    esac
    no_leftovers "port always taken"
    kill "$holder" 2>/dev/null
else
    fail "cannot build the port shim: $(cat "$tmp/cc.log")"
fi

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
