#!/bin/sh
# bench/drill.sh BIN [PGBENCH_SCALE] [SYSBENCH_ROWS]: the whole drill against
# the same work done by hand, in one run (issue 18, item 5).
#
# Builds two sources on private servers (servers.sh): pgbench -i -s SCALE
# (default 20) on PostgreSQL and sysbench oltp 4 tables x SYSBENCH_ROWS
# (default 250,000) on MariaDB; dumps them (pg_dump -Fc, mariadb-dump
# --single-transaction) with a manifest (restoredrill backup); then, REPS
# rounds (BENCH_REPS, default 3), interleaved:
#   - the drill: `restoredrill run` with the default checks; its own phase
#     timings (provision, restore, verify) and RTO from the JSON report;
#     MariaDB twice: target "my" as configured by default (the dump split
#     by table over one client per core) and "my1" with restore.jobs 1 (one
#     client, the plain stream: the overhead of the pipeline alone);
#   - by hand, "drill settings": initdb / mariadb-install-db and start a
#     server with the settings the drill's ephemeral instance uses, then
#     pg_restore --jobs=2 / mariadb < dump;
#   - by hand, "defaults": the same with a default-configured server.
# Prints the medians as a markdown table, then every round's restore ratios
# with the load average (1 min) and CPU seconds (user+sys: of the whole
# drill run, servers included; of the by-hand client) (stdout and
# $BENCH_OUT, default bench/last-drill.md). Needs pgbench (PostgreSQL),
# sysbench, jq.
# BENCH_VERIFY_PARALLEL="1 default" runs the drill once per value and round
# (the targets' verify_parallel; "default" leaves it out), rows drill-pg-vp1,
# drill-pg-vpdefault..., and adds every round's verify / restore ratio with
# the load average and the drill process's CPU seconds (/usr/bin/time: the
# servers' CPU is not counted); BENCH_HAND=0 leaves the restores by hand out.
# BENCH_BASE=/path/to/other/restoredrill runs that binary's drill too in every
# round, right after this one's (rows drill-*-base: main's binary against this
# branch's under the same load); BENCH_DEFER=0 leaves out the target "myd"
# (restore.defer_indexes true, the dump split as "my").
set -u
BIN=${1:?usage: bench/drill.sh BIN [PGBENCH_SCALE] [SYSBENCH_ROWS]}
SCALE=${2:-20}
SBROWS=${3:-250000}
REPS=${BENCH_REPS:-3}
VPS=${BENCH_VERIFY_PARALLEL:-}
HAND=${BENCH_HAND:-1}
here=$(cd "$(dirname "$0")" && pwd)
OUT=${BENCH_OUT:-$here/last-drill.md}
. "$here/servers.sh"
for t in jq sysbench; do
    command -v $t >/dev/null 2>&1 || { echo "bench: needs $t (apt-get install $t)" >&2; exit 2; }
done
[ -x "$PGBIN/pgbench" ] || { echo "bench: needs $PGBIN/pgbench" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rd-drillbench.XXXXXX")
chmod 0755 "$tmp"
hand=$tmp/hand
cleanup() {
    bench_stop "$tmp"
    hand_stop_pg
    hand_stop_my
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{printf "%.3f", $1 - $2}'; }

echo "bench: building the sources (pgbench -s $SCALE, sysbench 4 x $SBROWS)" >&2
bench_start_pg "$tmp" || { cat "$tmp"/pg-*.log; exit 1; }
bench_start_my "$tmp" || { tail "$tmp/my/err"; exit 1; }
psql -X -q -h "$tmp/pg" -U postgres -c "CREATE DATABASE pgb" || exit 1
"$PGBIN/pgbench" -q -i -s "$SCALE" -h "$tmp/pg" -U postgres pgb >/dev/null 2>&1 || exit 1
sysbench oltp_read_write --db-driver=mysql --mysql-socket="$tmp/my/sock" --mysql-user=root \
    --mysql-db=bench --tables=4 --table-size="$SBROWS" prepare >/dev/null || exit 1
mkdir -p "$tmp/backups/pg" "$tmp/backups/my"
chmod -R 0755 "$tmp/backups"
"$BIN" --quiet backup --engine postgres --dsn "host=$tmp/pg user=postgres dbname=pgb" \
    -o "$tmp/backups/pg/pgb-20260101-000000.dump" || exit 1
"$BIN" --quiet backup --engine mariadb --dsn "mariadb://root@localhost/bench?socket=$tmp/my/sock" \
    -o "$tmp/backups/my/sb-20260101-000000.sql" || exit 1
bench_stop "$tmp"
ls -l "$tmp/backups/pg" "$tmp/backups/my" >&2

# drill_config VP: the drill's configuration, verify_parallel VP ("" or
# "default": none), with $myd's target (restore.defer_indexes) when set
drill_config() {
    vpkey=""
    case "$1" in "" | default) ;; *) vpkey="\"verify_parallel\": $1," ;; esac
    cat >"$tmp/drill.json" <<EOF
{ "version": 1, "name": "drill-bench",
  "output": { "dir": "$tmp/out", "json": "drill.json", "junit": null, "html": null,
              "prometheus": null, "history": null },
  "targets": [
    { "name": "pg", "engine": "postgres", "restore": { "jobs": 2 }, $vpkey
      "catalog": { "type": "dir", "path": "$tmp/backups/pg", "pattern": "*.dump" } },
    { "name": "my", "engine": "mariadb", $vpkey
      "catalog": { "type": "dir", "path": "$tmp/backups/my", "pattern": "*.sql" } },
    { "name": "my1", "engine": "mariadb", "restore": { "jobs": 1 }, $vpkey
      "catalog": { "type": "dir", "path": "$tmp/backups/my", "pattern": "*.sql" } }$myd ] }
EOF
}
myd=',
    { "name": "myd", "engine": "mariadb", "restore": { "defer_indexes": true },
      "catalog": { "type": "dir", "path": "'$tmp'/backups/my", "pattern": "*.sql" } }'
