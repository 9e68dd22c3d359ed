#!/bin/sh
# t_gc.sh: `restoredrill gc` removes what a killed run left behind.
# A small helper program (built here against the same static library as
# RD_BIN) provisions real ephemeral PostgreSQL and MariaDB instances through
# rd_scratch_provision and is then killed with SIGKILL, leaving the servers
# running and their directories behind. gc --dry-run must only print; gc
# must stop the servers, remove the directories, print one line each, and
# leave alone a directory whose owner is alive.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ -n "${RD_BIN:-}" ] || { echo "RD_BIN is not set"; exit 1; }
build=$(dirname "$RD_BIN")
lib="$build/librestoredrill.a"
[ -f "$lib" ] || { echo "skipping: $lib not built"; exit 77; }
command -v cc >/dev/null 2>&1 || { echo "skipping: no C compiler for the helper"; exit 77; }
have_pg=0; have_my=0
{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } && have_pg=1
{ command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; } && have_my=1
[ $have_pg = 1 ] || [ $have_my = 1 ] || { echo "skipping: no postgresql or mariadb server binaries"; exit 77; }

work=$(mktemp -d /tmp/rd-t-gc-XXXXXX)
chmod 711 "$work"
run="$work/run"
export RESTOREDRILL_RUNDIR="$run"
fail() { echo "FAIL: $*"; exit 1; }
cleanup() {
    # never leave a server behind, even when an assertion failed
    for p in "$run"/*/data/postmaster.pid "$run"/*/mariadbd.pid; do
        [ -f "$p" ] && kill -9 "$(head -n 1 "$p")" 2>/dev/null
    done
    [ -n "${helper_pid:-}" ] && kill -9 "$helper_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
[ -n "${T_GC_DEBUG:-}" ] && set -x

cat >"$work/helper.c" <<'EOF'
#include <stdio.h>
#include <unistd.h>
#include "restoredrill/scratch.h"
int main(int argc, char **argv)
{
    rd_scratch_cfg cfg = {0};
    rd_scratch_req req = {0};
    rd_error err = {0};
    for (int i = 1; i < argc; i++) {
        rd_scratch *s = NULL;
        req.target = argv[i];
        req.drill_id = "t_gc";
        if (rd_scratch_provision(&cfg, rd_engine_parse(argv[i]), &req, &s, &err) != RD_OK) {
            fprintf(stderr, "helper: %s\n", err.msg);
            return 1;
        }
        printf("%s\n", s->dir);
    }
    printf("ready\n");
    fflush(stdout);
    for (;;)
        pause(); /* until SIGKILL */
}
EOF
# shellcheck disable=SC2046
# RD_LDFLAGS: the flags the library was built with (sanitizers), from make
cc -std=c11 -D_GNU_SOURCE -I"$root/include" ${RD_LDFLAGS:-} -o "$work/helper" "$work/helper.c" "$lib" \
    $(pkg-config --libs libpq libmariadb libcurl libcjson libcrypto zlib libzstd libxml-2.0) -lpthread -lm \
    || fail "cannot build the helper"

engines=""
[ $have_pg = 1 ] && engines="$engines postgres"
[ $have_my = 1 ] && engines="$engines mariadb"
"$work/helper" $engines >"$work/helper.out" 2>"$work/helper.err" &
helper_pid=$!
i=0
while ! grep -q '^ready$' "$work/helper.out" 2>/dev/null; do
    kill -0 "$helper_pid" 2>/dev/null || fail "helper died: $(cat "$work/helper.err")"
    i=$((i + 1)); [ $i -lt 1200 ] || fail "helper did not get ready"
    sleep 0.1
done
kill -9 "$helper_pid"
wait "$helper_pid" 2>/dev/null
dead_pid=$helper_pid
helper_pid=""

# The server pids the killed run left running.
pids=""
for d in $(grep -v '^ready$' "$work/helper.out"); do
    case $d in
    */postgres-*) p=$(head -n 1 "$d/data/postmaster.pid") ;;
    *) p=$(head -n 1 "$d/mariadbd.pid") ;;
    esac
    kill -0 "$p" 2>/dev/null || fail "server $p of $d is not running before gc"
    pids="$pids $p"
