#!/bin/sh
# t_tenants_pg.sh: tenant databases from one `pg_dumpall` (issue 16). A real
# cluster holds 50 tenants, a central database and four hostile names (a
# quote, a double quote, unicode, 63 characters); drills sample 5 at a time
# over several seeds (the exact picks of fixtures/tenants/pick.py, and only
# those are restored, each under its own name, the role-owned tables with
# roles no-owner and create), run every check per database, and fail as
# they must: a sampled tenant with a missing row or a changed value, a dump
# cut inside a tenant's section, a glob that matches nothing (exit 2).
. "$(dirname "$0")/../../fixtures/testlib.sh"
. "$fixtures/tenants/tenantlib.sh"
need_bin
command -v python3 >/dev/null 2>&1 || { echo "skipping: python3 is not installed"; exit 77; }
tenants_fixture pg 50
long=yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy

tenants_engine=postgres

names="central $(seq -f 'tenant_%g' 1 50) tenant_ünïcødé"
for seed in 1 1234; do
    tenants_config "$tmp/drill.json" "$all" '["tenant_*", "central"]' 5 5
    # shellcheck disable=SC2086
    tenants_sampled "$seed" 5 "55 52" $names
    expect_eq "$(jqr '[.targets[0].checks[] | select(.name == "where") | .actual] | join(" ")') " \
        "$want" "seed $seed: each database under its own name"
    first=$(echo "$want" | cut -d' ' -f1)
    expect_has "$tmp/out/junit.xml" "classname=\"restoredrill.tenants.$first.order count\"" "seed $seed: junit"
    expect_eq "$(jqr "[.targets[0].checks[] | select(.type == \"integrity\" and .database == \"$first\") | .status] | unique | join(\" \")")" \
        passed "seed $seed: amcheck per database"
done
sh "$(dirname "$0")/../validate-reports.sh" "$tmp/out" >"$tmp/validate.log" 2>&1 ||
    { cat "$tmp/validate.log"; fail "reports do not validate"; }
no_leftovers "samples"

# hostile names, with roles create (the role app comes back and owns orders)
tenants_config "$tmp/drill.json" "$all" "[\"it's\", \"dq\\\"name\", \"tenant_ü*\", \"$long\"]" 0 4 create
tenants_drill 5
expect_rc 0 "hostile names"
expect_eq "$(jqr '.targets[0].databases.drilled | join("|")')" "dq\"name|it's|tenant_ünïcødé|$long" "hostile: drilled"
expect_eq "$(jqr '[.targets[0].checks[] | select(.name == "where") | .actual] | join("|")')" \
    "dq\"name|it's|tenant_ünïcødé|$long" "hostile: their own names"
expect_eq "$(jqr '[.targets[0].checks[] | select(.status != "passed" and .status != "skipped")] | length')" 0 "hostile: all passed"

# a glob that matches nothing: configuration error, exit 2
tenants_config "$tmp/drill.json" "$all" '["tenant_*", "tenant%"]' 5 5
tenants_drill 1
expect_rc 2 "glob matching nothing"
expect_has "$tmp/err.txt" 'targets[0].databases[1]: "tenant%" matches none of the 55 databases of the recovery point' "glob message"

# a sampled tenant with a missing row and a changed value
mkdir -p "$tmp/bad"
python3 - "$all/tenants-$ts.sql" "$tmp/bad/tenants-$ts.sql" <<'PY'
import sys
out, cur, copy = [], None, False
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith('-- Database "') and line.rstrip("\n").endswith('" dump'):
        cur = line.rstrip("\n")[len('-- Database "'):-len('" dump')]
    if line.startswith("COPY public.orders "):
        copy = True
    elif copy and line.startswith("\\."):
        copy = False
    elif copy and cur == "tenant_7":
        if line.startswith("3\t"):
            continue  # a missing row
        if line.startswith("10\t"):
            line = line.replace("\t100.00\t", "\t100.50\t")  # a changed value
    out.append(line)
open(sys.argv[2], "w", encoding="utf-8").write("".join(out))
PY
tenants_config "$tmp/drill.json" "$tmp/bad" '["tenant_7", "tenant_8"]' 0 2
tenants_changed

# a dump cut in the middle of a tenant's section
tenants_cut_at '-- Database "tenant_20" dump' 'COPY public.orders ' 60

# per-database dumps: tenant_<k>-<ts>.dump (pg_dump -Fc of the database
# alone) grouped into one point by the time in their names; each sampled
# database restored with pg_restore from its own file under its own name
cat >"$tmp/drill.json" <<JSON
{ "version": 1, "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [ { "name": "tenants", "engine": "postgres",
    "catalog": {"type": "dir", "path": "$tmp/t/one", "pattern": "tenant_*.dump", "per_database": true},
    "databases": ["tenant_*"], "sample": {"databases": 5},
    "checks": [ {"type": "integrity"},
      {"type": "sql", "name": "where", "query": "SELECT current_database()", "expect": "~ ."},
      {"type": "sql", "name": "order total", "query": "SELECT sum(amount) FROM orders", "expect": "= 550.00"} ] } ] }
JSON
tenants_drill 7
expect_rc 0 "per-database dumps"
# shellcheck disable=SC2086
want=$(python3 "$fixtures/tenants/pick.py" 7 5 $(seq -f 'tenant_%g' 1 50) | tr '\n' ' ')
expect_eq "$(jqr '.targets[0].databases.drilled | join(" ")') " "$want" "per-database: picks"
expect_eq "$(jqr '[.targets[0].checks[] | select(.name == "where") | .actual] | join(" ")') " \
    "$want" "per-database: each under its own name"
expect_eq "$(jqr '[.targets[0].checks[] | select(.type == "restore") | .status] | unique | join(" ")')" \
    passed "per-database: one restore per database"
no_leftovers "per-database"
finish
