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
#
# The diff of two tables in one database (issue 18, item 4): database a also
# holds chg.t, a copy of t with the same 10 changes, diffed with
# --against-table in the first cluster (pg_diff_table) and in a second
# cluster initialised with a UTF-8 locale (pgu_*: en_US.UTF-8 when `locale
# -a` has it, else C.UTF-8; BENCH_UTF8_LOCALE overrides), each against both
# COPY baselines: psql's COPY TO STDOUT and the server's COPY t TO
# '/dev/null'. PostgreSQL measures also record the server's CPU seconds (the
# postmaster's reaped children: every backend of the command), and every
# round's figures are printed. BENCH_SET=diff runs only the PostgreSQL COPY
# and diff measures (no MariaDB).
set -u
BIN=${1:?usage: bench/run.sh BIN [ROWS]}
ROWS=${2:-5000000}
REPS=${BENCH_REPS:-3}
SET=${BENCH_SET:-all}
ULOC=${BENCH_UTF8_LOCALE:-$(locale -a 2>/dev/null | grep -qix 'en_US.utf8' && echo en_US.UTF-8 || echo C.UTF-8)}
here=$(cd "$(dirname "$0")" && pwd)
OUT=${BENCH_OUT:-$here/last-run.md}
. "$here/servers.sh"

[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)"; exit 2; }
[ -x "$BIN" ] || { echo "bench: $BIN is not executable"; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rd-bench.XXXXXX")
chmod 0755 "$tmp"
mkdir -p "$tmp/u"
chmod 0755 "$tmp/u"
cleanup() { bench_stop "$tmp"; bench_stop "$tmp/u"; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

bench_start_pg "$tmp" || { cat "$tmp"/pg-*.log; exit 1; }
BENCH_PG_LOCALE=$ULOC bench_start_pg "$tmp/u" || { cat "$tmp"/u/pg-*.log; exit 1; }
[ "$SET" = diff ] || bench_start_my "$tmp" || { tail "$tmp/my/err"; exit 1; }
PGS=$tmp/pg
PGU=$tmp/u/pg
MYS=$tmp/my/sock
psql_() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGS" -U postgres "$@"; }
psqlu_() { psql -X -q -v ON_ERROR_STOP=1 -h "$PGU" -U postgres "$@"; }
my_() { mariadb --no-defaults -S "$MYS" -u root "$@"; }
# load_two PSQL: database a with t and chg.t (t with the 10 changes)
load_two() {
    "$@" -c "CREATE DATABASE a" || return 1
    "$@" -d a -f "$here/load_pg.sql" -v rows="$ROWS" || return 1
    "$@" -d a -c "CREATE SCHEMA chg" -c "CREATE TABLE chg.t (LIKE public.t INCLUDING ALL)" \
        -c "INSERT INTO chg.t SELECT * FROM public.t" || return 1
    PGOPTIONS="-c search_path=chg" "$@" -d a -f "$here/changes_pg.sql" -v rows="$ROWS" || return 1
    "$@" -d a -c "VACUUM ANALYZE public.t" -c "VACUUM ANALYZE chg.t"
}

echo "bench: loading $ROWS rows per engine (second PostgreSQL cluster: locale $ULOC)" >&2
t0=$(date +%s)
load_two psql_ || exit 1
load_two psqlu_ || exit 1
psqlu_ -d a -A -t -c "SELECT 'bench: cluster 2 collation ' || datcollate || ', encoding ' || pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'a'" >&2
psql_ -d a -A -t -c "SELECT 'bench: cluster 1 collation ' || datcollate || ', encoding ' || pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'a'" >&2
psql_ -c "CREATE DATABASE b TEMPLATE a" || exit 1
psql_ -d b -c "DROP SCHEMA chg CASCADE" || exit 1
psql_ -d b -f "$here/changes_pg.sql" -v rows="$ROWS" || exit 1
psql_ -d b -c "VACUUM ANALYZE t" || exit 1
[ "$SET" = diff ] || my_ -e "CREATE DATABASE a; CREATE DATABASE b" || exit 1
if [ "$SET" != diff ]; then
    sed "s/:rows/$ROWS/g" "$here/load_mariadb.sql" | my_ a || exit 1
    my_ -e "CREATE TABLE b.t LIKE a.t; INSERT INTO b.t SELECT * FROM a.t" || exit 1
    sed "s/:rows/$ROWS/g" "$here/changes_mariadb.sql" | my_ b || exit 1
    my_ -e "ANALYZE TABLE a.t; ANALYZE TABLE b.t" >/dev/null || exit 1
fi
echo "bench: loaded in $(( $(date +%s) - t0 ))s" >&2

PGA="host=$PGS port=5432 user=postgres dbname=a"
PGB="host=$PGS port=5432 user=postgres dbname=b"
PGUA="host=$PGU port=5432 user=postgres dbname=a"
MYA="mariadb://root@localhost/a?socket=$MYS"
MYB="mariadb://root@localhost/b?socket=$MYS"
COLS="id, name, amount, created_at, note, flag"

results=$tmp/results.txt
: >"$results"
NAMES=""
# srv_cpu: CPU seconds of the PostgreSQL server $CPUDIR/data serves (its
# postmaster's reaped children, i.e. every backend that ended), or "-"
srv_cpu() {
    [ -n "${CPUDIR:-}" ] && [ -f "$CPUDIR/data/postmaster.pid" ] || { echo -; return; }
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($16 + $17) / hz }' \
        "/proc/$(head -n 1 "$CPUDIR/data/postmaster.pid")/stat"
}
# run1 NAME CMD...: one timed run; appends "wall rss rc server-cpu" to
# $tmp/m.NAME (server CPU when CPUDIR names the PostgreSQL data's parent)
# and "round name wall server-cpu load" to $tmp/rounds, and keeps its stdout
# in $tmp/out.NAME.
run1() {
    name=$1; shift
    case " $NAMES " in *" $name "*) ;; *) NAMES="$NAMES $name" ;; esac
    c0=$(srv_cpu)
    /usr/bin/time -v -o "$tmp/time.txt" "$@" >"$tmp/out.$name" 2>"$tmp/err.txt"
    rc=$?
    sleep 0.2 # the backends are reaped
    c1=$(srv_cpu)
    cpu=$(awk -v a="$c0" -v b="$c1" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.2f", b - a }')
    w=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.txt" |
        awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
    r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")
    printf '%s %s %s %s\n' "$w" "$r" "$rc" "$cpu" >>"$tmp/m.$name"
    printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$w" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)" >>"$tmp/rounds"
    echo "bench: round $round: $name ${w}s ${r}KiB rc=$rc server CPU ${cpu}s" >&2
}

