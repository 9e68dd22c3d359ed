#!/bin/sh
# t_tenants_pg_negative.sh: the negative control on a PostgreSQL tenant
# target (issue 16). A real cluster (fixtures/tenants/make-tenants-pg.sh)
# holds 6 tenants, a central database and four hostile names; the tenants
# and central get a third table and a secondary index; `restoredrill backup
# --all-databases`
# writes the recovery point and its cluster manifest. Drills sample 3
# databases, pass their checks, then plant the faults in one of them drawn
# from the seed (fixtures/tenants/pick.py's generator) and catch each there
# against that database's manifest section; with only an `sql` check that
# does not look at the tables the negative control fails the drill; `run
# --negative-control` works on a target without the key; the reference.dsn
# variant (live cluster, each database against its namesake) catches them
# too; so does a point of per-database dumps, as far as its checks can.
. "$(dirname "$0")/../../fixtures/testlib.sh"
. "$fixtures/tenants/tenantlib.sh"
need_bin
command -v python3 >/dev/null 2>&1 || { echo "skipping: python3 is not installed"; exit 77; }
mkdir -p "$tmp/cl"
cat >"$tmp/hook.sh" <<HOOK
set -e
for db in \$(psql -X -At -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'tenant\\\\_%' OR datname = 'central'"); do
    psql -X -q -v ON_ERROR_STOP=1 -d "\$db" >/dev/null <<'SQL'
CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);
INSERT INTO notes VALUES (1, 'alpha'), (2, 'beta'), (3, 'gamma');
CREATE INDEX orders_created_idx ON orders (created_at);
SQL
done
dsn="host=\$PGHOST port=\$PGPORT user=postgres dbname=postgres"
"$RD_BIN" --quiet backup --engine postgres --dsn "\$dsn" --all-databases -o "$tmp/cl/tenants-\$ts.sql"
# the live cluster as the reference: negative control in tenant_5
mkdir -p "$tmp/cl2"
cp "$tmp/cl/tenants-\$ts.sql" "$tmp/cl2/"
cat >"$tmp/ref.json" <<JSON
{ "version": 1, "output": {"dir": "$tmp/refout", "json": "drill.json"},
  "targets": [ { "name": "tenants", "engine": "postgres", "negative_control": true,
    "catalog": {"type": "dir", "path": "$tmp/cl2", "pattern": "*.sql", "time_from": "name"},
    "databases": ["tenant_5"], "reference": {"dsn": "\$dsn"},
    "checks": [ {"type": "rowcount"}, {"type": "integrity"}, {"type": "schema"}, {"type": "checksum"} ] } ] }
JSON
rc=0; "$RD_BIN" run "$tmp/ref.json" --seed 1 --no-progress >"$tmp/ref.out" 2>"$tmp/ref.err" || rc=\$?
echo "\$rc" >"$tmp/ref.rc"
HOOK
TENANTS_PG_HOOK="sh $tmp/hook.sh" sh "$fixtures/tenants/make-tenants-pg.sh" "$tmp/t" 6 >"$tmp/make.log" 2>&1
mrc=$?
[ $mrc -eq 77 ] && { echo "skipping: no postgresql server binaries"; exit 77; }
[ $mrc -eq 0 ] || { cat "$tmp/make.log"; echo "make-tenants-pg.sh failed ($mrc)"; exit 1; }

caught() { # DB: every fault caught in DB
    echo "passed $1.deleted row|passed $1.changed value|passed $1.dropped index|passed $1.orphaned row"
}

# the reference.dsn variant (run in the hook while the cluster was up)
expect_eq "$(cat "$tmp/ref.rc")" 0 "reference.dsn: exit"
expect_eq "$(jq -r '[.targets[0].checks[] | select(.type == "negative_control") | "\(.status) \(.object)"] | join("|")' "$tmp/refout/drill.json")" \
    "$(caught tenant_5)" "reference.dsn: every fault caught in tenant_5"

