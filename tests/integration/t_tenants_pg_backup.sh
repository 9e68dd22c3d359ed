#!/bin/sh
# t_tenants_pg_backup.sh: `backup --all-databases` and `manifest
# --all-databases` / `--databases GLOB...` on PostgreSQL (issue 16 item 4).
# A real cluster holds 10 tenants, a central database and four hostile
# names; while it runs: a cluster backup (one plain file in pg_dumpall's
# layout and its cluster manifest, one snapshot per database), a `manifest
# --databases`, then a changed value in tenant_7 and a `manifest
# --all-databases`. Drills then sample 5 databases of the backup and pass
# against its own manifest (rowcount, schema, integrity, checksum per
# database) and against the `manifest --databases` one; against the manifest
# taken after the change, tenant_7 fails its checksum and tenant_8 passes;
# the same against the live cluster as reference.dsn (each database against
# its namesake).
. "$(dirname "$0")/../../fixtures/testlib.sh"
. "$fixtures/tenants/tenantlib.sh"
need_bin
command -v python3 >/dev/null 2>&1 || { echo "skipping: python3 is not installed"; exit 77; }
mkdir -p "$tmp/cl"
cat >"$tmp/hook.sh" <<HOOK
set -e
dsn="host=\$PGHOST port=\$PGPORT user=postgres dbname=postgres"
"$RD_BIN" backup --engine postgres --dsn "\$dsn" --all-databases -o "$tmp/cl/tenants-\$ts.sql" 2>"$tmp/backup.err"
"$RD_BIN" manifest --engine postgres --dsn "\$dsn" --databases 'tenant_*' central -o "$tmp/m-before.json"
# refused: another format, a glob that matches nothing (exit 2, nothing written)
rc=0; "$RD_BIN" backup --engine postgres --dsn "\$dsn" --all-databases --format custom -o "$tmp/x.dump" 2>"$tmp/format.err" || rc=\$?
echo "\$rc" >"$tmp/format.rc"
rc=0; "$RD_BIN" backup --engine postgres --dsn "\$dsn" --databases 'nomatch*' -o "$tmp/y.sql" 2>"$tmp/nomatch.err" || rc=\$?
echo "\$rc" >"$tmp/nomatch.rc"
psql -X -q -v ON_ERROR_STOP=1 -d tenant_7 -c "UPDATE orders SET amount = 100.50 WHERE id = 10"
"$RD_BIN" manifest --engine postgres --dsn "\$dsn" --all-databases -o "$tmp/m-after.json"
# reference.dsn per database: each drilled database against the live
# database of the same name (tenant_7 changed since the backup); the dump
# alone in its catalog, so that no manifest takes the reference's place
mkdir -p "$tmp/cl2"
cp "$tmp/cl/tenants-\$ts.sql" "$tmp/cl2/"
cat >"$tmp/ref.json" <<JSON
{ "version": 1, "output": {"dir": "$tmp/refout", "json": "drill.json"},
  "targets": [ { "name": "tenants", "engine": "postgres",
    "catalog": {"type": "dir", "path": "$tmp/cl2", "pattern": "*.sql", "time_from": "name"},
    "databases": ["tenant_7", "tenant_8"], "reference": {"dsn": "\$dsn"},
    "checks": [ {"type": "rowcount"}, {"type": "checksum"} ] } ] }
JSON
rc=0; "$RD_BIN" run "$tmp/ref.json" --seed 1 --no-progress >"$tmp/ref.out" 2>"$tmp/ref.err" || rc=\$?
echo "\$rc" >"$tmp/ref.rc"
HOOK
tenants_fixture pg 10 TENANTS_PG_HOOK="sh $tmp/hook.sh"
dump="$tmp/cl/tenants-$ts.sql"
long=yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy

# the refusals
expect_eq "$(cat "$tmp/format.rc")" 2 "--format custom: exit"
expect_has "$tmp/format.err" 'restoredrill: backup: --all-databases and --databases write pg_dumpall'"'"'s plain layout: --format plain (the default with them), got "custom"' "--format custom: message"
expect_eq "$(cat "$tmp/nomatch.rc")" 2 "no match: exit"
expect_has "$tmp/nomatch.err" 'restoredrill: backup: --databases: "nomatch*" matches no database' "no match: message"
[ -e "$tmp/x.dump" ] || [ -e "$tmp/y.sql" ] || [ -e "$tmp/y.sql.partial" ] && fail "a refused backup left a file"

# reference.dsn per database: tenant_7's orders differ from the live tenant_7, nothing else
expect_eq "$(cat "$tmp/ref.rc")" 1 "reference.dsn: exit"
expect_eq "$(jq -r '[.targets[0].checks[] | select(.status != "passed") | "\(.type) \(.status) \(.object)"] | join("|")' "$tmp/refout/drill.json")" \
    "checksum failed tenant_7.public.orders" "reference.dsn: only tenant_7's orders differ"
