#!/bin/sh
# t_tenants_mariadb.sh: tenant databases from one `mariadb-dump
# --all-databases` (issue 16). A real server holds 50 tenants, a central
# database and four hostile names; drills sample 5 at a time over several
# seeds (the exact picks of fixtures/tenants/pick.py, and only those are
# restored), run every check per database (objects, JUnit classnames,
# Prometheus labels, HTML groups), and fail as they must: a sampled tenant
# with a missing row or a changed value, a dump cut inside a tenant's
# section, a glob that matches nothing (exit 2). Hostile names restore and
# pass.
. "$(dirname "$0")/../../fixtures/testlib.sh"
. "$fixtures/tenants/tenantlib.sh"
need_bin
command -v python3 >/dev/null 2>&1 || { echo "skipping: python3 is not installed"; exit 77; }
tenants_fixture mariadb 50
long=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx

tenants_engine=mariadb

names="central $(seq -f 'tenant_%g' 1 50) tenant_ünïcødé" # tenant_* matches the unicode name too
for seed in 1 2 1234; do
    tenants_config "$tmp/drill.json" "$all" '["tenant_*", "central"]' 5 5
    # shellcheck disable=SC2086
    tenants_sampled "$seed" 5 "55 52" $names
    # every check ran in every drilled database, objects carry the database
    expect_eq "$(jqr '[.targets[0].checks[] | select(.database != null) | .database] | unique | join(" ")') " \
        "$want" "seed $seed: databases of the results"
    expect_eq "$(jqr '[.targets[0].checks[] | select(.name == "order count")] | length')" 5 \
        "seed $seed: one order count per database"
    first=$(echo "$want" | cut -d' ' -f1)
    expect_eq "$(jqr "[.targets[0].checks[] | select(.name == \"order count\" and .database == \"$first\") | .object] | .[0]")" \
        "$first.order count" "seed $seed: object"
    expect_has "$tmp/out/junit.xml" "classname=\"restoredrill.tenants.$first.order count\"" "seed $seed: junit"
    expect_has "$tmp/out/restoredrill.prom" "restoredrill_database_success{target=\"tenants\",database=\"$first\"} 1" \
        "seed $seed: prometheus"
    expect_has "$tmp/out/evidence.html" "Database <span class=\"mono\">$first</span>" "seed $seed: html group"
done
sh "$(dirname "$0")/../validate-reports.sh" "$tmp/out" >"$tmp/validate.log" 2>&1 ||
    { cat "$tmp/validate.log"; fail "reports do not validate"; }
xsd="$fixtures/../../shared/validators/junit-10.xsd"
[ -f "$xsd" ] && command -v xmllint >/dev/null 2>&1 && { xmllint --noout --schema "$xsd" "$tmp/out/junit.xml" 2>"$tmp/xmllint.log" ||
    { cat "$tmp/xmllint.log"; fail "junit does not validate"; }; }
no_leftovers "samples"

# hostile names restore and pass (quote, backtick, unicode, 64 characters)
tenants_config "$tmp/drill.json" "$all" "[\"it's\", \"back\`tick\", \"tenant_ü*\", \"$long\"]" 0 4
tenants_drill 5
expect_rc 0 "hostile names"
expect_eq "$(jqr '.targets[0].databases.drilled | join("|")')" "back\`tick|it's|tenant_ünïcødé|$long" "hostile: drilled"
expect_eq "$(jqr '[.targets[0].checks[] | select(.status == "passed" and .name == "order total")] | length')" 4 "hostile: passed"

# a glob that matches nothing: configuration error, exit 2
tenants_config "$tmp/drill.json" "$all" '["tenant_*", "tenant%"]' 5 5
tenants_drill 1
expect_rc 2 "glob matching nothing"
expect_has "$tmp/err.txt" 'targets[0].databases[1]: "tenant%" matches none of the 55 databases of the recovery point' "glob message"
expect_eq "$(jqr '[.targets[0].phases[] | select(.name == "provision" or .name == "restore") | .status] | join(" ")')" \
    "skipped skipped" "glob: nothing provisioned"
no_leftovers "glob"

# a sampled tenant with a missing row and a changed value: that tenant fails,
# the other passes
mkdir -p "$tmp/bad"
python3 - "$all/tenants-$ts.sql" "$tmp/bad/tenants-$ts.sql" <<'PY'
import sys
src, dst = sys.argv[1], sys.argv[2]
out, cur = [], None
for line in open(src, encoding="utf-8"):
    if line.startswith("-- Current Database: `"):
        cur = line.strip()[len("-- Current Database: `"):-1]
    if cur == "tenant_7" and line.startswith("(3,2,30.00,"):
        continue  # a missing row
    if cur == "tenant_7" and line.startswith("(10,1,100.00,"):
        line = line.replace("(10,1,100.00,", "(10,1,100.50,")  # a changed value
    out.append(line)
open(dst, "w", encoding="utf-8").write("".join(out))
PY
tenants_config "$tmp/drill.json" "$tmp/bad" '["tenant_7", "tenant_8"]' 0 2
tenants_changed
expect_has "$tmp/out/restoredrill.prom" 'restoredrill_database_success{target="tenants",database="tenant_7"} 0' "prom tenant_7"

# a dump cut in the middle of a tenant's section
tenants_cut_at '-- Current Database: `tenant_20`' 'INSERT INTO `orders`' 40
expect_eq "$(jqr '.targets[0].checks[] | select(.type == "restore") | .status')" failed "cut: restore failed"

# backup --all-databases: a cluster manifest from the dump's snapshot; the
# databases are listed from it (no scan), the default checks run per
# database against its section
b="$tmp/t/backup"
expect_eq "$(jq -r '[.database, (.databases | length), .databases[0].database, (.databases[] | select(.database == "tenant_7") | .tables[] | select(.name == "orders") | .rows)] | map(tostring) | join(" ")' "$b/tenants-$ts.sql.manifest.json")" \
    "null 55 back\`tick 10" "cluster manifest"
expect_eq "$(jq -r '[.databases[].database] | join(" ")' "$tmp/t/some/tenants-$ts.sql.manifest.json")" \
    "central tenant_10 tenant_11 tenant_12 tenant_13 tenant_14 tenant_15 tenant_16 tenant_17 tenant_18 tenant_19" \
    "backup --databases"
cat >"$tmp/drill.json" <<JSON
{ "version": 1, "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [ { "name": "tenants", "engine": "mariadb",
    "catalog": {"type": "dir", "path": "$b", "pattern": "*.sql", "time_from": "name"},
    "databases": ["tenant_*", "central"], "sample": {"databases": 3} } ] }
