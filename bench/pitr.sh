#!/bin/sh
# bench/pitr.sh RESTOREDRILL [SCALE] [WAL_MB]: the drill's physical restore
# against the same restore done by hand, in one run.
#
# A source PostgreSQL (pgbench -i -s SCALE, default 100: about 1.5 GB) with
# archive_mode on and archive_command copying into a WAL directory; one tar
# base backup (pg_basebackup -Ft -X stream); then pgbench runs until about
# WAL_MB (default 1024) of WAL is archived. Both restores recover to the end
# of the archive (pitr "latest"), with the same server settings (fsync,
# full_page_writes and synchronous_commit off, hot_standby off, the same
# restore_command), and end when the instance is promoted:
#   hand:  tar -xf base.tar + pg_wal.tar, recovery.signal, postgres started
#          with -c settings, until pg_is_in_recovery() is false;
#   drill: restoredrill run (catalog pg-archive, no checks), its restore +
#          recover phases from the JSON report; its peak RSS.
# restoredrill's peak RSS is its own VmHWM (the server it starts is not
# counted). Rounds alternate (hand, drill, hand, drill, ...; BENCH_ROUNDS, default 2).
# Prints a Markdown table; BENCH_OUT=FILE writes it there too. Needs root
# (servers run as postgres), pgbench, jq, bc. Work dir: BENCH_DIR
# (default /tmp/rd-bench-pitr), removed at the end unless BENCH_KEEP=1;
# BENCH_REUSE=1 keeps it and reuses its source, base backup and archive.
set -eu
bin=${1:?usage: bench/pitr.sh RESTOREDRILL [SCALE] [WAL_MB]}
scale=${2:-100}
wal_mb=${3:-1024}
rounds=${BENCH_ROUNDS:-2}
pgbin=${PG_BIN_DIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
work=${BENCH_DIR:-/tmp/rd-bench-pitr}
[ "$(id -u)" -eq 0 ] || { echo "bench/pitr.sh: run as root (servers run as postgres)" >&2; exit 2; }

as_pg() { setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; }
now() { date +%s.%N; }
started=""
cleanup() {
    [ -z "$started" ] || as_pg "$pgbin/pg_ctl" -D "$work/src" -m immediate -w stop >/dev/null 2>&1 || true
    if [ -f "$work/hand/data/postmaster.pid" ]; then
        as_pg "$pgbin/pg_ctl" -D "$work/hand/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    [ "${BENCH_KEEP:-}" = 1 ] || [ "${BENCH_REUSE:-}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${BENCH_REUSE:-}" = 1 ] && [ -f "$work/ready" ]; then
    echo "== reusing the source, base backup and archive in $work" >&2
    reuse=1
else
    reuse=""
    rm -rf "$work"
fi
mkdir -p "$work/wal" "$work/base" "$work/run"
chown -R postgres: "$work"
chmod 0711 "$work"
sock="$work"
export PGHOST="$sock" PGPORT=5432 PGUSER=postgres

if [ -z "$reuse" ]; then
echo "== source: pgbench -i -s $scale" >&2
as_pg "$pgbin/initdb" -D "$work/src" -U postgres --auth=trust --no-sync >/dev/null
cat >>"$work/src/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$sock'
wal_level = replica
archive_mode = on
archive_command = 'cp %p $work/wal/%f.tmp && mv $work/wal/%f.tmp $work/wal/%f'
fsync = off
synchronous_commit = off
max_wal_size = 4GB
checkpoint_timeout = 30min
shared_buffers = 256MB
log_timezone = 'UTC'
CONF
as_pg "$pgbin/pg_ctl" -D "$work/src" -l "$work/src.log" -w start >/dev/null
started=1
as_pg "$pgbin/createdb" -h "$sock" bench
as_pg "$pgbin/pgbench" -h "$sock" -i -s "$scale" -q bench >/dev/null 2>&1
db_bytes=$(psql -X -A -t -d bench -c "SELECT pg_database_size('bench')")
echo "== base backup" >&2
as_pg "$pgbin/pg_basebackup" -h "$sock" -D "$work/base/full" -Ft -X stream -l bench --checkpoint=fast --no-sync
echo "== pgbench until ${wal_mb} MB of WAL are archived" >&2
start_lsn=$(psql -X -A -t -d bench -c "SELECT pg_current_wal_lsn()")
while :; do
    as_pg "$pgbin/pgbench" -h "$sock" -c 2 -j 2 -T 20 -n bench >/dev/null 2>&1
    done_mb=$(psql -X -A -t -d bench -c "SELECT (pg_wal_lsn_diff(pg_current_wal_lsn(), '$start_lsn') / 1048576)::bigint")
    [ "$done_mb" -lt "$wal_mb" ] || break
done
psql -X -q -d bench -c "SELECT pg_switch_wal()" >/dev/null
want=$(psql -X -A -t -d bench -c "SELECT pg_walfile_name(pg_current_wal_lsn() - 1)")
until [ "$(psql -X -A -t -d bench -c "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")" \> "$want" ] ||
      [ "$(psql -X -A -t -d bench -c "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")" = "$want" ]; do
    sleep 0.2
done
as_pg "$pgbin/pg_ctl" -D "$work/src" -m fast -w stop >/dev/null
started=""
echo "$db_bytes" >"$work/ready"
fi
db_bytes=$(cat "$work/ready")
segs=$(ls "$work/wal" | grep -cE '^[0-9A-F]{24}$')
base_bytes=$(du -sb "$work/base/full" | cut -f1)
echo "== $segs segments archived, base backup $base_bytes bytes" >&2

# the same settings as the drill's scratch server (ephemeral_pg_phys.c, pg_physical.c)
restore_cmd="f='$work/wal/%f'; if [ -f \"\$f\" ]; then cp \"\$f\" \"%p\"; else exit 1; fi"
hand() {
    rm -rf "$work/hand"
    mkdir -p "$work/hand/data"
    chown -R postgres: "$work/hand"
    chmod 0700 "$work/hand/data"
    t0=$(now)
    as_pg tar -xf "$work/base/full/base.tar" -C "$work/hand/data"
    as_pg tar -xf "$work/base/full/pg_wal.tar" -C "$work/hand/data/pg_wal"
    t1=$(now)
    as_pg touch "$work/hand/data/recovery.signal"
    as_pg "$pgbin/postgres" -D "$work/hand/data" -c "restore_command=$restore_cmd" \
        -c recovery_target_timeline=latest -c recovery_target_action=promote -c hot_standby=off \
        -c listen_addresses= -c port=5432 -c "unix_socket_directories=$work/hand" \
        -c archive_mode=off -c fsync=off -c full_page_writes=off -c synchronous_commit=off \
        -c log_timezone=UTC >"$work/hand/server.log" 2>&1 &
    until grep -q "database system is ready to accept connections" "$work/hand/server.log" 2>/dev/null &&
          [ "$(psql -X -A -t -h "$work/hand" -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do
        sleep 0.05
    done
    t2=$(now)
    as_pg "$pgbin/pg_ctl" -D "$work/hand/data" -m fast -w stop >/dev/null
    wait 2>/dev/null || true
    echo "$(echo "$t1 - $t0" | bc) $(echo "$t2 - $t1" | bc)"
}
# the same work as by hand: no pg_verifybackup (restore.verify_manifest
# false); one more run with it measures what the verification adds
for v in false true; do
    cat >"$work/drill-$v.json" <<JSON
{ "version": 1, "output": {"dir": "$work/out"},
  "targets": [ { "name": "bench", "engine": "postgres",
    "catalog": {"type": "pg-archive", "base_dir": "$work/base", "wal_dir": "$work/wal"},
    "sample": {"strategy": "pitr", "time": "latest"}, "restore": {"verify_manifest": $v},
    "checks": [] } ] }
JSON
done
drill() { # drill false|true
    # restoredrill's own peak RSS (VmHWM), polled until it exits: GNU time's
    # figure would include the postgres server it reaps
    RESTOREDRILL_RUNDIR="$work/run" "$bin" --quiet --no-progress run "$work/drill-$1.json" \
        >/dev/null 2>"$work/drill.err" &
    pid=$!
    hwm=0
    while kill -0 $pid 2>/dev/null; do
        h=$(awk '/^VmHWM:/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
        [ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
        sleep 0.05
    done
    wait $pid || { cat "$work/drill.err" >&2; exit 1; }
    echo "$hwm" >"$work/rss"
    r=$(jq -r '.targets[0].phases[] | select(.name == "restore") | .seconds' "$work/out/drill.json")
    c=$(jq -r '.targets[0].phases[] | select(.name == "recover") | .seconds' "$work/out/drill.json")
    v=$(jq -r '[.targets[0].checks[] | select(.type == "basebackup") | .seconds // 0] | add // 0' "$work/out/drill.json")
    echo "$r $c $(cat "$work/rss") $v"
}
results=""
i=1
while [ $i -le "$rounds" ]; do
    echo "== round $i: hand" >&2
    h=$(hand)
    echo "== round $i: drill" >&2
    d=$(drill false)
    results="$results
$i $h $d"
    i=$((i + 1))
done

echo "== drill with pg_verifybackup" >&2
dv=$(drill true)
table=$(echo "$results" | awk -v segs="$segs" -v base="$base_bytes" -v db="$db_bytes" '
NF == 7 {
    hand = $2 + $3; drl = $4 + $5
    printf "| %d | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.3f | %d |\n", $1, $2, $3, hand, $4, $5, drl, drl / hand, $6
    if (!bh || hand < bh) bh = hand
    if (!bd || drl < bd) bd = drl
}
END {
    printf "\nBest of each: hand %.2f s, drill %.2f s, ratio %.3f. Database %d bytes, base backup %d bytes, %d WAL segments replayed.\n", bh, bd, bd / bh, db, base, segs
}')
table="$table
$(echo "$dv" | awk '{printf "\nWith pg_verifybackup (the default, restore.verify_manifest true): restore %.2f s of which verification %.2f s, recover %.2f s, peak RSS %d KiB.\n", $1, $4, $2, $3}')"
out="| round | hand extract s | hand recover s | hand total s | drill restore s | drill recover s | drill total s | ratio | drill peak RSS KiB |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
$table"
echo "$out"
[ -z "${BENCH_OUT:-}" ] || echo "$out" >"$BENCH_OUT"