# config FILE DATABASES_JSON SAMPLE CHECKS_JSON [EXTRA]
config() {
    cat >"$1" <<JSON
{ "version": 1, "output": {"dir": "$tmp/out", "json": "drill.json", "junit": "junit.xml",
             "prometheus": "restoredrill.prom", "html": "evidence.html"},
  "targets": [ { "name": "tenants", "engine": "postgres",
    "catalog": {"type": "dir", "path": "$tmp/cl", "pattern": "*.sql", "time_from": "name"},
    "databases": $2, "sample": {"databases": $3}, "checks": $4 ${5:-} } ] }
JSON
}
all='[{"type": "rowcount"}, {"type": "integrity"}, {"type": "schema"}, {"type": "checksum"}]'
names="central $(seq -f 'tenant_%g' 1 6) tenant_ünïcødé"
for seed in 3 8; do
    config "$tmp/drill.json" '["tenant_*", "central"]' 3 "$all" ', "negative_control": true'
    # shellcheck disable=SC2086
    tenants_nc_seed "$seed" 3 $names
    expect_eq "$(nc_results)" "$(caught "$db")" "seed $seed: every fault caught in $db"
    expect_eq "$(jqr '.targets[0].checks[] | select(.type == "negative_control" and .object == "'"$db"'.changed value") | .message')" \
        "public.customers: one row's name changed caught by checksum: 1 of 1 chunk differs from the manifest: all rows (3 rows, manifest 3)" \
        "seed $seed: the changed value, against $db's manifest section"
    expect_eq "$(jqr '.targets[0].checks[] | select(.type == "negative_control" and .object == "'"$db"'.dropped index") | .expected')" \
        "a check fails on $db.indexes" "seed $seed: the dropped index"
    nct=$(jqr '.targets[0].phases[] | select(.name == "negative_control") | .seconds')
    [ -n "$nct" ] || fail "seed $seed: no negative_control phase"
    # the reports group the results under the database
    expect_has "$tmp/out/junit.xml" "classname=\"restoredrill.tenants.$db.negative_control\"" "seed $seed: junit"
    expect_has "$tmp/out/restoredrill.prom" "restoredrill_database_success{target=\"tenants\",database=\"$db\"} 1" \
        "seed $seed: prometheus"
    sh "$(dirname "$0")/../validate-reports.sh" "$tmp/out" >"$tmp/validate.log" 2>&1 ||
        { cat "$tmp/validate.log"; fail "seed $seed: reports do not validate"; }
    grep -q '^skip:' "$tmp/validate.log" && { cat "$tmp/validate.log"; fail "seed $seed: a validator was skipped"; }
done
no_leftovers "negative control"

# checks that cannot see the faults: the negative control fails the drill
tenants_nc_blind "$tmp/drill.json"
expect_eq "$(jqr '.targets[0].checks[] | select(.object == "tenant_2.deleted row") | .message')" \
    "public.notes: one row deleted: no check caught it (re-ran: none; checks that can: rowcount, checksum, diff)" \
    "blind: message"
expect_eq "$(jqr '.targets[0].error')" \
    "negative_control tenant_2.deleted row: public.notes: one row deleted: no check caught it (re-ran: none; checks that can: rowcount, checksum, diff)" \
    "blind: the target fails, naming the database"

# run --negative-control on a target without the key; then with rowcount
# alone, only the deleted row is caught
config "$tmp/drill.json" '["tenant_6"]' 0 "$all"
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --seed 2 --no-progress --negative-control
expect_rc 0 "--negative-control"
expect_eq "$(nc_results)" "$(caught tenant_6)" "--negative-control: every fault caught"
sed -i 's/"checks": .*/"checks": [{"type": "rowcount"}] } ] }/' "$tmp/drill.json"
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --seed 2 --no-progress --negative-control
expect_rc 1 "--negative-control, rowcount only"
expect_eq "$(nc_results)" "passed tenant_6.deleted row|failed tenant_6.changed value|failed tenant_6.dropped index|failed tenant_6.orphaned row" \
    "--negative-control, rowcount only: only the deleted row is caught"
no_leftovers "blind"

# per-database dumps (catalog.per_database; the fixture's pg_dump -Fc files,
# taken before notes and the index were added, without manifests): the
# faults go into one restored database; integrity catches the orphan, the
# changed value escapes, the other two have nothing to be planted in
cat >"$tmp/drill.json" <<JSON
{ "version": 1, "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [ { "name": "tenants", "engine": "postgres", "negative_control": true,
    "catalog": {"type": "dir", "path": "$tmp/t/one", "pattern": "tenant_*.dump", "per_database": true},
    "databases": ["tenant_*"], "sample": {"databases": 2}, "checks": [{"type": "integrity"}] } ] }
JSON
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --seed 4 --no-progress
expect_rc 1 "per-database dumps"
# shellcheck disable=SC2086
drilled=$(python3 "$fixtures/tenants/pick.py" 4 2 $(seq -f 'tenant_%g' 1 6) | tr '\n' ' ')
# shellcheck disable=SC2086
db=$(nc_db 4 $drilled)
expect_eq "$(nc_results)" "skipped $db.deleted row|failed $db.changed value|skipped $db.dropped index|passed $db.orphaned row" \
    "per-database dumps: the faults in $db"
expect_eq "$(jqr '.targets[0].checks[] | select(.object == "'"$db"'.dropped index") | .message')" \
    "dropped index not planted: no index outside a constraint in the restored database" "per-database dumps: nothing to drop"
no_leftovers "per-database"
finish