[ "${BENCH_DEFER:-1}" = 1 ] || myd=""

# --- by hand ---
PGCONF_DRILL="-c listen_addresses='' -c unix_socket_directories='$hand/pg' -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c maintenance_work_mem=256MB -c max_wal_size=4GB -c checkpoint_timeout=30min -c wal_level=minimal -c max_wal_senders=0"
PGCONF_DEFAULT="-c listen_addresses='' -c unix_socket_directories='$hand/pg'"
hand_stop_pg() {
    [ -f "$hand/pg/data/postmaster.pid" ] &&
        as_user postgres "$PGBIN/pg_ctl" -D "$hand/pg/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$hand/pg"
}
hand_stop_my() {
    if [ -S "$hand/my/sock" ]; then
        mariadb-admin --no-defaults -S "$hand/my/sock" -u root shutdown >/dev/null 2>&1
        i=0
        while [ -S "$hand/my/sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    rm -rf "$hand/my"
}
# hand_pg OPTS: prints "provision restore"
hand_pg() {
    mkdir -p "$hand/pg"
    [ "$(id -u)" = 0 ] && chown postgres "$hand" "$hand/pg"
    t0=$(now)
    as_user postgres "$PGBIN/initdb" -D "$hand/pg/data" -U postgres -A trust --no-sync \
        --data-checksums -E UTF8 --locale=C.UTF-8 >/dev/null 2>&1 || return 1
    as_user postgres "$PGBIN/pg_ctl" -D "$hand/pg/data" -l "$hand/pg/log" -w -o "$1" start >/dev/null 2>&1 || return 1
    psql -X -q -h "$hand/pg" -U postgres -c "CREATE DATABASE pgb" || return 1
    p=$(since "$t0")
    t0=$(now)
    /usr/bin/time -f '%U %S' -o "$tmp/cpu" pg_restore -h "$hand/pg" -U postgres -d pgb --jobs=2 \
        --no-owner --no-acl "$tmp/backups/pg/pgb-20260101-000000.dump" || return 1
    echo "$p $(since "$t0") $(tail -n 1 "$tmp/cpu" | awk '{print $1 + $2}')"
    hand_stop_pg
}
# hand_my FLAGS: prints "provision restore"
hand_my() {
    mkdir -p "$hand/my"
    [ "$(id -u)" = 0 ] && chown mysql "$hand" "$hand/my"
    t0=$(now)
    as_user mysql mariadb-install-db --no-defaults --datadir="$hand/my/data" \
        --auth-root-authentication-method=normal --skip-test-db >/dev/null 2>&1 || return 1
    # shellcheck disable=SC2086
    as_user mysql /usr/sbin/mariadbd --no-defaults --datadir="$hand/my/data" --socket="$hand/my/sock" \
        --skip-networking --pid-file="$hand/my/pid" --log-error="$hand/my/err" $1 >/dev/null 2>&1 &
    i=0
    until mariadb --no-defaults -S "$hand/my/sock" -u root -e 'SELECT 1' >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 600 ] && return 1; sleep 0.02
    done
    mariadb --no-defaults -S "$hand/my/sock" -u root -e 'CREATE DATABASE sb' || return 1
    p=$(since "$t0")
    t0=$(now)
    /usr/bin/time -f '%U %S' -o "$tmp/cpu" mariadb --no-defaults --batch --silent -S "$hand/my/sock" \
        -u root sb <"$tmp/backups/my/sb-20260101-000000.sql" || return 1
    echo "$p $(since "$t0") $(tail -n 1 "$tmp/cpu" | awk '{print $1 + $2}')"
    hand_stop_my
}
# the drill's scratch flags (harness/scratch/ephemeral_mariadb.c): the buffer
# pool an eighth of the memory available, within 64 MiB .. 1 GiB
pool=$(awk '/^MemAvailable:/ {m = int($2 / 1024 / 8); if (m < 64) m = 64; if (m > 1024) m = 1024; print m}' /proc/meminfo)
logmb=$((pool < 96 ? 96 : pool))
MYFLAGS_DRILL="--innodb-buffer-pool-size=${pool}M --innodb-log-file-size=${logmb}M --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --skip-log-bin --skip-name-resolve"
MYFLAGS_DEFAULT=""

