#!/bin/sh
# bench/tenants.sh RESTOREDRILL [N] [ROWS]: the tenant benchmark (issue 16).
#
# A private MariaDB (bench/servers.sh) gets N tenant databases (default 200)
# of ROWS rows each (default 48000, about 5 MB of dump per tenant) and a
# central one; `restoredrill backup --all-databases` writes one cluster-wide
# dump with its cluster manifest. Then, in one run, best of 3 interleaved
# rounds:
#   drill_restore  fetch + restore phases of a drill of 5 sampled tenants
#                  ("checks": [], the seed fixed) from the cluster dump, as
#                  the report measures them (the listing comes from the
#                  manifest, the whole dump streams through the section filter)
#   drill_wall     the whole drill, server provisioning and teardown included
#   by_hand_scratch the same into a third server started with the settings of
#                  the drill's ephemeral scratch instance (64M buffer pool...):
#                  the same server, so the ratio isolates the drill's cost
#   drill_perdb    fetch + restore phases of a drill of the same 5 own dumps
#                  laid out as a per-database point (catalog.per_database)
#   by_hand        the same 5 tenants restored with the mariadb client from
#                  their own dumps (mariadb-dump --databases tenant_k) into a
#                  second private server, one after the other
#   list_scan      run --dry-run on a synthetic 2,000-database dump without a
#                  manifest (the dump is scanned)
#   list_manifest  run --dry-run on the same point with a cluster manifest
# and the peak resident memory of the restoredrill process itself (VmHWM)
# in drills of a small and of the full dump (memory must not follow the
# dump). With BENCH_BASE=OTHER_RESTOREDRILL (a binary built from another
# commit), each round also runs the drill_restore measure with it
# (drill_restore_base: before/after in the same run). Every round's ratio and
# the load average are printed too. Writes a Markdown table to
# $BENCH_OUT (default bench/tenants-last.md) and prints it.
set -u
bin=${1:?usage: bench/tenants.sh RESTOREDRILL [N] [ROWS]}
n=${2:-200}
rows=${3:-48000}
here=$(cd "$(dirname "$0")" && pwd)
out=${BENCH_OUT:-$here/tenants-last.md}
. "$here/servers.sh"
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)"; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rd-bench-tenants.XXXXXX")
chmod 0711 "$tmp"
export RESTOREDRILL_RUNDIR="$tmp/run"
mkdir -p "$RESTOREDRILL_RUNDIR" "$tmp/all" "$tmp/own" "$tmp/small" "$tmp/two"
cleanup() { bench_stop "$tmp/a"; bench_stop "$tmp/b"; bench_stop "$tmp/c"; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/a" "$tmp/b"
bench_start_my "$tmp/a" || { echo "bench: mariadb did not start"; exit 1; }
A_SOCK="$tmp/a/my/sock"
my() { mariadb --no-defaults -S "$A_SOCK" -u root --batch "$@"; }

echo "loading $n tenants of $rows rows" >&2
t0=$(date +%s)
{
    echo "USE bench;"
    echo "CREATE DATABASE central; CREATE TABLE central.t (id INT PRIMARY KEY, payload VARCHAR(200) NOT NULL);"
    echo "INSERT INTO central.t SELECT seq, CONCAT(MD5(seq), MD5(seq + 1), MD5(seq + 2)) FROM seq_1_to_$rows;"
    k=1
    while [ $k -le "$n" ]; do
        echo "CREATE DATABASE tenant_$k; CREATE TABLE tenant_$k.t (id INT PRIMARY KEY, payload VARCHAR(200) NOT NULL);"
        echo "INSERT INTO tenant_$k.t SELECT seq, CONCAT(MD5(seq + $k), MD5(seq + 1), MD5(seq + 2)) FROM seq_1_to_$rows;"
        k=$((k + 1))
    done
} | my || exit 1
echo "loaded in $(( $(date +%s) - t0 ))s" >&2
ts=20260130T020000Z
dsn="mariadb://root@localhost/?socket=$A_SOCK"
"$bin" --quiet backup --engine mariadb --dsn "$dsn" --all-databases -o "$tmp/all/tenants-$ts.sql" || exit 1
"$bin" --quiet backup --engine mariadb --dsn "$dsn" --databases 'tenant_?' central -o "$tmp/small/tenants-$ts.sql" || exit 1
dump_bytes=$(stat -c %s "$tmp/all/tenants-$ts.sql")
# the cost of the section ends (member/frame ends and a sha256 per piece):
# the same backups with and without them (wall, user+sys CPU seconds)
bk_time() { # LABEL ARGS...: "label wall cpu" appended to r.backup
    label=$1
    shift
    rm -f "$tmp"/bk/*
    /usr/bin/time -f "%e %U %S" -o "$tmp/bt" "$bin" --quiet backup --engine mariadb --dsn "$dsn" "$@" ||
        exit 1
    echo "$label $(awk '{printf "%s %.2f", $1, $2 + $3}' "$tmp/bt")" >>"$tmp/r.backup"
}
: >"$tmp/r.backup"
mkdir -p "$tmp/bk"
for r in 1 2; do
    bk_time "plain_sections" --all-databases -o "$tmp/bk/a.sql"
    bk_time "plain_no_sections" --all-databases --no-sections -o "$tmp/bk/b.sql"
    bk_time "gzip_sections_10_tenants" --databases 'tenant_?' central --gzip -o "$tmp/bk/c.sql.gz"
    gz_sec=$(stat -c %s "$tmp/bk/c.sql.gz")
    bk_time "gzip_no_sections_10_tenants" --databases 'tenant_?' central --gzip --no-sections -o "$tmp/bk/d.sql.gz"
    gz_nosec=$(stat -c %s "$tmp/bk/d.sql.gz")
done
rm -rf "$tmp/bk"
small_bytes=$(stat -c %s "$tmp/small/tenants-$ts.sql")

config() { # FILE DIR
    cat >"$1" <<JSON
{ "version": 1, "seed": 42, "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [ { "name": "tenants", "engine": "mariadb",
    "catalog": {"type": "dir", "path": "$2", "pattern": "*.sql", "time_from": "name"},
    "databases": ["tenant_*"], "sample": {"databases": 5}, "checks": [] } ] }
JSON
}
config "$tmp/all.json" "$tmp/all"
config "$tmp/small.json" "$tmp/small"
picks=$("$bin" --quiet run "$tmp/all.json" --dry-run | awk -F'\t' '$2 == "databases" {print $3}' | sed 's/.*: //')
echo "picks: $picks" >&2
for db in $picks; do
    mariadb-dump --no-defaults -S "$A_SOCK" -u root --single-transaction --hex-blob \
        --default-character-set=utf8mb4 --databases "$db" >"$tmp/own/$db.sql" || exit 1
done
own_bytes=$(cat "$tmp/own/"*.sql | wc -c)
# the same 5 dumps as a per-database point (catalog.per_database)
mkdir -p "$tmp/perdb"
for db in $picks; do cp "$tmp/own/$db.sql" "$tmp/perdb/$db-$ts.sql"; done
cat >"$tmp/perdb.json" <<JSON
{ "version": 1, "seed": 42, "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [ { "name": "tenants", "engine": "mariadb",
    "catalog": {"type": "dir", "path": "$tmp/perdb", "pattern": "*.sql", "per_database": true},
    "databases": ["tenant_*"], "sample": {"databases": 5}, "checks": [] } ] }
JSON
bench_start_my "$tmp/b" || { echo "bench: second mariadb did not start"; exit 1; }
B_SOCK="$tmp/b/my/sock"
# a third server with exactly the settings of restoredrill's ephemeral
# MariaDB scratch instance (harness/scratch/ephemeral_mariadb.c: 64M buffer
# pool, flush at commit 0, no binlog, doublewrite and log size by default),
# so that a by-hand restore runs against the same server the drill uses
c="$tmp/c/my"
mkdir -p "$c/tmp"
[ "$(id -u)" = 0 ] && chown -R mysql "$tmp/c"
as_user mysql mariadb-install-db --no-defaults --datadir="$c/data" --auth-root-authentication-method=normal \
    --skip-test-db >"$tmp/c-install.log" 2>&1 || { echo "bench: third mariadb did not install"; exit 1; }
as_user mysql /usr/sbin/mariadbd --no-defaults --datadir="$c/data" --socket="$c/sock" \
    --pid-file="$c/pid" --log-error="$c/err" --innodb-buffer-pool-size=64M \
    --innodb-flush-log-at-trx-commit=0 --skip-log-bin --skip-name-resolve --tmpdir="$c/tmp" \
    --skip-networking >/dev/null 2>&1 &
i=0
until mariadb --no-defaults -S "$c/sock" -u root -e 'SELECT 1' >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -gt 120 ] && { echo "bench: third mariadb did not start"; exit 1; }; sleep 0.5
done
C_SOCK="$c/sock"

# a synthetic 2,000-database point (tiny sections) with and without manifest
mkdir -p "$tmp/two/scan" "$tmp/two/man"
python3 - "$tmp/two" "$ts" <<'PY'
import json, sys
d, ts = sys.argv[1], sys.argv[2]
parts = ["-- MariaDB dump\n/*!40101 SET NAMES utf8mb4 */;\n"]
dbs = []
for k in range(1, 2001):
    name = f"tenant_{k}"
    dbs.append(name)
    parts.append(f"--\n-- Current Database: `{name}`\n--\n\nCREATE DATABASE `{name}`;\nUSE `{name}`;\n"
                 f"CREATE TABLE t (id INT PRIMARY KEY);\nINSERT INTO `t` VALUES (1),(2),(3);\n")
parts.append("-- Dump completed on 2026-01-30  2:00:00\n")
text = "".join(parts)
for sub in ("scan", "man"):
    open(f"{d}/{sub}/tenants-{ts}.sql", "w").write(text)
m = {"version": 1, "tool": "bench", "engine": "mariadb", "captured_at": "2026-01-30T02:00:00Z",
     "database": None, "artifact": None, "tables": [], "sequences": [], "views": [],
     "routines": [], "triggers": [], "extensions": [],
     "databases": [{"version": 1, "engine": "mariadb", "database": n, "tables": [
         {"schema": n, "name": "t", "rows": 3, "columns": [], "primary_key": ["id"],
          "indexes": [], "constraints": []}]} for n in dbs]}
json.dump(m, open(f"{d}/man/tenants-{ts}.sql.manifest.json", "w"))
PY
rm -f "$tmp/two/tenants-$ts.sql"
config "$tmp/scan.json" "$tmp/two/scan"
config "$tmp/man.json" "$tmp/two/man"

# run CMD... in the background and print "SECONDS HWM_KIB": the wall time
# and the peak resident memory of that process alone (VmHWM from
# /proc/PID/status, read until it exits; /usr/bin/time would count the
# scratch server it starts and waits for)
hwm_run() { # prints "wall_s peak_rss_kib cpu_s": cpu_s is restoredrill's own
    # user + system time (its threads, not its children: servers, clients),
    # as last seen in /proc/PID/stat (polled every 0.05 s, so up to 0.05 s short)
    start=$(date +%s.%N)
    "$@" >/dev/null 2>"$tmp/hwm.err" &
    pid=$!
    hwm=0
    ticks=0
    while kill -0 "$pid" 2>/dev/null; do
        v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
        [ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
        t=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}')
        [ -n "$t" ] && ticks=$t
        sleep 0.05
    done
    wait "$pid"
    rc=$?
    end=$(date +%s.%N)
    echo "$start $end $hwm $ticks $(getconf CLK_TCK)" | awk '{printf "%.2f %d %.2f\n", $2 - $1, $3, $4 / $5}'
    return $rc
}

best() { sort -n | head -n 1; }
: >"$tmp/r.drill_restore"; : >"$tmp/r.drill_wall"; : >"$tmp/r.by_hand"; : >"$tmp/r.drill_perdb"
: >"$tmp/r.by_hand_scratch"; : >"$tmp/r.drill_base"; : >"$tmp/r.load"
: >"$tmp/r.cpu_drill"; : >"$tmp/r.cpu_base"
base=${BENCH_BASE:-}
: >"$tmp/r.list_scan"; : >"$tmp/r.list_manifest"; : >"$tmp/r.rss_full"; : >"$tmp/r.rss_small"
drill_phases() { # fetch + restore seconds of the last drill
    jq -r '[.targets[0].phases[] | select(.name == "fetch" or .name == "restore") | .seconds] | add' \
        "$tmp/out/drill.json" | awk '{printf "%.2f\n", $1}'
}
for round in 1 2 3; do
    echo "round $round" >&2
    cut -d' ' -f1 /proc/loadavg >>"$tmp/r.load"
    if [ -n "$base" ]; then
        rm -rf "$tmp/out"
        hwm_run "$base" --quiet run "$tmp/all.json" --no-progress >"$tmp/t" ||
            { cat "$tmp/hwm.err"; echo "bench: the base drill failed"; exit 1; }
        read -r wall rss cpu <"$tmp/t"
        echo "$cpu" >>"$tmp/r.cpu_base"
        drill_phases >>"$tmp/r.drill_base"
    fi
    rm -rf "$tmp/out"
    hwm_run "$bin" --quiet run "$tmp/all.json" --no-progress >"$tmp/t" ||
        { cat "$tmp/hwm.err"; echo "bench: the drill failed"; exit 1; }
    read -r wall rss cpu <"$tmp/t"
    echo "$wall" >>"$tmp/r.drill_wall"
    echo "$rss" >>"$tmp/r.rss_full"
    echo "$cpu" >>"$tmp/r.cpu_drill"
    jq -r '.targets[0].checks[] | select(.type == "restore" and .name == "restore") | .properties.stored_bytes_read // "-"' \
        "$tmp/out/drill.json" >"$tmp/r.read_bytes"
    jq -r '[.targets[0].phases[] | select(.name == "fetch" or .name == "restore") | .seconds] | add' \
        "$tmp/out/drill.json" | awk '{printf "%.2f\n", $1}' >>"$tmp/r.drill_restore"
    [ "$(jq -r '.targets[0].databases.drilled | join(" ")' "$tmp/out/drill.json")" = "$picks" ] ||
        { echo "bench: the drill picked other databases"; exit 1; }
    rm -rf "$tmp/out"
    "$bin" --quiet run "$tmp/perdb.json" --no-progress >/dev/null 2>"$tmp/perdb.err" ||
        { cat "$tmp/perdb.err"; echo "bench: the per-database drill failed"; exit 1; }
    jq -r '[.targets[0].phases[] | select(.name == "fetch" or .name == "restore") | .seconds] | add' \
        "$tmp/out/drill.json" | awk '{printf "%.2f\n", $1}' >>"$tmp/r.drill_perdb"
    for db in $picks; do mariadb --no-defaults -S "$B_SOCK" -u root -e "DROP DATABASE IF EXISTS $db"; done
    start=$(date +%s.%N)
    for db in $picks; do mariadb --no-defaults -S "$B_SOCK" -u root <"$tmp/own/$db.sql" || exit 1; done
    end=$(date +%s.%N)
    echo "$start $end" | awk '{printf "%.2f\n", $2 - $1}' >>"$tmp/r.by_hand"
    for db in $picks; do mariadb --no-defaults -S "$C_SOCK" -u root -e "DROP DATABASE IF EXISTS $db"; done
    start=$(date +%s.%N)
    for db in $picks; do mariadb --no-defaults -S "$C_SOCK" -u root <"$tmp/own/$db.sql" || exit 1; done
    end=$(date +%s.%N)
    echo "$start $end" | awk '{printf "%.2f\n", $2 - $1}' >>"$tmp/r.by_hand_scratch"
    for kind in scan manifest; do
        cfgf="$tmp/scan.json"
        [ $kind = manifest ] && cfgf="$tmp/man.json"
        /usr/bin/time -f %e -o "$tmp/t" "$bin" --quiet run "$cfgf" --dry-run >"$tmp/list.out" 2>&1 ||
            { cat "$tmp/list.out"; echo "bench: dry run failed"; exit 1; }
        grep -q "5 of 2000 matching (2000 in the point)" "$tmp/list.out" ||
            { cat "$tmp/list.out"; echo "bench: the dry run did not list 2,000 databases"; exit 1; }
        tail -n 1 "$tmp/t" >>"$tmp/r.list_$kind"
    done
    rm -rf "$tmp/out"
    hwm_run "$bin" --quiet run "$tmp/small.json" --no-progress >"$tmp/t" ||
        { cat "$tmp/hwm.err"; echo "bench: the small drill failed"; exit 1; }
    read -r wall rss cpu <"$tmp/t"
    echo "$rss" >>"$tmp/r.rss_small"
done
cut -d' ' -f1 /proc/loadavg >>"$tmp/r.load"
per_round() { # A B: A/B of every round
    paste -d' ' "$tmp/r.$1" "$tmp/r.$2" | awk '{printf "%.2f ", $1 / $2}' | sed 's/ $//'
}
all_of() { tr '\n' ' ' <"$1" | sed 's/ $//'; }
dr="$(best <"$tmp/r.drill_restore") ($(all_of "$tmp/r.drill_restore"))"
dw="$(best <"$tmp/r.drill_wall") ($(all_of "$tmp/r.drill_wall"))"
bh="$(best <"$tmp/r.by_hand") ($(all_of "$tmp/r.by_hand"))"
dp="$(best <"$tmp/r.drill_perdb") ($(all_of "$tmp/r.drill_perdb"))"
bs="$(best <"$tmp/r.by_hand_scratch") ($(all_of "$tmp/r.by_hand_scratch"))"
ls_="$(best <"$tmp/r.list_scan") ($(all_of "$tmp/r.list_scan"))"
lm="$(best <"$tmp/r.list_manifest") ($(all_of "$tmp/r.list_manifest"))"
rf="$(sort -n "$tmp/r.rss_full" | tail -n 1) ($(all_of "$tmp/r.rss_full"))"
rs="$(sort -n "$tmp/r.rss_small" | tail -n 1) ($(all_of "$tmp/r.rss_small"))"
ratio=$(echo "$(best <"$tmp/r.drill_restore") $(best <"$tmp/r.by_hand")" | awk '{printf "%.2f", $1 / $2}')
ratio_p=$(echo "$(best <"$tmp/r.drill_perdb") $(best <"$tmp/r.by_hand")" | awk '{printf "%.2f", $1 / $2}')
ratio_s=$(echo "$(best <"$tmp/r.drill_restore") $(best <"$tmp/r.by_hand_scratch")" | awk '{printf "%.2f", $1 / $2}')
{
    echo "| measure | best (every round) |"
    echo "|---|---:|"
    echo "| tenants x rows | $n x $rows |"
    echo "| cluster dump bytes | $dump_bytes |"
    echo "| the 5 tenants' own dumps, bytes | $own_bytes |"
    echo "| sampled (seed 42) | $picks |"
    echo "| drill_restore (fetch + restore phases), s | $dr |"
    echo "| by_hand (5 own dumps, mariadb client), s | $bh |"
    echo "| **ratio drill_restore / by_hand** | **$ratio** |"
    echo "| ratio drill_restore / by_hand, every round | $(per_round drill_restore by_hand) |"
    if [ -n "$base" ]; then
        echo "| drill_restore_base (the same with BENCH_BASE), s | $(best <"$tmp/r.drill_base") ($(all_of "$tmp/r.drill_base")) |"
        echo "| ratio drill_restore_base / by_hand, every round | $(per_round drill_base by_hand) |"
    fi
    echo "| by_hand_scratch (the same, into a server with the scratch instance's settings), s | $bs |"
    echo "| **ratio drill_restore / by_hand_scratch** | **$ratio_s** |"
    echo "| ratio drill_restore / by_hand_scratch, every round | $(per_round drill_restore by_hand_scratch) |"
    echo "| drill_perdb (fetch + restore, the same 5 own dumps as a per-database point), s | $dp |"
    echo "| ratio drill_perdb / by_hand | $ratio_p |"
    echo "| drill_wall (whole drill, provisioning included), s | $dw |"
    echo "| restoredrill's own CPU (user+sys, its threads) in the drill, s, every round | $(all_of "$tmp/r.cpu_drill") |"
    [ -n "$base" ] && echo "| the same with BENCH_BASE, s, every round | $(all_of "$tmp/r.cpu_base") |"
    echo "| stored bytes the drill read (restore result's stored_bytes_read) | $(cat "$tmp/r.read_bytes") |"
    echo "| list_scan (2,000-database dump, no manifest, run --dry-run), s | $ls_ |"
    echo "| list_manifest (2,000-database point, cluster manifest, run --dry-run), s | $lm |"
    echo "| peak RSS of restoredrill (VmHWM), drill of the full dump ($dump_bytes bytes), KiB | $rf |"
    echo "| peak RSS of restoredrill (VmHWM), drill of a small dump ($small_bytes bytes), KiB | $rs |"
    echo "| load average (1 min) at each round's start and at the end | $(all_of "$tmp/r.load") |"
    echo "| backup (label wall_s cpu_s, two rounds interleaved) | $(tr '\n' ';' <"$tmp/r.backup" | sed 's/;$//; s/;/; /g') |"
    echo "| gzip backup of 10 tenants, bytes with / without sections | $gz_sec / $gz_nosec |"
} >"$out"
cat "$out"