expect_eq "$(jq -r '[.targets[0].checks[] | select(.database == "tenant_8") | "\(.type) \(.status)"] | unique | join("|")' "$tmp/refout/drill.json")" \
    "checksum passed|rowcount passed" "reference.dsn: tenant_8 compared and passed"

# the file: pg_dumpall's layout, every non-system database once, in name order
expect_eq "$(head -n 2 "$dump" | tail -n 1)" "-- PostgreSQL database cluster dump" "header"
expect_eq "$(tail -n 3 "$dump" | head -n 1)" "-- PostgreSQL database cluster dump complete" "trailer"
sections=$(sed -n 's/^-- Database "\(.*\)" dump$/\1/p' "$dump" | tr '\n' '|')
expect_eq "$sections" "central|dq\"name|it's|tenant_1|tenant_10|tenant_2|tenant_3|tenant_4|tenant_5|tenant_6|tenant_7|tenant_8|tenant_9|tenant_ünïcødé|$long|" "sections"
expect_has "$dump" "CREATE ROLE app;" "globals"
# the manifest: one section per database, each with its own exported
# snapshot, and the artifact's sha256
side="$dump.manifest.json"
expect_eq "$(jq -r '[.database, (.databases | length), (.databases | map(.snapshot) | unique | length)] | join(" ")' "$side")" \
    " 15 15" "manifest: cluster, 15 sections, 15 snapshots"
expect_eq "$(jq -r '.databases[] | select(.database == "tenant_7") | .tables[] | select(.name == "orders") | .rows' "$side")" 10 "manifest: rows"
expect_eq "$(jq -r '.artifact.sha256' "$side")" "$(sha256sum "$dump" | cut -d' ' -f1)" "manifest: sha256"
expect_eq "$(jq -r '[.databases[].database] | join("|")' "$tmp/m-before.json")" \
    "central|tenant_1|tenant_10|tenant_2|tenant_3|tenant_4|tenant_5|tenant_6|tenant_7|tenant_8|tenant_9|tenant_ünïcødé" "manifest --databases"

# config FILE DATABASES_JSON SAMPLE [MANIFEST]
config() {
    ref=""
    [ -n "${4:-}" ] && ref=", \"reference\": {\"manifest\": \"$4\"}"
    cat >"$1" <<JSON
{ "version": 1, "name": "tenants",
  "output": {"dir": "$tmp/out", "json": "drill.json", "junit": "junit.xml"},
  "targets": [ {
    "name": "tenants", "engine": "postgres",
    "catalog": {"type": "dir", "path": "$tmp/cl", "pattern": "*.sql", "time_from": "name"},
    "databases": $2, "sample": {"strategy": "latest", "databases": $3}$ref,
    "checks": [ {"type": "rowcount"}, {"type": "schema"}, {"type": "integrity"}, {"type": "checksum"},
      {"type": "sql", "name": "where", "query": "SELECT current_database()", "expect": "~ ."} ] } ] }
JSON
}

names="central $(seq -f 'tenant_%g' 1 10) tenant_ünïcødé"
for seed in 1 99; do
    config "$tmp/drill.json" '["tenant_*", "central"]' 5
    # shellcheck disable=SC2086
    tenants_sampled "$seed" 5 "15 12" $names
    expect_eq "$(jqr '[.targets[0].checks[] | select(.name == "where") | .actual] | join(" ")') " \
        "$want" "seed $seed: each database under its own name"
    expect_eq "$(jqr '[.targets[0].checks[] | select(.type == "checksum") | .database] | unique | length')" 5 \
        "seed $seed: checksums of 5 databases"
    expect_eq "$(jqr '[.targets[0].checks[] | select(.type == "rowcount" or .type == "checksum") | .status] | unique | join(" ")')" \
        passed "seed $seed: against the backup's manifest"
done
no_leftovers "samples"

# against `manifest --databases` taken after the backup, before the change
config "$tmp/drill.json" '["tenant_*"]' 5 "$tmp/m-before.json"
tenants_drill 4
expect_rc 0 "manifest --databases"
expect_eq "$(jqr '[.targets[0].checks[] | select(.type == "checksum") | .status] | unique | join(" ")')" passed "manifest --databases: checksums"

# against the manifest taken after tenant_7 changed: tenant_7 fails, tenant_8 does not
config "$tmp/drill.json" '["tenant_7", "tenant_8"]' 0 "$tmp/m-after.json"
tenants_drill 1
expect_rc 1 "changed tenant"
expect_eq "$(jqr '[.targets[0].checks[] | select(.status != "passed") | "\(.status) \(.object)"] | join("|")')" \
    "failed tenant_7.public.orders" "changed tenant: only tenant_7's orders fail"
expect_eq "$(jqr '.targets[0].checks[] | select(.object == "tenant_7.public.orders" and .type == "checksum") | .message')" \
    "1 of 1 chunk differs from the manifest: all rows (10 rows, manifest 10)" "changed tenant: message"
expect_eq "$(jqr '[.targets[0].checks[] | select(.database == "tenant_8") | .status] | unique | join(" ")')" \
    passed "tenant_8 untouched"
no_leftovers "changed"
finish
