#!/bin/sh
# t_tenants_mariadb_ref.sh: tenant databases on MariaDB against a live
# reference server (reference.dsn with databases) and with the negative
# control (issue 16). A real server (fixtures/tenants/make-tenants-mariadb.sh,
# kept running) holds 6 tenants, a central database and four hostile names,
# each with a third table and a secondary index; one `mariadb-dump
# --all-databases` of it is the recovery point. Drills then:
# - compare the hostile names with their namesakes on the live server (pass);
# - plant the negative control's faults in one drilled database, drawn from
#   the seed (fixtures/tenants/pick.py's generator), and catch each there
#   (rowcount, checksum, schema, integrity against the live namesake);
# - fail the negative control when the only check is an `sql` one that does
#   not look at the tables; `run --negative-control` on a target without the
#   key does the same as the key;
# - after a changed row in tenant_3 and tenant_4 dropped on the live server:
#   tenant_3 fails its checksum on orders and nothing else, tenant_4 is an
#   error naming it, tenant_2 passes;
# - compare tenant_2 on one reference connection (one snapshot): a checksum
#   with "parallel": 4 opens no worker connection on the reference.
. "$(dirname "$0")/../../fixtures/testlib.sh"
. "$fixtures/tenants/tenantlib.sh"
need_bin
command -v python3 >/dev/null 2>&1 || { echo "skipping: python3 is not installed"; exit 77; }
out=$(KEEP_SERVER=1 TMPDIR="$tmp" RD_BIN="" sh "$fixtures/tenants/make-tenants-mariadb.sh" "$tmp/t" 6 2>"$tmp/make.log")
mrc=$?
[ $mrc -eq 77 ] && { echo "skipping: no mariadb server binaries"; exit 77; }
[ $mrc -eq 0 ] || { cat "$tmp/make.log"; echo "make-tenants-mariadb.sh failed ($mrc)"; exit 1; }
sock=$(echo "$out" | tail -n 1 | cut -d' ' -f1)
live_pid=$(echo "$out" | tail -n 1 | cut -d' ' -f2)
stop_live() {
    [ -n "$live_pid" ] || return 0
    kill "$live_pid" 2>/dev/null
    i=0
    while kill -0 "$live_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    kill -9 "$live_pid" 2>/dev/null
    live_pid=""
}
trap 'stop_live; cleanup' EXIT
my() { mariadb --no-defaults --socket="$sock" -uroot --batch --skip-column-names --default-character-set=utf8mb4 "$@"; }
ts=$(cat "$tmp/t/stamp")
long=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx

# every database gets a third table (notes) and a secondary index on orders,
# so that each fault has a table of its own; then the recovery point
my -e "SELECT CONCAT('USE \`', REPLACE(schema_name, '\`', '\`\`'), '\`; ',
  'CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(40) NOT NULL); ',
  'INSERT INTO notes VALUES (1, ''alpha''), (2, ''beta''), (3, ''gamma''); ',
  'CREATE INDEX orders_created_idx ON orders (created_at);')
  FROM information_schema.schemata
  WHERE schema_name NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')" >"$tmp/extra.sql" ||
    fail "listing the databases"
my <"$tmp/extra.sql" || fail "adding notes and the index"
mkdir -p "$tmp/all"
mariadb-dump --no-defaults --socket="$sock" -uroot --single-transaction --routines --triggers \
    --hex-blob --default-character-set=utf8mb4 --all-databases >"$tmp/all/tenants-$ts.sql" || fail "dump"
dsn="mariadb://root@localhost/?socket=$sock"

