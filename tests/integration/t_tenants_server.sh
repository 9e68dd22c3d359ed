#!/bin/sh
# t_tenants_server.sh: tenant databases restored into a `server` scratch
# (issue 16): a shared MariaDB and a shared PostgreSQL server that also hold
# the real tenant databases (tenant_1 changed after the dump: 11 rows live,
# 10 in the dump). The drill restores tenant_1 and tenant_2 of the
# cluster-wide dump each under a scratch name of its own (the prefix + the
# database + time + random), runs the checks there while reporting the
# original names (objects, JUnit classnames, databases), and drops them:
#   - the checks saw the dump's 10 rows, in rd_scratch_tenant_1_... (not the
#     live tenant_1's 11);
#   - the live tenant_1 is untouched (its checksum before and after);
#   - no scratch database is left on the server;
#   - keep_scratch "always" keeps them, and `gc --older-than 0s` drops them;
#   - a dump whose routine (MariaDB) or function (PostgreSQL) names its own
#     database is refused with a clear message, nothing restored, nothing
#     left behind.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin

# config FILE ENGINE DUMPDIR ADMIN_DSN DATABASES_JSON [EXTRA]
config() {
    cat >"$1" <<JSON
{ "version": 1, "name": "shared",
  "output": {"dir": "$tmp/out", "json": "drill.json", "junit": "junit.xml"},
  "targets": [ { "name": "tenants", "engine": "$2",
    "catalog": {"type": "dir", "path": "$3", "pattern": "*.sql", "time_from": "name"},
    "scratch": {"type": "server", "admin_dsn": "$4", "allow_same_server": true},
    "databases": $5, ${6:-}
    "checks": [
      {"type": "integrity"},
      {"type": "sql", "name": "order count", "query": "SELECT count(*) FROM orders", "expect": "= 10"},
      {"type": "sql", "name": "where", "query": "SELECT $where", "expect": "~ ^rd_scratch_tenant_"}
    ] } ] }
JSON
}
drill() { rm -rf "$tmp/out"; run "$RD_BIN" --no-progress run "$1" --seed 1; }

# the common assertions of a passing drill of tenant_1 and tenant_2 ($1: engine label)
passed_drill() {
    expect_rc 0 "$1: drill"
    expect_eq "$(jqr '.targets[0].databases.drilled | join(" ")')" "tenant_1 tenant_2" "$1: drilled"
    expect_eq "$(jqr '[.targets[0].checks[] | select(.name == "order count") | "\(.object)=\(.actual)"] | join(" ")')" \
        "tenant_1.order count=10 tenant_2.order count=10" "$1: the dump's rows, reported under the original names"
    w=$(jqr '[.targets[0].checks[] | select(.name == "where") | .actual] | join(" ")')
    case $w in
    rd_scratch_tenant_1_2*" "rd_scratch_tenant_2_2*) ;;
    *) fail "$1: checks ran in [$w], want rd_scratch_tenant_1_... rd_scratch_tenant_2_..." ;;
    esac
    case $(jqr '.targets[0].checks[] | select(.type == "restore") | .properties.scratch_names') in
    tenant_1=rd_scratch_tenant_1_2*", tenant_2=rd_scratch_tenant_2_2"*) ;;
    *) fail "$1: restore result's scratch_names [$(jqr '.targets[0].checks[] | select(.type == "restore") | .properties.scratch_names')]" ;;
    esac
    expect_has "$(dirname "$report")/junit.xml" 'classname="restoredrill.tenants.tenant_1.order count"' "$1: junit"
}

# ---------------------------------------------------------------- PostgreSQL
pgbin=${PG_BIN_DIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -x "$pgbin/initdb" ]; then
    mkdir -p "$tmp/pgself"
    cat >"$tmp/pg_hook.sh" <<HOOK