JSON
tenants_drill 2
expect_rc 0 "backup --all-databases drill"
# shellcheck disable=SC2086
want=$(python3 "$fixtures/tenants/pick.py" 2 3 $names | tr '\n' ' ')
expect_eq "$(jqr '.targets[0].databases.drilled | join(" ")') " "$want" "manifest: picks"
expect_has "$tmp/err.txt" "cluster manifest $b/tenants-$ts.sql.manifest.json (55 databases)" "listed from the manifest"
first=$(echo "$want" | cut -d' ' -f1)
expect_eq "$(jqr "[.targets[0].checks[] | select(.database == \"$first\") | .type] | unique | join(\" \")")" \
    "integrity rowcount schema" "manifest: default checks per database"
expect_eq "$(jqr ".targets[0].checks[] | select(.type == \"rowcount\" and .object == \"$first.orders\") | .actual")" \
    10 "manifest: rowcount"

# a database in the manifest but not in the dump (its section removed, the
# manifest's sha256 set to the edited file's, its section list dropped: the
# pieces of the original no longer describe the edited file, so the whole
# stream is read; t_tenants_ranges.sh has the case with sections)
mkdir -p "$tmp/gone"
python3 - "$b/tenants-$ts.sql" "$tmp/gone/tenants-$ts.sql" <<'PY'
import hashlib, json, sys
src, dst = sys.argv[1], sys.argv[2]
out, cur = [], None
for line in open(src, encoding="utf-8"):
    if line.startswith("-- Current Database: `"):
        cur = line.strip()[len("-- Current Database: `"):-1]
    if cur != "tenant_7":
        out.append(line)
data = "".join(out).encode()
open(dst, "wb").write(data)
m = json.load(open(src + ".manifest.json"))
m["artifact"]["sha256"] = hashlib.sha256(data).hexdigest()
m["artifact"]["bytes"] = len(data)
m["artifact"].pop("sections", None)
json.dump(m, open(dst + ".manifest.json", "w"))
PY
sed -i "s|\"path\": \"$b\"|\"path\": \"$tmp/gone\"|" "$tmp/drill.json"
tenants_drill 2
expect_rc 1 "database missing from the dump"
expect_eq "$(jqr '.targets[0].checks[] | select(.name == "databases") | "\(.object): \(.status): \(.message)"')" \
    "tenant_7: failed: database tenant_7 is in the manifest but not in the dump" "missing database result"
expect_eq "$(jqr '.targets[0].error')" "restore: database tenant_7 is in the manifest but not in the dump" "missing database error"
no_leftovers "manifests"

# per-database dumps: tenant_<k>-<ts>.sql (each of its database alone, with
# its sidecar manifest) grouped into one point by the time in their names;
# each sampled database is restored from its own file under its own name
cat >"$tmp/drill.json" <<JSON
{ "version": 1, "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [ { "name": "tenants", "engine": "mariadb",
    "catalog": {"type": "dir", "path": "$tmp/t/one", "pattern": "tenant_*.sql", "per_database": true},
    "databases": ["tenant_*"], "sample": {"databases": 5} } ] }