# config FILE DATABASES_JSON SAMPLE CHECKS_JSON [EXTRA]
config() {
    cat >"$1" <<JSON
{ "version": 1, "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [ { "name": "tenants", "engine": "mariadb",
    "catalog": {"type": "dir", "path": "$tmp/all", "pattern": "*.sql", "time_from": "name"},
    "databases": $2, "sample": {"databases": $3},
    "reference": ${refjson:-{\"dsn\": \"$dsn\"\}}, "checks": $4 ${5:-} } ] }
JSON
}
compare='[{"type": "rowcount"}, {"type": "checksum"}, {"type": "schema"}]'
all='[{"type": "rowcount"}, {"type": "integrity"}, {"type": "schema"}, {"type": "checksum"}]'

# hostile names against their namesakes on the live server, as a user
# with a password (password_env): the password is in no output
my -e "CREATE USER 'ref'@'localhost' IDENTIFIED BY 'Canary-S3cret-77'; GRANT SELECT, SHOW VIEW ON *.* TO 'ref'@'localhost'" ||
    fail "creating the reference user"
refjson="{\"dsn\": \"mariadb://ref@localhost/?socket=$sock\", \"password_env\": \"REF_PW\"}"
config "$tmp/drill.json" "[\"it's\", \"back\`tick\", \"tenant_ü*\", \"$long\"]" 0 "$compare"
refjson=""
rm -rf "$tmp/out"
REF_PW=Canary-S3cret-77 run "$RD_BIN" run "$tmp/drill.json" --seed 5 --no-progress --verbose
if grep -rl 'Canary-S3cret-77' "$tmp/out" "$tmp/out.txt" "$tmp/err.txt"; then fail "the password is in an output"; fi
expect_rc 0 "hostile names against the reference"
expect_eq "$(jqr '.targets[0].databases.drilled | join("|")')" "back\`tick|it's|tenant_ünïcødé|$long" "hostile: drilled"
expect_eq "$(jqr '[.targets[0].checks[] | select(.type == "rowcount" or .type == "checksum" or .type == "schema") | .database] | unique | length')" \
    4 "hostile: every database compared"
expect_eq "$(jqr '[.targets[0].checks[] | .status] | unique | join(" ")')" passed "hostile: all passed"
expect_eq "$(jqr '.targets[0].checks[] | select(.type == "rowcount" and .object == "back`tick.orders") | "\(.expected) \(.actual)"')" \
    "10 10" "hostile: rows of back\`tick.orders"

# the negative control in one drilled database, drawn from the seed
names="central $(seq -f 'tenant_%g' 1 6) tenant_ünïcødé"
for seed in 3 11; do
    config "$tmp/drill.json" '["tenant_*", "central"]' 3 "$all" ', "negative_control": true'
    # shellcheck disable=SC2086
    tenants_nc_seed "$seed" 3 $names
    expect_eq "$(nc_results)" "passed $db.deleted row|passed $db.changed value|passed $db.dropped index|passed $db.orphaned row" \
        "seed $seed: every fault caught in $db"
    expect_eq "$(jqr '.targets[0].checks[] | select(.type == "negative_control" and .object == "'"$db"'.orphaned row") | .message')" \
        "orders: one row's customer_id set to a value customers does not hold (foreign key orders_ibfk_1) caught by integrity: 1 orphan row: (customer_id) not found in customers (id): 1000006" \
        "seed $seed: the orphan"
    expect_eq "$(jqr '.targets[0].checks[] | select(.type == "negative_control" and .object == "'"$db"'.deleted row") | .expected')" \
        "a check fails on $db.notes" "seed $seed: deleted row in notes, caught there"
    expect_has "$tmp/err.txt" "negative control: faults in database $db (drawn from the seed" "seed $seed: logged"
    [ "$seed" = 3 ] && first_db=$db
done
# the two seeds drew two different databases for the faults
[ "$db" = "$first_db" ] && fail "seeds 3 and 11 drew the same database ($db): pick other seeds"

# checks that cannot see the faults: the negative control fails the drill
tenants_nc_blind "$tmp/drill.json"
expect_eq "$(jqr '.targets[0].checks[] | select(.object == "tenant_2.changed value") | .message')" \
    "customers: one row's name changed: no check caught it (re-ran: none; checks that can: checksum, diff)" \
    "blind: message"
expect_eq "$(jqr '.targets[0].checks[] | select(.name == "one") | .status')" passed "blind: the sql check passed"

# run --negative-control on a target without the key
config "$tmp/drill.json" '["tenant_5"]' 0 "$all"
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --seed 2 --no-progress --negative-control
expect_rc 0 "--negative-control"
expect_eq "$(nc_results)" "passed tenant_5.deleted row|passed tenant_5.changed value|passed tenant_5.dropped index|passed tenant_5.orphaned row" \
    "--negative-control: every fault caught"
run "$RD_BIN" run "$tmp/drill.json" --seed 2 --no-progress
expect_eq "$(nc_results)" "" "without the option nothing is planted"
no_leftovers "negative control"

# one snapshot per database: the checksum of a tenant opens no worker
# connection on the reference (MariaDB workers cannot share the snapshot):
# the drill connects twice, once for the server's identity, once for tenant_2
conns() { my -e "SHOW GLOBAL STATUS LIKE 'Connections'" | cut -f2; }
config "$tmp/drill.json" '["tenant_2"]' 0 '[{"type": "checksum", "parallel": 4}]'
rm -rf "$tmp/out"
before=$(conns)
run "$RD_BIN" run "$tmp/drill.json" --seed 1 --no-progress
after=$(conns)
expect_rc 0 "one snapshot"
expect_eq "$((after - before - 1))" 2 "one snapshot: connections to the reference"

# the live server moves on: a changed row in tenant_3, tenant_4 dropped
my -e "UPDATE tenant_3.orders SET amount = 100.50 WHERE id = 10; DROP DATABASE tenant_4" || fail "changing the live server"
config "$tmp/drill.json" '["tenant_2", "tenant_3", "tenant_4"]' 0 '[{"type": "rowcount"}, {"type": "checksum"}]'
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --seed 1 --no-progress
expect_rc 1 "changed reference"
expect_eq "$(jqr '[.targets[0].checks[] | select(.status != "passed") | "\(.type) \(.status) \(.object)"] | join("|")')" \
    "checksum failed tenant_3.orders|verify error tenant_4" "changed reference: tenant_3's orders and tenant_4"
msg=$(jqr '.targets[0].checks[] | select(.object == "tenant_4") | .message')
case $msg in
"database tenant_4: reference.dsn for database tenant_4: "*"Unknown database 'tenant_4'"*) ;;
*) fail "missing on the reference: the message does not name tenant_4: $msg" ;;
esac
expect_eq "$(jqr '[.targets[0].checks[] | select(.database == "tenant_2") | "\(.type) \(.status)"] | unique | join("|")')" \
    "checksum passed|rowcount passed" "tenant_2 compared and passed"
expect_eq "$(jqr '[.targets[0].checks[] | select(.database == "tenant_3" and .type == "rowcount") | .status] | unique | join(" ")')" \
    passed "tenant_3: row counts unchanged"
no_leftovers "changed reference"
stop_live
finish