set -u
exec >"$tmp/pg_hook.log" 2>&1
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "\$@"; }
admin="host=\$PGHOST port=\$PGPORT user=postgres dbname=postgres"
# tenant_1 changes after the dump; tenant_3 gets a function naming its own database
q -d tenant_1 -c "INSERT INTO orders VALUES (11, 1, 110, now())"
q -d tenant_3 -c "CREATE FUNCTION n() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM tenant_3.public.orders'"
q -d tenant_4 -c "CREATE VIEW big AS SELECT id, amount FROM tenant_4.public.orders WHERE amount > 50"
q -d tenant_4 -c "COMMENT ON DATABASE tenant_4 IS 'the fourth'"
q -d tenant_4 -c "ALTER DATABASE tenant_4 SET work_mem = '8MB'"
"$pgbin/pg_dumpall" >"$tmp/pgself/self-\$ts.sql"
sum() { pg_dump -d tenant_1 | grep -v '^\\\\\\(un\\)\\?restrict '; } # \\restrict keys are random
sum >"$tmp/pg_sum_before"
where='current_database()'
. "$tmp/cfg.sh"
config "$tmp/pg.json" postgres "$tmp/pg/all" "\$admin" '["tenant_1", "tenant_2"]'
"$RD_BIN" --no-progress run "$tmp/pg.json" --seed 1 >"$tmp/pg_run.out" 2>"$tmp/pg_run.err"; echo \$? >"$tmp/pg_run.rc"
cp -r "$tmp/out" "$tmp/pg_out"
sum >"$tmp/pg_sum_after"
q -d tenant_1 -c "SELECT count(*) FROM orders" >"$tmp/pg_live_rows"
q -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'rd\\\\_scratch%'" >"$tmp/pg_left"
# keep_scratch always, then gc
config "$tmp/pgk.json" postgres "$tmp/pg/all" "\$admin" '["tenant_2"]' '"keep_scratch": "always",'
"$RD_BIN" --no-progress run "$tmp/pgk.json" --seed 1 >/dev/null 2>&1; echo \$? >"$tmp/pg_keep.rc"
q -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'rd\\\\_scratch%'" | LC_ALL=C sort >"$tmp/pg_kept"
"$RD_BIN" gc "$tmp/pgk.json" --older-than 0s >"$tmp/pg_gc.out" 2>&1; echo \$? >"$tmp/pg_gc.rc"
q -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'rd\\\\_scratch%'" >"$tmp/pg_left_gc"
# a view written with its database (deparsed without it), a comment and a setting on it
config "$tmp/pgv.json" postgres "$tmp/pgself" "\$admin" '["tenant_4"]'
rm -rf "$tmp/out"
"$RD_BIN" --no-progress run "$tmp/pgv.json" --seed 1 >/dev/null 2>"$tmp/pg_view.err"; echo \$? >"$tmp/pg_view.rc"
# the dump that names its own database
config "$tmp/pgs.json" postgres "$tmp/pgself" "\$admin" '["tenant_3"]'
rm -rf "$tmp/out"
"$RD_BIN" --no-progress run "$tmp/pgs.json" --seed 1 >/dev/null 2>"$tmp/pg_self.err"; echo \$? >"$tmp/pg_self.rc"
cp "$tmp/out/drill.json" "$tmp/pg_self.json"
q -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'rd\\\\_scratch%'" >"$tmp/pg_left_self"
exit 0
HOOK
    # the config() function for the hook
    { echo "tmp='$tmp'"; sed -n '/^config() {/,/^}/p' "$0"; } >"$tmp/cfg.sh"
    TMPDIR=$tmp TENANTS_PG_HOOK="sh $tmp/pg_hook.sh" sh "$fixtures/tenants/make-tenants-pg.sh" "$tmp/pg" 10 \
        >"$tmp/make-pg.log" 2>&1
    mrc=$?
    if [ $mrc -ne 0 ]; then
        cat "$tmp/make-pg.log" "$tmp/pg_hook.log" 2>/dev/null
        fail "make-tenants-pg.sh failed ($mrc)"
    else
        rc=$(cat "$tmp/pg_run.rc")
        cp "$tmp/pg_run.err" "$tmp/err.txt"
        report="$tmp/pg_out/drill.json"
        passed_drill postgres
        cmp -s "$tmp/pg_sum_after" "$tmp/pg_sum_before" || { fail "postgres: live tenant_1 changed"; diff "$tmp/pg_sum_before" "$tmp/pg_sum_after" | head -n 20; }
        expect_eq "$(cat "$tmp/pg_live_rows")" 11 "postgres: live tenant_1 keeps its 11 rows"
        expect_eq "$(cat "$tmp/pg_left")" "" "postgres: no scratch database left"
        expect_eq "$(cat "$tmp/pg_keep.rc")" 0 "postgres: keep_scratch drill"
        case $(cat "$tmp/pg_kept" | tr '\n' ' ') in
        rd_scratch_tenant_2_2*" "rd_scratch_tenants_2*" ") ;;
        *) fail "postgres: kept [$(cat "$tmp/pg_kept" | tr '\n' ' ')], want the tenant_2 and the target's scratch databases" ;;
        esac
        expect_eq "$(cat "$tmp/pg_gc.rc")" 0 "postgres: gc"
        expect_eq "$(grep -c 'dropped scratch database rd_scratch_tenant' "$tmp/pg_gc.out")" 2 "postgres: gc dropped both"
        expect_eq "$(cat "$tmp/pg_left_gc")" "" "postgres: nothing left after gc"
        expect_eq "$(cat "$tmp/pg_view.rc")" 0 "postgres: a view, COMMENT ON and ALTER DATABASE SET of tenant_4"
        expect_eq "$(cat "$tmp/pg_self.rc")" 1 "postgres: self-reference refused"
        expect_eq "$(jq -r '.targets[0].checks[] | select(.type == "restore") | .message' "$tmp/pg_self.json" | head -n 1)" \
            "database tenant_3 cannot be restored under a scratch name on a shared server: its dump names the database itself (    AS \$\$SELECT count(*) FROM tenant_3.public.orders\$\$;); restore it into an ephemeral scratch" \
            "postgres: self-reference message"
        expect_eq "$(cat "$tmp/pg_left_self")" "" "postgres: nothing left after the refusal"
    fi
