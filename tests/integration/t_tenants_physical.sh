#!/bin/sh
# t_tenants_physical.sh: `databases` on physical catalogs (issue 16). The
# physical restore brings back the whole cluster; after recovery the drill
# lists the restored instance's databases, matches the globs, samples them
# with the drill seed (the exact picks of fixtures/tenants/pick.py) and
# runs every check per sampled database:
#   PostgreSQL (pg-archive, and pgbackrest when installed: fixtures/make-pitr.sh
#   RD_PITR_TENANTS=4 RD_PITR_PGBACKREST=1) and
#   MariaDB (mariabackup, fixtures/make-mariabackup.sh RD_MB_TENANTS=3):
#   - the picks, the counts (the cluster's databases, system ones left out),
#     the "databases" result saying the whole cluster was restored, objects
#     and JUnit classnames carrying the database, each check run in its own
#     database (current_database() / DATABASE());
#   - the restored state is the recovered one: tenant_1 has 10 rows at the
#     oldest backup's consistency point and 15 after a replay to the end (a
#     wrong count in the other tenants fails them, and only them);
#   - a glob that matches none of the restored databases exits 2;
#   - without `database` the instance is attached through the system
#     database; with it the heartbeat is read there (recovery result);
#   - nothing left behind.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
command -v python3 >/dev/null 2>&1 || { echo "skipping: python3 is not installed"; exit 77; }

drill() { # drill CONFIG [SEED]
    rm -rf "$tmp/out"
    run "$RD_BIN" --no-progress run "$1" --seed "${2:-1}"
}
# status of a named check per database, "db:status" sorted
per_db() {
    jqr "[.targets[0].checks[] | select(.name == \"$1\") | \"\(.database):\(.status)\"] | sort | join(\" \")"
}

# ---------------------------------------------------------------- PostgreSQL
pgfix=1
pgbr=0
command -v pgbackrest >/dev/null 2>&1 && pgbr=1
RD_PITR_TENANTS=4 RD_PITR_PGBACKREST=$pgbr "$fixtures/make-pitr.sh" "$tmp/pg" "$RD_BIN" >"$tmp/make-pitr.log" 2>&1
mrc=$?
if [ $mrc -eq 77 ]; then
    echo "note: no PostgreSQL server binaries: the PostgreSQL part is skipped"
    pgfix=0
elif [ $mrc -ne 0 ]; then
    cat "$tmp/make-pitr.log"
    fail "make-pitr.sh failed ($mrc)"
    pgfix=0
fi

# pgconfig FILE SAMPLE DATABASES_JSON EXTRA CHECKS
pgconfig() {
    cat >"$1" <<JSON
{ "version": 1, "name": "phys",
  "output": {"dir": "$tmp/out", "json": "drill.json", "junit": "junit.xml", "html": "evidence.html"},
  "targets": [ { "name": "tenants", "engine": "postgres",
    "catalog": {"type": "pg-archive", "base_dir": "$tmp/pg/base", "wal_dir": "$tmp/pg/wal"},
    "sample": $2, "databases": $3, $4
    "checks": $5 } ] }
JSON
}

