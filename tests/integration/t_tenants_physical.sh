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

# physconfig FILE ENGINE CATALOG_JSON SAMPLE DATABASES_JSON EXTRA CHECKS
physconfig() {
    cat >"$1" <<JSON
{ "version": 1, "name": "phys",
  "output": {"dir": "$tmp/out", "json": "drill.json", "junit": "junit.xml", "html": "evidence.html"},
  "targets": [ { "name": "tenants", "engine": "$2",
    "catalog": $3,
    "sample": $4, "databases": $5, $6
    "checks": $7 } ] }
JSON
}

# sampled_seed TAG CONFIG SEED TOTAL OBJECT_PREFIX TENANT...: CONFIG samples 2
# of the TENANTs (out of TOTAL databases) with SEED: the picks of pick.py,
# the counts, each check in its own database, the whole cluster said, the
# integrity object (OBJECT_PREFIX + orders), the JUnit classname and the
# recovery result. Leaves the picks in $want.
sampled_seed() {
    tag=$1 cfg=$2 seed=$3 total=$4 objp=$5
    shift 5
    drill "$cfg" "$seed"
    expect_rc 0 "$tag seed $seed"
    want=$(python3 "$fixtures/tenants/pick.py" "$seed" 2 "$@" | tr '\n' ' ')
    expect_eq "$(jqr '.targets[0].databases.drilled | join(" ")') " "$want" "$tag seed $seed: picks"
    expect_eq "$(jqr '.targets[0].databases | "\(.total) \(.matched)"')" "$total $#" "$tag seed $seed: counts"
    expect_eq "$(jqr '[.targets[0].checks[] | select(.name == "where") | .actual] | join(" ")') " \
        "$want" "$tag seed $seed: each check in its own database"
    expect_eq "$(jqr '.targets[0].checks[] | select(.type == "restore" and .name == "databases") | .message')" \
        "the physical restore brought back the whole cluster: $total databases (system databases left out); 2 drilled of $# matching: $(echo $want | sed 's/ /, /')" \
        "$tag seed $seed: whole cluster said"
    first=$(echo "$want" | cut -d' ' -f1)
    expect_eq "$(jqr "[.targets[0].checks[] | select(.type == \"integrity\" and .database == \"$first\") | .object] | map(select(. == \"$first.${objp}orders\")) | length")" \
        1 "$tag seed $seed: integrity object"
    expect_has "$tmp/out/junit.xml" "classname=\"restoredrill.tenants.$first.order count\"" "$tag seed $seed: junit"
    expect_eq "$(jqr '.targets[0].checks[] | select(.type == "recovery") | .status')" passed "$tag seed $seed: recovery"
}

# make_fixture NOTE LOG COMMAND...: $fix is 1 when COMMAND (a fixture script
# under env) made the fixture; 0 when it exits 77 (NOTE printed: no server
# binaries) or fails (its log printed, a failure).
make_fixture() {
    note=$1 log=$2
    shift 2
    fix=1
    "$@" >"$log" 2>&1
    mrc=$?
    if [ $mrc -eq 77 ]; then
        echo "note: $note"
        fix=0
    elif [ $mrc -ne 0 ]; then
        cat "$log"
        for a; do case $a in *.sh) script=$(basename "$a"); break ;; esac; done
        fail "$script failed ($mrc)"
        fix=0
    fi
}

# ---------------------------------------------------------------- PostgreSQL
pgbr=0
command -v pgbackrest >/dev/null 2>&1 && pgbr=1
make_fixture "no PostgreSQL server binaries: the PostgreSQL part is skipped" "$tmp/make-pitr.log" \
    env RD_PITR_TENANTS=4 RD_PITR_PGBACKREST=$pgbr "$fixtures/make-pitr.sh" "$tmp/pg" "$RD_BIN"
pgfix=$fix

# pgconfig FILE SAMPLE DATABASES_JSON EXTRA CHECKS
pgconfig() {
    physconfig "$1" postgres \
        "{\"type\": \"pg-archive\", \"base_dir\": \"$tmp/pg/base\", \"wal_dir\": \"$tmp/pg/wal\"}" \
        "$2" "$3" "$4" "$5"
}

if [ $pgfix -eq 1 ]; then
    checks='[{"type": "integrity"},
        {"type": "sql", "name": "order count", "query": "SELECT count(*) FROM orders", "expect": ">= 10"},
        {"type": "sql", "name": "where", "query": "SELECT current_database()", "expect": "~ ."}]'
    for seed in 1 5; do
        pgconfig "$tmp/pg.json" '{"strategy": "latest", "databases": 2}' '["tenant_*"]' \
            '"database": "shop",' "$checks"
        sampled_seed pg "$tmp/pg.json" $seed 5 public. tenant_1 tenant_2 tenant_3 tenant_4
        expect_eq "$(jqr '.targets[0].checks[] | select(.type == "restore" and .name == "databases") | "\(.status) \(.object)"')" \
            "passed cluster" "pg seed $seed: databases result"
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
make_fixture "no mariadbd / mariadb-backup: the MariaDB part is skipped" "$tmp/make-mb.log" \
    env RD_MB_TENANTS=3 "$fixtures/make-mariabackup.sh" "$tmp/mb" "$RD_BIN"
mbfix=$fix
[ $pgfix -eq 1 ] || [ $mbfix -eq 1 ] || { [ "$fails" -eq 0 ] && { echo "skipping: no server binaries"; exit 77; }; }

# mbconfig FILE SAMPLE DATABASES_JSON EXTRA CHECKS
mbconfig() {
    physconfig "$1" mariadb \
        "{\"type\": \"mariabackup\", \"base_dir\": \"$tmp/mb/base\", \"binlog_dir\": \"$tmp/mb/binlog\"}" \
        "$2" "$3" "$4" "$5"
}

if [ $mbfix -eq 1 ]; then
    checks='[{"type": "integrity"},
        {"type": "sql", "name": "order count", "query": "SELECT COUNT(*) FROM orders", "expect": ">= 10"},
        {"type": "sql", "name": "where", "query": "SELECT DATABASE()", "expect": "~ ."}]'
    for seed in 1 3; do
        mbconfig "$tmp/mb.json" '{"strategy": "latest", "databases": 2}' '["tenant_*"]' \
            '"database": "shop",' "$checks"
        sampled_seed mb "$tmp/mb.json" $seed 4 "" tenant_1 tenant_2 tenant_3
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
