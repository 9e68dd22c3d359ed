#!/bin/sh
# t_compare.sh: `restoredrill checksum` and `restoredrill diff` end to end on
# private PostgreSQL and MariaDB servers (bench/servers.sh): equal tables,
# the damaged key ranges named, exact diff output and counts, --json,
# --where, exit codes and usage errors.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../fixtures/testlib.sh"
need_bin
. "$here/../../bench/servers.sh"
[ -x "$PGBIN/initdb" ] && command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] ||
    { echo "skipping: no database server binaries"; exit 77; }
srv=$tmp/srv
mkdir -p "$srv" && chmod 0755 "$tmp" "$srv"
stop_servers() { bench_stop "$srv"; cleanup; }
trap stop_servers EXIT
bench_start_pg "$srv" || { cat "$srv"/pg-*.log; fail "postgres did not start"; finish; }
bench_start_my "$srv" || { tail "$srv/my/err"; fail "mariadb did not start"; finish; }

pg() { psql -X -q -v ON_ERROR_STOP=1 -h "$srv/pg" -U postgres "$@"; }
my() { mariadb --no-defaults -S "$srv/my/sock" -u root "$@"; }
pg -c "CREATE DATABASE a" && pg -c "CREATE DATABASE b"
for d in a b; do
    pg -d $d -c "CREATE TABLE t (id int PRIMARY KEY, v text, n numeric);
                 INSERT INTO t SELECT i, 'v' || i, i / 4.0 FROM generate_series(1, 1000) i;
                 ANALYZE t"
done
my -e "CREATE DATABASE a; CREATE DATABASE b"
for d in a b; do
    my $d -e "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20), n DECIMAL(10,2));
              INSERT INTO t SELECT seq, CONCAT('v', seq), seq / 4 FROM seq_1_to_1000;
              ANALYZE TABLE t" >/dev/null
done

for e in postgres mariadb; do
    if [ $e = postgres ]; then
        A="host=$srv/pg user=postgres dbname=a"; B="host=$srv/pg user=postgres dbname=b"; T=public.t
        sqlb() { pg -d b -c "$1"; }
    else
        A="mariadb://root@localhost/a?socket=$srv/my/sock"; B="mariadb://root@localhost/b?socket=$srv/my/sock"; T=t
        sqlb() { my b -e "$1"; }
    fi
    run "$RD_BIN" checksum --engine $e --dsn "$A" --against "$B" --chunk-rows 100
    expect_rc 0 "$e: equal tables"
    # dense ids 1..1000 with statistics: 10 value ranges (the walk: 11)
    expect_has "$tmp/out.txt" "$T: equal: 1000 rows, 10 chunks, digest " "$e: equal line"
    # off a TTY a progress line comes only after 10 s: none for a short checksum
    grep -q "checksums:" "$tmp/err.txt" && fail "$e: a short checksum wrote a progress line off a TTY"
    # the same digest alone
    d1=$(sed -n 's/.*digest //p' "$tmp/out.txt")
    run "$RD_BIN" checksum --engine $e --dsn "$B" --table $T --chunk-rows 7
    expect_rc 0 "$e: plain checksum"
    expect_eq "$(cat "$tmp/out.txt")" "$T: 1000 rows, 143 chunks, digest $d1" "$e: digest independent of chunking"
    # `manifest` stores chunk digests by default; --no-checksums leaves them out
    run "$RD_BIN" manifest --engine $e --dsn "$A" -o "$tmp/$e-m.json"
    expect_rc 0 "$e: manifest"
    expect_eq "$(jq -c '[.tables[] | (.checksum.chunks | length) > 0]' "$tmp/$e-m.json")" "[true]" \
        "$e: manifest has chunk digests by default"
    run "$RD_BIN" checksum --engine $e --dsn "$B" --manifest "$tmp/$e-m.json"
    expect_rc 0 "$e: checksum against the default manifest"
    run "$RD_BIN" manifest --engine $e --dsn "$A" -o "$tmp/$e-nd.json" --no-checksums
    expect_rc 0 "$e: manifest --no-checksums"
    expect_eq "$(jq -c '[.tables[] | .checksum]' "$tmp/$e-nd.json")" "[null]" "$e: --no-checksums"
    run "$RD_BIN" checksum --engine $e --dsn "$B" --manifest "$tmp/$e-nd.json"
    expect_rc 1 "$e: checksum against a manifest without digests"
    expect_has "$tmp/out.txt" "the manifest has no chunk digests for $([ $e = postgres ] && echo public || echo a).t: capture it again with \`restoredrill manifest\` or \`restoredrill backup\` (they store digests unless --no-checksums)" \
        "$e: how to capture a manifest with digests"

    sqlb "UPDATE t SET v = 'x' WHERE id IN (150, 801); DELETE FROM t WHERE id = 420; INSERT INTO t VALUES (2000, 'new', 1)"
    run "$RD_BIN" checksum --engine $e --dsn "$B" --against "$A" --chunk-rows 100
    expect_rc 1 "$e: damaged checksum"
    expect_eq "$(sed -n 2,5p "$tmp/out.txt")" "  id > 100 and id <= 200: 100 rows vs 100
  id > 400 and id <= 501: 100 rows vs 101
  id > 701 and id <= 801: 100 rows vs 100
  id > 901 and id <= 2000: 100 rows vs 99" "$e: mismatching ranges (uneven keys: walked on --dsn)"
    expect_has "$tmp/out.txt" "$T: differs: 4 of 11 chunks, 1000 rows vs 1000 in the reference" "$e: differs line"

    run "$RD_BIN" diff --engine $e --dsn "$B" --against "$A" --table $T --leaf-rows 10 --chunk-rows 100
    expect_rc 1 "$e: diff"
    expect_eq "$(cat "$tmp/out.txt")" "$T: 1 missing, 1 extra, 2 changed (1000 rows vs 1000 in $T)
  changed 150
  missing 420
  changed 801
  extra 2000" "$e: diff output"
    run "$RD_BIN" diff --engine $e --dsn "$B" --against "$A" --table $T --json --max-rows 1 --where "id < 1000"
    expect_rc 1 "$e: diff --json"
    expect_eq "$(jq -c '[.missing, .extra, .changed, (.rows_differing | length), .truncated]' "$tmp/out.txt")" \
        "[1,0,2,1,true]" "$e: json counts"
    run "$RD_BIN" diff --engine $e --dsn "$A" --against "$A" --table $T
    expect_rc 0 "$e: diff of equal tables"
    expect_eq "$(cat "$tmp/out.txt")" "$T: equal: 1000 rows" "$e: equal diff output"
    run "$RD_BIN" diff --engine $e --dsn "$A" --against "$B" --table nope
    expect_rc 1 "$e: missing table"
    expect_has "$tmp/err.txt" "does not exist" "$e: missing table message"
done

run "$RD_BIN" diff --engine postgres --dsn x --table t
expect_rc 2 "usage: diff without --against"
expect_has "$tmp/err.txt" "restoredrill: diff: --against is required" "usage message"
run "$RD_BIN" checksum --engine postgres --dsn x --against y --manifest z
expect_rc 2 "usage: --against and --manifest"
expect_has "$tmp/err.txt" "restoredrill: checksum: --against and --manifest exclude each other" "usage message 2"
run "$RD_BIN" checksum --engine postgres --dsn x --parallel 0
expect_rc 2 "usage: --parallel 0"
expect_has "$tmp/err.txt" 'restoredrill: checksum: --parallel: expected an integer from 1 to 64, got "0"' "usage message 3"
finish
