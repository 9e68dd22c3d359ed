#!/bin/sh
# bench/pitr_mariadb.sh [WORKDIR]: the MariaDB point-in-time recovery
# benchmark. Once (kept in WORKDIR/archive, reused by later runs): a source
# mariadbd with binary logging, `sysbench oltp_read_write prepare` (8 tables
# x 1,000,000 rows, about 2 GB of InnoDB files), a full mariadb-backup,
# then `sysbench oltp_write_only run` until BENCH_BINLOG_MB of binary logs
# are written, archived. Then BENCH_ROUNDS rounds, each:
#   by hand: the same steps the drill takes, as a shell script: copy the
#            backup, mariadb-backup --prepare, --move-back, chown, start
#            mariadbd (same options), wait for it, TZ=UTC mariadb-binlog
#            --start-position ... | mariadb;
#   drill:   restoredrill run with "pitr latest": restore + recover phases
#            (the phases' own seconds from the JSON report).
# Prints one line per measure and the ratio drill / by hand of each round.
# Environment: RD_BIN (default build/restoredrill), BENCH_TABLES (8),
# BENCH_TABLE_SIZE (1000000), BENCH_BINLOG_MB (300), BENCH_ROUNDS (2).
# Everything runs as mysql (servers) and in WORKDIR (default
# /tmp/rd-bench-mariadb); servers listen on unix sockets only.
set -eu
bin=$(cd "$(dirname "${RD_BIN:-build/restoredrill}")" && pwd)/$(basename "${RD_BIN:-build/restoredrill}")
work=${1:-/tmp/rd-bench-mariadb}
tables=${BENCH_TABLES:-8}
size=${BENCH_TABLE_SIZE:-1000000}
binlog_mb=${BENCH_BINLOG_MB:-300}
rounds=${BENCH_ROUNDS:-2}
mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
for t in mariadb-backup mariadb-binlog mariadb sysbench jq; do
    command -v "$t" >/dev/null 2>&1 || { echo "pitr_mariadb: $t is not installed" >&2; exit 2; }