rows=$tmp/rows
: >"$rows"
r=1
while [ $r -le "$REPS" ]; do
    echo "bench: round $r of $REPS" >&2
    for vp in ${VPS:-none}; do
        [ "$vp" = none ] && vp=""
      for which in new ${BENCH_BASE:+base}; do
        if [ $which = new ]; then b=$BIN; keep=$myd; else b=$BENCH_BASE; keep=""; fi
        myd_save=$myd; myd=$keep
        drill_config "$vp"
        myd=$myd_save
        load=$(cut -d' ' -f1 /proc/loadavg)
        rm -f "$tmp/out/drill.json"
        /usr/bin/time -f '%U %S' -o "$tmp/cpu" "$b" --quiet run "$tmp/drill.json" --no-progress >/dev/null 2>&1
        [ -s "$tmp/out/drill.json" ] || { echo "bench: the drill wrote no report" >&2; exit 1; }
        cpu=$(tail -n 1 "$tmp/cpu" | awk '{printf "%.2f", $1 + $2}')
        suffix=${vp:+-vp$vp}
        [ $which = base ] && suffix="$suffix-base"
        jq -r --arg s "$suffix" --arg r "$r" --arg l "$load" --arg c "$cpu" '.targets[] | [ "drill-" + .name + $s,
              ((.phases[] | select(.name=="provision") | .seconds) // "-"),
              ((.phases[] | select(.name=="restore") | .seconds) // "-"),
              ((.phases[] | select(.name=="verify") | .seconds) // "-"),
              (.rto.seconds // "-"), .status, $r, $l, $c] | @tsv' "$tmp/out/drill.json" >>"$rows"
        jq -r --arg s "$suffix" --arg r "$r" --arg l "$(cut -d' ' -f1 /proc/loadavg)" --arg c "$cpu" '.targets[] |
              [$r, "drill-" + .name + $s,
               ((.phases[] | select(.name=="restore") | .seconds) // 0),
               ((.phases[] | select(.name=="verify") | .seconds) // 0), $l, $c] | @tsv' \
            "$tmp/out/drill.json" >>"$tmp/rounds"
      done
    done
    [ "$HAND" = 0 ] && { r=$((r + 1)); continue; }
    for mode in drill default; do
        if [ $mode = drill ]; then o=$PGCONF_DRILL; f=$MYFLAGS_DRILL; else o=$PGCONF_DEFAULT; f=$MYFLAGS_DEFAULT; fi
        load=$(cut -d' ' -f1 /proc/loadavg)
        set -- $(hand_pg "$o") && printf 'hand-pg-%s\t%s\t%s\t-\t-\tpassed\t%s\t%s\t%s\n' $mode "$1" "$2" "$r" "$load" "$3" >>"$rows"
        load=$(cut -d' ' -f1 /proc/loadavg)
        set -- $(hand_my "$f") && printf 'hand-my-%s\t%s\t%s\t-\t-\tpassed\t%s\t%s\t%s\n' $mode "$1" "$2" "$r" "$load" "$3" >>"$rows"
    done
    r=$((r + 1))
done

median() { grep -v '^-$' | sort -n | awk '{a[NR]=$1} END {if (!NR) {print "-"; exit} m=int((NR+1)/2); printf "%.3f", (NR%2 ? a[m] : (a[m]+a[m+1])/2)}'; }
col() { awk -F'\t' -v k="$1" -v c="$2" '$1==k {print $c}' "$rows" | median; }
{
    echo "## bench/drill.sh: pgbench -s $SCALE, sysbench 4 x $SBROWS, median of $REPS rounds ($(date -u +%Y-%m-%dT%H:%MZ))"
    echo
    echo "| run | provision s | restore s | verify s | RTO s |"
    echo "|---|---:|---:|---:|---:|"
    for k in $(cut -f1 "$rows" | awk '!seen[$0]++'); do
        echo "| $k | $(col $k 2) | $(col $k 3) | $(col $k 4) | $(col $k 5) |"
    done
    echo
    # with BENCH_VERIFY_PARALLEL, the drills of its last value are compared
    rs=""
    for vp in $VPS; do rs=-vp$vp; done
    echo "Every round: restore seconds (load average at its start, CPU seconds), and ratios to by-hand with the drill's settings${rs:+ (drills: the runs drill-*$rs)}"
    echo
    echo "| round | drill-pg | hand-pg-drill | pg ratio | drill-my (split) | drill-my1 (one client) | hand-my-drill | hand-my-default | my split / hand | my1 / hand | my split / hand default | my split / my1 |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -F'\t' -v s="$rs" '{ sub("^drill-(pg|my|my1)" s "$", "&@", $1); sub(s "@$", "", $1); t[$7 "," $1] = $3; l[$7 "," $1] = $8; c[$7 "," $1] = $9; if ($7 > n) n = $7 }
        function cell(r, k) { return (r "," k) in t ? sprintf("%.2f (%s, %s)", t[r "," k], l[r "," k], c[r "," k]) : "-" }
        function ratio(r, a, b) { return ((r "," a) in t && (r "," b) in t && t[r "," b] > 0) ? sprintf("%.2f", t[r "," a] / t[r "," b]) : "-" }
        END { for (r = 1; r <= n; r++)
            printf "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r, cell(r, "drill-pg"), cell(r, "hand-pg-drill"),
                ratio(r, "drill-pg", "hand-pg-drill"), cell(r, "drill-my"), cell(r, "drill-my1"), cell(r, "hand-my-drill"),
                cell(r, "hand-my-default"), ratio(r, "drill-my", "hand-my-drill"), ratio(r, "drill-my1", "hand-my-drill"),
                ratio(r, "drill-my", "hand-my-default"), ratio(r, "drill-my", "drill-my1") }' "$rows"
    echo
    if [ -n "${BENCH_BASE:-}" ]; then
        echo "Every round against main's binary (BENCH_BASE) in the same round: restore seconds (load, drill CPU s)"
        echo
        echo "| round | drill-my | drill-my-base | my / base | drill-my1 | drill-my1-base | my1 / base | drill-myd (defer_indexes) | myd / my | drill-pg | drill-pg-base |"
        echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        awk -F'\t' '{ t[$7 "," $1] = $3; l[$7 "," $1] = $8; c[$7 "," $1] = $9; if ($7 > n) n = $7 }
            function cell(r, k) { return (r "," k) in t ? sprintf("%.2f (%s, %s)", t[r "," k], l[r "," k], c[r "," k]) : "-" }
            function ratio(r, a, b) { return ((r "," a) in t && (r "," b) in t && t[r "," b] > 0) ? sprintf("%.2f", t[r "," a] / t[r "," b]) : "-" }
            END { for (r = 1; r <= n; r++)
                printf "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r, cell(r, "drill-my"), cell(r, "drill-my-base"),
                    ratio(r, "drill-my", "drill-my-base"), cell(r, "drill-my1"), cell(r, "drill-my1-base"), ratio(r, "drill-my1", "drill-my1-base"),
                    cell(r, "drill-myd"), ratio(r, "drill-myd", "drill-my"), cell(r, "drill-pg"), cell(r, "drill-pg-base") }' "$rows"
        echo
    fi
    if [ -n "$VPS" ]; then
        echo "Every round (load: 1-minute load average after the drill; CPU: the whole drill"
        echo "process's user + system seconds, all targets, servers not counted):"
        echo
        echo "| round | run | restore s | verify s | verify / restore | load | drill CPU s |"
        echo "|---:|---|---:|---:|---:|---:|---:|"
        awk -F'\t' '{ printf "| %s | %s | %.3f | %.3f | %.2f | %s | %s |\n", $1, $2, $3, $4, ($3 > 0 ? $4 / $3 : 0), $5, $6 }' "$tmp/rounds"
        echo
    fi
    echo "drill statuses: $(awk -F'\t' '$1 ~ /^drill-/ {print $1 "=" $6}' "$rows" | sort | uniq -c | tr '\n' ' ')"
} | tee "$OUT"