if [ $pgfix -eq 1 ]; then
    checks='[{"type": "integrity"},
        {"type": "sql", "name": "order count", "query": "SELECT count(*) FROM orders", "expect": ">= 10"},
        {"type": "sql", "name": "where", "query": "SELECT current_database()", "expect": "~ ."}]'
    for seed in 1 5; do
        pgconfig "$tmp/pg.json" '{"strategy": "latest", "databases": 2}' '["tenant_*"]' \
            '"database": "shop",' "$checks"
        drill "$tmp/pg.json" $seed
        expect_rc 0 "pg seed $seed"
        want=$(python3 "$fixtures/tenants/pick.py" $seed 2 tenant_1 tenant_2 tenant_3 tenant_4 | tr '\n' ' ')
        expect_eq "$(jqr '.targets[0].databases.drilled | join(" ")') " "$want" "pg seed $seed: picks"
        expect_eq "$(jqr '.targets[0].databases | "\(.total) \(.matched)"')" "5 4" "pg seed $seed: counts"
        expect_eq "$(jqr '[.targets[0].checks[] | select(.name == "where") | .actual] | join(" ")') " \
            "$want" "pg seed $seed: each check in its own database"
        expect_eq "$(jqr '.targets[0].checks[] | select(.type == "restore" and .name == "databases") | "\(.status) \(.object)"')" \
            "passed cluster" "pg seed $seed: databases result"
        expect_eq "$(jqr '.targets[0].checks[] | select(.type == "restore" and .name == "databases") | .message')" \
            "the physical restore brought back the whole cluster: 5 databases (system databases left out); 2 drilled of 4 matching: $(echo $want | sed 's/ /, /')" \
            "pg seed $seed: whole cluster said"
        first=$(echo "$want" | cut -d' ' -f1)
        expect_eq "$(jqr "[.targets[0].checks[] | select(.type == \"integrity\" and .database == \"$first\") | .object] | map(select(. == \"$first.public.orders\")) | length")" \
            1 "pg seed $seed: integrity object"
        expect_has "$tmp/out/junit.xml" "classname=\"restoredrill.tenants.$first.order count\"" "pg seed $seed: junit"
        expect_eq "$(jqr '.targets[0].checks[] | select(.type == "recovery") | .status')" passed "pg seed $seed: recovery"
        expect_eq "$(jqr '.targets[0].rpo.basis')" heartbeat "pg seed $seed: heartbeat read in shop"
        expect_eq "$(jqr '[.targets[0].checks[] | .database // empty] | unique | join(" ")') " "$want" \
            "pg seed $seed: only the picks checked"
    done

    # the recovered state, per database: 10 rows in tenant_1 at b1's consistency
    # point, 15 after the replay to the end; tenant_2..4 fail "= 10" (20, 30, 40 rows)
    cnt='[{"type": "sql", "name": "order count", "query": "SELECT count(*) FROM orders", "expect": "= 10"}]'
    pgconfig "$tmp/pg.json" '{"strategy": "oldest"}' '["tenant_*"]' "" "$cnt"
    drill "$tmp/pg.json"
    expect_rc 1 "pg oldest: three tenants fail"
    expect_eq "$(jqr '.targets[0].recovery_point.id')" b1-plain "pg oldest: point"
    expect_eq "$(per_db 'order count')" "tenant_1:passed tenant_2:failed tenant_3:failed tenant_4:failed" \
        "pg oldest: per database"
    expect_eq "$(jqr '.targets[0].checks[] | select(.object == "tenant_3.order count") | .actual')" 30 \
        "pg oldest: tenant_3's own count"
    pgconfig "$tmp/pg.json" '{"strategy": "pitr", "time": "latest"}' '"tenant_1"' "" \
        '[{"type": "sql", "name": "order count", "query": "SELECT count(*) FROM orders", "expect": "= 15"}]'
    drill "$tmp/pg.json"
    expect_rc 0 "pg pitr latest: tenant_1 replayed"
    expect_eq "$(per_db 'order count')" "tenant_1:passed" "pg pitr latest: 15 rows"
    expect_eq "$(jqr '.targets[0].checks[] | select(.type == "recovery") | .status')" passed \
        "pg pitr latest: recovery (attached through postgres)"

    # a glob matching none of the restored databases: a configuration error
    pgconfig "$tmp/pg.json" '{"strategy": "oldest"}' '["tenant_*", "nope%"]' "" "$cnt"
    # (--dry-run shows the point only: the databases are listed once it is restored)
    run "$RD_BIN" run "$tmp/pg.json" --dry-run
    expect_rc 0 "pg dry run"
    expect_has "$tmp/out.txt" "tenants	b1-plain	" "pg dry run: the point"
    grep -q "databases" "$tmp/out.txt" && fail "pg dry run: a databases line before the restore"
    drill "$tmp/pg.json"
    expect_rc 2 "pg glob matching nothing"
    expect_has "$tmp/err.txt" 'targets[0].databases[1]: "nope%" matches none of the 5 databases of the recovery point' \
        "pg glob matching nothing: message"
    expect_eq "$(jqr '.targets[0].checks[] | select(.type == "restore" and .name == "databases") | .status')" error \
        "pg glob matching nothing: databases result"

    # pgBackRest: the same, from its repository (when pgbackrest is installed)
    if [ $pgbr -eq 1 ]; then
        cat >"$tmp/br.json" <<JSON
{ "version": 1, "name": "phys", "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [ { "name": "tenants", "engine": "postgres",
    "catalog": {"type": "pgbackrest", "stanza": "main", "config": "$tmp/pg/pgbackrest/pgbackrest.conf"},
    "sample": {"strategy": "pitr", "time": "latest", "databases": 3}, "databases": "tenant_*",
    "checks": [{"type": "sql", "name": "order count", "query": "SELECT count(*) FROM orders", "expect": ">= 15"},
               {"type": "sql", "name": "where", "query": "SELECT current_database()", "expect": "~ ."}] } ] }
JSON
        drill "$tmp/br.json" 2
        expect_rc 0 "pgbackrest"
        want=$(python3 "$fixtures/tenants/pick.py" 2 3 tenant_1 tenant_2 tenant_3 tenant_4 | tr '\n' ' ')
        expect_eq "$(jqr '[.targets[0].checks[] | select(.name == "where") | .actual] | join(" ")') " \
            "$want" "pgbackrest: each check in its own database"
        expect_eq "$(jqr '.targets[0].databases | "\(.total) \(.matched)"')" "5 4" "pgbackrest: counts"
        expect_eq "$(jqr '.targets[0].recovery_point.format | startswith("pgbackrest-")')" true "pgbackrest: format"
    else
        echo "note: pgbackrest is not installed: its drill is skipped"
    fi
    no_leftovers "pg"
fi

