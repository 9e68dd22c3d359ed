#!/bin/sh
# bench/run.sh BIN [ROWS]: the checksum / diff benchmark (see bench/README.md).
# Starts private PostgreSQL and MariaDB servers in a temp dir, builds a
# ROWS-row (default 5,000,000), 6-column table on each engine plus a copy
# with 10 scattered changes (8 updates, 1 delete, 1 insert), and times, in
# the same run: restoredrill checksum and diff, and the baselines
# (PostgreSQL COPY to /dev/null, sum(hash_record_extended), md5 per row;
# MariaDB CHECKSUM TABLE, BIT_XOR(CRC32(CONCAT_WS(...))), md5 per row,
# pt-table-sync --print). Every command runs under /usr/bin/time -v for its
# wall time and peak memory. Results: a markdown table on stdout and in
# $BENCH_OUT (default bench/last-run.md).
set -u
BIN=${1:?usage: bench/run.sh BIN [ROWS]}
ROWS=${2:-5000000}
REPS=${BENCH_REPS:-3}
here=$(cd "$(dirname "$0")" && pwd)
OUT=${BENCH_OUT:-$here/last-run.md}
. "$here/servers.sh"

[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)"; exit 2; }
[ -x "$BIN" ] || { echo "bench: $BIN is not executable"; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rd-bench.XXXXXX")
chmod 0755 "$tmp"
cleanup() { bench_stop "$tmp"; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

bench_start_pg "$tmp" || { cat "$tmp"/pg-*.log; exit 1; }
bench_start_my "$tmp" || { tail "$tmp/my/err"; exit 1; }
PGS=$tmp/pg
MYS=$tmp/my/sock
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGS" -U postgres "$@"; }
my_() { mariadb --no-defaults -S "$MYS" -u root "$@"; }

echo "bench: loading $ROWS rows per engine" >&2
t0=$(date +%s)
psql_ -c "CREATE DATABASE a" || exit 1
psql_ -d a -f "$here/load_pg.sql" -v rows="$ROWS" || exit 1
psql_ -c "CREATE DATABASE b TEMPLATE a" || exit 1
psql_ -d b -f "$here/changes_pg.sql" -v rows="$ROWS" || exit 1
psql_ -d a -c "VACUUM ANALYZE t" && psql_ -d b -c "VACUUM ANALYZE t" || exit 1
my_ -e "CREATE DATABASE a; CREATE DATABASE b" || exit 1
sed "s/:rows/$ROWS/g" "$here/load_mariadb.sql" | my_ a || exit 1
my_ -e "CREATE TABLE b.t LIKE a.t; INSERT INTO b.t SELECT * FROM a.t" || exit 1
sed "s/:rows/$ROWS/g" "$here/changes_mariadb.sql" | my_ b || exit 1
my_ -e "ANALYZE TABLE a.t; ANALYZE TABLE b.t" >/dev/null || exit 1
echo "bench: loaded in $(( $(date +%s) - t0 ))s" >&2

PGA="host=$PGS port=5432 user=postgres dbname=a"
PGB="host=$PGS port=5432 user=postgres dbname=b"
MYA="mariadb://root@localhost/a?socket=$MYS"
MYB="mariadb://root@localhost/b?socket=$MYS"
COLS="id, name, amount, created_at, note, flag"

results=$tmp/results.txt
: >"$results"
NAMES=""
# run1 NAME CMD...: one timed run; appends "wall rss rc" to $tmp/m.NAME and
# keeps its stdout in $tmp/out.NAME.
run1() {
    name=$1; shift
    case " $NAMES " in *" $name "*) ;; *) NAMES="$NAMES $name" ;; esac
    /usr/bin/time -v -o "$tmp/time.txt" "$@" >"$tmp/out.$name" 2>"$tmp/err.txt"
    rc=$?
    w=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.txt" |
        awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
    r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")
    printf '%s %s %s\n' "$w" "$r" "$rc" >>"$tmp/m.$name"
    echo "bench: round $round: $name ${w}s ${r}KiB rc=$rc" >&2
}

