#!/bin/sh
# t_verify_parallel.sh: the verify phase in parallel (DESIGN section 10,
# docs/verify-parallel.md). On both engines, the same drill with
# verify_parallel 1 and 4 gives the same results list (type, name, object,
# status, message, expected, actual, properties, output) in the same order, with the
# default checks and with a list that mixes concurrent checks, a sql check
# (which runs alone) and a second rowcount; the reference manifest has one
# table's row count wrong (that table alone fails) and, in the second run,
# another's row count missing (that table alone is an error): the other
# tables' results are all there and passed. verify_parallel 4 logs its 4
# connections, 1 none.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
make_backups

# results without timings (the restore result names its seconds)
results() {
    jq -c '[.targets[0].checks[] | select(.type != "restore" and .type != "objective")
            | {id, type, name, object, status, message, expected, actual, properties, output}]' "$1"
}

for engine in postgres mariadb; do
    if [ $engine = postgres ]; then dir=pg-custom; pat='shop-*.dump'; orders=public.orders; customers=public.customers
    else dir=mariadb-sql; pat='shop-*.sql'; orders=orders; customers=customers; fi
    side=$(ls "$tmp/backups/$dir"/*.manifest.json | sort | tail -n 1)
    jq '(.tables[] | select(.name == "orders") | .rows) |= . + 1' "$side" >"$tmp/ref-$engine.json"
    jq '(.tables[] | select(.name == "orders") | .rows) |= . + 1
        | (.tables[] | select(.name == "customers") | .rows) |= null' "$side" >"$tmp/ref2-$engine.json"
    want_rows=$(jq '.tables[] | select(.name == "orders") | .rows' "$side")
    for kind in defaults list; do
        for par in 1 4; do
            if [ $kind = defaults ]; then
                checks=""
                ref=$tmp/ref-$engine.json
            else
                checks='"checks": [ { "type": "rowcount" }, { "type": "integrity" },
                  { "type": "sql", "name": "customers present",
                    "query": "SELECT count(*) FROM customers", "expect": ">= 1" },
                  { "type": "schema" }, { "type": "rowcount", "name": "again", "tables": ["*order*"] } ],'
                ref=$tmp/ref2-$engine.json
            fi
            cat >"$tmp/drill.json" <<EOF
{ "version": 1, "name": "verify-parallel",
  "output": { "dir": "$tmp/out", "json": "drill.json" },
  "targets": [ { "name": "shop", "engine": "$engine", "verify_parallel": $par, $checks
    "catalog": { "type": "dir", "path": "$tmp/backups/$dir", "pattern": "$pat", "time_from": "name" },
    "reference": { "manifest": "$ref" } } ] }
EOF
            run "$RD_BIN" run "$tmp/drill.json" --no-progress
            expect_rc 1 "$engine $kind verify_parallel $par: one table fails"
            results "$report" >"$tmp/res-$engine-$kind-$par.json"
            if [ $par = 4 ]; then
                expect_has "$tmp/err.txt" "shop: verify on 4 connections" "$engine $kind 4 connections"
            elif grep -q "verify on" "$tmp/err.txt"; then
                fail "$engine $kind verify_parallel 1 opened worker connections"
            fi
        done
        f=$tmp/res-$engine-$kind-1.json
        cmp -s "$f" "$tmp/res-$engine-$kind-4.json" ||
            fail "$engine $kind: verify_parallel 1 and 4 differ: $(diff "$f" "$tmp/res-$engine-$kind-4.json" | head -n 6)"
        n=$(jq length "$f")
        [ "$n" -ge 10 ] || fail "$engine $kind: only $n results"
        bad=$(jq -r '[.[] | select(.status != "passed") | "\(.name) \(.object) \(.status): \(.message)"] | join("; ")' "$f")
        if [ $kind = defaults ]; then
            expect_eq "$bad" "rowcount $orders failed: $want_rows rows, expected $((want_rows + 1)) (manifest)" \
                "$engine defaults: the one failing table"
            expect_eq "$(jq -r '[.[].type] | unique | join(",")' "$f")" "integrity,rowcount,schema" \
                "$engine defaults: check types"
        else
            expect_eq "$bad" "rowcount $customers error: the manifest has no row count for this table; rowcount $orders failed: $want_rows rows, expected $((want_rows + 1)) (manifest); again $orders failed: $want_rows rows, expected $((want_rows + 1)) (manifest)" \
                "$engine list: the failing and the erroring table"
            # configuration order: every result of a check before the next check's
            expect_eq "$(jq -r '[.[].name] | reduce .[] as $c ([]; if (.[-1] // "") == $c then . else . + [$c] end) | join(",")' "$f")" \
                "rowcount,integrity,customers present,schema,again" "$engine list: configuration order"
        fi
    done
done
no_leftovers "after the drills"
finish