# ------------------------------------------------------------------- MariaDB
mbfix=1
RD_MB_TENANTS=3 "$fixtures/make-mariabackup.sh" "$tmp/mb" "$RD_BIN" >"$tmp/make-mb.log" 2>&1
mrc=$?
if [ $mrc -eq 77 ]; then
    echo "note: no mariadbd / mariadb-backup: the MariaDB part is skipped"
    mbfix=0
elif [ $mrc -ne 0 ]; then
    cat "$tmp/make-mb.log"
    fail "make-mariabackup.sh failed ($mrc)"
    mbfix=0
fi
[ $pgfix -eq 1 ] || [ $mbfix -eq 1 ] || { [ "$fails" -eq 0 ] && { echo "skipping: no server binaries"; exit 77; }; }

mbconfig() {
    cat >"$1" <<JSON
{ "version": 1, "name": "phys",
  "output": {"dir": "$tmp/out", "json": "drill.json", "junit": "junit.xml", "html": "evidence.html"},
  "targets": [ { "name": "tenants", "engine": "mariadb",
    "catalog": {"type": "mariabackup", "base_dir": "$tmp/mb/base", "binlog_dir": "$tmp/mb/binlog"},
    "sample": $2, "databases": $3, $4
    "checks": $5 } ] }
JSON
}

if [ $mbfix -eq 1 ]; then
    checks='[{"type": "integrity"},
        {"type": "sql", "name": "order count", "query": "SELECT COUNT(*) FROM orders", "expect": ">= 10"},
        {"type": "sql", "name": "where", "query": "SELECT DATABASE()", "expect": "~ ."}]'
    for seed in 1 3; do
        mbconfig "$tmp/mb.json" '{"strategy": "latest", "databases": 2}' '["tenant_*"]' \
            '"database": "shop",' "$checks"
        drill "$tmp/mb.json" $seed
        expect_rc 0 "mb seed $seed"
        want=$(python3 "$fixtures/tenants/pick.py" $seed 2 tenant_1 tenant_2 tenant_3 | tr '\n' ' ')
        expect_eq "$(jqr '.targets[0].databases.drilled | join(" ")') " "$want" "mb seed $seed: picks"
        expect_eq "$(jqr '.targets[0].databases | "\(.total) \(.matched)"')" "4 3" "mb seed $seed: counts"
        expect_eq "$(jqr '[.targets[0].checks[] | select(.name == "where") | .actual] | join(" ")') " \
            "$want" "mb seed $seed: each check in its own database"
        expect_eq "$(jqr '.targets[0].checks[] | select(.type == "restore" and .name == "databases") | .message')" \
            "the physical restore brought back the whole cluster: 4 databases (system databases left out); 2 drilled of 3 matching: $(echo $want | sed 's/ /, /')" \
            "mb seed $seed: whole cluster said"
        first=$(echo "$want" | cut -d' ' -f1)
        expect_eq "$(jqr "[.targets[0].checks[] | select(.type == \"integrity\" and .database == \"$first\") | .object] | map(select(. == \"$first.orders\")) | length")" \
            1 "mb seed $seed: integrity object"
        expect_has "$tmp/out/junit.xml" "classname=\"restoredrill.tenants.$first.order count\"" "mb seed $seed: junit"
        expect_eq "$(jqr '.targets[0].checks[] | select(.type == "recovery") | .status')" passed "mb seed $seed: recovery"
        expect_eq "$(jqr '.targets[0].recovery_point.id')" inc2 "mb seed $seed: point"
    done

    cnt='[{"type": "sql", "name": "order count", "query": "SELECT COUNT(*) FROM orders", "expect": "= 10"}]'
    mbconfig "$tmp/mb.json" '{"strategy": "id", "id": "full"}' '["tenant_*"]' "" "$cnt"
    drill "$tmp/mb.json"
    expect_rc 1 "mb full: two tenants fail"
    expect_eq "$(per_db 'order count')" "tenant_1:passed tenant_2:failed tenant_3:failed" "mb full: per database"
    expect_eq "$(jqr '.targets[0].checks[] | select(.object == "tenant_2.order count") | .actual')" 20 \
        "mb full: tenant_2's own count"
    mbconfig "$tmp/mb.json" '{"strategy": "pitr", "time": "latest"}' '"tenant_1"' "" \
        '[{"type": "sql", "name": "order count", "query": "SELECT COUNT(*) FROM orders", "expect": "= 15"}]'
    drill "$tmp/mb.json"
    expect_rc 0 "mb pitr latest: tenant_1 replayed"
    expect_eq "$(per_db 'order count')" "tenant_1:passed" "mb pitr latest: 15 rows"

    mbconfig "$tmp/mb.json" '{"strategy": "id", "id": "full"}' '["nope*"]' "" "$cnt"
    drill "$tmp/mb.json"
    expect_rc 2 "mb glob matching nothing"
    expect_has "$tmp/err.txt" 'targets[0].databases[0]: "nope*" matches none of the 4 databases of the recovery point' \
        "mb glob matching nothing: message"
    no_leftovers "mb"
fi
finish