JSON
tenants_drill 7
expect_rc 0 "per-database dumps"
want=$(python3 "$fixtures/tenants/pick.py" 7 5 $(seq -f 'tenant_%g' 1 50) | tr '\n' ' ')
expect_eq "$(jqr '.targets[0].databases.drilled | join(" ")') " "$want" "per-database: picks"
expect_eq "$(jqr '.targets[0].databases | "\(.total) \(.matched)"')" "50 50" "per-database: counts"
expect_eq "$(jqr '.targets[0].recovery_point.format')" "per-database" "per-database: format"
expect_eq "$(jqr '[.targets[0].checks[] | select(.type == "restore") | .object] | join(" ")') " "$want" \
    "per-database: one restore per database"
first=$(echo "$want" | cut -d' ' -f1)
expect_eq "$(jqr ".targets[0].checks[] | select(.type == \"rowcount\" and .object == \"$first.orders\") | .message")" \
    "10 rows, as in the manifest" "per-database: its own manifest"
# a tenant whose dump lacks a row its manifest counts: that database fails,
# the others pass
mkdir -p "$tmp/onebad"
cp "$tmp/t/one/"* "$tmp/onebad/"
f="$tmp/onebad/$first-$ts.sql"
python3 - "$f" <<'PY'
import hashlib, json, sys
data = open(sys.argv[1], "rb").read()
m = json.load(open(sys.argv[1] + ".manifest.json"))
m["artifact"]["sha256"] = hashlib.sha256(data).hexdigest()
m["artifact"]["bytes"] = len(data)
for t in m["tables"]:
    if t["name"] == "orders":
        t["rows"] = 11
json.dump(m, open(sys.argv[1] + ".manifest.json", "w"))
PY
sed -i "s|\"path\": \"$tmp/t/one\"|\"path\": \"$tmp/onebad\"|" "$tmp/drill.json"
tenants_drill 7
expect_rc 1 "per-database: a damaged tenant"
expect_eq "$(jqr ".targets[0].checks[] | select(.type == \"rowcount\" and .object == \"$first.orders\") | \"\(.status) \(.expected) \(.actual)\"")" \
    "failed 11 10" "per-database: the damaged tenant fails"
expect_eq "$(jqr "[.targets[0].checks[] | select(.database != \"$first\") | .status] | unique | join(\" \")")" \
    "passed" "per-database: the others pass"
no_leftovers "per-database"
finish