# One round of every measure. The rounds are interleaved (every measure
# once, then again) rather than each measure repeated in a row, so that a
# burst of load on a shared machine does not fall on one measure only.
one_round() {
    # --- PostgreSQL ---
    run1 pg_copy sh -c "psql -X -h '$PGS' -U postgres -d a -c 'COPY t TO STDOUT' >/dev/null"
    run1 pg_hash_record psql -X -A -t -h "$PGS" -U postgres -d a -c "SELECT sum(hash_record_extended(t, 0)) FROM t"
    run1 pg_md5_rows psql -X -A -t -h "$PGS" -U postgres -d a -c \
        "SELECT sum(('x' || substr(md5(concat_ws('|', $COLS)), 18))::bit(60)::bigint) FROM t"
    run1 pg_checksum "$BIN" checksum --engine postgres --dsn "$PGA" --table public.t
    run1 pg_checksum_p1 "$BIN" checksum --engine postgres --dsn "$PGA" --table public.t --parallel 1
    run1 pg_checksum_against "$BIN" checksum --engine postgres --dsn "$PGB" --against "$PGA" --table public.t
    run1 pg_diff "$BIN" diff --engine postgres --dsn "$PGB" --against "$PGA" --table public.t
    # --- MariaDB ---
    run1 my_checksum_table mariadb --no-defaults -S "$MYS" -u root a -N -e "CHECKSUM TABLE t"
    run1 my_crc32_bitxor mariadb --no-defaults -S "$MYS" -u root a -N -e "SELECT BIT_XOR(CRC32(CONCAT_WS('#', $COLS))) FROM t"
    run1 my_md5_rows mariadb --no-defaults -S "$MYS" -u root a -N -e \
        "SELECT SUM(CAST(CONV(SUBSTR(MD5(CONCAT_WS('#', $COLS)), 18), 16, 10) AS UNSIGNED)) FROM t"
    run1 my_checksum "$BIN" checksum --engine mariadb --dsn "$MYA" --table t
    run1 my_checksum_p1 "$BIN" checksum --engine mariadb --dsn "$MYA" --table t --parallel 1
    run1 my_checksum_against "$BIN" checksum --engine mariadb --dsn "$MYB" --against "$MYA" --table t
    run1 my_diff "$BIN" diff --engine mariadb --dsn "$MYB" --against "$MYA" --table t
    if command -v pt-table-sync >/dev/null 2>&1; then
        run1 my_pt_table_sync pt-table-sync --print --no-check-triggers \
            "S=$MYS,u=root,D=a,t=t" "S=$MYS,u=root,D=b,t=t"
    fi
}

round=1
while [ "$round" -le "$REPS" ]; do
    one_round
    round=$((round + 1))
done
# per measure: the best wall time of the rounds, the peak RSS of the
# measured client process, the last exit code and stdout line
for name in $NAMES; do
    best=$(awk 'NR == 1 || $1 < b { b = $1 } END { print b }' "$tmp/m.$name")
    rss=$(awk '$2 > r { r = $2 } END { print r + 0 }' "$tmp/m.$name")
    rc=$(awk 'END { print $3 }' "$tmp/m.$name")
    last=$(tail -n 1 "$tmp/out.$name" | cut -c1-80)
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$best" "$rss" "$rc" "$last" >>"$results"
    echo "bench: $name best ${best}s ${rss}KiB rc=$rc" >&2
done
"$BIN" diff --engine postgres --dsn "$PGB" --against "$PGA" --table public.t --json >"$tmp/pg_diff.json"
"$BIN" diff --engine mariadb --dsn "$MYB" --against "$MYA" --table t --json >"$tmp/my_diff.json"
if [ -f "$tmp/out.my_pt_table_sync" ]; then
    ptn=$(grep -c -E '^(UPDATE|DELETE|INSERT|REPLACE)' "$tmp/out.my_pt_table_sync")
else
    ptn=""
    printf 'my_pt_table_sync\t\t\t\tnot installed\n' >>"$results"
fi

# --- report ---
get() { awk -F'\t' -v n="$1" '$1 == n { print $'"${2:-2}"' }' "$results"; }
ratio() { awk -v a="$(get "$1")" -v b="$(get "$2")" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b; else print "-" }'; }
count() { jq -r "\"\(.missing) missing, \(.extra) extra, \(.changed) changed\"" "$1"; }
{
    echo "## Run of $(date -u +%Y-%m-%dT%H:%M:%SZ): $ROWS rows, best of $REPS interleaved rounds, $(nproc) cores"
    echo
    echo "| measure | seconds | peak RSS KiB | exit | last output line |"
    echo "|---|---:|---:|---:|---|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | `%s` |\n", $1, $2, $3, $4, $5 }' "$results"
    echo
    echo "Ratios (same run):"
    echo
    echo "- PostgreSQL checksum / COPY: $(ratio pg_checksum pg_copy) (target <= 1.5); parallel 1: $(ratio pg_checksum_p1 pg_copy)"
    echo "- PostgreSQL checksum of both sides / COPY: $(ratio pg_checksum_against pg_copy)"
    echo "- PostgreSQL diff / COPY: $(ratio pg_diff pg_copy) (target <= 2.5); found: $(count "$tmp/pg_diff.json") (want 1 missing, 1 extra, 8 changed)"
    echo "- PostgreSQL checksum / md5 per row: $(ratio pg_checksum pg_md5_rows)"
    echo "- MariaDB checksum / BIT_XOR(CRC32): $(ratio my_checksum my_crc32_bitxor) (target <= 1.5); parallel 1: $(ratio my_checksum_p1 my_crc32_bitxor)"
    echo "- MariaDB checksum / CHECKSUM TABLE: $(ratio my_checksum my_checksum_table)"
    echo "- MariaDB diff / pt-table-sync: $(ratio my_diff my_pt_table_sync) (target <= 0.33); found: $(count "$tmp/my_diff.json"); pt-table-sync printed ${ptn:-?} statements"
} | tee "$OUT"