# One round of every measure. The rounds are interleaved (every measure
# once, then again) rather than each measure repeated in a row, so that a
# burst of load on a shared machine does not fall on one measure only.
one_round() {
    # --- PostgreSQL: two tables in one database, both clusters ---
    CPUDIR=$PGS
    run1 pg_copy_devnull psql -X -q -h "$PGS" -U postgres -d a -c "COPY t TO '/dev/null'"
    run1 pg_diff_table "$BIN" diff --engine postgres --dsn "$PGA" --against "$PGA" --table chg.t --against-table public.t
    CPUDIR=$PGU
    run1 pgu_copy sh -c "psql -X -h '$PGU' -U postgres -d a -c 'COPY t TO STDOUT' >/dev/null"
    run1 pgu_copy_devnull psql -X -q -h "$PGU" -U postgres -d a -c "COPY t TO '/dev/null'"
    run1 pgu_diff_table "$BIN" diff --engine postgres --dsn "$PGUA" --against "$PGUA" --table chg.t --against-table public.t
    CPUDIR=$PGS
    # --- PostgreSQL ---
    run1 pg_copy sh -c "psql -X -h '$PGS' -U postgres -d a -c 'COPY t TO STDOUT' >/dev/null"
    run1 pg_diff "$BIN" diff --engine postgres --dsn "$PGB" --against "$PGA" --table public.t
    [ "$SET" = diff ] && return
    run1 pg_hash_record psql -X -A -t -h "$PGS" -U postgres -d a -c "SELECT sum(hash_record_extended(t, 0)) FROM t"
    run1 pg_md5_rows psql -X -A -t -h "$PGS" -U postgres -d a -c \
        "SELECT sum(('x' || substr(md5(concat_ws('|', $COLS)), 18))::bit(60)::bigint) FROM t"
    run1 pg_checksum "$BIN" checksum --engine postgres --dsn "$PGA" --table public.t
    run1 pg_checksum_p1 "$BIN" checksum --engine postgres --dsn "$PGA" --table public.t --parallel 1
    run1 pg_checksum_against "$BIN" checksum --engine postgres --dsn "$PGB" --against "$PGA" --table public.t
    CPUDIR=""
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
"$BIN" diff --engine postgres --dsn "$PGA" --against "$PGA" --table chg.t --against-table public.t --json >"$tmp/pg_diff_table.json"
"$BIN" diff --engine postgres --dsn "$PGUA" --against "$PGUA" --table chg.t --against-table public.t --json >"$tmp/pgu_diff_table.json"
[ "$SET" = diff ] || "$BIN" diff --engine mariadb --dsn "$MYB" --against "$MYA" --table t --json >"$tmp/my_diff.json"
if [ "$SET" = diff ]; then
    ptn=""
elif [ -f "$tmp/out.my_pt_table_sync" ]; then
    ptn=$(grep -c -E '^(UPDATE|DELETE|INSERT|REPLACE)' "$tmp/out.my_pt_table_sync")
else
    ptn=""
    printf 'my_pt_table_sync\t\t\t\tnot installed\n' >>"$results"
fi

# --- report ---
get() { awk -F'\t' -v n="$1" '$1 == n { print $'"${2:-2}"' }' "$results"; }
ratio() { awk -v a="$(get "$1")" -v b="$(get "$2")" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b; else print "-" }'; }
count() { jq -r "\"\(.missing) missing, \(.extra) extra, \(.changed) changed\"" "$1"; }
# cpu NAME: the least server CPU seconds of its rounds
cpu() { awk '$4 != "-" && (n++ == 0 || $4 < b) { b = $4 } END { print (n ? b : "-") }' "$tmp/m.$1"; }
cratio() { awk -v a="$(cpu "$1")" -v b="$(cpu "$2")" 'BEGIN { if (a != "-" && b > 0) printf "%.2f", a / b; else print "-" }'; }
# rounds A B: every round's wall and server CPU of A against B
rounds() {
    awk -F'\t' -v a="$1" -v b="$2" '
        $2 == a { wa[$1] = $3; ca[$1] = $4; la[$1] = $5 }
        $2 == b { wb[$1] = $3; cb[$1] = $4 }
        END { for (r = 1; r in wa; r++)
                printf "| %d | %s | %s | %.2f | %s | %s | %s | %s |\n", r, wa[r], wb[r],
                       (wb[r] > 0 ? wa[r] / wb[r] : 0), ca[r], cb[r],
                       (cb[r] > 0 ? sprintf("%.2f", ca[r] / cb[r]) : "-"), la[r] }' "$tmp/rounds"
}
{
    echo "## Run of $(date -u +%Y-%m-%dT%H:%M:%SZ): $ROWS rows, best of $REPS interleaved rounds, $(nproc) cores"
    echo
    echo "| measure | seconds | peak RSS KiB | exit | last output line |"
    echo "|---|---:|---:|---:|---|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | `%s` |\n", $1, $2, $3, $4, $5 }' "$results"
    echo
    echo "Ratios (same run):"
    echo
    echo "- Two tables in one database (--against-table), cluster 1 ($(psql_ -d a -A -t -c "SELECT datcollate FROM pg_database WHERE datname = 'a'")):" \
        "diff / COPY TO '/dev/null': $(ratio pg_diff_table pg_copy_devnull) wall, $(cratio pg_diff_table pg_copy_devnull) server CPU;" \
        "diff / psql COPY TO STDOUT: $(ratio pg_diff_table pg_copy) wall (target <= 2.0); found: $(count "$tmp/pg_diff_table.json")"
    echo "- Two tables in one database (--against-table), cluster 2 ($ULOC):" \
        "diff / COPY TO '/dev/null': $(ratio pgu_diff_table pgu_copy_devnull) wall, $(cratio pgu_diff_table pgu_copy_devnull) server CPU;" \
        "diff / psql COPY TO STDOUT: $(ratio pgu_diff_table pgu_copy) wall (target <= 2.0); found: $(count "$tmp/pgu_diff_table.json")"
    echo "- Two databases, cluster 1: diff / COPY TO '/dev/null': $(ratio pg_diff pg_copy_devnull) wall, $(cratio pg_diff pg_copy_devnull) server CPU"
    echo "- Server CPU seconds (least of the rounds): COPY TO '/dev/null' $(cpu pg_copy_devnull) / $(cpu pgu_copy_devnull)," \
        "diff two tables $(cpu pg_diff_table) / $(cpu pgu_diff_table) (cluster 1 / cluster 2), diff two databases $(cpu pg_diff)"
    echo
    echo "Every round, diff of two tables against COPY TO '/dev/null' (wall s, server CPU s, load average):"
    echo
    echo "| round | diff wall | COPY wall | wall ratio | diff CPU | COPY CPU | CPU ratio | load |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
    echo "| cluster 1 |  |  |  |  |  |  |  |"
    rounds pg_diff_table pg_copy_devnull
    echo "| cluster 2 ($ULOC) |  |  |  |  |  |  |  |"
    rounds pgu_diff_table pgu_copy_devnull
    echo
    [ "$SET" = diff ] && exit 0
    echo "- PostgreSQL checksum / COPY: $(ratio pg_checksum pg_copy) (target <= 1.5); parallel 1: $(ratio pg_checksum_p1 pg_copy)"
    echo "- PostgreSQL checksum of both sides / COPY: $(ratio pg_checksum_against pg_copy)"
    echo "- PostgreSQL diff / COPY: $(ratio pg_diff pg_copy) (target <= 2.5); found: $(count "$tmp/pg_diff.json") (want 1 missing, 1 extra, 8 changed)"
    echo "- PostgreSQL checksum / md5 per row: $(ratio pg_checksum pg_md5_rows)"
    echo "- MariaDB checksum / BIT_XOR(CRC32): $(ratio my_checksum my_crc32_bitxor) (target <= 1.5); parallel 1: $(ratio my_checksum_p1 my_crc32_bitxor)"
    echo "- MariaDB checksum / CHECKSUM TABLE: $(ratio my_checksum my_checksum_table)"
    echo "- MariaDB diff / pt-table-sync: $(ratio my_diff my_pt_table_sync) (target <= 0.33); found: $(count "$tmp/my_diff.json"); pt-table-sync printed ${ptn:-?} statements"
} | tee "$OUT"