done
mkdir -p "$work"
chmod 0711 "$work"
arch="$work/archive"
src_pid=""
hand_pid=""
cleanup() {
    for p in $src_pid $hand_pid; do
        kill "$p" 2>/dev/null || true
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
as_mysql() { if [ "$(id -u)" -eq 0 ]; then setpriv --reuid=mysql --regid=mysql --init-groups -- "$@"; else "$@"; fi; }
now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{printf "%.2f", $1 - $2}'; }
wait_sock() { # wait_sock SOCKET PID [USER PASSWORD]
    i=0
    until MYSQL_PWD=${4:-} mariadb --no-defaults --socket="$1" -u"${3:-root}" -e 'SELECT 1' >/dev/null 2>&1; do
        i=$((i + 1))
        kill -0 "$2" 2>/dev/null || { echo "pitr_mariadb: server $2 died" >&2; return 1; }
        [ $i -lt 6000 ] || { echo "pitr_mariadb: server $2 did not answer" >&2; return 1; }
        sleep 0.05
    done
}

# --- the source, its backup and its binary logs (once)
if [ ! -f "$arch/.done" ]; then
    rm -rf "$arch" "$work/src"
    mkdir -p "$work/src/binlog" "$arch/base" "$arch/binlog"
    [ "$(id -u)" -eq 0 ] && chown -R mysql: "$work/src"
    chmod 0700 "$work/src"
    sock="$work/src/mysqld.sock"
    as_mysql mariadb-install-db --no-defaults --datadir="$work/src/data" \
        --auth-root-authentication-method=socket --skip-test-db >"$work/src/install.log" 2>&1
    if [ "$(id -u)" -eq 0 ]; then set -- setpriv --reuid=mysql --regid=mysql --init-groups --; else set --; fi
    "$@" "$mariadbd" --no-defaults --datadir="$work/src/data" --socket="$sock" --skip-networking \
        --innodb-buffer-pool-size=2G --innodb-log-file-size=512M --innodb-flush-log-at-trx-commit=2 \
        --log-bin="$work/src/binlog/mysql-bin" --server-id=1 --binlog-format=ROW \
        --max-binlog-size=100M --log-error="$work/src/error.log" &
    src_pid=$!
    wait_sock "$sock" "$src_pid"
    mariadb --no-defaults --socket="$sock" -uroot -e 'CREATE DATABASE sbtest'
    sb="--db-driver=mysql --mysql-socket=$sock --mysql-user=root --mysql-db=sbtest --tables=$tables --table-size=$size"
    t0=$(now)
    # shellcheck disable=SC2086
    sysbench oltp_read_write $sb --threads=2 prepare >"$work/prepare.log"
    echo "source: sysbench prepare ($tables x $size rows) in $(since "$t0")s"
    t0=$(now)
    mariadb-backup --no-defaults --backup --target-dir="$arch/base/full" --socket="$sock" --user=root \
        >"$work/backup.log" 2>&1
    echo "source: full backup in $(since "$t0")s, $(du -sm "$arch/base/full" | cut -f1) MB"
    t0=$(now)
    # binary logs written after the backup (the prepare's own are before its position)
    mariadb --no-defaults --socket="$sock" -uroot -e 'FLUSH BINARY LOGS'
    before=$(du -cm "$work/src/binlog"/mysql-bin.0* | tail -n 1 | cut -f1)
    written=0
    while [ "$written" -lt "$binlog_mb" ]; do
        # shellcheck disable=SC2086
        sysbench oltp_write_only $sb --threads=2 --time=30 --report-interval=0 run >>"$work/run.log"
        written=$(( $(du -cm "$work/src/binlog"/mysql-bin.0* | tail -n 1 | cut -f1) - before ))
    done
    mariadb --no-defaults --socket="$sock" -uroot -e 'FLUSH BINARY LOGS'
    echo "source: ${written} MB of binary logs in $(since "$t0")s"
    for f in $(sed -n '$!p' "$work/src/binlog/mysql-bin.index"); do cp "$f" "$arch/binlog/"; done
    kill "$src_pid"
    wait "$src_pid" 2>/dev/null || true
    src_pid=""
    rm -rf "$work/src"
    touch "$arch/.done"
fi
first=$(cut -f1 "$arch/base/full/xtrabackup_binlog_info")
replayed=$(ls "$arch/binlog"/mysql-bin.0* | awk -v f="$first" '{ n = $0; sub(".*/", "", n); if (n >= f) print }')
# shellcheck disable=SC2086
echo "archive: full backup $(du -sm "$arch/base/full" | cut -f1) MB; binary logs from the backup's position: $(du -cm $replayed | tail -n 1 | cut -f1) MB in $(echo $replayed | wc -w) files ($(ls "$arch/binlog" | wc -l) archived)"

# --- by hand: the drill's steps as a shell script
hand() {
    h="$work/hand"
    rm -rf "$h"
    mkdir -p "$h/tmp" "$h/data"
    chmod 0700 "$h"
    t0=$(now)
    cp -a --reflink=auto "$arch/base/full" "$h/prepare"
    mariadb-backup --no-defaults --prepare --target-dir="$h/prepare" --use-memory=1G >"$h/prepare.log" 2>&1
    mariadb-backup --no-defaults --move-back --target-dir="$h/prepare" --datadir="$h/data" >"$h/move.log" 2>&1
    rm -rf "$h/prepare"
    if [ "$(id -u)" -eq 0 ]; then chown -R mysql: "$h"; fi
    t_laid=$(now)
    printf "CREATE OR REPLACE USER 'rd_hand'@'localhost' IDENTIFIED BY 'hand-pw';\nGRANT ALL PRIVILEGES ON *.* TO 'rd_hand'@'localhost' WITH GRANT OPTION;\n" >"$h/init.sql"
    [ "$(id -u)" -eq 0 ] && chown mysql: "$h/init.sql"
    ps=$(sed -n 's/^\(innodb_page_size=.*\|innodb_data_file_path=.*\|innodb_undo_tablespaces=.*\)$/--\1/p' "$arch/base/full/backup-my.cnf")
    if [ "$(id -u)" -eq 0 ]; then set -- setpriv --reuid=mysql --regid=mysql --init-groups --; else set --; fi
    # shellcheck disable=SC2086
    "$@" "$mariadbd" --no-defaults --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=0 $ps \
        --datadir="$h/data" --socket="$h/mysqld.sock" --pid-file="$h/mariadbd.pid" \
        --log-error="$h/server.log" --tmpdir="$h/tmp" --init-file="$h/init.sql" --skip-log-bin \
        --skip-slave-start --event-scheduler=DISABLED --skip-name-resolve --skip-networking --port=0 &
    hand_pid=$!
    wait_sock "$h/mysqld.sock" "$hand_pid" rd_hand hand-pw
    pos=$(cut -f2 "$arch/base/full/xtrabackup_binlog_info")
    first=$(cut -f1 "$arch/base/full/xtrabackup_binlog_info")
    files=$(ls "$arch/binlog"/mysql-bin.0* | awk -v f="$first" '{ n = $0; sub(".*/", "", n); if (n >= f) print }')
    # shellcheck disable=SC2086
    TZ=UTC mariadb-binlog --no-defaults --verify-binlog-checksum --start-position="$pos" $files |
        MYSQL_PWD=hand-pw mariadb --no-defaults --socket="$h/mysqld.sock" -urd_hand --binary-mode --batch
    t_end=$(now)
    echo "$t_laid $t0" | awk '{printf "%.2f", $1 - $2}' >"$h/laid"
    echo "$t_end $t_laid" | awk '{printf "%.2f", $1 - $2}' >"$h/recovered"
    echo "$t_end $t0" | awk '{printf "%.2f", $1 - $2}' >"$h/total"
    kill "$hand_pid"
    wait "$hand_pid" 2>/dev/null || true
    hand_pid=""
    echo "by hand: lay $(cat "$h/laid")s, start + replay $(cat "$h/recovered")s, total $(cat "$h/total")s"
    hand_total=$(cat "$h/total")
    rm -rf "$h"
}

drill() {
    d="$work/drill"
    rm -rf "$d"
    mkdir -p "$d/run"
    cat >"$d/drill.json" <<JSON
{ "version": 1, "name": "bench-pitr-mariadb",
  "output": {"dir": "$d/out", "json": "drill.json"},
  "targets": [{"name": "sbtest", "engine": "mariadb", "database": "sbtest",
    "catalog": {"type": "mariabackup", "base_dir": "$arch/base", "binlog_dir": "$arch/binlog"},
    "sample": {"strategy": "pitr", "time": "latest"},
    "timeouts": {"restore": "2h", "verify": "1h"},
    "recovery": {"timeout": "2h"},
    "checks": [{"type": "sql", "name": "rows", "query": "SELECT COUNT(*) FROM sbtest1", "expect": ">= 1"}]}]}
JSON
    RESTOREDRILL_RUNDIR="$d/run" "$bin" --quiet --no-progress run "$d/drill.json" >"$d/run.log" 2>&1 ||
        { tail -n 20 "$d/run.log"; echo "pitr_mariadb: the drill failed" >&2; exit 1; }
    r=$(jq -r '.targets[0].phases[] | select(.name == "restore") | .seconds' "$d/out/drill.json")
    c=$(jq -r '.targets[0].phases[] | select(.name == "recover") | .seconds' "$d/out/drill.json")
    drill_total=$(echo "$r $c" | awk '{printf "%.2f", $1 + $2}')
    echo "drill:   restore $(printf %.2f "$r")s, recover $(printf %.2f "$c")s, total $drill_total s ($(jq -r '.targets[0].checks[] | select(.type == "recovery") | .message' "$d/out/drill.json"))"
    rm -rf "$d"
}

round=1
while [ $round -le "$rounds" ]; do
    echo "round $round"
    hand
    drill
    echo "round $round: drill / by hand = $(echo "$drill_total $hand_total" | awk '{printf "%.3f", $1 / $2}')"
    round=$((round + 1))
done