else
    echo "note: no PostgreSQL server binaries: the PostgreSQL part is skipped"
fi

# ------------------------------------------------------------------- MariaDB
if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then
    line=$(TMPDIR=$tmp KEEP_SERVER=1 sh "$fixtures/tenants/make-tenants-mariadb.sh" "$tmp/mb" 10 2>"$tmp/make-mb.log" | tail -n 1)
    sock=${line% *}
    mpid=${line#* }
    if [ -z "$line" ] || [ ! -S "$sock" ]; then
        cat "$tmp/make-mb.log"
        fail "make-tenants-mariadb.sh failed"
    else
        my() { mariadb --no-defaults --socket="$sock" -uroot --batch -N "$@"; }
        admin="mariadb://root@localhost/?socket=$sock"
        report="$tmp/out/drill.json"
        my tenant_1 -e "INSERT INTO orders VALUES (11, 1, 110.00, '2026-01-30 11:00:00')"
        my tenant_3 -e "CREATE PROCEDURE n() SELECT COUNT(*) FROM tenant_3.orders"
        # a view, a routine and a trigger that do not name their database restore
        my tenant_4 -e "CREATE VIEW big AS SELECT id, amount FROM orders WHERE amount > 50;
            CREATE FUNCTION total() RETURNS DECIMAL(10,2) READS SQL DATA RETURN (SELECT SUM(amount) FROM orders);
            CREATE TRIGGER no_neg BEFORE INSERT ON orders FOR EACH ROW SET NEW.amount = ABS(NEW.amount)"
        mkdir -p "$tmp/mbself"
        mariadb-dump --no-defaults --socket="$sock" -uroot --routines --all-databases \
            >"$tmp/mbself/self-$(cat "$tmp/mb/stamp").sql"
        sum() { my -e "CHECKSUM TABLE tenant_1.orders, tenant_1.customers EXTENDED"; }
        before=$(sum)
        where='DATABASE()'
        config "$tmp/mb.json" mariadb "$tmp/mb/all" "$admin" '["tenant_1", "tenant_2"]'
        drill "$tmp/mb.json"
        passed_drill mariadb
        expect_eq "$(sum)" "$before" "mariadb: live tenant_1 untouched"
        expect_eq "$(my -e 'SELECT COUNT(*) FROM tenant_1.orders')" 11 "mariadb: live tenant_1 keeps its 11 rows"
        left() { my -e "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'rd\\_scratch%' " | LC_ALL=C sort | tr '\n' ' '; }
        expect_eq "$(left)" "" "mariadb: no scratch database left"

        # the negative control plants its faults in the scratch copy of the
        # tenant the seed draws, never in the server's own database of that name
        tables() { my -e "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ('tenant_1', 'tenant_2') ORDER BY 1" | paste -sd, -; }
        sums() { my -e "CHECKSUM TABLE $(tables) EXTENDED"; }
        nbefore=$(sums)
        config "$tmp/mbn.json" mariadb "$tmp/mb/all" "$admin" '["tenant_1", "tenant_2"]' '"negative_control": true,'
        drill "$tmp/mbn.json"
        case $(jqr '[.targets[0].checks[] | select(.type == "negative_control") | .database] | unique | join(" ")') in
        tenant_1 | tenant_2) ;;
        *) fail "mariadb: negative control results [$(jqr '[.targets[0].checks[] | select(.type == "negative_control") | "\(.object) \(.status)"] | join(", ")')]" ;;
        esac
        expect_eq "$(jqr '[.targets[0].checks[] | select(.type == "negative_control")] | length')" 4 "mariadb: four faults"
        expect_eq "$(sums)" "$nbefore" "mariadb: live tenant_1 and tenant_2 untouched by the negative control"
        expect_eq "$(left)" "" "mariadb: no scratch database left after the negative control"

        config "$tmp/mbk.json" mariadb "$tmp/mb/all" "$admin" '["tenant_2"]' '"keep_scratch": "always",'
        drill "$tmp/mbk.json"
        expect_rc 0 "mariadb: keep_scratch drill"
        case $(left) in
        rd_scratch_tenant_2_2*" "rd_scratch_tenants_2*" ") ;;
        *) fail "mariadb: kept [$(left)], want the tenant_2 and the target's scratch databases" ;;
        esac
        run "$RD_BIN" gc "$tmp/mbk.json" --older-than 0s
        expect_rc 0 "mariadb: gc"
        expect_eq "$(grep -c 'dropped scratch database rd_scratch_tenant' "$tmp/out.txt")" 2 "mariadb: gc dropped both"
        expect_eq "$(left)" "" "mariadb: nothing left after gc"

        config "$tmp/mbv.json" mariadb "$tmp/mbself" "$admin" '["tenant_4"]'
        drill "$tmp/mbv.json"
        expect_rc 0 "mariadb: a view, a function and a trigger of their own database"
        expect_eq "$(jqr '.targets[0].checks[] | select(.name == "order count") | .object')" \
            "tenant_4.order count" "mariadb: tenant_4 checked"
        config "$tmp/mbs.json" mariadb "$tmp/mbself" "$admin" '["tenant_3"]'
        drill "$tmp/mbs.json"
        expect_rc 1 "mariadb: self-reference refused"
        expect_eq "$(jqr '.targets[0].checks[] | select(.type == "restore") | .message' | head -n 1)" \
            "database tenant_3 cannot be restored under a scratch name on a shared server: its dump names the database itself (SELECT COUNT(*) FROM tenant_3.orders); restore it into an ephemeral scratch" \
            "mariadb: self-reference message"
        expect_eq "$(left)" "" "mariadb: nothing left after the refusal"
        kill "$mpid" 2>/dev/null
        i=0
        while kill -0 "$mpid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    fi
else
    echo "note: no mariadbd: the MariaDB part is skipped"
fi
no_leftovers "server scratch"
finish