done
[ -n "$pids" ] || fail "no instance was started"

# A directory whose owner (this shell) is alive must survive.
live="$run/postgres-liveowner"
mkdir -m 700 "$live"
start=$(sed 's/.*) //' "/proc/$$/stat" | cut -d' ' -f20)
printf '{"pid":%d,"pid_start":%s,"target":"live","engine":"postgres"}' $$ "$start" >"$live/owner.json"

cat >"$work/drill.json" <<EOF
{ "version": 1, "name": "t_gc",
  "targets": [ { "name": "gc", "engine": "postgres",
                 "catalog": { "type": "dir", "path": "$work" },
                 "scratch": { "type": "ephemeral", "base_dir": "$run" } } ] }
EOF

expected() { # $1: verb
    for d in $(grep -v '^ready$' "$work/helper.out"); do
        case $d in
        */postgres-*) echo "$1 ephemeral postgres instance $d (target postgres, owner pid $dead_pid is gone)" ;;
        *) echo "$1 ephemeral mariadb instance $d (target mariadb, owner pid $dead_pid is gone)" ;;
        esac
    done | sort
}

"$RD_BIN" gc "$work/drill.json" --dry-run >"$work/dry.out" 2>"$work/dry.err"
rc=$?
[ $rc -eq 0 ] || fail "gc --dry-run exited with $rc: $(cat "$work/dry.err")"
sort "$work/dry.out" >"$work/dry.sorted"
expected "would remove" >"$work/dry.want"
diff -u "$work/dry.want" "$work/dry.sorted" || fail "gc --dry-run output differs"
for p in $pids; do kill -0 "$p" 2>/dev/null || fail "gc --dry-run stopped server $p"; done
for d in $(grep -v '^ready$' "$work/helper.out"); do [ -d "$d" ] || fail "gc --dry-run removed $d"; done

"$RD_BIN" gc "$work/drill.json" >"$work/gc.out" 2>"$work/gc.err"
rc=$?
[ $rc -eq 0 ] || fail "gc exited with $rc: $(cat "$work/gc.err")"
sort "$work/gc.out" >"$work/gc.sorted"
expected "removed" >"$work/gc.want"
diff -u "$work/gc.want" "$work/gc.sorted" || fail "gc output differs"
for p in $pids; do
    # a zombie (dead, waiting for a parent that is not us to reap it) counts as gone
    state=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1)
    if [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]; then
        fail "server $p still runs after gc"
    fi
done
for d in $(grep -v '^ready$' "$work/helper.out"); do [ ! -e "$d" ] || fail "$d still exists"; done
[ -f "$live/owner.json" ] || fail "gc removed a directory whose owner is alive"

# Nothing left: a second gc prints nothing on stdout.
"$RD_BIN" gc "$work/drill.json" >"$work/gc2.out" 2>"$work/gc2.err" || fail "second gc failed"
[ ! -s "$work/gc2.out" ] || fail "second gc printed: $(cat "$work/gc2.out")"
grep -q "restoredrill: gc: nothing to remove" "$work/gc2.err" || fail "second gc: $(cat "$work/gc2.err")"

# Usage errors exit 2 and touch nothing.
"$RD_BIN" gc "$work/drill.json" --older-than soon >/dev/null 2>"$work/usage.err"
[ $? -eq 2 ] || fail "bad --older-than did not exit 2"
grep -q 'expected a duration like "90s", "15m", "2h" or "1d", got "soon"' "$work/usage.err" \
    || fail "bad --older-than message: $(cat "$work/usage.err")"
echo "ok"
exit 0
